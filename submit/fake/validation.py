"""What the local EvoLink accepts as a generation request, field by field (API ref section 2), and
as an element request (section 2a), in the words of the profile it serves."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

_TOP_FIELDS = {"model", "prompt", "image_urls", "video_urls", "quality", "model_params", "callback_url"}
_PARAM_FIELDS = {"character_orientation", "keep_sound", "element_list", "watermark_info"}


def _private_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".local"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not ip.is_global


def _unknown(given: dict, allowed, what: str) -> str | None:
    extra = set(given) - allowed
    return f"unknown {what}: {', '.join(sorted(extra))}" if extra else None


def validate_generation(body: Any, profile) -> str | None:
    """What is wrong with a POST body, as the documentation describes the fields (section 2)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if unknown := _unknown(body, _TOP_FIELDS, "field(s)"):
        return unknown
    model = profile.value("request.model")
    if body.get("model") != model:
        return f"model must be {model}"
    for name in ("image_urls", "video_urls"):
        urls = body.get(name)
        if not isinstance(urls, list) or len(urls) != 1:
            return f"{name} must hold exactly one URL"
        if not isinstance(urls[0], str) or urlsplit(urls[0]).scheme not in ("http", "https"):
            return f"{name}[0] must be an http(s) URL"
    prompt = body.get("prompt")
    if prompt is not None and (not isinstance(prompt, str) or len(prompt) > profile.value("request.prompt_max_chars")):
        return f"prompt must be a string of at most {profile.value('request.prompt_max_chars')} characters"
    qualities = profile.value("request.qualities")
    if "quality" in body and body["quality"] not in qualities:
        return f"quality must be one of {', '.join(qualities)}"
    params = body.get("model_params")
    if not isinstance(params, dict):
        return "model_params is required"
    if unknown := _unknown(params, _PARAM_FIELDS, "model_params field(s)"):
        return unknown
    orientations = profile.value("request.orientations")
    if params.get("character_orientation") not in orientations:
        return f"model_params.character_orientation must be one of {', '.join(orientations)}"
    if "keep_sound" in params and not isinstance(params["keep_sound"], bool):
        return "model_params.keep_sound must be a boolean"
    if "watermark_info" in params and not (isinstance(params["watermark_info"], dict)
                                           and isinstance(params["watermark_info"].get("enabled"), bool)):
        return "model_params.watermark_info must be {\"enabled\": true|false}"
    if "element_list" in params:
        elements = params["element_list"]
        if not isinstance(elements, list) or len(elements) > profile.value("request.element_max_items"):
            return "model_params.element_list holds at most one element"
        for element in elements:
            if not isinstance(element, dict) or not isinstance(element.get("element_id"), str) or not element["element_id"]:
                return "model_params.element_list[].element_id must be a non-empty string"
        needs = profile.value("request.element_requires_orientation")
        if elements and params["character_orientation"] != needs:
            return f"element_list requires character_orientation {needs}"
    return _callback_problem(body.get("callback_url"), profile)


def _callback_problem(callback: Any, profile) -> str | None:
    """What is wrong with a callback_url (API ref section 5), if it is given."""
    if callback is None:
        return None
    if not isinstance(callback, str) or len(callback) > profile.value("request.callback_max_chars"):
        return "callback_url must be a URL of at most 2048 characters"
    parts = urlsplit(callback)
    if parts.scheme != "https":
        return "callback_url must use HTTPS"
    if parts.username is not None or parts.password is not None:
        return "callback_url must not carry credentials"
    if not parts.hostname or _private_host(parts.hostname):
        return "callback_url must not point to a private address"
    return None


_ELEMENT_TOP = {"model", "model_params", "callback_url"}
_ELEMENT_PARAMS = {"element_name", "element_description", "reference_type", "element_image_list",
                   "element_video_list", "element_voice_id"}


def _url(value: Any) -> bool:
    return isinstance(value, str) and urlsplit(value).scheme in ("http", "https")


def validate_element(body: Any, profile) -> str | None:
    """What is wrong with a kling-custom-element body (API ref section 2a)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if unknown := _unknown(body, _ELEMENT_TOP, "field(s)"):
        return unknown
    params = body.get("model_params")
    if not isinstance(params, dict):
        return "model_params is required"
    if unknown := _unknown(params, _ELEMENT_PARAMS, "model_params field(s)"):
        return unknown
    for name, key in (("element_name", "element.name_max_chars"), ("element_description", "element.description_max_chars")):
        value, most = params.get(name), profile.value(key)
        if not isinstance(value, str) or not value.strip() or len(value) > most:
            return f"model_params.{name} is required, at most {most} characters"
    kinds = profile.value("element.reference_types")
    kind = params.get("reference_type")
    if kind not in kinds:
        return f"model_params.reference_type must be one of {', '.join(kinds)}"
    if kind == "video_refer":
        videos = (params.get("element_video_list") or {}).get("refer_videos") \
            if isinstance(params.get("element_video_list"), dict) else None
        if not isinstance(videos, list) or len(videos) != 1 or not isinstance(videos[0], dict) \
                or not _url(videos[0].get("video_url")):
            return "model_params.element_video_list.refer_videos must hold exactly one {video_url}"
        if "element_image_list" in params:
            return "element_image_list goes with reference_type image_refer"
    else:
        images = params.get("element_image_list")
        bounds = profile.value("element.refs")
        if not isinstance(images, dict) or not _url(images.get("frontal_image")):
            return "model_params.element_image_list.frontal_image is required (a URL)"
        refs = images.get("refer_images")
        if not isinstance(refs, list) or not bounds["min"] <= len(refs) <= bounds["max"] or \
                not all(isinstance(r, dict) and _url(r.get("image_url")) for r in refs):
            return f"model_params.element_image_list.refer_images must hold {bounds['min']}-{bounds['max']} {{image_url}}"
        if "element_video_list" in params or "element_voice_id" in params:
            return "element_video_list and element_voice_id go with reference_type video_refer"
    return _callback_problem(body.get("callback_url"), profile)
