"""One decode pass feeding many analysers, each at the frame rate and size it asks for.

An analyser says how often it wants a frame (``interval`` seconds, 0 for every frame), how big
(``max_side`` pixels on the long side) and in which pixel format. The loop decodes each frame
once, converts it only if somebody wants it, once per size, and turns it upright according to
the rotation metadata, so analysers see what a viewer sees.

Not every frame is decoded. Where the stream has short groups of pictures (GOPs; phones start
one every second or so), only the first ``BURST_SECONDS`` of each is decoded: a keyframe and
the frames just after it, a pair close enough in time for limb speed and camera motion. The
rest of the GOP is skipped unread, which is what makes the analysis cheaper than decoding the
clip. Analysers that want every frame (cuts) are told where frames were skipped
(``skipped()``), and may name spans they need in full (``spans_to_fill``): a second, short
pass decodes just those GOPs for them. Long GOPs, and streams whose packets carry no usable
timestamps, are decoded in full; a stream decoded in full and longer than 16 s feeds the
sampling analysers only in windows placed as bursts would be (``_SampleWindows``), so the models
see the same samples whatever the encoding.

Every analyser runs on a worker thread (its lane), in list order within the lane, while the main
thread goes on decoding: model inference and scaling release the interpreter, so they overlap
(measured: 6.98 s serial, 5.21 s overlapped for pose on a 30 s 1080p clip, 2 cores). The cut
detector has a lane of its own. With the largest frames the sampling lanes are held until the
decoder has closed (MODELS_AFTER_DECODING_FRAME_BYTES), so the decoder and the models do not
need their memory at the same time.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from ..ffmpeg_binary import local_file
from ..probe.video import video_stream
from .packets import frame_bytes, read_index
from .spans import merge_overlapping


class Analyser(Protocol):
    name: str
    interval: float  # seconds between frames wanted; 0 = every frame
    max_side: int  # long side of the frames wanted, in pixels
    pixel_format: str  # "rgb24" or "gray"
    # Optional: ``lane`` (str), the worker thread the analyser runs on (see ``_lane``);
    # ``skipped()`` and ``spans_to_fill(early_keyframes, size_spikes)`` for analysers that want
    # every frame (see the module's docstring).

    def process(self, t: float, image: np.ndarray, shared: dict) -> None: ...

    def finish(self, duration: float) -> None: ...


# Seconds decoded at the start of a GOP that is otherwise skipped: the keyframe and the frames up
# to one pose/camera sampling step later.
BURST_SECONDS = 0.2
# Only GOPs in this range of lengths are skipped in part. Shorter ones leave little to skip;
# longer ones would leave the pose and people sampling more than about two seconds apart.
BURST_GOP_SECONDS = (0.6, 2.1)
# A clip with fewer such GOPs is short: decoding it all costs little, and bursts would leave
# too few samples for spans (a posture held for half a second) to show.
BURST_MIN_GOPS = 8
# In a long clip, bursts are at least this share of the clip apart (1.9 s in a 30 s clip, so
# every other 1 s GOP); the GOPs in between are not decoded at all. Clips up to 16 s with 1 s
# GOPs keep every GOP.
BURST_SPACING_SHARE = 1 / 16


# A stream decoded in full that has B-frames decodes only its reference frames (I, P and the B
# frames others refer to; typically half of them) when it has at least this many frames: the cut
# detector's neighbourhood (8 frames a side, a new shot persisting 4) needs the density of a
# short clip, and a short clip costs little anyway. Measured on a 30 s 1080p x264-default clip:
# 537 of 900 frames decoded, the whole preflight 8.0 s -> 6.4 s, every accuracy figure the same.
NONREF_MIN_FRAMES = 300

# A stream decoded in full and longer than this feeds its sampling analysers (pose, camera,
# people) only in windows of BURST_SECONDS spaced BURST_SPACING_SHARE of the clip apart: the
# samples a phone-style encoding of the same clip gets from its bursts. Inference, not decoding,
# was most of the cost of a 30 s long-GOP clip (150 pose samples against 32 for its phone-style
# encoding); up to 16 s, bursts come every second and every sample is kept, as before.
WINDOWED_MIN_SECONDS = 16.0


@dataclass
class DecodeStats:
    frames_decoded: int = 0  # in the main pass
    frames_sampled: int = 0  # frames handed to the model-driven analysers
    frames_refilled: int = 0  # decoded again in the second pass, for analysers that asked
    frames_total: int = 0  # in the stream, by its packets (0 if unknown)
    gops_skipped: int = 0  # GOPs of which only the start was decoded
    duration: float = 0.0
    frame_rate: float = 0.0
    frame_times: list[float] = field(default_factory=list)


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply FFmpeg's display rotation: -90 means a quarter turn clockwise for display."""
    turns = (round(rotation / 90)) % 4
    return np.rot90(image, k=turns) if turns else image


def _scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size with the long side at most ``max_side``, aspect kept, even numbers for swscale."""
    long_side = max(width, height)
    scale = min(1.0, max_side / long_side)
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


# Decoded frames this large or larger (2160p at 10 bits: 25 MB; at 8 bits, 12 MB) are left to
# the decoder alone: the frames sampled for the models are converted to the models' sizes as they
# are decoded and kept, and the models run once the decoder has closed. Measured on 12 s of
# 2160p HEVC 10-bit: the decoder holds about 130 MB (its references) and the pose and people
# models about 160 MB once they have run, which together went over 400 MB.
MODELS_AFTER_DECODING_FRAME_BYTES = 16 * 2**20
# The converted frames a held lane keeps at most. Samples are bounded per clip where its stream
# is indexed (bursts, windows; the pose and camera lane keeps under 40 MB of a 16 s clip sampled
# 5 times a second); a long clip decoded without an index is sampled throughout, and its lanes
# then run as the frames come.
MODELS_AFTER_DECODING_HELD_BYTES = 64 * 2**20

# Frames waiting for the worker at most: bounds memory if the models fall behind the decoder.
_QUEUE_FRAMES = 4

# Memory the decoder's frame threads may hold. Each of the first threads keeps about
# FRAMES_PER_THREAD frames of its own (measured on H.264: 13-16 MB a thread at 1080p, 47-49 MB
# at 2160p; about 6 MB for each thread beyond four at 1080p). FFmpeg's default, a thread per core
# plus one, took a 1080p preflight from 375 MB (one thread) to 478 MB at 16 threads and a 2160p
# one to 504 MB at three: the peak would grow with the machine.
DECODER_THREAD_MEMORY = 32 * 2**20
FRAMES_PER_THREAD = 4


def _cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def decoder_threads(bytes_per_frame: int, cores: int | None = None) -> int:
    """Frame threads for decoding frames of ``bytes_per_frame`` each: one per core, within
    DECODER_THREAD_MEMORY, and at least one."""
    fits = DECODER_THREAD_MEMORY // max(1, FRAMES_PER_THREAD * bytes_per_frame)
    return max(1, min(cores or _cores(), fits))


# Allocations of at least this many bytes get pages of their own, given back when freed.
LARGE_ALLOCATION_BYTES = 4 * 2**20
_heap_tuned = False


def _give_large_buffers_back() -> None:
    """Fix glibc's threshold for allocating by mmap at LARGE_ALLOCATION_BYTES. Left alone, it
    rises to the size of any large block freed (up to 32 MB): once the probe had decoded and freed
    a 2160p 10-bit frame (25 MB), the decoder's frames came from the heap, and when the decoder
    closed its 100 MB stayed with the process while the models loaded (HEVC clip: 447 MB peak
    against 350 with the threshold fixed). A no-op where the C library is not glibc."""
    global _heap_tuned
    if _heap_tuned:
        return
    _heap_tuned = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, LARGE_ALLOCATION_BYTES)  # M_MMAP_THRESHOLD; also stops its adjusting
    except (OSError, AttributeError):
        pass


def models_after_decoding(path: str, index=None) -> bool:
    """Whether the models of ``path``'s analysis wait for the decoder to close: its decoded
    frames are at least MODELS_AFTER_DECODING_FRAME_BYTES each. Told by ``index`` (its packet
    index) when there is one, else by opening the file; False when the file cannot be read
    (the decode pass then says why)."""
    if index is not None:
        return index.frame_bytes >= MODELS_AFTER_DECODING_FRAME_BYTES
    import av

    try:
        with av.open(local_file(path), metadata_errors="ignore") as container:
            stream = video_stream(container)
            return stream is not None and _models_after_decoding(stream)
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the decode pass
        return False


def _models_after_decoding(stream) -> bool:
    return frame_bytes(stream.codec_context.format) >= MODELS_AFTER_DECODING_FRAME_BYTES


def _set_decoder_threads(stream) -> None:
    stream.thread_type = "AUTO"  # frame and slice threads
    stream.codec_context.thread_count = decoder_threads(frame_bytes(stream.codec_context.format))


class _Worker:
    """Runs jobs on its own thread, one at a time, in the order they were submitted. A held
    worker keeps its jobs until it is closed (see MODELS_AFTER_DECODING_FRAME_BYTES)."""

    def __init__(self):
        self.jobs: queue.Queue = queue.Queue(maxsize=_QUEUE_FRAMES)
        self.error: BaseException | None = None
        self.held: list | None = None
        self.thread = threading.Thread(target=self._run, name="preflight-analysers", daemon=True)
        self.thread.start()

    def hold(self, limit_bytes: int) -> None:
        """Keep the jobs submitted from now on until ``close``, or until the frames they carry
        come to ``limit_bytes`` (then they run, and later jobs as they come)."""
        if self.held is None:
            self.held, self._held_bytes, self._limit = [], 0, limit_bytes

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if self.error is None:  # after an error, drain: the main thread reports the first one
                try:
                    job()
                except BaseException as exc:  # handed to the main thread
                    self.error = exc
            # Let go of the job's frame before waiting for the next: a decoded 2160p 10-bit
            # frame is 25 MB, and one the decoder cannot reuse is one it allocates anew.
            job = None

    def submit(self, job: Callable[[], None], nbytes: int = 0) -> None:
        if self.error is not None:
            raise self.error
        if self.held is None:
            self.jobs.put(job)
            return
        self.held.append(job)
        self._held_bytes += nbytes
        if self._held_bytes > self._limit:  # a long clip sampled throughout: stop holding
            self._release(run=True)

    def _release(self, run: bool) -> None:
        """Stop holding: queue what was held (``run``) or drop it."""
        held, self.held = self.held or [], None
        for job in held if run else ():
            self.jobs.put(job)
        held.clear()  # each job's frames go as soon as it has run, not when the last one has

    def close(self, run_held: bool = True) -> None:
        """Run what is held (unless ``run_held`` is False: the pass failed), wait for the last
        job, and raise the first error a job raised."""
        self._release(run=run_held)
        self.jobs.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _close_workers(workers, run_held: bool = True) -> None:
    """Close every worker, then raise the first error any of them had."""
    errors = []
    for worker in workers:
        try:
            worker.close(run_held)
        except BaseException as exc:  # every worker is stopped before the first error goes on
            errors.append(exc)
    if errors:
        raise errors[0]


def _feed(t: float, frame, analysers: list, rotation: int, converted: dict | None = None) -> None:
    """Hand one decoded frame to ``analysers``, in order, each in its own size and format
    (``converted``: those made already; then ``frame`` may be None); they share per-frame
    results through ``shared`` (the pose tracker marks the person for the camera analyser)."""
    converted = {} if converted is None else converted
    shared: dict = {}
    for analyser in analysers:
        analyser.process(t, _convert(frame, analyser, rotation, converted), shared)


def _tell_skipped(analysers: list) -> None:
    for analyser in analysers:
        if hasattr(analyser, "skipped"):
            analyser.skipped()


def _convert(frame, analyser: Analyser, rotation: int, cache: dict) -> np.ndarray:
    """The frame as ``analyser`` wants it: always straight from the decoded frame with the same
    scaler, so an analyser comparing frames never sees a difference made by the conversion."""
    key = (analyser.max_side, analyser.pixel_format)
    image = cache.get(key)
    if image is None:
        w, h = _scaled_size(frame.width, frame.height, analyser.max_side)
        image = _scaler(key).reformat(frame, width=w, height=h, format=analyser.pixel_format,
                                      interpolation="AREA").to_ndarray()
        image = _upright(image, rotation)
        cache[key] = image
    return image


_scalers = threading.local()


def _scaler(key: tuple):
    """This thread's scaler for one output size and format. ``frame.reformat`` would build a new
    one for every frame (1.8 ms a 1080p frame here, against 0.6 ms reused), and two threads
    converting the same frame through the frame's own scaler crashed the process."""
    from av.video.reformatter import VideoReformatter

    table = _scalers.__dict__.setdefault("table", {})
    if key not in table:
        table[key] = VideoReformatter()
    return table[key]


class _SampleWindows:
    """Which frames of a stream decoded in full the sampling analysers may take: from the first
    frame at or after each multiple of ``spacing`` seconds up to and including the first one at
    least BURST_SECONDS later, as a burst would have decoded them (a pair for limb speed and
    camera motion). Asked once per frame, in display order."""

    def __init__(self, spacing: float):
        self.spacing = spacing
        self._start = 0.0
        self._open = False
        self._next = 0.0

    def admits(self, t: float) -> bool:
        if self._open:
            self._open = t < self._start + BURST_SECONDS - 1e-3
            return True
        if t + 1e-6 >= self._next:
            self._start, self._open = t, True
            self._next = (int(t // self.spacing) + 1) * self.spacing
            return True
        return False


_UNREAD = object()  # run_decode's index argument when the caller has not read the index


def run_decode(path: str, analysers: list[Analyser], rotation: int = 0,
               progress: Callable[[float, float], None] | None = None, *, skip: bool = True,
               index=_UNREAD) -> DecodeStats:
    """Decode ``path`` once (skipping what need not be decoded, unless ``skip`` is False) and
    hand frames to every analyser that wants them; then decode again only the spans that
    every-frame analysers asked for. ``index`` is what ``read_index_or_none`` gave if the
    caller has already asked (None included: the file is not read twice)."""
    _give_large_buffers_back()
    stats = DecodeStats()
    if not skip:
        index = None
    elif index is _UNREAD:
        index = read_index_or_none(path)
    burst: set[int] = set()
    if index is not None:
        stats.frames_total = len(index.times)
        low, high = BURST_GOP_SECONDS
        burst = {i for i, g in enumerate(index.gops) if low <= g.length <= high}
        if len(burst) < BURST_MIN_GOPS:
            burst = set()
    next_due = {a.name: 0.0 for a in analysers}
    # One worker per lane: analysers that share per-frame results (the pose tracker tells the
    # camera analyser where the person is) share a lane; independent ones run side by side.
    workers = {lane: _Worker() for lane, _ in _by_lane(analysers)}
    passed = False
    try:
        # Decoded in full, time starts at the first decoded frame as it always has; the index
        # (and its origin) is needed only to skip.
        # Decoded in full with B-frames: the frames nothing refers to are left undecoded (env
        # PREFLIGHT_NONREF=0 to compare).
        nonref = (not burst and index is not None and index.reordered and len(index.times) >= NONREF_MIN_FRAMES
                  and os.environ.get("PREFLIGHT_NONREF", "1") != "0")
        windows = (_SampleWindows(index.duration * BURST_SPACING_SHARE)
                   if not burst and index is not None and index.duration > WINDOWED_MIN_SECONDS else None)
        _main_pass(path, analysers, rotation, progress, stats, next_due, workers, index if burst else None, burst,
                   nonref, windows)
        # The second pass hands frames to the every-frame analysers on this thread, after all
        # the first pass gave them; held model jobs run after it, when no decoder is open.
        _close_workers([w for w in workers.values() if w.held is None])
        if index is not None and burst:
            stats.duration = max(stats.duration, index.duration)  # the last frames may have been skipped
            _refill(path, analysers, rotation, stats, index, burst)
        passed = True
    finally:
        _close_workers(workers.values(), run_held=passed)
    for a in analysers:
        a.finish(stats.duration)
    return stats


def _lane(analyser) -> str:
    """The worker thread an analyser runs on: its own ``lane``, else "models" for those that
    sample and "every frame" for the others (the cut detector: it keeps up with the decoder on
    a thread of its own, converting every frame while the next is decoded)."""
    return getattr(analyser, "lane", "models" if analyser.interval else "every frame")


def _by_lane(analysers: list) -> list[tuple[str, list]]:
    """``analysers`` grouped by lane, in their list order within each lane."""
    lanes: dict[str, list] = {}
    for analyser in analysers:
        lanes.setdefault(_lane(analyser), []).append(analyser)
    return list(lanes.items())


def read_index_or_none(path: str):
    """The packet index, or None when it cannot be read (then everything is decoded)."""
    try:
        return read_index(path)
    except Exception:  # noqa: BLE001 - an unreadable index only means decoding everything
        return None


class _Feed:
    """Packets of the stream in decode order, leaving out the rest of a burst GOP once the
    packets of the frames shown in its first ``BURST_SECONDS`` have gone to the decoder (the
    frames they refer to come before them in decode order, so nothing they need is missing),
    and leaving out whole GOPs that are not sampled at all."""

    def __init__(self, container, stream, index, burst: set[int], sampled: set[int]):
        self.container, self.stream, self.index = container, stream, index
        self.burst, self.sampled = burst, sampled
        self.skipping = False
        self._wanted: set[int] = set()  # pts of the burst frames not yet fed
        self._gop = -1
        # pts -> GOP it was fed in, for burst GOPs: a frame shown before the keyframe it was
        # decoded after (an open GOP's leading picture) refers to frames that were skipped.
        self.fed_in: dict[int, int] = {}

    def frames(self):
        tb = float(self.stream.time_base)
        index = self.index
        for packet in self.container.demux(self.stream):
            pts = packet.pts if packet.pts is not None else packet.dts  # as the index reads them
            if packet.is_keyframe and pts is not None and index is not None:
                gop = index.gop_at((pts - index.origin_pts) * tb)
                self._gop = gop
                self.skipping = gop in self.burst and gop not in self.sampled
                self._wanted = set(index.burst_pts(gop, BURST_SECONDS)) if gop in self.burst else set()
            if self.skipping and packet.size:
                continue
            if self._wanted and pts is not None:
                self.fed_in[pts] = self._gop
            yield from packet.decode()
            if self._wanted:
                self._wanted.discard(pts)
                if not self._wanted:
                    self.skipping = True
                    codec = self.stream.codec_context
                    if index.reordered or codec.thread_count == 1:
                        # Drain what the decoder holds, then reset it: with B-frames, a decoder
                        # that meets the next keyframe with a hole in its references may wait
                        # for a recovery point that never comes (open GOPs). Without them the
                        # keyframe starts afresh and the threads stay busy, except on one
                        # thread (the largest pictures), where a reset also lets go of what
                        # the skipped frames left behind: 2160p HEVC 10-bit decoding peaked
                        # 59 MB lower (146 MB over the interpreter against 205).
                        yield from codec.decode(None)
                        codec.flush_buffers()


def _sampled_gops(index, burst: set[int]) -> set[int]:
    """The burst GOPs whose start is decoded: all of them, unless they are so many that at
    least ``BURST_SPACING_SHARE`` of the clip can lie between two samples."""
    if index is None:
        return set()
    spacing = index.duration * BURST_SPACING_SHARE
    chosen: set[int] = set()
    last = None
    for i, gop in enumerate(index.gops):
        if i not in burst:
            last = None  # decoded in full: the next burst starts a new spacing
            continue
        if last is None or gop.start - last >= spacing - 1e-3 or i == len(index.gops) - 1:
            chosen.add(i)
            last = gop.start
    return chosen


def _main_pass(path, analysers, rotation, progress, stats, next_due, workers, index, burst, nonref=False,
               windows: _SampleWindows | None = None) -> None:
    # One loop on purpose: each decoded frame is timed, checked for a gap, and handed to every
    # analyser that wants it, in that order; split up, that per-frame state would travel through
    # as many parameters again.
    import av

    every_frame = [a for a in analysers if not a.interval]
    with av.open(local_file(path), metadata_errors="ignore") as container:
        stream = video_stream(container)
        _set_decoder_threads(stream)
        if _models_after_decoding(stream):
            for lane in {_lane(a) for a in analysers if a.interval}:
                workers[lane].hold(MODELS_AFTER_DECODING_HELD_BYTES)
        if nonref:
            stream.codec_context.skip_frame = "NONREF"
        tb = stream.time_base
        total = index.duration if index is not None else (
            float(stream.duration * tb) if stream.duration else
            container.duration / 1_000_000 if container.duration else 0.0)
        stats.frame_rate = float(stream.average_rate or stream.guessed_rate or 0) or 0.0
        feed = _Feed(container, stream, index, burst, _sampled_gops(index, burst))
        origin = index.origin_pts if index is not None else None
        skipped_gops: set[int] = set()
        for frame in feed.frames():
            if frame.pts is None:
                continue
            if origin is None:
                origin = frame.pts
            # Some containers (AVI with packed B-frames) label frames out of order; frames leave
            # the decoder in display order, so time never runs backwards here.
            t = float((frame.pts - origin) * tb)
            previous = stats.frame_times[-1] if stats.frame_times else None
            if previous is not None and t <= previous:
                t = previous + 1e-3
            gap = bool(burst) and previous is not None and index.frames_between(previous, t) > 0
            fed_in = feed.fed_in.pop(frame.pts, None)
            if fed_in is not None and index.gop_at(t) < fed_in and index.gop_at(t) in burst:
                continue  # a leading picture whose references were skipped
            if gap:
                for lane, mine in _by_lane(every_frame):
                    workers[lane].submit(functools.partial(_tell_skipped, mine))
                skipped_gops.add(index.gop_at(previous))
            stats.frames_decoded += 1
            stats.frame_times.append(t)
            admitted = windows is None or windows.admits(t)
            wanting = [a for a in analysers if (admitted or not a.interval) and t + 1e-6 >= next_due[a.name]]
            for a in wanting:
                if a.interval:
                    next_due[a.name] += a.interval
                    if next_due[a.name] <= t:  # fell behind (a skipped span, a VFR gap): realign
                        next_due[a.name] = t + a.interval
            # Converted on the workers too: scaling overlaps decoding as inference does.
            for lane, mine in _by_lane(wanting):
                worker = workers[lane]
                if worker.held is None:
                    worker.submit(functools.partial(_feed, t, frame, mine, rotation))
                else:  # converted now: a held job must not keep the decoded frame alive
                    converted: dict = {}
                    for a in mine:
                        _convert(frame, a, rotation, converted)
                    worker.submit(functools.partial(_feed, t, None, mine, rotation, converted),
                                  sum(image.nbytes for image in converted.values()))
            if any(a.interval for a in wanting):
                stats.frames_sampled += 1
            if progress and total:
                progress(min(t, total), total)
        stats.gops_skipped = len(skipped_gops)
        if stats.frame_times:
            stats.duration = stats.frame_times[-1] + (1 / stats.frame_rate if stats.frame_rate else 0)


def _refill(path, analysers, rotation, stats, index, burst) -> None:
    """Decode in full the GOPs around the spans every-frame analysers ask for, and hand each
    stretch to them as a run of its own. Only GOPs the main pass skipped are worth it."""
    import av

    wanting = [a for a in analysers if hasattr(a, "spans_to_fill")]
    early, spikes = index.early_keyframes(), index.size_spikes()
    asked = [(index.gop_at(start), index.gop_at(end))
             for a in wanting for start, end in a.spans_to_fill(early, spikes)]
    # [first GOP, last GOP], merged; GOPs not skipped were decoded in full in the main pass.
    stretches = merge_overlapping(((first, last) for first, last in asked
                                   if any(g in burst for g in range(first, last + 1))), joined_within=1)
    if not stretches:
        return
    with av.open(local_file(path), metadata_errors="ignore") as container:
        stream = video_stream(container)
        _set_decoder_threads(stream)
        tb = stream.time_base
        for first, last in stretches:
            begin, end = index.gops[first].start, index.gops[last].end
            container.seek(index.gops[first].key_pts, stream=stream, backward=True, any_frame=False)
            _tell_skipped(wanting)
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float((frame.pts - index.origin_pts) * tb)
                if t < begin - 1e-3:
                    continue
                if t >= end - 1e-3:
                    break
                stats.frames_refilled += 1
                converted: dict = {}
                for a in wanting:
                    a.process(t, _convert(frame, a, rotation, converted), {})
        _tell_skipped(wanting)
