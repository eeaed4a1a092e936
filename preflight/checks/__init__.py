"""Checks: pure functions from (facts, profile, request) to findings, registered by id."""

from . import image, request, video  # noqa: F401  (importing registers the checks)
from .base import REGISTRY, CheckSpec, Context, Finding, failed, passed, skipped, warned

# Content checks that content analysis provides (checks/content.py); with --metadata-only, or
# when a file cannot be decoded, the report lists them as skipped with the reason, never passed.
CONTENT_CHECK_IDS = {
    "image": ["image.person", "image.body_visibility", "image.upright", "image.subject_size"],
    "video": ["video.cuts", "video.frame_drops", "video.people", "video.body_visibility", "video.upright", "video.camera_motion",
              "video.fast_motion", "video.subject_size", "video.usable_segment"],
}

__all__ = ["REGISTRY", "CONTENT_CHECK_IDS", "CheckSpec", "Context", "Finding", "failed", "passed", "skipped", "warned"]
