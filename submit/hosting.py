"""Giving local files URLs the service can fetch, and checking URLs a user gives.

EvoLink's files API is documented for images only (API ref section 7, CONFLICT with its own
client), so the reference video goes to an S3-compatible bucket by default when one is set up;
sending it to the files API is allowed and its refusal is reported as such.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import httpx

from preflight.profile import Profile

from .client import Client
from .errors import ErrorInfo, HostingError


@dataclass(frozen=True)
class HostedFile:
    source: str  # the local path (or the URL itself when the user gave one)
    url: str
    host: str  # "evolink-files", "s3", "user-url"
    expires_at: str | None = None


class Host(Protocol):
    name: str

    def describe(self, path: Path) -> str:
        """Where ``path`` would go, for --dry-run; must not touch the network."""

    def host(self, path: Path, progress: Callable[[int, int], None] | None = None) -> HostedFile:
        """Upload ``path`` and return a URL the service can fetch; ``progress(sent, total)``
        in bytes as it goes, when given."""


class EvoLinkFilesHost:
    """EvoLink's own files API (stream upload); files expire after 72 h (API ref section 7)."""

    name = "evolink-files"

    def __init__(self, client: Client | None, files_base: str | None = None):
        self.client = client  # None for a dry run, which only describes
        self.files_base = files_base or (client.files_base if client else "")

    def describe(self, path: Path) -> str:
        return f"{self.files_base}/api/v1/files/upload/stream (EvoLink files API, kept 72 h)"

    def host(self, path: Path, progress: Callable[[int, int], None] | None = None) -> HostedFile:
        if self.client is None:
            raise HostingError("no client to upload with")
        uploaded = self.client.upload_file(path, progress=progress)
        return HostedFile(str(path), uploaded.file_url, self.name, uploaded.expires_at)


class InlineHost:
    """No upload: the file goes inside the request body as raw base64 (no ``data:`` prefix), the
    way Kling's API takes a character image (providers section 1 [S4])."""

    name = "inline-base64"

    def describe(self, path: Path) -> str:
        return "sent inside the request as base64 (no upload)"

    def host(self, path: Path, progress: Callable[[int, int], None] | None = None) -> HostedFile:
        import base64

        data = path.read_bytes()
        if progress:
            progress(len(data), len(data))
        return HostedFile(str(path), base64.b64encode(data).decode("ascii"), self.name)


class NoHost:
    """A host that takes this input by URL only, with nowhere set up to put a local file:
    ``problem`` says what to do, and ``host`` refuses (nothing is uploaded anywhere)."""

    name = "none"

    def __init__(self, problem: str):
        self.problem = problem

    def describe(self, path: Path) -> str:
        return f"nowhere: {self.problem}"

    def host(self, path: Path, progress: Callable[[int, int], None] | None = None) -> HostedFile:
        raise HostingError(f"{path}: {self.problem}", ErrorInfo("no_host", self.problem))


class FalStorageHost:
    """fal's own storage (the clients' upload: initiate, then PUT); its URL is public and stays
    valid by default (providers section 2 [S21])."""

    name = "fal-storage"

    def __init__(self, client, upload_base: str = ""):
        self.client = client  # a FalClient; None for a dry run, which only describes
        self.upload_base = upload_base or (client.files_base if client else "")

    def describe(self, path: Path) -> str:
        return f"{self.upload_base}/storage/upload/initiate (fal storage)"

    def host(self, path: Path, progress: Callable[[int, int], None] | None = None) -> HostedFile:
        if self.client is None:
            raise HostingError("no client to upload with")
        uploaded = self.client.upload_file(path, progress=progress)
        return HostedFile(str(path), uploaded.file_url, self.name)


class S3Host:
    """An S3-compatible bucket: the file is uploaded, then a presigned GET URL is handed out.

    ``lifetime`` must cover the task: the service fetches the video when the task runs, which
    can be some time after it was created. SigV4 presigned URLs last at most 7 days.
    """

    name = "s3"
    MAX_LIFETIME = 7 * 24 * 3600

    def __init__(self, bucket: str, *, prefix: str = "motion-preflight/", lifetime: int = 24 * 3600,
                 endpoint_url: str | None = None, region: str | None = None):
        if not 60 <= lifetime <= self.MAX_LIFETIME:
            raise HostingError(f"S3 URL lifetime must be between 60 s and 7 days, not {lifetime} s")
        self.bucket, self.prefix, self.lifetime = bucket, prefix, lifetime
        self.endpoint_url, self.region = endpoint_url, region

    def _s3(self):
        try:
            import boto3  # deferred: only this host needs it
            from botocore.config import Config
        except ImportError:
            raise HostingError("the S3 host needs boto3: pip install 'motion-preflight[s3]'") from None
        # SigV4, whose presigned URLs may last up to the 7 days MAX_LIFETIME allows.
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                            config=Config(signature_version="s3v4"))

    def _key(self, path: Path) -> str:
        return f"{self.prefix}{uuid.uuid4().hex[:12]}/{path.name}"

    def describe(self, path: Path) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}<random>/{path.name}{where} (presigned GET, {self.lifetime} s)"

    def host(self, path: Path, progress: Callable[[int, int], None] | None = None) -> HostedFile:
        s3 = self._s3()
        key = self._key(path)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        total, sent = path.stat().st_size, [0]

        def count(chunk: int) -> None:  # boto3 calls this from its transfer threads with each chunk's size
            sent[0] += chunk
            if progress is not None:
                progress(sent[0], total)
        try:
            s3.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}, Callback=count)
            url = s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                            ExpiresIn=self.lifetime)
        except Exception as exc:  # botocore's errors share no base class worth importing here
            raise HostingError(f"{path}: upload to s3://{self.bucket}/{key} failed: {exc}",
                               ErrorInfo("hosting_failed", str(exc))) from None
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.lifetime)
        return HostedFile(str(path), url, self.name, expires.isoformat(timespec="seconds"))


# What a host's Content-Type may say for each role; octet-stream is common for buckets and
# only warned about.
_CONTENT_TYPES = {
    "image": {"image/jpeg", "image/jpg", "image/png"},
    "video": {"video/mp4", "video/quicktime"},
}


@dataclass
class UrlCheck:
    url: str
    role: str
    status: int | None = None
    content_type: str | None = None
    size: int | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_url(client: Client, url: str, role: str, profile: Profile) -> UrlCheck:
    """Is ``url`` fetchable, of an accepted type and within the size limit? (HEAD or ranged GET)"""
    result = UrlCheck(url, role)
    if not url.lower().startswith(("http://", "https://")):
        result.problems.append(f"{role} URL must be http(s): {url}")
        return result
    try:
        response = client.probe_url(url)
    except httpx.HTTPError as exc:
        result.problems.append(f"{role} URL is not reachable ({type(exc).__name__}: {exc})")
        return result
    result.status = response.status_code
    if response.status_code >= 400:
        result.problems.append(f"{role} URL answers HTTP {response.status_code}: the service could not fetch it")
        return result
    result.content_type = (response.headers.get("content-type") or "").split(";")[0].strip().lower() or None
    content_range = response.headers.get("content-range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        result.size = int(content_range.rsplit("/", 1)[1])
    elif response.status_code == 200 and (response.headers.get("content-length") or "").isdigit():
        result.size = int(response.headers["content-length"])
    limit = profile.value(f"{role}.max_file_size")
    if result.size is None:
        result.warnings.append(f"{role} URL does not say its size; the {limit / 1e6:g} MB limit could not be checked")
    elif result.size > limit:
        result.problems.append(f"{role} URL holds {result.size} bytes, above the {limit / 1e6:g} MB limit")
    if result.content_type is None or result.content_type in ("application/octet-stream", "binary/octet-stream"):
        result.warnings.append(f"{role} URL is served as {result.content_type or 'no type'}; "
                               "the service may judge the file by its type")
    elif result.content_type not in _CONTENT_TYPES[role]:
        accepted = ", ".join(sorted(_CONTENT_TYPES[role]))
        result.problems.append(f"{role} URL is served as {result.content_type}, not one of {accepted}")
    return result
