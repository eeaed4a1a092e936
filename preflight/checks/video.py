"""Checks on the reference video. Numbers come from the profile (video.*)."""

from __future__ import annotations

from .base import Context, accepted_format, failed, file_size_within, passed, register, skipped, warned

# Float noise in container arithmetic (e.g. 10.000000001 s) must not turn a pass into a fail.
DURATION_EPSILON = 1e-6


@register("video.readable")
def readable(ctx: Context):
    f = ctx.facts
    if f.problem:
        return failed(f"{f.path}: {f.problem}")
    v = f.video
    return passed(f"{f.sniffed.label}, {v.codec}, first frame decoded")


@register("video.container")
def container(ctx: Context):
    f = ctx.facts
    return accepted_format(ctx, "video", {"format": f.sniffed.format, "brand": f.sniffed.brand} if f.sniffed else None)


@register("video.file_size")
def file_size(ctx: Context):
    return file_size_within(ctx, "video.max_file_size", "prep re-encodes it at a bitrate that fits")


@register("video.dimensions")
def dimensions(ctx: Context):
    v = ctx.facts.video
    if v is None:
        return None
    lo, hi = ctx.profile.value("video.min_side"), ctx.profile.value("video.max_side")
    width, height = v.display_size
    # A service may read the coded size instead: both readings must fit.
    readings = {"displayed": (width, height)}
    if v.sample_aspect_ratio != 1:
        readings["coded"] = (v.coded_width, v.coded_height)
    notes = []
    if v.quarter_turn:
        notes.append(f"coded {v.coded_width}x{v.coded_height}, rotation metadata {v.rotation}°")
    if v.sample_aspect_ratio != 1:
        notes.append(f"pixel aspect {v.sample_aspect_ratio}")
    how = f" ({'; '.join(notes)})" if notes else ""
    measured = {"width": width, "height": height, "coded_width": v.coded_width,
                "coded_height": v.coded_height, "rotation": v.rotation}
    limit = {"min_side": lo, "max_side": hi}
    bad = [
        f"{reading} {name} {value} px"
        for reading, (w, h) in readings.items()
        for name, value in (("width", w), ("height", h))
        if not lo <= value <= hi
    ]
    if bad:
        return failed(f"{width}x{height} as displayed{how}: {', '.join(bad)} outside {lo}-{hi} px; prep scales it",
                      measured=measured, limit=limit)
    return passed(f"{width}x{height} as displayed{how}, each side within {lo}-{hi} px", measured=measured, limit=limit)


@register("video.duration")
def duration(ctx: Context):
    v = ctx.facts.video
    if v is None:
        return None
    readings = v.durations()
    if not readings:
        return failed("the file states no duration and none could be measured from its packets")
    orientation = ctx.request.orientation
    max_by_orientation = ctx.profile.value("video.max_duration")
    lo = ctx.profile.value("video.min_duration")
    hi = max_by_orientation.get(orientation)
    longest_name, longest = max(readings.items(), key=lambda kv: kv[1])
    shortest_name, shortest = min(readings.items(), key=lambda kv: kv[1])
    shown = v.duration if v.duration is not None else longest
    measured = {"seconds": round(shown, 3), "readings": {k: round(x, 3) for k, x in readings.items()}}
    limit = {"min": lo, "max": hi, "orientation": orientation}
    if hi is None:
        return failed(f"no duration limit for orientation {orientation!r}", measured=measured, limit=limit)
    spread = ""
    if longest - shortest > 0.001:
        spread = f" (readings differ: {', '.join(f'{k} {x:.3f} s' for k, x in readings.items())}; the conservative one is used)"
    if longest > hi + DURATION_EPSILON:
        other = ""
        other_max = max(max_by_orientation.values())
        if orientation != "video" and longest <= other_max:
            other = f", or use {ctx.request.setting('orientation', 'video')} (up to {other_max:g} s)"
        return failed(
            f"{longest:.3f} s ({longest_name}) is over the {hi:g} s limit for orientation {orientation}{spread}; "
            f"prep trims it{other}",
            measured=measured, limit=limit, decided_by=("video.max_duration",),
        )
    if shortest < lo - DURATION_EPSILON:
        return failed(
            f"{shortest:.3f} s ({shortest_name}) is under the {lo:g} s minimum{spread}",
            measured=measured, limit=limit, decided_by=("video.min_duration",),
        )
    return passed(f"{shown:.3f} s, within {lo:g}-{hi:g} s for orientation {orientation}{spread}",
                  measured=measured, limit=limit)


@register("video.frame_rate")
def frame_rate(ctx: Context):
    v = ctx.facts.video
    if v is None:
        return None
    readings = v.durations()
    if not v.frame_count or not readings:
        return skipped("not measured: the container does not say how many frames it holds")
    seconds = max(readings.values())
    if seconds <= 0:
        return skipped("not measured: the file states no positive duration")
    rate = v.frame_count / seconds
    least = ctx.profile.value("video.min_frame_rate")
    measured = {"frames": v.frame_count, "seconds": round(seconds, 3), "frames_per_second": round(rate, 3)}
    if rate < least:
        return failed(f"{v.frame_count} frames over {seconds:.1f} s ({rate:.3g} frames/s): a slideshow or broken "
                      f"timestamps, with no motion to transfer (at least {least:g} frames/s expected)",
                      measured=measured, limit={"min": least})
    return passed(f"{rate:.3g} frames/s", measured=measured, limit={"min": least})


@register("video.audio")
def audio(ctx: Context):
    v = ctx.facts.video
    if v is None:
        return None
    keep = ctx.request.keep_sound
    tracks = ", ".join(
        a.codec + (f" {a.sample_rate / 1000:g} kHz" if a.sample_rate else "") for a in v.audio
    )
    measured = {"tracks": len(v.audio), "codecs": [a.codec for a in v.audio], "keep_sound": keep}
    if not v.audio:
        if keep:
            return warned(
                "keep_sound is on but the video has no audio track: the output will be silent; "
                f"say so with {ctx.request.setting('keep_sound', False)}",
                measured=measured,
            )
        return passed("no audio track, keep_sound off", measured=measured)
    if not keep:
        return passed(f"audio ({tracks}) will be muted: keep_sound off", measured=measured)
    return passed(f"audio kept: {tracks}", measured=measured)


@register("video.codec")
def codec(ctx: Context):
    """Not a documented limit: a codec the service's decoder may not read costs a failed task."""
    v = ctx.facts.video
    if v is None:
        return None
    preferred = ctx.profile.value("video.preferred_codecs")
    deep = _bit_depth(v.pix_fmt)
    measured = {"codec": v.codec, "profile": v.profile, "pix_fmt": v.pix_fmt, "bit_depth": deep}
    profile = f" {v.profile}" if v.profile else ""
    concerns = []
    if v.codec not in preferred:
        concerns.append(f"{v.codec}{profile} is not {'/'.join(preferred)}: the service may not decode it")
    if deep > 8:
        concerns.append(f"{deep}-bit samples ({v.pix_fmt})")
    elif v.pix_fmt and not v.pix_fmt.startswith(("yuv420p", "yuvj420p")):
        # 4:2:2, 4:4:4, RGB or grey: H.264's High 4:4:4 and 4:2:2 profiles are rarely decoded
        # by services (prep converts to 4:2:0; one rule, here, for both tools).
        concerns.append(f"{v.pix_fmt} samples (not 4:2:0)")
    if concerns:
        return warned("; ".join(concerns) + "; prep converts to H.264 8-bit", measured=measured, limit=preferred)
    return passed(f"{v.codec}{profile}, {v.pix_fmt}", measured=measured, limit=preferred)


def _bit_depth(pix_fmt: str | None) -> int:
    if not pix_fmt:
        return 8
    for depth in (16, 14, 12, 10, 9):
        if f"p{depth}" in pix_fmt:
            return depth
    return 8
