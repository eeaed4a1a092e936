"""The library's front door: probe the inputs, run every check, return one Report."""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterable

from . import __version__
from .checks import REGISTRY, CONTENT_CHECK_IDS, Context, Finding, failed, skipped
from .cost import estimate
from .probe import FileFacts, probe_file
from .profile import DEFAULT_PROFILE, Profile, load_profile
from .report import Check, Report
from .request import Request, ResolvedRequest

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}


def check(
    image: str | PurePath | None = None,
    video: str | PurePath | None = None,
    *,
    request: Request | None = None,
    metadata_only: bool = False,
    profile: str | Profile = DEFAULT_PROFILE,
    **request_fields,
) -> Report:
    """Check a character image and/or a reference video against a model's constraints.

    Request parameters are given either as a ``Request`` or as keyword arguments
    (``orientation``, ``quality``, ``prompt``, ``keep_sound``, ``element_ids``, ``callback_url``).
    Never raises for bad media: problems are failed checks in the report.
    """
    items = []
    if image is not None:
        items.append((str(image), "image"))
    if video is not None:
        items.append((str(video), "video"))
    return _run(items, _request(request, request_fields), metadata_only, profile)


def check_files(
    paths: Iterable[str | PurePath],
    *,
    request: Request | None = None,
    metadata_only: bool = False,
    profile: str | Profile = DEFAULT_PROFILE,
    **request_fields,
) -> Report:
    """Check each file on its own, telling image from video by its content."""
    items = [(str(p), None) for p in paths]
    return _run(items, _request(request, request_fields), metadata_only, profile)


def _request(request: Request | None, fields: dict) -> Request:
    if request is not None and fields:
        raise TypeError("give either request= or request keyword arguments, not both")
    if request is not None:
        return request
    if "element_ids" in fields:
        fields["element_ids"] = tuple(fields["element_ids"] or ())
    return Request(**fields)


def _role(facts: FileFacts) -> str:
    if facts.kind in ("image", "video"):
        return facts.kind
    return "image" if PurePath(facts.path).suffix.lower() in _IMAGE_SUFFIXES else "video"


def _run_one(spec, ctx: Context) -> Finding:
    try:
        return spec.function(ctx) or skipped(spec.unmeasured)
    except Exception as exc:  # a bug in a check must fail the gate, not pass it or crash the run
        return failed(f"internal error in this check ({type(exc).__name__}: {exc}); please report it")


def _file_checks(facts: FileFacts, role: str, profile: Profile, request: ResolvedRequest, metadata_only: bool) -> list[Check]:
    ctx = Context(profile=profile, request=request, facts=facts)
    checks = []
    for spec in REGISTRY[role]:
        finding = _run_one(spec, ctx)
        checks.append(Check(spec.id, role, finding.status, finding.message, finding.measured, finding.limit,
                            facts.path, finding.times))
    reason = "skipped: --metadata-only" if metadata_only else "skipped: content analysis is not implemented yet"
    for check_id in CONTENT_CHECK_IDS[role]:
        checks.append(Check(check_id, role, skipped(reason).status, reason, file=facts.path))
    return checks


def _run(items: list[tuple[str, str | None]], request: Request, metadata_only: bool, profile: str | Profile) -> Report:
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    resolved = request.resolve(profile)
    report = Report(
        profile=profile.id,
        tool_version=__version__,
        metadata_only=metadata_only,
        request=resolved.to_dict(),
        inputs=[],
    )
    video_seconds = None
    for path, expect in items:
        facts = probe_file(path, expect=expect, verify_pixels=not metadata_only)
        role = expect or _role(facts)
        report.inputs.append({
            "role": role,
            "path": path,
            "format": facts.sniffed.format if facts.sniffed else None,
            "size": facts.size,
            "readable": facts.problem is None,
        })
        report.checks.extend(_file_checks(facts, role, profile, resolved, metadata_only))
        if facts.video is not None and video_seconds is None:
            readings = facts.video.durations()
            if readings:
                video_seconds = max(readings.values())

    ctx = Context(profile=profile, request=resolved)
    for spec in REGISTRY["request"]:
        finding = _run_one(spec, ctx)
        report.checks.append(Check(spec.id, "request", finding.status, finding.message, finding.measured,
                                   finding.limit, None, finding.times))
    report.cost = estimate(profile, resolved, video_seconds)
    for name in resolved.defaulted:
        value = getattr(resolved, name)
        shown = str(value).lower() if isinstance(value, bool) else value
        report.notes.append(f"{name} not given: using {shown}")
    return report
