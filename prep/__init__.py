"""prep: fix what preflight found. Trim to the orientation's limit (choosing the best window),
scale, transcode, compress, convert images; then check the outputs with preflight.

    >>> import prep
    >>> p = prep.plan(video="long_clip.mov", image="photo.webp", orientation="image", out_dir="out")
    >>> print([s.reason for item in p.items for s in item.steps])
    >>> result = prep.apply(p)
    >>> result.ok, result.outputs
"""

from __future__ import annotations

from pathlib import Path

from preflight import ElementRequest, Report, check
from preflight.profile import DEFAULT_PROFILE, Profile, load_profile

from .apply import PrepResult, apply
from .errors import PrepError
from .plan import MediaPlan, Plan, PlanError, Step, plan_element_video, plan_image, plan_video

__all__ = ["plan", "apply", "Plan", "MediaPlan", "Step", "PrepResult", "PrepError", "PlanError"]


def plan(image: str | Path | None = None, video: str | Path | None = None, *, orientation: str | None = None,
         keep_sound: bool | None = None, out_dir: str | Path = "prepped", start: float | None = None,
         end: float | None = None, extend: str | None = None, force: bool = False,
         profile: str | Profile = DEFAULT_PROFILE, report: Report | None = None, metadata_only: bool = False,
         progress=None, element_video: str | Path | None = None) -> Plan:
    """Plan the smallest set of changes that makes the inputs pass. Writes nothing.

    Runs preflight (with content analysis, which chooses the video window and finds what no
    edit can fix) unless a ``report`` from an earlier run on the same inputs is given. With
    ``metadata_only`` only the documented limits count and the window is the first seconds.
    ``element_video``: a custom element's source video, fixed to the element's limits (its
    length and width) rather than the reference video's.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    if image is None and video is None and element_video is None:
        raise PlanError("nothing to prepare: give an image, a video or an element video")
    if extend not in (None, "loop", "boomerang"):
        raise PlanError(f"--extend must be loop or boomerang, not {extend!r}")
    element = None if element_video is None else ElementRequest(video=str(element_video))
    if report is None:
        report = check(image=image, video=video, orientation=orientation, keep_sound=keep_sound, profile=profile,
                       metadata_only=metadata_only, progress=progress, element=element)
    orientation = report.request.orientation
    keep_sound = report.request.keep_sound
    out = Path(out_dir)
    items = []
    if image is not None:
        items.append(plan_image(report, str(image), profile, out))
    if video is not None:
        items.append(plan_video(report, str(video), profile, orientation, keep_sound, out, start, end, extend))
    if element_video is not None:
        items.append(plan_element_video(report, str(element_video), profile, out))
    _refuse_what_prep_cannot_fix(report, items)
    return Plan(orientation=orientation, keep_sound=keep_sound, out_dir=str(out), items=items, report=report,
                profile=profile, force=force, metadata_only=report.metadata_only)


# Findings no edit of the file can fix: prep reports them and leaves the input alone.
_UNFIXABLE = {"image.person", "video.people", "image.body_visibility", "image.upright", "video.frame_rate",
              "image.transparency", "element_video.person", "element_video.face"}


def _refuse_what_prep_cannot_fix(report: Report, items: list[MediaPlan]) -> None:
    for item in items:
        if item.refused:
            continue
        # A person turned with the whole picture is what a planned turn fixes.
        fixed = {"image.upright", "video.upright"} if any(step.action == "turn" for step in item.steps) else set()
        problems = [c for c in report.checks
                    if c.file == item.source and c.id in _UNFIXABLE - fixed and c.status.value == "fail"]
        if problems:
            item.refused = "; ".join(f"{c.id}: {c.message}" for c in problems)
            item.steps, item.output, item.ffmpeg_args = [], None, None
