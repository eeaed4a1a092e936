"""A Plan is data: what prep will do to each input and why, with the exact ffmpeg arguments.

Planning reads a preflight Report (its findings, probe facts and content analysis), so the
inputs are decoded once, by preflight; nothing is written until ``apply``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from preflight import Report
from preflight.ffmpeg_binary import local_file
from preflight.windows import Window, best_window, shots
from preflight.probe import DECODE_MAX_PIXELS
from preflight.profile import Profile

from .errors import PrepError

# Output sizes aim this far under the limit: container overhead and encoder rate control.
SIZE_MARGIN = 0.92
AUDIO_BITRATE = 128_000
# An H.264 rate this high already looks transparent at 1080p; no need to spend more.
MAX_VIDEO_BITRATE = 20_000_000
# AAC frames run past the cut point by up to ~21 ms, and the container's duration covers them:
# audio is cut this much earlier so the file never reads longer than the video.
AUDIO_TAIL_S = 0.05
# A clip under the minimum is extended to this length: past the 3 s minimum with a frame to spare,
# and no longer, since output is billed per second.
EXTEND_TO_S = 3.5


class PlanError(PrepError):
    """The inputs cannot be planned for (unreadable, or a request that makes no sense)."""


@dataclass
class Step:
    action: str  # trim, scale, transcode, remux, convert, orient, pad, crop, recompress, extend
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "reason": self.reason, **({"detail": self.detail} if self.detail else {})}


@dataclass
class MediaPlan:
    role: str  # "image" or "video"
    source: str
    output: str | None = None  # None: nothing to change, the source is used as it is
    steps: list[Step] = field(default_factory=list)
    refused: str | None = None  # why prep cannot fix this input
    ffmpeg_args: list[str] | None = None  # video: the exact arguments after the ffmpeg executable
    output_seconds: float | None = None  # video: the output's length (what encoding progress counts to)
    image_ops: dict[str, Any] = field(default_factory=dict)  # image: what to do, in order

    @property
    def changes(self) -> bool:
        return bool(self.steps) and self.refused is None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "source": self.source, "output": self.output,
                               "steps": [s.to_dict() for s in self.steps]}
        if self.refused:
            out["refused"] = self.refused
        if self.ffmpeg_args is not None:
            out["ffmpeg_args"] = self.ffmpeg_args
        return out


@dataclass
class Plan:
    orientation: str
    keep_sound: bool
    out_dir: str
    items: list[MediaPlan]
    report: Report  # preflight on the inputs
    profile: Profile
    force: bool = False
    metadata_only: bool = False  # outputs are then checked against the documented limits only

    def to_dict(self) -> dict[str, Any]:
        return {"orientation": self.orientation, "out_dir": self.out_dir,
                "items": [i.to_dict() for i in self.items]}


def output_path(out_dir: Path, source: str, suffix: str) -> Path:
    return out_dir / f"{Path(source).stem}.prep{suffix}"


# ----------------------------------------------------------------------------- video

def even(n: float, up: bool = False) -> int:
    """An even pixel count (H.264 4:2:0 needs one), rounded down, or up when ``up``."""
    v = math.ceil(n) if up else math.floor(n)
    return v + (v % 2) if up else v - (v % 2)


def fit_size(width: int, height: int, lo: int, hi: int) -> tuple[int, int] | None:
    """Scale (width, height) so both sides are within lo..hi, aspect kept. None if impossible."""
    scale = 1.0
    if max(width, height) > hi:
        scale = hi / max(width, height)
    if min(width, height) * scale < lo:
        scale = lo / min(width, height)
    w, h = width * scale, height * scale
    if max(w, h) > hi + 1e-6:
        return None
    up = scale > 1
    w, h = even(w, up), even(h, up)
    w, h = max(w, even(lo, True)), max(h, even(lo, True))
    if max(w, h) > hi:
        return None
    return w, h


def _fps(video) -> Fraction:
    """The output frame rate: the stream's own when plausible. Some containers (Matroska) give
    their 1/1000 time base as the rate; then frames over duration, else 30."""
    rate = video.frame_rate
    if not rate or not 1 <= rate <= 240:
        seconds = video.duration or video.container_duration
        rate = video.frame_count / seconds if video.frame_count and seconds else 30.0
        if not 1 <= rate <= 240:
            rate = 30.0
    return Fraction(rate).limit_denominator(1001)


# A person turned with the whole clip or picture, by the quarter turns counter-clockwise that
# right them (analysis: turn_quarters).
_TURN_WORDS = {1: "on their side, head to the right,", 2: "upside down", 3: "on their side, head to the left,"}
_TURN_ACTION = {1: "turn it 90° counter-clockwise", 2: "turn it 180°", 3: "turn it 90° clockwise"}


def _turned(stream, turns: int):
    """The video turned counter-clockwise by ``turns`` quarters."""
    if turns == 2:
        return stream.filter("hflip").filter("vflip")
    return stream.filter("transpose", 2 if turns == 1 else 1)  # 2: 90° counter-clockwise, 1: clockwise


# The loop filter holds at most this many frames (FFmpeg's own ceiling for its size option).
_LOOP_MAX_FRAMES = 32767


def _loop_frames(video, window: Window, extend: str) -> int:
    """Frames the loop filter keeps: the shot's, with room for an index that undercounts (at the
    end of its input the filter loops what it got, so a generous bound costs nothing)."""
    rate = video.frame_rate if video.frame_rate and video.frame_rate > 0 else 240.0
    frames = math.ceil(window.length * rate * 1.5) + 2
    return max(1, min(_LOOP_MAX_FRAMES, frames * (2 if extend == "boomerang" else 1)))


@dataclass
class _VideoChoice:
    """The decisions for one clip, made in order: which stretch, how large, whether to re-encode."""

    window: Window
    looped: bool  # extended with the loop filter
    frames: int  # output frames (whole frames of the output rate)
    out_len: float  # output seconds
    size: tuple[int, int]
    scaled: bool
    turns: int  # quarter turns counter-clockwise


def plan_video(report: Report, path: str, profile: Profile, orientation: str, keep_sound: bool, out_dir: Path,
               start: float | None = None, end: float | None = None, extend: str | None = None) -> MediaPlan:
    """What prep does to a clip: the window to keep, its size and turn, and whether and how to
    re-encode, each decided from preflight's facts and findings (see the helpers below)."""
    item = MediaPlan("video", path)
    facts = report.facts.get(path)
    if facts is None or facts.problem or facts.video is None:
        item.refused = f"cannot be read: {facts.problem if facts else 'not probed'}"
        return item
    content = report.analysis.get(path)
    chosen = _choose_window(item, facts.video, content, profile, orientation, start, end, extend)
    if chosen is None:
        return item
    window, looped = chosen
    fps = _fps(facts.video)
    out_len = min(EXTEND_TO_S if looped else window.length, profile.value("video.max_duration")[orientation])
    frames = int(math.floor(out_len * fps + 1e-6))  # whole frames: 10 s at 29.97 fps is 299, not 300
    sized = _choose_size(item, facts.video, content, profile)
    if sized is None:
        return item
    choice = _VideoChoice(window, looped, frames, float(frames / fps), *sized)
    item.output_seconds = choice.out_len
    _encode(item, report, facts, choice, profile, keep_sound, out_dir, extend, fps)
    return item


def _choose_window(item: MediaPlan, v, content, profile: Profile, orientation: str, start: float | None,
                   end: float | None, extend: str | None) -> tuple[Window, bool] | None:
    """The stretch to keep (``--start/--end``, else the best window, else the longest shot
    extended), and whether it is looped; None when the clip is refused (``item.refused``)."""
    readings = v.durations()
    duration = max(readings.values()) if readings else 0.0
    lo_d, hi_d = profile.value("video.min_duration"), profile.value("video.max_duration")[orientation]
    window: Window | None
    if start is not None or end is not None:
        s, e = start or 0.0, min(end if end is not None else duration, duration)
        if e - s <= 0:
            raise PlanError(f"--start {s:g} / --end {e:g} select nothing of the {duration:.2f} s clip")
        window = Window(s, min(e, s + hi_d), "chosen with --start/--end")
    else:
        some = profile.value("content.camera_motion")["some"]
        window = best_window(duration, hi_d, lo_d, content, some)
    looped = False
    if window is None or window.length < lo_d - 1e-6:
        longest = max((b - a for a, b in shots(duration, content)), default=0.0)
        if extend is None:
            item.refused = (f"no stretch of at least {lo_d:g} s without a cut (the longest is {longest:.2f} s); "
                            "record a longer take, or pass --extend loop|boomerang")
            return None
        a, b = max(shots(duration, content), key=lambda p: p[1] - p[0])
        window = Window(a, b, f"the longest shot, extended by {extend}")
        looped = True  # the loop filter repeats the shot until the frame count is met
        item.steps.append(Step("extend", f"{window.length:.2f} s is under the {lo_d:g} s minimum: {extend} it "
                                         f"to {EXTEND_TO_S:g} s", {"mode": extend}))
    if window.start > 1e-3 or window.end < duration - 1e-3:
        item.steps.append(Step("trim", f"keep {window.start:g}-{window.end:g} s ({window.length:.2f} s): {window.why}",
                               {"start": window.start, "end": window.end}))
    return window, looped


def _choose_size(item: MediaPlan, v, content, profile: Profile) -> tuple[tuple[int, int], bool, int] | None:
    """(output size, whether to scale, quarter turns) for the picture as a viewer sees it; None
    when no size within the limits keeps its shape (``item.refused``)."""
    lo_s, hi_s = profile.value("video.min_side"), profile.value("video.max_side")
    width, height = v.display_size
    turns = getattr(content, "turn_quarters", 0) if content is not None else 0
    if turns:
        item.steps.append(Step("turn", f"the person is {_TURN_WORDS[turns]} for the whole clip: "
                                       f"{_TURN_ACTION[turns]}", {"quarter_turns_ccw": turns}))
        if turns % 2:
            width, height = height, width
    size = fit_size(width, height, lo_s, hi_s)
    if size is None:
        item.refused = f"{width}x{height} cannot be scaled into {lo_s}-{hi_s} px per side with its aspect kept"
        return None
    # Non-square pixels (1440x1080 shown as 1920x1080): a service that ignores the pixel aspect
    # would see the picture squeezed, so the output gets square pixels at the displayed shape.
    square = v.sample_aspect_ratio in (0, 1)
    scaled = size != (width, height) or not square
    if scaled:
        what, why = f"{width}x{height}", f"each side into {lo_s}-{hi_s} px"
        if not square:
            sar = v.sample_aspect_ratio
            what = f"{v.coded_width}x{v.coded_height} (pixels {sar.numerator}:{sar.denominator} wide, shown as {width}x{height})"
            why = "square pixels, the shape a viewer sees" + ("" if size == (width, height) else f"; {why}")
        item.steps.append(Step("scale", f"{what} to {size[0]}x{size[1]}: {why}",
                               {"width": size[0], "height": size[1]}))
    return size, scaled, turns


def _passes(report: Report, check_id: str, path: str) -> bool:
    found = report.get(check_id, path)
    return found is not None and found.status.value == "pass"


def _encode(item: MediaPlan, report: Report, facts, c: _VideoChoice, profile: Profile, keep_sound: bool,
            out_dir: Path, extend: str | None, fps: Fraction) -> None:
    """Whether to re-encode, remux or leave the clip, from preflight's findings on it (the codec,
    container and size checks judge; prep does not judge the facts again), and the ffmpeg
    arguments that do it."""
    v, path = facts.video, item.source
    max_bytes = profile.value("video.max_file_size")
    container_ok = facts.sniffed.format in profile.value("video.formats")
    codec_ok = _passes(report, "video.codec", path)  # preflight's rule: the preferred codec, 8-bit 4:2:0
    size_ok = facts.size <= max_bytes
    audio = bool(v.audio) and keep_sound and not c.looped  # a looped or reversed track is no use
    audio_ok = not audio or all(a.codec == "aac" for a in v.audio)
    transcode = bool(item.steps) or not codec_ok or not size_ok or not audio_ok
    total_bits = SIZE_MARGIN * max_bytes * 8
    video_rate = int(min(MAX_VIDEO_BITRATE, total_bits / max(c.out_len, 0.1) - (AUDIO_BITRATE if audio else 0)))

    reasons = []
    if not codec_ok:
        reasons.append(f"{v.codec} {v.pix_fmt} to H.264 8-bit 4:2:0")
    if not container_ok:
        reasons.append(f"{facts.sniffed.label} to MP4")
    if not size_ok:
        reasons.append(f"{facts.size:,} bytes over {max_bytes:,}: video at {video_rate / 1e6:.1f} Mbit/s at most "
                       f"for {c.out_len:.2f} s")
    if not audio_ok:
        reasons.append(f"audio {', '.join(a.codec for a in v.audio)} to AAC")
    if v.audio and not audio:
        reasons.append("audio dropped (" + ("keep_sound off" if not keep_sound else "not kept when extending") + ")")

    out = output_path(out_dir, path, ".mp4")
    if transcode:
        item.steps.append(Step("transcode", "; ".join(reasons) or "re-encode the kept stretch exactly, frame by frame",
                               {"video_codec": "h264", "max_video_bitrate": video_rate,
                                "audio": "aac" if audio else None, "frames": c.frames}))
        item.ffmpeg_args = _transcode_args(v, path, out, c, extend, audio, video_rate, fps)
        item.output = str(out)
    elif not container_ok:
        import ffmpeg  # ffmpeg-python: builds the command; the executable comes from ffmpeg_exe()

        item.steps.append(Step("remux", f"{facts.sniffed.label} to MP4, streams copied (no re-encoding)"))
        src = ffmpeg.input(local_file(path))
        # Named streams, as ffmpeg's own choice would be: the clip (not a cover picture) and the
        # first audio track if there is one and it is kept.
        streams = [src[str(v.stream_index)]] + ([src["a:0?"]] if keep_sound else [])
        cmd = ffmpeg.output(*streams, local_file(out), c="copy", movflags="+faststart")
        item.ffmpeg_args = ["-hide_banner", "-nostdin", "-loglevel", "error", *cmd.get_args()]
        item.output = str(out)


def _transcode_args(v, path: str, out: Path, c: _VideoChoice, extend: str | None, audio: bool, video_rate: int,
                    fps: Fraction) -> list[str]:
    """The ffmpeg arguments that cut, loop, turn, scale and encode the clip as chosen."""
    import ffmpeg  # ffmpeg-python: builds the command; the executable comes from ffmpeg_exe()

    window = c.window
    src = ffmpeg.input(local_file(path), **({"ss": window.start} if window.start > 1e-3 and not c.looped else {}))
    # The clip's own stream by index: "0:v" also takes a cover picture (encoding it failed).
    vstream = src[str(v.stream_index)]
    if c.looped:
        vstream = vstream.trim(start=window.start, end=window.end).setpts("PTS-STARTPTS")
        if extend == "boomerang":
            split = vstream.filter_multi_output("split")
            vstream = ffmpeg.concat(split[0], split[1].filter("reverse"), v=1, a=0)
    if c.turns:
        # After FFmpeg's own autorotation (the rotation flag applied): the picture as shown.
        vstream = _turned(vstream, c.turns)
    if c.scaled:
        vstream = vstream.filter("scale", c.size[0], c.size[1], flags="lanczos")
    # Only the conversions the source needs: every filter is a pass over every frame.
    if v.pix_fmt != "yuv420p":
        vstream = vstream.filter("format", "yuv420p")
    if c.scaled or v.sample_aspect_ratio != 1:
        vstream = vstream.filter("setsar", 1)
    if c.looped:
        # One input and one filter that repeats the shot (held at output size) until the
        # frame count below is met: bounded whatever the clip's frame rate or length.
        vstream = vstream.filter("loop", loop=-1, size=_loop_frames(v, window, extend), start=0)
    streams = [vstream]
    out_opts: dict[str, Any] = {
        "c:v": "libx264", "preset": "veryfast", "crf": 18, "maxrate": video_rate, "bufsize": video_rate,
        "profile:v": "high", "r": str(fps), "fps_mode": "cfr", "frames:v": c.frames,
        "movflags": "+faststart", "map_metadata": -1,
    }
    if audio:
        streams.append(src.audio.filter("atrim", duration=max(0.1, c.out_len - AUDIO_TAIL_S)))
        out_opts.update({"c:a": "aac", "b:a": AUDIO_BITRATE})
    else:
        out_opts["an"] = None
    cmd = ffmpeg.output(*streams, local_file(out), **out_opts)
    return ["-hide_banner", "-nostdin", "-loglevel", "error", *cmd.get_args()]


# ----------------------------------------------------------------------------- element video

def plan_element_video(report: Report, path: str, profile: Profile, out_dir: Path) -> MediaPlan:
    """What prep does to a custom element's source video: keep the longest shot (one character,
    no cut) up to the element's maximum length, bring the width into the element's range, and
    re-encode to H.264 MP4 when anything changed or the file is not one already."""
    item = MediaPlan("element_video", path)
    facts = report.facts.get(path)
    if facts is None or facts.problem or facts.video is None:
        item.refused = f"cannot be read: {facts.problem if facts else 'not probed'}"
        return item
    v, content = facts.video, report.analysis.get(path)
    readings = v.durations()
    duration = max(readings.values()) if readings else 0.0
    longest = profile.value("element.video.max_duration")
    a, b = max(shots(duration, content), key=lambda p: p[1] - p[0])
    window = Window(a, min(b, a + longest), "the longest shot" if content is not None else "the first seconds")
    if window.start > 1e-3 or window.end < duration - 1e-3:
        item.steps.append(Step("trim", f"keep {window.start:g}-{window.end:g} s ({window.length:.2f} s): {window.why}, "
                                       f"at most {longest:g} s", {"start": window.start, "end": window.end}))
    width, height = v.display_size
    lo, hi = profile.value("element.video.min_width"), profile.value("element.video.max_width")
    size = (width, height)
    if not lo <= width <= hi:
        scale = (lo if width < lo else hi) / width
        size = (even(width * scale, up=width < lo), max(2, even(height * scale, up=width < lo)))
        item.steps.append(Step("scale", f"{width}x{height} to {size[0]}x{size[1]}: the width into {lo}-{hi} px",
                               {"width": size[0], "height": size[1]}))
    fps = _fps(v)
    frames = int(math.floor(window.length * fps + 1e-6))
    choice = _VideoChoice(window, False, frames, float(frames / fps), size, size != (width, height), 0)
    item.output_seconds = choice.out_len
    container_ok = facts.sniffed.format in profile.value("element.video.formats")
    if not item.steps and container_ok and _passes(report, "element_video.file_size", path) and v.codec == "h264":
        return item
    if not item.steps:
        item.steps.append(Step("transcode", f"{facts.sniffed.label} {v.codec} to H.264 MP4"))
    max_bytes = profile.value("element.video.max_file_size")
    audio = bool(v.audio)
    rate = int(min(MAX_VIDEO_BITRATE, SIZE_MARGIN * max_bytes * 8 / max(choice.out_len, 0.1)
                   - (AUDIO_BITRATE if audio else 0)))
    out = output_path(out_dir, path, ".mp4")
    item.ffmpeg_args = _transcode_args(v, path, out, choice, None, audio, rate, fps)
    item.output = str(out)
    return item


# ----------------------------------------------------------------------------- image

def _aspect_fix(width: int, height: int, lo: Fraction, hi: Fraction, box) -> tuple[str, tuple[int, int, int, int]]:
    """("crop" or "pad", (left, top, right, bottom)) bringing width:height into lo..hi.

    Crops around the person when their whole box fits in the cropped frame; pads otherwise.
    """
    ratio = Fraction(width, height)
    if ratio > hi:  # too wide
        new_w = int(height * hi)
        if box:
            x0, x1 = box[0] * width, box[2] * width
            if x1 - x0 <= new_w:
                left = int(min(max(0, (x0 + x1) / 2 - new_w / 2), width - new_w))
                return "crop", (left, 0, left + new_w, height)
        new_h = math.ceil(width / hi)
        top = (new_h - height) // 2
        return "pad", (0, top, width, new_h)
    new_h = int(width / lo)  # too tall
    if box:
        y0, y1 = box[1] * height, box[3] * height
        if y1 - y0 <= new_h:
            top = int(min(max(0, (y0 + y1) / 2 - new_h / 2), height - new_h))
            return "crop", (0, top, width, top + new_h)
    new_w = math.ceil(height * lo)
    left = (new_w - width) // 2
    return "pad", (left, 0, new_w, height)


def _image_geometry(item: MediaPlan, h, content, profile: Profile, ops: dict[str, Any]) -> bool:
    """The turn, the scale and the crop or pad that bring the picture as shown within the limits
    (steps and ``ops`` added in that order); False when it cannot be scaled with its shape kept."""
    width, height = h.display_size
    turns = getattr(content, "turn_quarters", 0) if content is not None else 0
    if turns:
        ops["turn"] = turns
        item.steps.append(Step("turn", f"the person is {_TURN_WORDS[turns]} in the picture: {_TURN_ACTION[turns]}",
                               {"quarter_turns_ccw": turns}))
        if turns % 2:
            width, height = height, width
    size = fit_size(width, height, profile.value("image.min_side"), profile.value("image.max_side"))
    if size is None:
        item.refused = f"{width}x{height} cannot be scaled into the side limits with its aspect kept"
        return False
    if size != (width, height):
        ops["resize"] = size
        item.steps.append(Step("scale", f"{width}x{height} to {size[0]}x{size[1]}: each side into "
                                        f"{profile.value('image.min_side')}-{profile.value('image.max_side')} px",
                               {"width": size[0], "height": size[1]}))
        width, height = size
    lo = profile.limit("image.min_aspect").fraction()
    hi = profile.limit("image.max_aspect").fraction()
    if not lo <= Fraction(width, height) <= hi:
        box = content.person_box if content is not None else None
        how, rect = _aspect_fix(width, height, lo, hi, box)
        ops[how] = rect
        why = "around the person, whole body kept" if how == "crop" else "the whole picture kept"
        item.steps.append(Step(how, f"{width}x{height} is outside 1:{float(1 / lo):g}-{float(hi):g}:1: "
                                    f"{how} to {rect[2] - rect[0]}x{rect[3] - rect[1]}, {why}", {"box": list(rect)}))
    return True


def plan_image(report: Report, path: str, profile: Profile, out_dir: Path) -> MediaPlan:
    """What prep does to a picture: convert, orient, turn, scale, crop or pad, recompress."""
    item = MediaPlan("image", path)
    facts = report.facts.get(path)
    if facts is None or facts.problem or facts.image is None or facts.image.display_size is None:
        problem = facts.problem if facts and facts.problem else "its size cannot be measured (format not supported)"
        item.refused = f"cannot be read: {problem}"
        return item
    h = facts.image
    content = report.analysis.get(path)
    fmt = facts.sniffed.format
    allowed = profile.value("image.formats")
    ops: dict[str, Any] = {}
    if fmt not in allowed:
        item.steps.append(Step("convert", f"{facts.sniffed.label} is not accepted: convert to PNG or JPEG"))
    if h.exif_orientation not in (None, 1):
        item.steps.append(Step("orient", f"EXIF orientation {h.exif_orientation}: turn the pixels, drop the tag"))
    if h.color == "cmyk" or (h.bit_depth or 8) > 8 or h.animated:
        item.steps.append(Step("convert", f"{h.bit_depth}-bit {h.color}{', animated' if h.animated else ''} "
                                          "to 8-bit RGB (first frame)"))
    if not _image_geometry(item, h, content, profile, ops):
        return item
    over = facts.size > profile.value("image.max_file_size")
    if over:
        item.steps.append(Step("recompress", f"{facts.size:,} bytes is over the limit: re-encode to fit"))
    if not item.steps:
        suffix = Path(path).suffix.lower()
        proper = profile.value("image.extensions").get(fmt, [])
        if fmt in allowed and suffix not in proper:
            # Only the name is wrong: the bytes are copied as they are, under the right name.
            item.steps.append(Step("rename", f"content is {facts.sniffed.label} but the name ends in {suffix!r}"))
            item.image_ops = {"copy": True}
            item.output = str(output_path(out_dir, path, proper[0]))
        return item
    if h.width * h.height > DECODE_MAX_PIXELS:
        item.refused = (f"{h.width}x{h.height} needs changes but is above the {DECODE_MAX_PIXELS / 1e6:.0f} MP this "
                        "tool decodes safely; scale it down with an image editor first")
        item.steps = []
        return item
    # Lossless sources stay lossless when they fit; photos go to high-quality JPEG.
    lossless = fmt in ("png", "gif", "bmp", "tiff") and not over
    ops["format"] = "png" if lossless else "jpeg"
    ops["max_bytes"] = profile.value("image.max_file_size")
    item.image_ops = ops
    item.output = str(output_path(out_dir, path, ".png" if lossless else ".jpg"))
    return item
