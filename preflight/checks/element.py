"""Checks on a custom element's inputs (kling-custom-element, API ref section 2a): its source
video, or its frontal picture and reference pictures, and its name and description. Numbers
come from the profile (element.*). The element's media are probed like the generation's, so the
checks that read a file the same way are the video and image checks themselves, registered
again under the element's ids."""

from __future__ import annotations

from fractions import Fraction

from ..profile import Profile
from ..report import Status
from . import image as image_checks
from . import video as video_checks
from .base import (Context, Finding, accepted_format, content_check, failed, passed, register, size_text, skipped,
                   warned)
from .content import _judge, none_or_one_person


# ------------------------------------------------------------------------------ source video

register("element_video.readable")(video_checks.readable)


@register("element_video.container")
def video_container(ctx: Context):
    f = ctx.facts
    return accepted_format(ctx, "video", {"format": f.sniffed.format, "brand": f.sniffed.brand} if f.sniffed else None,
                           section="element.video")


@register("element_video.file_size")
def video_file_size(ctx: Context):
    size = ctx.facts.size
    if size is None:
        return None
    limit = ctx.profile.limit("element.video.max_file_size")
    if size > limit.value:
        # Not a documented limit for elements: a warning, never a false fail.
        return warned(f"{size_text(size)}: over the reference video's {limit.value / 1e6:g} MB, which the element "
                      f"page does not state ({limit.note}); prep re-encodes it smaller", measured=size,
                      limit=limit.value)
    return passed(f"{size_text(size)}", measured=size, limit=limit.value)


@register("element_video.width")
def video_width(ctx: Context):
    v = ctx.facts.video
    if v is None:
        return None
    lo, hi = ctx.profile.value("element.video.min_width"), ctx.profile.value("element.video.max_width")
    width, height = v.display_size
    measured = {"width": width, "height": height}
    limit = {"min_width": lo, "max_width": hi}
    if not lo <= width <= hi:
        return failed(f"{width}x{height} as displayed: the width is outside {lo}-{hi} px; prep scales it",
                      measured=measured, limit=limit)
    return passed(f"{width}x{height} as displayed, width within {lo}-{hi} px", measured=measured, limit=limit)


@register("element_video.duration")
def video_duration(ctx: Context):
    v = ctx.facts.video
    if v is None:
        return None
    readings = v.durations()
    if not readings:
        return failed("the file states no duration and none could be measured from its packets")
    hi = ctx.profile.value("element.video.max_duration")
    longest = max(readings.values())
    measured = {"seconds": round(longest, 3), "readings": {k: round(x, 3) for k, x in readings.items()}}
    if longest > hi + video_checks.DURATION_EPSILON:
        return failed(f"{longest:.2f} s is over the element's {hi:g} s; prep keeps the best {hi:g} s",
                      measured=measured, limit={"max": hi})
    return passed(f"{longest:.2f} s, at most {hi:g} s", measured=measured, limit={"max": hi})


# ------------------------------------------------------------------ frontal and reference pictures

def _picture_checks(role: str) -> None:
    """The checks of one element picture role (element_image, element_ref)."""
    register(f"{role}.readable")(image_checks.readable)

    @register(f"{role}.format")
    def picture_format(ctx: Context):
        f = ctx.facts
        return accepted_format(ctx, "image", f.sniffed.format if f.sniffed else None, section="element.image")

    @register(f"{role}.dimensions")
    def picture_dimensions(ctx: Context):
        h = ctx.facts.image
        if h is None or h.display_size is None:
            return None
        width, height = h.display_size
        lo = ctx.profile.value("element.image.min_side")
        ratio = Fraction(width, height)
        lo_r = ctx.profile.limit("element.image.min_aspect").fraction()
        hi_r = ctx.profile.limit("element.image.max_aspect").fraction()
        measured = {"width": width, "height": height, "aspect": round(float(ratio), 4)}
        limit = {"min_side": lo, "min_aspect": float(lo_r), "max_aspect": float(hi_r)}
        problems = []
        if min(width, height) < lo:
            problems.append(f"a side under {lo} px")
        if not lo_r <= ratio <= hi_r:
            problems.append(f"an aspect outside 1:{float(1 / lo_r):g} to {float(hi_r):g}:1")
        if problems:
            return failed(f"{width}x{height}: {' and '.join(problems)}; prep scales, pads or crops it",
                          measured=measured, limit=limit)
        return passed(f"{width}x{height}, sides and aspect within the element's limits", measured=measured,
                      limit=limit)


_picture_checks("element_image")
_picture_checks("element_ref")


# ----------------------------------------------------------------------------- the request

def _text(ctx: Context, what: str, given: str | None, key: str, option: str, shown: bool) -> Finding | None:
    """The element's name or description: given, not blank, at most the profile's ``key``
    characters (``shown``: the text itself goes into the message)."""
    if ctx.element is None:
        return None
    most = ctx.profile.value(key)
    if given is None:
        return skipped(f"no {what} given (submit element create {option} gives one)", limit=most)
    if not given.strip():
        return failed(f"an element's {what} cannot be blank", limit=most)
    if len(given) > most:
        return failed(f"the {what} is {len(given)} characters, over {most}", measured=len(given), limit=most)
    return passed(f"{f'{given!r}, ' if shown else ''}{len(given)} of at most {most} characters", measured=len(given),
                  limit=most)


@register("element.name", unmeasured="no element")
def name(ctx: Context):
    return _text(ctx, "name", ctx.element and ctx.element.name, "element.name_max_chars", "--name", shown=True)


@register("element.description", unmeasured="no element")
def description(ctx: Context):
    return _text(ctx, "description", ctx.element and ctx.element.description, "element.description_max_chars",
                 "--description", shown=False)


@register("element.references", unmeasured="no element")
def references(ctx: Context):
    e = ctx.element
    if e is None:
        return None
    bounds = ctx.profile.value("element.refs")
    measured = {"video": bool(e.video), "frontal_image": bool(e.image), "refs": len(e.refs)}
    usable = ctx.profile.value("element.usable_reference_types")
    if e.video and (e.image or e.refs):
        return failed("give either a video (video_refer) or a frontal image with reference images (image_refer), "
                      "not both", measured=measured)
    if e.video:
        return passed("one video: a video_refer element, usable with Motion Control", measured=measured)
    if not e.image:
        return failed("an element needs a video, or a frontal image with reference images", measured=measured)
    if not bounds["min"] <= len(e.refs) <= bounds["max"]:
        return failed(f"{len(e.refs)} reference images beside the frontal one; {bounds['min']}-{bounds['max']} "
                      "are needed", measured=measured, limit=bounds)
    note = "" if "image_refer" in usable else ": Motion Control does not take image_refer elements, only video_refer"
    finding = passed if not note else warned
    return finding(f"a frontal image and {len(e.refs)} reference image{'s' * (len(e.refs) > 1)}: an image_refer "
                   f"element{note}", measured=measured, limit=bounds)


# ----------------------------------------------------------------------------- content

def _clear(face, thresholds: dict) -> bool:
    return face is not None and face.score >= thresholds["min_score"] and face.width >= thresholds["min_width"]


@content_check("element_video.cuts")
def element_cuts(content, profile: Profile) -> Finding:
    c = content.cuts
    times = sorted(c.cuts + c.fades + [a for a, _ in c.dissolves])
    measured = {"cuts": c.cuts, "fades": c.fades, "dissolves": c.dissolves}
    if not times:
        return passed("no cuts or transitions: one shot", measured=measured)
    return _judge(profile, "element_video.cuts",
                  f"a cut or transition at {', '.join(f'{t:g} s' for t in times)}: an element is one character in "
                  "one shot (a change of character is refused); prep keeps the longest shot",
                  measured=measured, times=times)


@content_check("element_video.person")
def element_person(content, profile: Profile) -> Finding:
    samples = len(content.people_samples)
    measured = {"most_at_once": content.people, "samples": samples, "several": content.several_spans,
                "nobody": content.no_person_spans}
    if content.people == 0:
        return _judge(profile, "element_video.person", "no person found: an element is made from a person's video",
                      measured=measured, limit=1)
    if content.people > 1:
        spans = ", ".join(f"{a:g}-{b:g} s" for a, b in content.several_spans)
        return _judge(profile, "element_video.person",
                      f"{content.people} people at once ({spans}): an element is one character throughout",
                      measured=measured, limit=1, times=content.several_spans)
    if content.no_person_spans:
        spans = ", ".join(f"{a:g}-{b:g} s" for a, b in content.no_person_spans)
        return warned(f"one person, but nobody is seen at {spans}", measured=measured, limit=1,
                      times=content.no_person_spans)
    return passed("one person throughout", measured=measured, limit=1)


@content_check("element_video.face")
def element_video_face(content, profile: Profile) -> Finding:
    t = profile.value("element.face")
    if not content.faces:
        return Finding(Status.SKIP, "no frame was sampled: face not measured")
    clear = [face for _, face in content.faces if _clear(face, t)]
    share = len(clear) / len(content.faces)
    found = [face for _, face in content.faces if face is not None]
    measured = {"share_clear": round(share, 3), "samples": len(content.faces),
                "best_score": max((f.score for f in found), default=None),
                "median_width": sorted(f.width for f in found)[len(found) // 2] if found else None}
    limit = t
    if share >= t["min_share"]:
        return passed(f"a clear face in {share:.0%} of the sampled frames", measured=measured, limit=limit)
    if not found:
        why = "no face found"
    else:
        why = (f"a clear face (confidence at least {t['min_score']:g}, at least {t['min_width']:.0%} of the width) "
               f"in only {share:.0%} of the sampled frames, {t['min_share']:.0%} needed")
    return _judge(profile, "element_video.face",
                  f"{why}: the element needs a clearly visible human face; film the face closer and facing the "
                  "camera", measured=measured, limit=limit)


@content_check("element_image.person")
def element_image_person(content, profile: Profile) -> Finding:
    n = content.people
    return none_or_one_person(profile, "element_image.person", n) or _judge(
        profile, "element_image.person", f"{n} people found: an element is one character; crop to one", measured=n,
        limit=1)


@content_check("element_image.face")
def element_image_face(content, profile: Profile) -> Finding:
    t = profile.value("element.face")
    face = content.face
    measured = None if face is None else {"score": face.score, "width": face.width}
    if _clear(face, t):
        return passed(f"a clear face (confidence {face.score:.2f}, {face.width:.0%} of the width)", measured=measured,
                      limit=t)
    why = "no face found" if face is None else (f"the best face has confidence {face.score:.2f} and is "
                                                f"{face.width:.0%} of the width")
    return _judge(profile, "element_image.face", f"{why}: the frontal image needs a clearly visible face looking at "
                  "the camera", measured=measured, limit=t)

