"""The library's front door: probe the inputs, run every check, return one Report."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Callable, Iterable

from . import __version__
from .checks import CONTENT_CHECK_IDS, CONTENT_REGISTRY, REGISTRY, Context, Finding, failed, skipped
from .checks.base import run_content_check, run_content_checks, run_judged
from .cost import element_cost, estimate, plus_element
from .probe import DECODE_MAX_PIXELS, FileFacts, probe_file
from .profile import DEFAULT_PROFILE, Profile, load_profile
from .report import Check, Report
from .request import ElementRequest, Request, ResolvedRequest

if TYPE_CHECKING:
    from .config import Config

# The kind of file each of an element's media roles is.
_MEDIUM = {"element_video": "video", "element_image": "image", "element_ref": "image"}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}


def check(
    image: str | PurePath | None = None,
    video: str | PurePath | None = None,
    *,
    request: Request | None = None,
    metadata_only: bool = False,
    profile: str | Profile | None = None,
    progress: Callable[[str, float, float], None] | None = None,
    config: "Config | str | PurePath | None" = None,
    element: ElementRequest | None = None,
    **request_fields,
) -> Report:
    """Check a character image and/or a reference video against a model's constraints.

    Request parameters are given either as a ``Request`` or as keyword arguments
    (``orientation``, ``quality``, ``prompt``, ``keep_sound``, ``element_ids``, ``callback_url``).
    ``progress(path, done_seconds, total_seconds)`` is called while a video is analysed.
    ``config`` (a ``Config`` or the path of a configuration file) is honoured as the command
    honours it: its profile and thresholds (unless ``profile`` is given), its defaults for the
    request, its ``metadata_only``, and its check severities. Never raises for bad media:
    problems are failed checks in the report. ``element``: a custom element created on the way
    (``submit`` can); its inputs are checked too and its price is added to the cost.
    """
    items = []
    if image is not None:
        items.append((str(image), "image"))
    if video is not None:
        items.append((str(video), "video"))
    return _configured(items, request, request_fields, metadata_only, profile, progress, config, element)


def check_files(
    paths: Iterable[str | PurePath],
    *,
    request: Request | None = None,
    metadata_only: bool = False,
    profile: str | Profile | None = None,
    progress: Callable[[str, float, float], None] | None = None,
    config: "Config | str | PurePath | None" = None,
    **request_fields,
) -> Report:
    """Check each file on its own, telling image from video by its content, and return one
    report holding every file's checks (each check names its file). ``config`` as for ``check``."""
    items = [(str(p), None) for p in paths]
    return _configured(items, request, request_fields, metadata_only, profile, progress, config, None)


def check_element(
    video: str | PurePath | None = None,
    image: str | PurePath | None = None,
    refs: Iterable[str | PurePath] = (),
    *,
    name: str | None = None,
    description: str | None = None,
    metadata_only: bool = False,
    profile: str | Profile | None = None,
    progress: Callable[[str, float, float], None] | None = None,
) -> Report:
    """Check the inputs of a custom element (kling-custom-element) before paying for it: its
    source ``video`` (video_refer), or its frontal ``image`` and reference pictures ``refs``
    (image_refer), with its ``name`` and ``description``. The report holds the element's checks
    and the element's price; ``report.element`` says what was asked for."""
    element = ElementRequest(name, description, None if video is None else str(video),
                             None if image is None else str(image), tuple(str(r) for r in refs))
    return _run([], Request(), metadata_only, profile or DEFAULT_PROFILE, progress, element=element)


def _configured(items, request, request_fields, metadata_only, profile, progress, config, element) -> Report:
    """``_run`` with a configuration applied the way the command applies it."""
    if config is None:
        return _run(items, _request(request, request_fields), metadata_only, profile or DEFAULT_PROFILE, progress,
                    element)
    from .config import Config, load_config

    if not isinstance(config, Config):
        config = load_config(config)
    chosen = profile if isinstance(profile, Profile) else config.load_profile(profile)
    defaults = Request(orientation=config.orientation, quality=config.quality, written_in="config")
    report = _run(items, _request(request, request_fields).filled_from(defaults), metadata_only or config.metadata_only,
                  chosen, progress, element)
    return config.apply(report)


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
        return run_judged(spec.function, ctx.profile, ctx) or skipped(spec.unmeasured)
    except Exception as exc:  # a bug in a check must fail the gate, not pass it or crash the run
        return failed(f"internal error in this check ({type(exc).__name__}: {exc}); please report it")


def _file_checks(facts: FileFacts, role: str, profile: Profile, request: ResolvedRequest,
                 element: ElementRequest | None = None) -> list[Check]:
    ctx = Context(profile=profile, request=request, facts=facts, element=element)
    checks = []
    for spec in REGISTRY[role]:
        finding = _run_one(spec, ctx)
        checks.append(Check.of(spec.id, role, finding, facts.path))
    return checks


def _analyse(facts: FileFacts, role: str, profile: Profile, progress) -> tuple[object | None, str | None]:
    """Run content analysis on a readable file: (content, None) or (None, why it did not run)."""
    if facts.problem:
        return None, "skipped: the file is not readable"
    picture = role in ("image", "element_image", "element_ref")
    if picture and (facts.image is None or facts.image.display_size is None):
        return None, "skipped: the image could not be measured"
    if picture and facts.image.width * facts.image.height > DECODE_MAX_PIXELS:
        return None, f"skipped: the image is above the {DECODE_MAX_PIXELS / 1e6:.0f} MP decode bound"
    from . import analysis  # deferred: loads OpenCV and mediapipe
    from .analysis.models import native_stderr_captured

    report_progress = (lambda done, total: progress(facts.path, done, total)) if progress else None
    readings = facts.video.durations() if facts.video else {}
    with native_stderr_captured():
        if role == "image":
            return analysis.analyse_image_file(facts.path), None
        if role == "element_image":
            return analysis.analyse_element_image_file(facts.path), None
        if role == "element_ref":
            return None, "not measured"
        if role == "element_video":
            return analysis.analyse_element_video(facts.path, facts.video.rotation,
                                                  duration_hint=max(readings.values()) if readings else None,
                                                  progress=report_progress), None
        thresholds = profile.value("content.camera_motion")
        return analysis.analyse_video(
            facts.path, facts.video.rotation, strong_camera=thresholds["strong"], some_camera=thresholds["some"],
            duration_hint=max(readings.values()) if readings else None,
            fast_limb_speed=profile.value("content.fast_limb_speed"), progress=report_progress,
            skip=profile.value("content.partial_decoding")), None


def _analysis_key(facts: FileFacts, role: str, profile: Profile) -> tuple:
    """What an analysis depends on: the file (by path, inode, size and modification time), its
    role and the profile entries the analysers take (hosts of one model share them, so
    ``--provider all`` decodes each file once)."""
    import os

    try:
        st = os.stat(facts.path)
        identity: tuple = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        identity = (facts.size,)
    camera = profile.value("content.camera_motion")
    return (facts.path, *identity, role, camera["strong"], camera["some"],
            profile.value("content.fast_limb_speed"), profile.value("content.partial_decoding"))


# Analyses kept across calls in a batch worker (``keep_analyses``): the same character picture in
# fifty jobs is analysed once per worker. None: nothing is kept (a library call, one command).
_KEPT: "dict | None" = None
_KEPT_MAX = 0


def keep_analyses(count: int) -> None:
    """Keep the last ``count`` content analyses of this process, by file identity, for later
    checks of the same unchanged files (0: keep none)."""
    global _KEPT, _KEPT_MAX
    if count <= 0:
        _KEPT = None
    elif _KEPT is None:
        _KEPT = {}
    _KEPT_MAX = count


def _remember(memo: dict, key: tuple, value) -> None:
    memo[key] = value
    if memo is _KEPT and len(memo) > _KEPT_MAX:
        memo.pop(next(iter(memo)))  # the oldest first (dicts keep insertion order)


def _content_checks(facts: FileFacts, role: str, profile: Profile, metadata_only: bool, progress,
                    memo: dict | None = None):
    """The content checks of one file, and the analysis they came from (None if it did not run).
    ``memo`` keeps analyses across runs on other profiles of the same inputs."""
    content = None
    memo = memo if memo is not None else _KEPT
    if metadata_only:
        findings, reason = {}, "skipped: --metadata-only"
    else:
        try:
            key = _analysis_key(facts, role, profile)
            if memo is not None and key in memo:
                content, reason = memo[key]
            else:
                content, reason = _analyse(facts, role, profile, progress)
                if memo is not None:
                    _remember(memo, key, (content, reason))
        except Exception as exc:  # a readable file the analysers choke on: fail closed, say why
            findings = {cid: failed(f"content analysis failed ({type(exc).__name__}: {exc}); please report it")
                        for cid in CONTENT_CHECK_IDS[role]}
            content, reason = None, None
        else:
            findings = {}
        if content is not None:
            findings = run_content_checks(role, content, profile)
    checks = []
    for check_id in CONTENT_CHECK_IDS[role]:
        finding = findings.get(check_id) or skipped(reason or "not measured")
        checks.append(Check.of(check_id, role, finding, facts.path))
    return checks, content


def _run(items: list[tuple[str, str | None]], request: Request, metadata_only: bool, profile: str | Profile,
         progress=None, element: ElementRequest | None = None, memo: dict | None = None) -> Report:
    # One pass over the inputs in report order (probe, metadata checks, content checks), then the
    # pair and the request with the cost: the order of a report reads off this function.
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    resolved = request.resolve(profile)
    report = Report(
        profile=profile.id,
        tool_version=__version__,
        metadata_only=metadata_only,
        request=resolved,
        inputs=[],
        element=element,
    )
    # The generation's request is judged unless only an element's inputs are checked.
    generation = element is None or bool(items)
    items = items + (element.media() if element else [])
    video_seconds = usable_seconds = None
    contents: dict[str, object] = {}
    for path, expect in items:
        probed = ("probe", path, expect, metadata_only)
        facts = memo.get(probed) if memo is not None else None
        if facts is None:
            facts = probe_file(path, expect=_MEDIUM.get(expect, expect), verify_pixels=not metadata_only)
            if memo is not None:
                memo[probed] = facts
        role = expect or _role(facts)
        report.inputs.append({
            "role": role,
            "path": path,
            "format": facts.sniffed.format if facts.sniffed else None,
            "size": facts.size,
            "readable": facts.problem is None,
        })
        report.checks.extend(_file_checks(facts, role, profile, resolved, element))
        content_checks, content = _content_checks(facts, role, profile, metadata_only, progress, memo)
        report.checks.extend(content_checks)
        report.facts[path] = facts
        if content is not None:
            report.analysis[path] = content
        if content is not None and role not in contents:
            contents[role] = content
        if role == "video" and facts.video is not None and video_seconds is None:
            readings = facts.video.durations()
            if readings:
                video_seconds = max(readings.values())
            if content is not None:
                from .checks.content import usable_segment

                start, end, reason = usable_segment(content, profile)
                usable_seconds = end - start if reason else None

    if {"image", "video"} <= {role for _, role in items}:  # an image and a video, checked as a pair
        report.checks.extend(_pair_checks(contents, profile, metadata_only))
    _judge_request(report, profile, generation, video_seconds, usable_seconds)
    return report


def _pair_checks(contents: dict, profile: Profile, metadata_only: bool) -> list[Check]:
    checks = []
    for spec in CONTENT_REGISTRY["pair"]:
        if "image" in contents and "video" in contents:
            finding = run_content_check(spec, contents, profile)
        else:
            finding = skipped("skipped: " + ("--metadata-only" if metadata_only
                                             else "content analysis did not run on both"))
        checks.append(Check.of(spec.id, "pair", finding))
    return checks


def _judge_request(report: Report, profile: Profile, generation: bool, video_seconds: float | None,
                   usable_seconds: float | None) -> None:
    """The generation's request checks (unless only an element's inputs were checked), the
    element's, the cost, and a note for each request field left at its default."""
    resolved, element = report.request, report.element
    ctx = Context(profile=profile, request=resolved, element=element)
    for subject in (["request"] if generation else []) + (["element"] if element else []):
        for spec in REGISTRY[subject]:
            finding = _run_one(spec, ctx)
            report.checks.append(Check.of(spec.id, subject, finding))
    if not generation:
        report.cost = element_cost(profile)
        return
    report.cost = estimate(profile, resolved, video_seconds, usable_seconds)
    if element is not None:
        report.cost = plus_element(report.cost, profile)
    for name in resolved.defaulted:
        value = getattr(resolved, name)
        shown = str(value).lower() if isinstance(value, bool) else value
        report.notes.append(f"{name} not given: using {shown}")
