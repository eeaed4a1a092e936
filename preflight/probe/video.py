"""Video facts through PyAV: container, streams, displayed size, rotation, durations, audio.

Probing reads the container header and index, then decodes the first video frame: that frame
carries the display matrix (rotation) and proves the stream decodes at all. Nothing else is
decoded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import PreflightError
from ..ffmpeg_binary import local_file

# Packets demuxed at most while looking for the first decodable frame.
_FIRST_FRAME_PACKET_BUDGET = 600
# Index entries looked at (from the end of each stream) to find where the media data ends.
_INDEX_TAIL = 32


class VideoProbeError(PreflightError):
    """The container cannot be opened or holds no video stream."""


@dataclass
class AudioStream:
    codec: str
    duration: float | None
    channels: int | None = None
    sample_rate: int | None = None


@dataclass
class VideoFacts:
    container_format: str  # FFmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str
    profile: str | None
    pix_fmt: str | None
    coded_width: int
    coded_height: int
    sample_aspect_ratio: Fraction
    rotation: int  # degrees as FFmpeg's display matrix gives it (-90 means turned clockwise)
    duration: float | None  # the video stream's own duration
    container_duration: float | None
    frame_rate: float | None
    frame_count: int | None
    audio: list[AudioStream] = field(default_factory=list)
    # Damage found while probing; the size and duration above may still be right.
    truncated: str | None = None
    decode_problem: str | None = None
    # The video stream's index in the container: not always 0, and a cover picture is a video
    # stream too, so tools that hand the file to ffmpeg name this one.
    stream_index: int = 0

    @property
    def quarter_turn(self) -> bool:
        return abs(self.rotation) % 180 == 90

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as a player shows them: pixel aspect and rotation applied."""
        width = self.coded_width
        if self.sample_aspect_ratio and self.sample_aspect_ratio != 1:
            width = round(self.coded_width * self.sample_aspect_ratio)
        if self.quarter_turn:
            return self.coded_height, width
        return width, self.coded_height

    def durations(self) -> dict[str, float]:
        """The readings a service may take as "the video's duration", by where they come from.

        An audio track's own length is not one of them; it counts through the container's
        duration, which spans every stream.
        """
        readings: dict[str, float] = {}
        if self.duration is not None:
            readings["video stream"] = self.duration
        if self.container_duration is not None:
            readings["container"] = self.container_duration
        return readings


def _seconds(value, time_base) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _error_text(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.rstrip(".")


def _media_end(stream) -> int:
    """The byte offset just past the last sample the stream's index points at (0 if unknown)."""
    entries = stream.index_entries
    n = len(entries)
    end = 0
    for i in range(max(0, n - _INDEX_TAIL), n):
        e = entries[i]
        if e.pos >= 0 and e.size > 0:
            end = max(end, e.pos + e.size)
    return end


def _scan_duration(path: str, stream_index: int) -> float | None:
    """Duration from packet timestamps, for containers that do not state one (some WebM)."""
    import av

    last_end = None
    first = None
    with av.open(local_file(path), metadata_errors="ignore") as container:
        stream = container.streams[stream_index]
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            if first is None:
                first = packet.pts
            end = packet.pts + (packet.duration or 0)
            last_end = end if last_end is None else max(last_end, end)
        time_base = stream.time_base
    if last_end is None or first is None:
        return None
    return float((last_end - first) * time_base)


def _first_frame(container, stream):
    """Decode the first frame of ``stream``; returns (frame or None, problem or None)."""
    packets = 0
    try:
        for packet in container.demux(stream):
            packets += 1
            for frame in packet.decode():
                return frame, None
            if packets >= _FIRST_FRAME_PACKET_BUDGET:
                return None, f"no frame decoded from the first {packets} packets"
    except Exception as exc:  # av raises codec-specific error classes
        return None, f"the first frame does not decode: {_error_text(exc)}"
    if packets == 0:
        return None, "the video stream holds no frames"
    return None, "no frame decoded from the video stream"


def probe_video(path: str, file_size: int) -> VideoFacts:
    import av  # deferred: costs ~0.1 s, and image-only runs never need it

    try:
        container = av.open(local_file(path), metadata_errors="ignore")
    except Exception as exc:
        raise VideoProbeError(_error_text(exc)) from None
    with container:
        try:
            facts = _probe_open(container, file_size)
        except VideoProbeError:
            raise
        except Exception as exc:  # damaged headers reach corners of PyAV that raise anything
            raise VideoProbeError(f"the container's headers cannot be read ({type(exc).__name__}: {exc})") from None
    if facts.duration is None and facts.container_duration is None:
        try:
            facts.duration = _scan_duration(path, facts.stream_index)
        except Exception:  # the stream was readable enough to decode a frame; keep what we have
            pass
    return facts


def video_stream(container):
    """The clip's video stream: the first one that is not a cover picture (None if none is)."""
    import av

    return next((s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)),
                None)


def _probe_open(container, file_size: int) -> VideoFacts:
    """Everything the probe reads from an opened container."""
    stream = video_stream(container)
    audio = [
        AudioStream(
            codec=s.codec_context.name,
            duration=_seconds(s.duration, s.time_base),
            channels=getattr(s.codec_context, "channels", None),
            sample_rate=s.codec_context.sample_rate,
        )
        for s in container.streams.audio
        if s.codec_context is not None  # an unknown audio codec says nothing about the video
    ]
    if stream is None:
        if audio:
            raise VideoProbeError(f"the file holds no video stream, only audio ({', '.join(a.codec for a in audio)})")
        raise VideoProbeError("the file holds no video stream")
    ctx = stream.codec_context
    if ctx is None:
        raise VideoProbeError("the video stream's codec is not one FFmpeg knows (a damaged or exotic header)")
    if not ctx.width or not ctx.height:
        raise VideoProbeError("the video stream does not state a picture size")
    rate = stream.average_rate or stream.guessed_rate
    facts = VideoFacts(
        container_format=container.format.name,
        codec=ctx.name,
        profile=ctx.profile,
        pix_fmt=ctx.pix_fmt,
        coded_width=ctx.width,
        coded_height=ctx.height,
        sample_aspect_ratio=Fraction(stream.sample_aspect_ratio or 1),
        rotation=0,
        duration=_seconds(stream.duration, stream.time_base),
        container_duration=(container.duration / 1_000_000) if container.duration else None,
        frame_rate=float(rate) if rate else None,
        frame_count=stream.frames or None,
        audio=audio,
        stream_index=stream.index,
    )
    media_end = max(_media_end(s) for s in container.streams if s.type in ("video", "audio"))
    if media_end > file_size:
        facts.truncated = (
            f"the index points at media up to byte {media_end:,} but the file has {file_size:,} bytes: "
            "it is truncated"
        )
    frame, facts.decode_problem = _first_frame(container, stream)
    if frame is not None:
        facts.rotation = int(round(frame.rotation or 0))
    return facts
