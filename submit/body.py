"""The JSON bodies of ``POST /v1/videos/generations``: a kling-v3-motion-control generation
(API ref section 2) and a kling-custom-element element (section 2a)."""

from __future__ import annotations

from preflight.profile import Profile
from preflight.request import ElementRequest, ResolvedRequest


def generation_body(profile: Profile, request: ResolvedRequest, image_url: str, video_url: str) -> dict:
    """Exactly the documented fields; optional ones only when set, so the service's defaults hold.
    A stored element's name (``request.element``) must have been looked up into ``element_ids``."""
    if request.element is not None and not request.element_ids:
        raise ValueError(f"element {request.element!r} was not resolved to an id")
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
        "quality": request.quality,
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
