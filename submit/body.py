"""The JSON bodies of ``POST /v1/videos/generations``: a kling-v3-motion-control generation
(API ref section 2) and a kling-custom-element element (section 2a)."""

from __future__ import annotations

from preflight.profile import Profile
from preflight.request import ElementRequest, ResolvedRequest


class UnsupportedField(ValueError):
    """A request field the chosen host does not take (its message says which and why)."""


def generation_body(profile: Profile, request: ResolvedRequest, image_url: str, video_url: str) -> dict:
    """The body of a generation for the profile's host: exactly its documented fields, optional
    ones only when set, so the host's defaults hold. A stored element's name
    (``request.element``) must have been looked up into ``element_ids``."""
    if request.element is not None and not request.element_ids:
        raise ValueError(f"element {request.element!r} was not resolved to an id")
    builder = {"kling": _kling_body, "fal": _fal_body}.get(profile.host, _evolink_body)
    return builder(profile, request, image_url, video_url)


def unsupported(profile: Profile, request: ResolvedRequest) -> str | None:
    """Why the profile's host cannot be sent this request as it is (None: it can)."""
    if profile.host != "fal":
        return None
    refused = [name for name, given in (("element", request.element_ids or request.element),
                                        ("watermark", request.watermark is not None),
                                        ("callback_url", request.callback_url)) if given]
    if refused:
        return (f"fal's motion-control input takes no {', '.join(refused)} this tool can send (providers section 2); "
                "leave it out or choose another --provider")
    return None


def _kling_body(profile: Profile, request: ResolvedRequest, image_url: str, video_url: str) -> dict:
    """Kling AI's create body (providers section 1): model_name always sent (else v2.6), mode
    for the tier, keep_original_sound as the strings "yes"/"no"."""
    from .kling import element_id_value

    body: dict = {
        "model_name": profile.value("request.model"),
        "image_url": image_url,
        "video_url": video_url,
        "character_orientation": request.orientation,
        "mode": profile.wire_quality(request.quality),
        "keep_original_sound": profile.value("request.wire_keep_sound")[str(request.keep_sound).lower()],
    }
    if request.prompt:
        body["prompt"] = request.prompt
    if request.element_ids:
        body["element_list"] = [{"element_id": element_id_value(e)} for e in request.element_ids]
    if request.watermark is not None:
        body["watermark_info"] = {"enabled": request.watermark}
    if request.callback_url:
        body["callback_url"] = request.callback_url
    return body


def _fal_body(profile: Profile, request: ResolvedRequest, image_url: str, video_url: str) -> dict:
    """fal's input (providers section 2): the tier is the endpoint, keep_original_sound a boolean,
    character_orientation always sent (mirrors disagree on its default)."""
    problem = unsupported(profile, request)
    if problem:
        raise UnsupportedField(problem)
    body: dict = {"image_url": image_url, "video_url": video_url, "character_orientation": request.orientation,
                  "keep_original_sound": request.keep_sound}
    if request.prompt:
        body["prompt"] = request.prompt
    return body


def _evolink_body(profile: Profile, request: ResolvedRequest, image_url: str, video_url: str) -> dict:
    """EvoLink's body (API ref section 2)."""
    params: dict = {"character_orientation": request.orientation, "keep_sound": request.keep_sound}
    if request.element_ids:
        # element_id is a string since 2026-03-16 (API ref section 2).
        params["element_list"] = [{"element_id": str(e)} for e in request.element_ids]
    if request.watermark is not None:
        params["watermark_info"] = {"enabled": request.watermark}
    body: dict = {
        "model": profile.value("request.model"),
        "image_urls": [image_url],
        "video_urls": [video_url],
        # Sent even at the default: the product page calls it required (profile note).
        "quality": profile.wire_quality(request.quality),
        "model_params": params,
    }
    if request.prompt:
        body["prompt"] = request.prompt
    if request.callback_url:
        body["callback_url"] = request.callback_url
    return body


def element_body(profile: Profile, element: ElementRequest, urls: dict[str, str],
                 callback_url: str | None = None) -> dict:
    """The body that creates ``element``; ``urls`` holds the hosted URL of each of its media by
    path (``element.video``, ``element.image``, each of ``element.refs``)."""
    kind = element.reference_type
    if kind is None:
        raise ValueError("an element needs a video, or a frontal image with reference images")
    params: dict = {"element_name": element.name, "element_description": element.description,
                    "reference_type": kind}
    if kind == "video_refer":
        params["element_video_list"] = {"refer_videos": [{"video_url": urls[element.video]}]}
    else:
        params["element_image_list"] = {"frontal_image": urls[element.image],
                                        "refer_images": [{"image_url": urls[r]} for r in element.refs]}
    body: dict = {"model": profile.value("element.model"), "model_params": params}
    if callback_url:
        body["callback_url"] = callback_url
    return body
