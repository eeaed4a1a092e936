"""The JSON body of ``POST /v1/videos/generations`` for kling-v3-motion-control (API ref section 2)."""

from __future__ import annotations

from preflight.profile import Profile
from preflight.request import ResolvedRequest


def generation_body(profile: Profile, request: ResolvedRequest, image_url: str, video_url: str) -> dict:
    """Exactly the documented fields; optional ones only when set, so the service's defaults hold."""
    params: dict = {"character_orientation": request.orientation, "keep_sound": request.keep_sound}
    if request.element_ids:
        # element_id is a string since 2026-03-16 (API ref section 2).
        params["element_list"] = [{"element_id": str(e)} for e in request.element_ids]
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
