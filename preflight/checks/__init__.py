"""Checks: pure functions from (facts, profile, request) to findings, registered by id."""

from . import content, element, image, request, video  # noqa: F401  (importing registers the checks)
from .base import (CONTENT_REGISTRY, NEVER_RELAXED, REGISTRY, CheckSpec, Context, Finding, failed, passed,
                   skipped, warned)

# The content check ids by subject, read from the registry (checks/content.py): with
# --metadata-only, or when a file cannot be decoded, the report lists them as skipped with the
# reason, never passed.
CONTENT_CHECK_IDS = {subject: [spec.id for spec in specs] for subject, specs in CONTENT_REGISTRY.items()}

__all__ = ["REGISTRY", "CONTENT_REGISTRY", "CONTENT_CHECK_IDS", "NEVER_RELAXED", "CheckSpec", "Context", "Finding",
           "failed", "passed", "skipped", "warned"]
