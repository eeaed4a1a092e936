"""Content checks: findings from the analysers, judged by the profile's content.* entries.

One function per check id, registered like the metadata checks (``@content_check("video.cuts")``):
each takes the analysis result of its file (``preflight.analysis.ImageContent`` or
``VideoContent``) as plain data and the profile, imports no model, and can be tested without
one. ``pair.framing`` takes both. The ids, their order in a report and the fail-closed wrapper
come from ``base.CONTENT_REGISTRY``; nothing here lists them again.
"""

from __future__ import annotations

from ..profile import Profile
from ..report import Status
from .base import NEVER_RELAXED, Finding, content_check, failed, passed, warned

_WORDS = {"full": "full body", "upper": "upper body", "partial": "only part of the body", "none": "no person"}
_FRAMED = "upper or full body"


def _judge(profile: Profile, check_id: str, message: str, **kw) -> Finding:
    """A problem found by ``check_id``: warn or fail as the profile says (never a warning for the
    checks in ``NEVER_RELAXED``)."""
    severity = profile.value("content.severity").get(check_id, "warn")
    if check_id in NEVER_RELAXED or severity == "fail":
        return failed(message, **kw)
    return warned(message, **kw)


# A person turned with the whole picture, by the quarter turns counter-clockwise that right them.
_TURNED = {1: "the person lies on their side, head to the right,", 2: "the person is upside down",
           3: "the person lies on their side, head to the left,"}
_TURN_FIX = {1: "prep turns it 90° counter-clockwise", 2: "prep turns it 180°", 3: "prep turns it 90° clockwise"}


def _unread(content) -> bool:
    """One view of the picture: a person the count found but whose pose could not be read is
    judged as found, never as "no person"."""
    return content.people > 0 and content.body == "none"


def none_or_one_person(profile: Profile, check_id: str, n: int) -> Finding | None:
    """The finding for a picture with no person or one; None when there are several (each
    check judges those in its own words)."""
    if n == 1:
        return passed("one person", measured=n, limit=1)
    if n == 0:
        return _judge(profile, check_id, "no person found", measured=0, limit=1)
    return None


# ------------------------------------------------------------------------------------ image

@content_check("image.person")
def image_person(content, profile: Profile) -> Finding:
    n = content.people
    counted = none_or_one_person(profile, "image.person", n)
    if counted:
        return counted
    bystander = profile.value("content.bystander_size")
    performers = sum(size >= bystander for size in content.sizes) if len(content.sizes) == n else n
    if performers == 1:
        others = "the other one is" if n == 2 else f"the other {n - 1} are"
        return warned(f"{n} people found, but only one is large: {others} under {bystander:.0%} of the main "
                      "person's size, bystanders rather than a second performer; the model follows the largest "
                      "person, so crop them out to be safe", measured=n, limit=1)
    return _judge(profile, "image.person",
                  f"{n} people found: the model animates one character; crop to one person", measured=n, limit=1)


@content_check("image.body_visibility")
def image_body_visibility(content, profile: Profile) -> Finding:
    measured = {"body": content.body}
    n = content.people
    if content.body in ("full", "upper"):
        return passed(_WORDS[content.body] + " visible", measured=measured, limit=_FRAMED)
    if _unread(content):
        return _judge(profile, "image.body_visibility",
                      f"{'a person was' if n == 1 else f'{n} people were'} found, but no body pose could be read "
                      "(a person lying, tangled with others, far away or mostly covered): the model needs a clear "
                      "upper or full body", measured=measured, limit=_FRAMED)
    return _judge(profile, "image.body_visibility",
                  f"{_WORDS[content.body]}: the model needs a clear upper or full body", measured=measured,
                  limit=_FRAMED)


@content_check("image.upright")
def image_upright(content, profile: Profile) -> Finding:
    if content.posture is None:
        return Finding(Status.SKIP, "the person's pose could not be read: posture not measured"
                       if _unread(content) else "no pose found: posture not measured")
    angle = round(content.torso_angle, 1)
    measured = {"posture": content.posture, "torso_angle_deg": angle}
    if content.posture == "upright":
        return passed(f"upright (torso {angle}° from vertical)", measured=measured)
    if content.turn_quarters:
        # The whole picture is turned (an EXIF tag lost or wrong, a camera held sideways): a
        # fix, not a bad character, so it fails with the way out.
        measured["turn_quarters_ccw"] = content.turn_quarters
        return failed(f"{_TURNED[content.turn_quarters]} in the picture (torso {angle}° from vertical): the model "
                      f"needs an upright character; {_TURN_FIX[content.turn_quarters]}", measured=measured)
    return _judge(profile, "image.upright",
                  f"{content.posture} (torso {angle}° from vertical): the model needs an upright character",
                  measured=measured)


def _subject_size(content, profile: Profile, check_id: str, frame: str, remedy: str) -> Finding:
    """The share of the picture (or frame) the person covers, against the profile's minimum."""
    min_area = profile.value("content.subject_min_area")
    area = round(content.subject_area, 3)
    if content.subject_area < min_area:
        return _judge(profile, check_id, f"the person covers {area:.1%} of the {frame}, under {min_area:.0%}{remedy}",
                      measured=area, limit=min_area)
    return passed(f"the person covers {area:.0%} of the {frame}", measured=area, limit=min_area)


@content_check("image.subject_size")
def image_subject_size(content, profile: Profile) -> Finding:
    if content.body == "none":
        return Finding(Status.SKIP, "the person's pose could not be read: size not measured"
                       if _unread(content) else "no person: size not measured")
    return _subject_size(content, profile, "image.subject_size", "image", ": crop closer")


# ------------------------------------------------------------------------------------ video

@content_check("video.cuts")
def video_cuts(content, profile: Profile) -> Finding:
    cuts = content.cuts
    transitions = cuts.fades + [a for a, _ in cuts.dissolves]
    times = sorted(cuts.cuts + transitions)
    stats = content.stats
    # How much of the clip was looked at frame by frame (both passes; see content.partial_decoding).
    measured = {"cuts": cuts.cuts, "fades": cuts.fades, "dissolves": cuts.dissolves,
                "frames_decoded": stats.frames_decoded + stats.frames_refilled,
                "frames_in_stream": stats.frames_total or stats.frames_decoded}
    if not times:
        return passed("no cuts or transitions", measured=measured)
    parts = []
    if cuts.cuts:
        parts.append(f"{len(cuts.cuts)} cut{'s' * (len(cuts.cuts) > 1)} at {', '.join(f'{t:g} s' for t in cuts.cuts)}")
    if cuts.fades:
        parts.append(f"fade{'s' * (len(cuts.fades) > 1)} at {', '.join(f'{t:g} s' for t in cuts.fades)}")
    if cuts.dissolves:
        parts.append("dissolve " + ", ".join(f"{a:g}-{b:g} s" for a, b in cuts.dissolves))
    return _judge(profile, "video.cuts",
                  "; ".join(parts) + ": the model truncates its output there; prep keeps the longest shot",
                  measured=measured, times=[*cuts.cuts, *cuts.fades, *cuts.dissolves])


@content_check("video.frame_drops")
def video_frame_drops(content, profile: Profile) -> Finding:
    """Gaps in the timestamps: a phone under load drops frames and keeps the clock running.
    One shot goes on across them (the cut detector knows), but the motion jumps."""
    drops = content.frame_drops
    if drops is None:
        return Finding(Status.SKIP, "the stream gives no usable timestamps: dropped frames not measured")
    measured = {"spans": drops, "frames_missing": content.dropped_frames}
    if not drops:
        return passed("no frames missing: the timestamps run evenly", measured=measured)
    spans = ", ".join(f"{a:g}-{b:g} s" for a, b in drops)
    return _judge(profile, "video.frame_drops",
                  f"about {content.dropped_frames} frame{'s' * (content.dropped_frames != 1)} missing at {spans} "
                  "(the recording dropped them; the timestamps jump): the model sees the motion jump there; "
                  "one shot all the same, not a cut", measured=measured, times=drops)


@content_check("video.people")
def video_people(content, profile: Profile) -> Finding:
    n = content.people
    measured = {"most_at_once": n, "samples": len(content.people_samples)}
    if n == 1:
        return passed("one person", measured=measured, limit=1)
    if n == 0:
        return _judge(profile, "video.people", "no person found", measured=measured, limit=1)
    spans = ", ".join(f"{a:g}-{b:g} s" for a, b in content.several_spans)
    from ..analysis.people import most_at_once  # here: the metadata-only path must not load the analysis

    bystander = profile.value("content.bystander_size")
    performers = most_at_once([sum(size >= bystander for size in sizes) for _, sizes in content.people_sizes])
    if content.people_sizes and performers == 1:
        return warned(f"up to {n} people at once ({spans}), but only one is large: the others are under "
                      f"{bystander:.0%} of the main person's size, bystanders rather than a second performer; the "
                      "model follows whoever fills most of the frame", measured=measured, limit=1,
                      times=content.several_spans)
    return _judge(profile, "video.people",
                  f"up to {n} people at once ({spans}): the model follows whoever fills most of the frame",
                  measured=measured, limit=1, times=content.several_spans)


@content_check("video.body_visibility")
def video_body_visibility(content, profile: Profile) -> Finding:
    shares = content.body_shares
    visible = shares.get("upper", 0) + shares.get("full", 0)
    limits = profile.value("content.body_min_share")
    measured = {"upper_or_full_share": round(visible, 3), "shares": shares, "dominant": content.body}
    text = f"upper or full body visible {visible:.0%} of the time (mostly {_WORDS[content.body]})"
    if content.people == 0 and visible == 0:
        return Finding(Status.SKIP, "no person: body visibility not measured")
    if visible < limits["fail"]:
        return failed(text, measured=measured, limit=limits)
    if visible < limits["warn"]:
        return _judge(profile, "video.body_visibility", text, measured=measured, limit=limits)
    return passed(text, measured=measured, limit=limits)


@content_check("video.upright")
def video_upright(content, profile: Profile) -> Finding:
    if content.turn_quarters:
        return failed(
            f"{_TURNED[content.turn_quarters]} for the whole clip (typically a wrong rotation flag, or a phone "
            f"held that way): the model needs an upright character; {_TURN_FIX[content.turn_quarters]}",
            measured={"turn_quarters_ccw": content.turn_quarters}, times=content.not_upright_spans)
    if content.not_upright_spans:
        spans = ", ".join(f"{a:g}-{b:g} s" for a, b in content.not_upright_spans)
        return _judge(profile, "video.upright", f"not upright at {spans}", times=content.not_upright_spans)
    if content.body == "none":
        return Finding(Status.SKIP, "no person: posture not measured")
    return passed("upright throughout")


@content_check("video.camera_motion")
def video_camera_motion(content, profile: Profile) -> Finding:
    kind, median, p90, held = camera_class(content, profile)
    thresholds = profile.value("content.camera_motion")
    summary = content.camera_summary
    measured = {"class": kind, "median": None if median is None else round(median, 4),
                "p90": None if p90 is None else round(p90, 4),
                "sustained": None if held is None else round(held, 4), "kind": summary.kind if summary else None}
    if summary:
        measured.update(pan=round(summary.pan, 3), tilt=round(summary.tilt, 3), zoom=round(summary.zoom, 3),
                        path=round(summary.path, 3))
    words = summary.words() if summary else "nothing in the frame to track, so no camera movement shows"
    rates = "" if median is None else (f"; {median:.1%} of the frame per second ({held:.1%} net over a second), "
                                       f"peaks {p90:.1%}")
    if kind == "unknown":
        return Finding(Status.SKIP, "no two frames close enough in time to measure camera movement", measured=measured)
    if kind == "none":
        return passed(f"little or no camera movement: {words}{rates}", measured=measured, limit=thresholds)
    if kind == "some":
        return warned(f"some camera movement: {words}{rates}", measured=measured, limit=thresholds,
                      times=content.camera_moving_spans or content.camera_spans)
    return _judge(profile, "video.camera_motion", f"strong camera movement: {words}{rates}: the model truncates at it",
                  measured=measured, limit=thresholds, times=content.camera_spans or content.camera_moving_spans)


@content_check("video.fast_motion")
def video_fast_motion(content, profile: Profile) -> Finding:
    speed_limit = profile.value("content.fast_limb_speed")
    measured = {"limb_speed_p90": None if content.limb_speed_p90 is None else round(content.limb_speed_p90, 2)}
    if content.fast_spans:
        spans = ", ".join(f"{a:g}-{b:g} s" for a, b in content.fast_spans)
        return _judge(profile, "video.fast_motion",
                      f"limbs move faster than {speed_limit:g} torso lengths per second at {spans}",
                      measured=measured, limit=speed_limit, times=content.fast_spans)
    if content.limb_speed_p90 is None:
        return Finding(Status.SKIP, "limbs not seen: speed not measured")
    return passed(f"limb speed within {speed_limit:g} torso lengths per second", measured=measured,
                  limit=speed_limit)


@content_check("video.subject_size")
def video_subject_size(content, profile: Profile) -> Finding:
    if content.body == "none":
        return Finding(Status.SKIP, "no person: size not measured")
    return _subject_size(content, profile, "video.subject_size", "frame", "")


@content_check("video.usable_segment")
def video_usable_segment(content, profile: Profile) -> Finding:
    start, end, reason = usable_segment(content, profile)
    measured = {"start": start, "end": round(end, 3), "seconds": round(end - start, 3)}
    if reason:
        return _judge(profile, "video.usable_segment",
                      f"the model will most likely use {start:g}-{end:g} s only ({reason} at {end:g} s); "
                      "the cost estimate counts that span", measured=measured, times=[[start, round(end, 3)]])
    return passed(f"the whole clip is usable (0-{end:.2f} s)", measured=measured)


# ------------------------------------------------------------------------------------ pair

@content_check("pair.framing")
def pair_framing(contents: dict, profile: Profile) -> Finding:
    """``contents``: the image's and the video's analysis, by role."""
    image_body, video_body = contents["image"].body, contents["video"].body
    measured = {"image": image_body, "video": video_body}
    framed = {"upper", "full"}
    if image_body in framed and video_body in framed and image_body != video_body:
        return _judge(profile, "pair.framing",
                      f"the image shows the {_WORDS[image_body]} but the video the {_WORDS[video_body]}: "
                      "the model handles mismatched framing badly", measured=measured)
    if image_body not in framed or video_body not in framed:
        return Finding(Status.SKIP, "framing not compared: a body is not visible in one input", measured=measured)
    return passed(f"both show the {_WORDS[image_body]}", measured=measured)


# ------------------------------------------------------------------------------------ helpers

def camera_class(content, profile: Profile) -> tuple[str, float | None, float | None, float | None]:
    """none / some / strong, with the median and 90th percentile of the camera's movement
    between sampled frames and the median of its net movement over a second
    (``VideoContent.camera_sustained``).

    Strong is movement kept up (a pan, a walk): a handheld shake moves the frame as much between
    two frames but goes nowhere, and warns, unless it is violent (``strong_shake`` between
    frames). With frame pairs compared but no rate measured (too little texture anywhere to
    track), the camera's movement does not show, and that is "none"; with no pair at all it is
    "unknown"."""
    import numpy as np  # here, not at the top: the --metadata-only path must not load it

    thresholds = profile.value("content.camera_motion")
    rates = content.camera_rates
    if not rates:
        return ("none", None, None, None) if content.camera_pairs else ("unknown", None, None, None)
    median = float(np.median(rates))
    p90 = float(np.percentile(rates, 90))
    held = float(np.median(content.camera_sustained)) if content.camera_sustained else median
    if held >= thresholds["strong"] or median >= thresholds.get("strong_shake", float("inf")):
        return "strong", median, p90, held
    if max(median, held) >= thresholds["some"] or p90 >= thresholds.get("some_peak", thresholds["strong"]):
        return "some", median, p90, held
    return "none", median, p90, held


def usable_segment(content, profile: Profile) -> tuple[float, float, str | None]:
    """The span the model will most likely use: it truncates at the first cut, transition or
    strong camera movement (MC spec, How the model behaves)."""
    events = [(t, "cut") for t in content.cuts.cuts]
    events += [(t, "transition") for t in content.cuts.fades]
    events += [(a, "dissolve") for a, _ in content.cuts.dissolves]
    events += [(a, "strong camera movement") for a, _ in content.camera_spans]
    events = sorted(events)
    if not events:
        return 0.0, content.duration, None
    return 0.0, events[0][0], events[0][1]


def image_checks(content, profile: Profile) -> dict:
    """Every image content check on one analysis, by id (for callers and tests)."""
    from .base import run_content_checks

    return run_content_checks("image", content, profile)


def video_checks(content, profile: Profile) -> dict:
    """Every video content check on one analysis, by id (for callers and tests)."""
    from .base import run_content_checks

    return run_content_checks("video", content, profile)
