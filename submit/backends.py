"""Which client and which file hosts each host of the model gets, chosen by the profile's
``host``: EvoLink (``submit.client``), Kling AI (``submit.kling``), fal (``submit.fal``).

Adding a host whose API is one of these is a profile alone; a new API shape is a client built on
``submit.client.Client``, a body builder in ``submit.body`` and an entry here
(docs/providers.md, "Adding a host").
"""

from __future__ import annotations

from preflight.profile import Profile

from .client import Client
from .config import Settings
from .errors import SubmitError


def make_backend(profile: Profile, conf: Settings, quality: str | None = None, **options) -> Client:
    """The client for ``profile``'s host. ``quality`` picks fal's endpoint (one per tier);
    without it ``conf.api_base`` is taken as the endpoint's whole queue URL (as the journal
    recorded it). ``options`` are ``Client``'s (bounds, deadline, transport, on_retry)."""
    if profile.host == "kling":
        from .kling import KlingClient

        return KlingClient(conf.api_key or "", access_key=conf.access_key or "", api_base=conf.api_base, **options)
    if profile.host == "fal":
        from .fal import FalClient

        if quality is None:
            return FalClient(conf.api_key or "", endpoint="", api_base=conf.api_base, upload_base=conf.files_base,
                             **options)
        endpoint = profile.value("host.endpoints").get(quality)
        if endpoint is None:
            raise SubmitError(f"fal has no endpoint for quality {quality!r} (host.endpoints in {profile.path})")
        return FalClient(conf.api_key or "", endpoint=endpoint, api_base=conf.api_base, upload_base=conf.files_base,
                         **options)
    return Client(conf.api_key or "", api_base=conf.api_base, files_base=conf.files_base, **options)


def file_hosts(profile: Profile, client: Client | None, conf: Settings, video_host: str, lifetime: int) -> dict:
    """Where each local input goes for ``profile``'s host: ``{"image": Host, "video": Host}``.
    A bucket, when set (or asked for with ``video_host="s3"``), takes the video on every host."""
    from .hosting import EvoLinkFilesHost, FalStorageHost, InlineHost, NoHost, S3Host

    bucket = None
    if video_host == "s3" or (video_host == "auto" and conf.s3_bucket):
        if not conf.s3_bucket:
            raise SubmitError("--video-host s3 needs --s3-bucket (or SUBMIT_S3_BUCKET)")
        bucket = S3Host(conf.s3_bucket, prefix=conf.s3_prefix, lifetime=lifetime, endpoint_url=conf.s3_endpoint,
                        region=conf.s3_region)
    if profile.host == "kling":
        video = bucket or NoHost("Kling's API takes the reference video by URL only and has no upload: give --video "
                                 "as an HTTPS URL, or set an S3 bucket (--s3-bucket or SUBMIT_S3_BUCKET)")
        return {"image": InlineHost(), "video": video}
    if profile.host == "fal":
        storage = FalStorageHost(client, conf.files_base)
        return {"image": storage, "video": bucket or storage}
    files = EvoLinkFilesHost(client, conf.files_base)
    return {"image": files, "video": bucket or files}


def hosting_problems(hosts: dict, inputs: dict[str, str]) -> list[str]:
    """What stops a local input from reaching the host (``NoHost``), before anything is sent."""
    from .flow import is_url

    return [f"{value}: {hosts[role].problem}" for role, value in inputs.items()
            if not is_url(value) and getattr(hosts[role], "problem", None)]
