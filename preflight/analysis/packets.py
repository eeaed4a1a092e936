"""What the compressed stream says before anything is decoded: where the keyframes are and
how big every frame is.

Reading packets costs a few hundredths of a second where decoding costs seconds, and it tells
two things the analysis uses:

- Where decoding may be skipped. A frame can only be decoded after everything it refers to,
  back to the last keyframe, so frames can be left out a group of pictures (GOP) at a time:
  decode the start of a GOP, skip the rest up to the next keyframe.
- Where a cut may hide in what was skipped. An encoder meeting a new shot must describe the
  picture afresh: it either starts a new keyframe early (x264's and most hardware encoders'
  scene-cut rule, seen here as a keyframe off the stream's regular spacing) or sends a
  predicted frame many times bigger than those around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ffmpeg_binary import local_file
from ..probe.video import video_stream


def frame_bytes(fmt) -> int:
    """Bytes of one decoded frame in ``fmt`` (a PyAV VideoFormat, which carries the frame's
    size): every plane, at one byte a sample or two above 8 bits. 0 when the format is unknown."""
    if fmt is None:
        return 0
    return sum(c.width * c.height * (2 if c.bits > 8 else 1) for c in fmt.components)


@dataclass
class Gop:
    start: float  # display time of the keyframe, seconds from the first frame
    end: float  # display time of the next keyframe (or the end of the stream)
    key_pts: int  # the keyframe's timestamp in stream units, for seeking

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass
class PacketIndex:
    origin_pts: int  # the earliest timestamp: time 0
    time_base: float
    times: np.ndarray  # display time of every frame, sorted
    sizes: np.ndarray  # bytes, in the same order
    keys: np.ndarray  # keyframe flags, in the same order
    reordered: bool = False  # B-frames: frames are decoded in another order than shown
    frame_bytes: int = 0  # of one decoded frame (``frame_bytes``), 0 if unknown
    gops: list[Gop] = field(default_factory=list)
    _starts: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def frame_step(self) -> float:
        """Typical time between frames."""
        if len(self.times) < 2:
            return 1 / 30
        return float(np.median(np.diff(self.times))) or 1 / 30

    @property
    def duration(self) -> float:
        return float(self.times[-1]) + self.frame_step if len(self.times) else 0.0

    def gop_at(self, t: float) -> int:
        """Index of the GOP that shows time ``t``."""
        if len(self._starts) != len(self.gops):
            self._starts = np.array([g.start for g in self.gops])
        return max(0, int(np.searchsorted(self._starts, t + 1e-6, side="right")) - 1)

    def burst_pts(self, gop: int, seconds: float) -> list[int]:
        """Timestamps (stream units) of the frames a GOP shows from its keyframe up to and
        including the first one at least ``seconds`` later (at 24 fps, 0.21 s for 0.2 s)."""
        gop_times = self.times[(self.times >= self.gops[gop].start - 1e-6) & (self.times < self.gops[gop].end - 1e-6)]
        later = np.flatnonzero(gop_times >= gop_times[0] + seconds - 1e-3) if len(gop_times) else []
        last = int(later[0]) if len(later) else len(gop_times) - 1
        return [int(round(t / self.time_base)) + self.origin_pts for t in gop_times[:last + 1]]

    def frames_between(self, a: float, b: float) -> int:
        """How many frames the stream shows strictly between times ``a`` and ``b``."""
        eps = 1e-4
        after_a = int(np.searchsorted(self.times, a + eps, side="right"))
        return max(0, int(np.searchsorted(self.times, b - eps)) - after_a)

    def dropped_frames(self, factor: float = 1.75, join_s: float = 0.5) -> tuple[list[list[float]], int]:
        """Where frames are missing: spans of timestamp gaps (a step over ``factor`` times the
        usual one; gaps less than ``join_s`` apart are one span), and about how many frames
        the gaps would have held."""
        if len(self.times) < 3:
            return [], 0
        steps = np.diff(self.times)
        usual = self.frame_step
        spans: list[list[float]] = []
        missing = 0
        for i in np.flatnonzero(steps > factor * usual):
            a, b = float(self.times[i]), float(self.times[i + 1])
            missing += max(1, int(round((b - a) / usual)) - 1)
            if spans and a - spans[-1][1] <= join_s:
                spans[-1][1] = b
            else:
                spans.append([a, b])
        return [[round(a, 3), round(b, 3)] for a, b in spans], missing

    def early_keyframes(self, share: float = 0.9) -> list[float]:
        """Keyframes that come sooner than the stream's usual spacing: where an encoder's
        scene-cut rule started a new picture. Only meaningful with a regular spacing (a stream
        of only keyframes, or a single GOP, has none)."""
        lengths = [g.length for g in self.gops[:-1]]  # the last GOP is cut short by the end
        if len(lengths) < 2:
            return []
        usual = float(np.median(lengths))
        return [self.gops[i + 1].start for i, length in enumerate(lengths) if length < share * usual]

    def size_spikes(self, ratio: float = 2.5, key_share: float = 0.3, window: int = 15) -> list[float]:
        """Times of predicted frames at least ``ratio`` times the size of the bigger predicted
        frames around them and at least ``key_share`` of a typical keyframe: a frame that had
        to be described almost from scratch. The upper quartile, not the median, is the
        reference, so that the regular big frames of a B-frame pattern (each P among three Bs)
        are not spikes; the keyframe share keeps the noise of near-empty frames (a still shot
        costs a few dozen bytes a frame) from counting."""
        spikes = []
        n = len(self.sizes)
        predicted = ~self.keys
        floor = key_share * float(np.median(self.sizes[self.keys]))
        for i in np.flatnonzero(predicted):
            if self.sizes[i] < floor:
                continue
            lo, hi = max(0, i - window), min(n, i + window + 1)
            around = np.concatenate([self.sizes[lo:i][predicted[lo:i]], self.sizes[i + 1:hi][predicted[i + 1:hi]]])
            if len(around) >= 4 and self.sizes[i] >= ratio * max(float(np.percentile(around, 75)), 1.0):
                spikes.append(float(self.times[i]))
        # More than one every two seconds is the encoder's own rhythm, not new shots: a clip
        # re-encoded from one with frequent keyframes keeps their big frames (every 0.24 s in
        # a corpus clip). The picture checks across gaps still look for cuts there.
        if len(spikes) > self.duration / 2:
            return []
        return spikes


def read_index(path: str) -> PacketIndex | None:
    """The packet index of the first video stream; None when the container gives no usable
    timestamps (decoding then runs through every frame)."""
    import av

    with av.open(local_file(path), metadata_errors="ignore") as container:
        stream = video_stream(container)
        if stream is None:
            return None
        decoded_bytes = frame_bytes(stream.codec_context.format)
        rows = []
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue  # the flushing packet, or pre-roll an edit list hides
            pts = packet.pts if packet.pts is not None else packet.dts
            if pts is None:
                return None
            rows.append((pts, packet.size, bool(packet.is_keyframe)))
        time_base = float(stream.time_base)
    if not any(key for _, _, key in rows):
        return None
    reordered = any(b[0] < a[0] for a, b in zip(rows, rows[1:]))  # decode order is not display order
    rows.sort()
    pts = np.array([r[0] for r in rows], dtype=np.int64)
    origin = int(pts[0])
    times = (pts - origin) * time_base
    if len(times) > 1 and np.any(np.diff(times) <= 0):
        return None  # repeated timestamps: which packet is which frame is unknowable
    sizes = np.array([r[1] for r in rows], dtype=np.int64)
    keys = np.array([r[2] for r in rows], dtype=bool)
    index = PacketIndex(origin, time_base, times, sizes, keys, reordered=reordered, frame_bytes=decoded_bytes)
    key_rows = np.flatnonzero(keys)
    step = index.frame_step
    for k, i in enumerate(key_rows):
        j = key_rows[k + 1] if k + 1 < len(key_rows) else len(times)
        end = float(times[j]) if j < len(times) else float(times[-1]) + step
        index.gops.append(Gop(float(times[i]), end, int(pts[i])))
    return index
