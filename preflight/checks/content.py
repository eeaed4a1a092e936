"""Content checks: findings from the analysers, judged by the profile's content.* entries.

These functions take the analysis results (``preflight.analysis.ImageContent`` /
``VideoContent``) as plain data; they import no model and can be tested without one.
"""

from __future__ import annotations

from ..profile import Profile
from ..report import Status
from .base import Finding, failed, passed, warned

# Checks that may never pass on these findings, whatever the profile's severity table says.
ALWAYS_FAIL = {"image.person", "video.people", "video.cuts"}
_WORDS = {"full": "full body", "upper": "upper body", "partial": "only part of the body", "none": "no person"}


def _judge(profile: Profile, check_id: str, message: str, **kw) -> Finding:
    """A problem found by ``check_id``: warn or fail as the profile says."""
    severity = profile.value("content.severity").get(check_id, "warn")
    if check_id in ALWAYS_FAIL or severity == "fail":
        return failed(message, **kw)
    return warned(message, **kw)


# A person turned with the whole picture, by the quarter turns counter-clockwise that right them.
_TURNED = {1: "the person lies on their side, head to the right,", 2: "the person is upside down",
           3: "the person lies on their side, head to the left,"}
_TURN_FIX = {1: "prep turns it 90° counter-clockwise", 2: "prep turns it 180°", 3: "prep turns it 90° clockwise"}


def image_checks(content, profile: Profile) -> dict[str, Finding]:
    min_area = profile.value("content.subject_min_area")
    out: dict[str, Finding] = {}
    n = content.people
    if n == 1:
        out["image.person"] = passed("one person", measured=n, limit=1)
    elif n == 0:
        out["image.person"] = _judge(profile, "image.person", "no person found", measured=0, limit=1)
    else:
        out["image.person"] = _judge(
            profile, "image.person",
            f"{n} people found: the model animates one character; crop to one person", measured=n, limit=1)
    measured = {"body": content.body}
    # One view of the picture: a person that was found is judged as found, never as "no person".
    unread = n > 0 and content.body == "none"
    if content.body in ("full", "upper"):
        out["image.body_visibility"] = passed(_WORDS[content.body] + " visible", measured=measured,
                                              limit="upper or full body")
    elif unread:
        out["image.body_visibility"] = _judge(
            profile, "image.body_visibility",
            f"{'a person was' if n == 1 else f'{n} people were'} found, but no body pose could be read (a person "
            "lying, tangled with others, far away or mostly covered): the model needs a clear upper or full body",
            measured=measured, limit="upper or full body")
    else:
        out["image.body_visibility"] = _judge(
            profile, "image.body_visibility",
            f"{_WORDS[content.body]}: the model needs a clear upper or full body", measured=measured,
            limit="upper or full body")
    if content.posture is None:
        out["image.upright"] = Finding(Status.SKIP, "the person's pose could not be read: posture not measured"
                                       if unread else "no pose found: posture not measured")
    else:
        angle = round(content.torso_angle, 1)
        measured = {"posture": content.posture, "torso_angle_deg": angle}
        if content.posture == "upright":
            out["image.upright"] = passed(f"upright (torso {angle}° from vertical)", measured=measured)
        elif content.turn_quarters:
            # The whole picture is turned (an EXIF tag lost or wrong, a camera held sideways):
            # a fix, not a bad character, so it fails with the way out.
            measured["turn_quarters_ccw"] = content.turn_quarters
            out["image.upright"] = failed(f"{_TURNED[content.turn_quarters]} in the picture (torso {angle}° from "
                                          f"vertical): the model needs an upright character; "
                                          f"{_TURN_FIX[content.turn_quarters]}", measured=measured)
        else:
            out["image.upright"] = _judge(
                profile, "image.upright",
                f"{content.posture} (torso {angle}° from vertical): the model needs an upright character",
                measured=measured)
    area = round(content.subject_area, 3)
    if content.body == "none":
        out["image.subject_size"] = Finding(Status.SKIP, "the person's pose could not be read: size not measured"
                                            if unread else "no person: size not measured")
    elif content.subject_area < min_area:
        out["image.subject_size"] = _judge(
            profile, "image.subject_size",
            f"the person covers {area:.1%} of the image, under {min_area:.0%}: crop closer",
            measured=area, limit=min_area)
    else:
        out["image.subject_size"] = passed(f"the person covers {area:.0%} of the image", measured=area,
                                           limit=min_area)
    return out


def camera_class(rates: list[float], profile: Profile, pairs: int = 0) -> tuple[str, float | None, float | None]:
    """none / some / strong from the per-sample camera motion rates. With frame pairs compared
    but no rate measured (too little texture anywhere to track), the camera's movement does not
    show, and that is "none"; with no pair at all it is "unknown"."""
    import numpy as np  # here, not at the top: the --metadata-only path must not load it

    thresholds = profile.value("content.camera_motion")
    if not rates:
        return ("none", None, None) if pairs else ("unknown", None, None)
    median = float(np.median(rates))
    p90 = float(np.percentile(rates, 90))
    if median >= thresholds["strong"]:
        return "strong", median, p90
    if median >= thresholds["some"] or p90 >= thresholds.get("some_peak", thresholds["strong"]):
        return "some", median, p90
    return "none", median, p90


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


def video_checks(content, profile: Profile) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    min_area = profile.value("content.subject_min_area")
    cuts = content.cuts
    transitions = cuts.fades + [a for a, _ in cuts.dissolves]
    times = sorted(cuts.cuts + transitions)
    stats = content.stats
    # How much of the clip was looked at frame by frame (both passes; see content.partial_decoding).
    measured = {"cuts": cuts.cuts, "fades": cuts.fades, "dissolves": cuts.dissolves,
                "frames_decoded": stats.frames_decoded + stats.frames_refilled,
                "frames_in_stream": stats.frames_total or stats.frames_decoded}
    if times:
        parts = []
        if cuts.cuts:
            parts.append(f"{len(cuts.cuts)} cut{'s' * (len(cuts.cuts) > 1)} at {', '.join(f'{t:g} s' for t in cuts.cuts)}")
        if cuts.fades:
            parts.append(f"fade{'s' * (len(cuts.fades) > 1)} at {', '.join(f'{t:g} s' for t in cuts.fades)}")
        if cuts.dissolves:
            parts.append("dissolve " + ", ".join(f"{a:g}-{b:g} s" for a, b in cuts.dissolves))
        out["video.cuts"] = _judge(profile, "video.cuts",
                                   "; ".join(parts) + ": the model truncates its output there; prep keeps the longest shot",
                                   measured=measured, times=[*cuts.cuts, *cuts.fades, *cuts.dissolves])
    else:
        out["video.cuts"] = passed("no cuts or transitions", measured=measured)

    out["video.frame_drops"] = _frame_drops(content, profile)

    n = content.people
    measured = {"most_at_once": n, "samples": len(content.people_samples)}
    if n == 1:
        out["video.people"] = passed("one person", measured=measured, limit=1)
    elif n == 0:
        out["video.people"] = _judge(profile, "video.people", "no person found", measured=measured, limit=1)
    else:
        spans = ", ".join(f"{a:g}-{b:g} s" for a, b in content.several_spans)
        out["video.people"] = _judge(
            profile, "video.people",
            f"up to {n} people at once ({spans}): the model follows whoever fills most of the frame",
            measured=measured, limit=1, times=content.several_spans)

    shares = content.body_shares
    visible = shares.get("upper", 0) + shares.get("full", 0)
    limits = profile.value("content.body_min_share")
    measured = {"upper_or_full_share": round(visible, 3), "shares": shares, "dominant": content.body}
    text = f"upper or full body visible {visible:.0%} of the time (mostly {_WORDS[content.body]})"
    if n == 0 and visible == 0:
        out["video.body_visibility"] = Finding(Status.SKIP, "no person: body visibility not measured")
    elif visible < limits["fail"]:
        out["video.body_visibility"] = failed(text, measured=measured, limit=limits)
    elif visible < limits["warn"]:
        out["video.body_visibility"] = _judge(profile, "video.body_visibility", text, measured=measured,
                                              limit=limits)
    else:
        out["video.body_visibility"] = passed(text, measured=measured, limit=limits)

    if content.turn_quarters:
        out["video.upright"] = failed(
            f"{_TURNED[content.turn_quarters]} for the whole clip (typically a wrong rotation flag, or a phone "
            f"held that way): the model needs an upright character; {_TURN_FIX[content.turn_quarters]}",
            measured={"turn_quarters_ccw": content.turn_quarters}, times=content.not_upright_spans)
    elif content.not_upright_spans:
        spans = ", ".join(f"{a:g}-{b:g} s" for a, b in content.not_upright_spans)
        out["video.upright"] = _judge(profile, "video.upright", f"not upright at {spans}",
                                      times=content.not_upright_spans)
    elif content.body == "none":
        out["video.upright"] = Finding(Status.SKIP, "no person: posture not measured")
    else:
        out["video.upright"] = passed("upright throughout")

    kind, median, p90 = camera_class(content.camera_rates, profile, content.camera_pairs)
    thresholds = profile.value("content.camera_motion")
    summary = content.camera_summary
    measured = {"class": kind, "median": None if median is None else round(median, 4),
                "p90": None if p90 is None else round(p90, 4), "kind": summary.kind if summary else None}
    if summary:
        measured.update(pan=round(summary.pan, 3), tilt=round(summary.tilt, 3), zoom=round(summary.zoom, 3),
                        path=round(summary.path, 3))
    words = summary.words() if summary else "nothing in the frame to track, so no camera movement shows"
    rates = "" if median is None else f"; {median:.1%} of the frame per second, peaks {p90:.1%}"
    if kind == "unknown":
        out["video.camera_motion"] = Finding(Status.SKIP, "no two frames close enough in time to measure camera "
                                             "movement", measured=measured)
    elif kind == "none":
        out["video.camera_motion"] = passed(f"little or no camera movement: {words}{rates}", measured=measured,
                                            limit=thresholds)
    elif kind == "some":
        out["video.camera_motion"] = warned(f"some camera movement: {words}{rates}", measured=measured,
                                            limit=thresholds, times=content.camera_spans)
    else:
        out["video.camera_motion"] = _judge(
            profile, "video.camera_motion", f"strong camera movement: {words}{rates}: the model truncates at it",
            measured=measured, limit=thresholds, times=content.camera_spans)

    speed_limit = profile.value("content.fast_limb_speed")
    measured = {"limb_speed_p90": None if content.limb_speed_p90 is None else round(content.limb_speed_p90, 2)}
    if content.fast_spans:
        spans = ", ".join(f"{a:g}-{b:g} s" for a, b in content.fast_spans)
        out["video.fast_motion"] = _judge(profile, "video.fast_motion",
                                          f"limbs move faster than {speed_limit:g} torso lengths per second at {spans}",
                                          measured=measured, limit=speed_limit, times=content.fast_spans)
    elif content.limb_speed_p90 is None:
        out["video.fast_motion"] = Finding(Status.SKIP, "limbs not seen: speed not measured")
    else:
        out["video.fast_motion"] = passed(f"limb speed within {speed_limit:g} torso lengths per second",
                                          measured=measured, limit=speed_limit)

    area = round(content.subject_area, 3)
    if content.body == "none":
        out["video.subject_size"] = Finding(Status.SKIP, "no person: size not measured")
    elif content.subject_area < min_area:
        out["video.subject_size"] = _judge(profile, "video.subject_size",
                                           f"the person covers {area:.1%} of the frame, under {min_area:.0%}",
                                           measured=area, limit=min_area)
    else:
        out["video.subject_size"] = passed(f"the person covers {area:.0%} of the frame", measured=area,
                                           limit=min_area)

    start, end, reason = usable_segment(content, profile)
    measured = {"start": start, "end": round(end, 3), "seconds": round(end - start, 3)}
    if reason:
        out["video.usable_segment"] = _judge(
            profile, "video.usable_segment",
            f"the model will most likely use {start:g}-{end:g} s only ({reason} at {end:g} s); "
            "the cost estimate counts that span", measured=measured, times=[[start, round(end, 3)]])
    else:
        out["video.usable_segment"] = passed(f"the whole clip is usable (0-{end:.2f} s)", measured=measured)
    return out


def _frame_drops(content, profile: Profile) -> Finding:
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


def pair_framing(image_body: str, video_body: str, profile: Profile) -> Finding:
    measured = {"image": image_body, "video": video_body}
    framed = {"upper", "full"}
    if image_body in framed and video_body in framed and image_body != video_body:
        return _judge(profile, "pair.framing",
                      f"the image shows the {_WORDS[image_body]} but the video the {_WORDS[video_body]}: "
                      "the model handles mismatched framing badly", measured=measured)
    if image_body not in framed or video_body not in framed:
        return Finding(Status.SKIP, "framing not compared: a body is not visible in one input", measured=measured)
    return passed(f"both show the {_WORDS[image_body]}", measured=measured)
