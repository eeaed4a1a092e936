"""Checks: pure functions from (facts, profile, request) to findings, registered by id."""

from . import image, request, video  # noqa: F401  (importing registers the checks)
from .base import REGISTRY, CheckSpec, Context, Finding, failed, passed, skipped, warned

# Content checks that content analysis provides; until an analyser exists for one, the report
# lists it as skipped with the reason, never as passed.
CONTENT_CHECK_IDS = {
    "image": ["image.person", "image.body_visibility", "image.upright", "image.subject_size"],
    "video": ["video.cuts", "video.people", "video.body_visibility", "video.camera_motion",
              "video.fast_motion", "video.subject_size"],
}

__all__ = ["REGISTRY", "CONTENT_CHECK_IDS", "CheckSpec", "Context", "Finding", "failed", "passed", "skipped", "warned"]
