"""Hard cuts and gradual transitions (fades through black, dissolves).

Every frame is reduced to a small HSV picture. A hard cut is a frame whose difference from the
previous one stands far above the differences around it (as PySceneDetect's adaptive detector
does) *and* whose new content persists: a few frames later the picture is still far from the
one before the jump. That second test is what keeps flashes, flicker and a single whip of the
camera from counting as cuts. Fades are runs of near-black frames; dissolves are windows where
the colour distribution moves from one steady state to another without any single jump, and
whose inner frames are mixes of the two ends (a pan or a zoom changes colours as much, but its
middle frame is no mix of its first and last). A jump that stays on one side of a dissolve
(from 97% of the new picture to all of it, where an encoder's keyframe lands on the dissolve's
last frame) is part of the dissolve, not a cut.

A frame that follows a gap in the timestamps (frames dropped by a phone under load) differs
from the one before by all the motion of the missing frames. There the difference is measured
again after the best global shift between the two (phase correlation): a moving scene lines up
again and scores low, a new shot does not line up with anything.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .spans import merge_overlapping


@dataclass
class CutSettings:
    ratio: float = 3.0  # a cut's score over the median score of its neighbourhood
    min_score: float = 8.0  # mean absolute HSV difference (0-255) below which nothing is a cut
    window: int = 8  # frames on each side forming the neighbourhood
    duplicate_level: float = 1.0  # scores below this are repeated frames, left out of the baseline
    persist_frames: int = 4  # the new shot must still differ this many frames later...
    persist_share: float = 0.5  # ...by at least this share of the jump
    min_gap_s: float = 0.25  # two cuts closer than this are one (the stronger)
    dark_level: float = 16.0  # mean brightness (0-255) of a "black" frame
    fade_merge_s: float = 1.0  # a dark run shorter than this is one transition, longer ones two
    dissolve_span_s: float = 0.8  # frames this far apart are compared for dissolves...
    dissolve_max_s: float = 2.0  # ...and, while the picture has not settled, up to this far
    dissolve_hist: float = 0.5  # histogram distance (0-1) that marks a dissolve
    dissolve_step_share: float = 0.35  # no single step may carry more than this share of it
    # How far a dissolve's inner frames may be from a mix of its two ends (mean residual over
    # mean end difference): a dissolve is a mix, a pan or a zoom across the scene is not.
    dissolve_mix_residual: float = 0.35
    # The ends of a dissolve are two pictures: their brightness patterns correlate less than this
    # (a fade, or the exposure adjusting while the camera moves a little, leaves one picture).
    # Measured: -0.13 to 0.17 across the dissolves of the bench; 0.53-0.72 for a zooming shot
    # that darkens over a second.
    dissolve_same_picture: float = 0.5
    # Either side of a dissolve the picture holds: it changes by at most this share of what the
    # dissolve changed (a slow dissolve moves each frame as little as a still shot does).
    dissolve_hold_share: float = 0.25
    dissolve_run_s: tuple[float, float] = (0.3, 4.0)  # length of a run of change between still shots
    # Between two still shots the structure itself is evidence, so less colour change is needed.
    dissolve_run_hist: float = 0.35
    # Across undecoded frames: a histogram distance (0-1) above this, a dark frame at either
    # end, or a new shot announced by the packets sends the gap back to be decoded. Kept well
    # below the dissolve thresholds, so what the full search would find is not screened out.
    screen_hist: float = 0.15
    # A frame this many typical frame steps after the one before follows dropped frames.
    gap_steps: float = 1.75


@dataclass
class CutResult:
    cuts: list[float] = field(default_factory=list)  # time of the first frame of each new shot
    fades: list[float] = field(default_factory=list)  # times of fade transitions
    dissolves: list[list[float]] = field(default_factory=list)  # [start, end] spans

    @property
    def transitions(self) -> list[float]:
        return sorted(self.fades + [round((a + b) / 2, 3) for a, b in self.dissolves])


def _hist(hsv: np.ndarray) -> np.ndarray:
    """A small normalised hue-saturation-value histogram (8x4x4 bins)."""
    h = (hsv[..., 0].astype(np.int32) * 8) // 180
    s = hsv[..., 1].astype(np.int32) // 64
    v = hsv[..., 2].astype(np.int32) // 64
    counts = np.bincount((h * 16 + s * 4 + v).ravel(), minlength=128).astype(np.float32)
    return counts / counts.sum()


def _hist_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance of two normalised histograms: 0 the same, 1 nothing shared."""
    return 0.5 * float(np.abs(a - b).sum())


def _aligned_difference(before: np.ndarray, after: np.ndarray) -> float:
    """Mean HSV difference of two frames once ``after`` is shifted to best fit ``before`` (phase
    correlation on brightness), over the part both frames show; infinite when that is under a
    quarter of the frame (the shift would explain nothing)."""
    import cv2

    height, width = before.shape[:2]
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(np.ascontiguousarray(before[..., 2]), np.ascontiguousarray(after[..., 2]),
                                     window)
    x0, x1 = int(max(0.0, -dx)) + 1, int(min(width, width - dx)) - 1
    y0, y1 = int(max(0.0, -dy)) + 1, int(min(height, height - dy)) - 1
    if x1 - x0 < width / 4 or y1 - y0 < height / 4:
        return float("inf")
    shifted = cv2.warpAffine(after, np.float32([[1, 0, -dx], [0, 1, -dy]]), (width, height))
    return float(np.abs(shifted[y0:y1, x0:x1] - before[y0:y1, x0:x1]).mean())


def _mix_residual(first: np.ndarray, middle: np.ndarray, last: np.ndarray) -> tuple[float, float]:
    """How well ``middle`` is a mix ``w * first + (1 - w) * last`` (least squares): the weight w
    and the mean residual as a share of the mean difference of the ends (inf for equal ends)."""
    ends = first - last
    energy = float((ends * ends).sum())
    if energy < 1e-6:
        return 0.0, float("inf")
    weight = float(((middle - last) * ends).sum()) / energy
    residual = float(np.abs(middle - last - weight * ends).mean()) / float(np.abs(ends).mean())
    return weight, residual


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two pictures' brightness patterns, blind to gain and offset: 1 for one
    picture brighter or darker, near 0 for two unrelated ones; 1 when neither has any pattern
    (two flat frames), 0 when only one has."""
    a, b = a - a.mean(), b - b.mean()
    spread_a, spread_b = float(np.sqrt((a * a).mean())), float(np.sqrt((b * b).mean()))
    if spread_a < 1.0 or spread_b < 1.0:
        return 1.0 if spread_a < 1.0 and spread_b < 1.0 else 0.0
    return float((a * b).mean()) / (spread_a * spread_b)


def _hsv(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame as 8-bit HSV (for histograms) and as float HSV with hue weighted by how
    coloured the pixel is (for differences): hue means nothing in grey or near-black pixels."""
    import cv2

    hsv8 = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hsv = hsv8.astype(np.float32)
    hsv[..., 0] *= 255 / 179  # hue on the same 0-255 scale as the others
    hsv[..., 0] *= (hsv[..., 1] / 255) * (hsv[..., 2] / 255)
    return hsv8, hsv


class CutDetector:
    """Cuts over the frames it is given, which may come in runs with undecoded frames between.

    Every run long enough for the neighbourhood test is searched frame by frame. Between runs
    (and inside runs too short to search) it only screens: it names the spans where a cut or
    transition may hide, and the decode loop decodes those spans in full and hands them back
    as runs of their own.
    """

    name = "cuts"
    interval = 0.0  # every frame
    max_side = 96
    pixel_format = "rgb24"

    def __init__(self, settings: CutSettings | None = None):
        self.settings = settings or CutSettings()
        self.result = CutResult()
        self._runs: list[_Run] = []

    def process(self, t: float, image: np.ndarray, shared: dict) -> None:
        if not self._runs or self._runs[-1].closed:
            self._runs.append(_Run(self.settings))
        self._runs[-1].process(t, image)

    def skipped(self) -> None:
        """Frames were left out after the last one given: what comes next is a new run."""
        if self._runs and not self._runs[-1].closed:
            self._runs[-1].close()

    def _searchable(self, run: "_Run") -> bool:
        return len(run.times) >= 2 * self.settings.window + 1

    def spans_to_fill(self, early_keyframes: list[float], size_spikes: list[float]) -> list[tuple[float, float]]:
        """Spans, in seconds, whose skipped frames must be decoded to be sure about cuts:
        gaps across which the picture changed, went dark, or the packets showed a new shot
        starting; and short runs with a jump inside."""
        s = self.settings
        self.skipped()
        marks = sorted(early_keyframes + size_spikes)
        spans = []
        for before, after in zip(self._runs, self._runs[1:]):
            # The last frame before the gap against the first after it.
            if not before.times or not after.times or after.times[0] <= before.times[-1]:
                continue
            a, b = before.times[-1], after.times[0]
            distance = _hist_distance(after.hists[0], before.hists[-1])
            dim = min(before.brightness[-1], after.brightness[0]) < 2 * s.dark_level
            marked = any(a < m <= b for m in marks)
            if distance >= s.screen_hist or dim or marked:
                spans.append((a, b))
        for run in self._runs:
            if not self._searchable(run) and run.times and (
                    max(run.scores[1:], default=0.0) >= s.min_score
                    or min(run.brightness) < 2 * s.dark_level):
                spans.append((run.times[0], run.times[-1]))
        return spans

    def finish(self, duration: float) -> None:
        self.skipped()
        cuts: list[float] = []
        fades: list[float] = []
        dissolves: list[list[float]] = []
        for run in self._runs:
            if not self._searchable(run):
                continue
            found = run.result(ends_clip=run.times[-1] >= duration - 2 * run.step,
                               starts_clip=run.times[0] <= 2 * run.step)
            cuts += found.cuts
            fades += found.fades
            dissolves += found.dissolves
        # Runs decoded again to fill a gap overlap the runs around it: one find, once.
        self.result.cuts = _unique(cuts, self.settings.min_gap_s)
        self.result.fades = _unique(fades, self.settings.fade_merge_s / 2)
        self.result.dissolves = merge_overlapping(dissolves)


def _unique(times: list[float], within: float) -> list[float]:
    kept: list[float] = []
    for t in sorted(times):
        if not kept or t - kept[-1] >= within:
            kept.append(t)
    return kept


class _Run:
    """Consecutive decoded frames, searched frame by frame."""

    def __init__(self, settings: CutSettings):
        self.settings = settings
        self.closed = False
        self.times: list[float] = []
        self.scores: list[float] = []  # difference from the previous frame
        self.persist: list[float] = []  # difference of frame i+k from frame i-1 (filled later)
        self.brightness: list[float] = []
        self.hists: list[np.ndarray] = []
        self.after_gap: list[bool] = []  # the frame follows dropped frames (a gap in the timestamps)
        # Brightness at half the analysis size (at most 48x48 bytes a frame: under 4.2 MB a
        # minute at 30 fps, 2.3 MB for 16:9), kept for the whole run: a dissolve is judged by its
        # frames' pixels.
        self.small: list[np.ndarray] = []
        self._recent: deque = deque(maxlen=self.settings.persist_frames + 2)

    def close(self) -> None:
        self.closed = True
        self._recent.clear()  # the float frames are only needed while the run grows

    def process(self, t: float, image: np.ndarray) -> None:
        import cv2

        hsv8, hsv = _hsv(image)
        hist = _hist(hsv8)
        value = hsv8[..., 2]
        self.small.append(cv2.resize(value, (max(1, value.shape[1] // 2), max(1, value.shape[0] // 2)),
                                     interpolation=cv2.INTER_AREA))
        i = len(self.times)
        self.times.append(t)
        self.brightness.append(float(hsv[..., 2].mean()))
        self.hists.append(hist)
        self.persist.append(0.0)
        gap = self._after_gap()
        self.after_gap.append(gap)
        if self._recent:
            score = float(np.abs(hsv - self._recent[-1]).mean())
            if gap and score >= self.settings.min_score:
                score = min(score, _aligned_difference(self._recent[-1], hsv))
            self.scores.append(score)
        else:
            self.scores.append(0.0)
        k = self.settings.persist_frames
        if len(self._recent) >= k + 1:
            # frame i compared with frame i-k-1: the persistence of a jump at frame i-k
            self.persist[i - k] = float(np.abs(hsv - self._recent[-(k + 1)]).mean())
        self._recent.append(hsv)

    def _after_gap(self) -> bool:
        """Whether the frame just added comes after dropped frames: its step from the one before
        is well over the usual step of the frames before it."""
        if len(self.times) < 5:
            return False
        steps = np.diff(self.times[-17:])
        usual = float(np.median(steps[:-1]))
        return usual > 0 and steps[-1] > self.settings.gap_steps * usual

    @property
    def step(self) -> float:
        return (self.times[-1] - self.times[0]) / max(len(self.times) - 1, 1) if self.times else 0.0

    def result(self, ends_clip: bool, starts_clip: bool = False) -> CutResult:
        """What this run shows. Where it stops before the clip does, a jump in its last frames
        cannot be told from a flash; the gap screening or the next run settles it."""
        found = CutResult()
        s = self.settings
        scores = np.array(self.scores)
        n = len(scores)
        candidates = []
        for i in range(1, n):
            lo, hi = max(1, i - s.window), min(n, i + s.window + 1)
            neighbours = np.concatenate([scores[lo:i], scores[i + 1:hi]])
            # Repeated frames (telecine, packed B-frames, frozen shots) score zero and would
            # make ordinary motion look like a jump: they are not part of the baseline.
            moving = neighbours[neighbours >= s.duplicate_level]
            baseline = float(moving.mean()) if len(moving) else 0.0
            score = scores[i]
            if score < s.min_score or score < s.ratio * max(baseline, 1.0):
                continue
            # Persistence: unknown at the very end of the clip, where no later frames exist.
            if i + s.persist_frames < n:
                if self.persist[i] < s.persist_share * score:
                    continue
            elif not ends_clip:
                continue
            # Dim on both sides: the first step of a fade from black, not a cut.
            if max(self.brightness[i - 1], self.brightness[i]) < 2 * s.dark_level:
                continue
            # A fade out of the black the clip opens with (however quick): the picture is still
            # brightening after the jump. A jump straight to the full picture is a cut.
            if starts_clip and max(self.brightness[:i]) < s.dark_level and self._ramping(i, +1):
                continue
            # The same into the black the clip ends on.
            if ends_clip and max(self.brightness[i:]) < s.dark_level and self._ramping(i - 1, -1):
                continue
            candidates.append((i, score))
        gradual = None
        if candidates:
            # The last (or first) step of a dissolve can jump like a cut where an encoder's
            # keyframe lands on it; a cut is a jump from one picture to another.
            gradual = self._dissolves(set()) + self._dissolve_runs(set())
            where = {round(t, 3): k for k, t in enumerate(self.times)}
            spans = [(where[a], where[b]) for a, b in gradual if a in where and b in where]
            candidates = [(i, score) for i, score in candidates if not self._inside_a_dissolve(i, spans)]
        cuts: list[tuple[int, float]] = []
        for i, score in candidates:
            if cuts and self.times[i] - self.times[cuts[-1][0]] < s.min_gap_s:
                if score > cuts[-1][1]:
                    cuts[-1] = (i, score)
                continue
            cuts.append((i, score))
        found.cuts = [round(self.times[i], 3) for i, _ in cuts]
        found.fades = [f for f in self._fades() if all(abs(f - c) > 2 * self.step for c in found.cuts)]
        cut_frames = {i for i, _ in cuts}
        if gradual is None or cut_frames:  # else the search above, with no cut to avoid, is the answer
            gradual = self._dissolves(cut_frames) + self._dissolve_runs(cut_frames)
        found.dissolves = merge_overlapping(gradual)
        return found

    def _inside_a_dissolve(self, i: int, spans: list[tuple[int, int]]) -> bool:
        """Whether the jump into frame ``i`` stays on one side of a dissolve found around it
        (``spans``: first and last frame of each): the frames before and after the jump are
        mixes of the dissolve's two ends that lean to the same end (97% and 100% of the new
        picture is the end of a dissolve, not a cut)."""
        s = self.settings
        n = len(self.times)
        for start, end in spans:
            if not start < i <= end + 1:
                continue
            first = self.small[max(start - 1, 0)].astype(np.float32)
            last = self.small[min(end + 1, n - 1)].astype(np.float32)
            if _correlation(first, last) >= s.dissolve_same_picture:
                continue
            before = _mix_residual(first, self.small[i - 1].astype(np.float32), last)
            after = _mix_residual(first, self.small[i].astype(np.float32), last)
            if max(before[1], after[1]) <= s.dissolve_mix_residual and (before[0] < 0.5) == (after[0] < 0.5):
                return True
        return False

    def _ramping(self, i: int, direction: int) -> bool:
        """Whether frame ``i`` is part of a brightness ramp: a few frames further along
        ``direction`` the picture is clearly brighter (a fade, not a cut to a finished picture)."""
        j = i + direction * self.settings.persist_frames
        if not 0 <= j < len(self.brightness):
            return False
        return self.brightness[i] < 0.8 * self.brightness[j]

    def _fades(self) -> list[float]:
        s = self.settings
        dark = [b < s.dark_level for b in self.brightness]
        fades = []
        i, n = 0, len(dark)
        while i < n:
            if not dark[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and dark[j + 1]:
                j += 1
            start, end = self.times[i], self.times[j]
            # Black at the very start or end of a clip is a lead-in or run-out, harmless to the
            # model; only black between two shots is a transition.
            if i > 0 and j < n - 1:
                if end - start < s.fade_merge_s:
                    fades.append(round((start + end) / 2, 3))
                else:
                    fades.append(round(start, 3))
                    fades.append(round(self.times[j + 1], 3))
            i = j + 1
        return fades

    def _change(self, a: int, b: int) -> float:
        """Mean brightness difference of frames ``a`` and ``b`` (0-255), on the small copies."""
        return float(np.abs(self.small[b].astype(np.float32) - self.small[a]).mean())

    def _mixes(self, i: int, j: int) -> bool:
        """Whether frames ``i`` to ``j`` go from one picture to the other the way a dissolve does:
        no single step carries much of the way (in pixels: a histogram's bins jump when a
        gradual change crosses their edges, and an encoder's keyframe can too), and the frames a
        quarter, half and three quarters of the way are mixes of the two ends, each less of the
        first than the one before."""
        s = self.settings
        first, last = self.small[i].astype(np.float32), self.small[j].astype(np.float32)
        ends = self._change(i, j)
        steps = max(self._change(k - 1, k) for k in range(i + 1, j + 1))
        if ends <= 0 or steps > s.dissolve_step_share * ends:
            return False
        if _correlation(first, last) >= s.dissolve_same_picture:
            return False
        weights = []
        for share in (0.25, 0.5, 0.75):
            k = i + round(share * (j - i))
            weight, residual = _mix_residual(first, self.small[k].astype(np.float32), last)
            if residual > s.dissolve_mix_residual:
                return False
            weights.append(weight)
        return weights[0] >= weights[1] >= weights[2]

    def _dissolve_runs(self, cut_frames: set[int]) -> list[list[float]]:
        """A run of changing frames between two still stretches, whose ends differ in colour
        distribution though no single step does much: one shot melting into another."""
        s = self.settings
        n = len(self.times)
        active = [i > 0 and self.scores[i] >= s.duplicate_level for i in range(n)]
        spans = []
        i = 1
        while i < n:
            if not active[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and (active[j + 1] or (j + 2 < n and active[j + 2])):  # bridge one still frame
                j += 1
            before, after = i - 1, min(j + 1, n - 1)
            length = self.times[after] - self.times[before]
            if (s.dissolve_run_s[0] <= length <= s.dissolve_run_s[1] and after < n - 1 and before > 0
                    and not any(k in cut_frames for k in range(i, j + 1))
                    and min(self.brightness[before:after + 1]) >= 2 * s.dark_level):
                distance = _hist_distance(self.hists[after], self.hists[before])
                if distance >= s.dissolve_run_hist and self._mixes(before, after):
                    spans.append([round(self.times[before], 3), round(self.times[after], 3)])
            i = j + 1
        return spans

    def _dissolves(self, cut_frames: set[int]) -> list[list[float]]:
        """Windows where the colour distribution changes a lot, but gradually."""
        s = self.settings
        n = len(self.times)
        if n < 3:
            return []
        rate = (n - 1) / max(self.times[-1] - self.times[0], 1e-6)
        span = max(2, int(round(s.dissolve_span_s * rate)))
        # A window ending on black is a fade, left to the fade search; a window on a fade's ramp
        # shows one picture at two brightnesses, which the mix test's "two pictures" refuses.
        black = [b < s.dark_level for b in self.brightness]
        half = max(1, span // 2)

        def holds(a: int, b: int, dissolved: float) -> bool:
            """Frames ``a`` to ``b`` show one shot: their pixels change little beside the
            dissolve's change, or their colour distribution holds while the pixels move (a
            pattern that keeps changing, like Conway's life, is one shot as long as its colours
            hold)."""
            a, b = max(0, a), min(n - 1, b)
            if b - a < 1:
                return False
            return self._change(a, b) <= s.dissolve_hold_share * dissolved or (
                b - a >= 2 and _hist_distance(self.hists[b], self.hists[a]) < s.dissolve_hist / 5)

        def settled(i: int) -> int | None:
            """The first window end from ``i`` after which the picture holds, if the picture
            held before ``i``: a dissolve lasts as long as the editor made it, so a window longer
            than the usual span is tried while the frames after it are still changing."""
            if not holds(i - half, i, self._change(i, i + span)):
                return None
            for j in range(i + span, min(n - 1, i + longest) + 1, max(1, span // 4)):
                if holds(j, j + half, self._change(i, j)):
                    return j
            return None

        def trimmed(i: int, j: int) -> tuple[int, int]:
            """The window without its still ends: the dissolve is where the picture changes."""
            still = 0.05 * self._change(i, j)
            start, end = i, j
            while start + 1 < end and self._change(i, start + 1) <= still:
                start += 1
            while end - 1 > start and self._change(end - 1, j) <= still:
                end -= 1
            return start, end

        longest = max(span, int(round(s.dissolve_max_s * rate)))
        spans: list[list[float]] = []
        i = 0
        while i + span < n:
            j = settled(i)
            if j is None:
                i += max(1, span // 4)
                continue
            distance = _hist_distance(self.hists[j], self.hists[i])
            inside = range(i + 1, j + 1)
            if (distance >= s.dissolve_hist and not any(k in cut_frames for k in inside)
                    and not black[i] and not black[j]):
                if self._mixes(i, j):
                    start, end = trimmed(i, j)
                    if spans and spans[-1][1] >= round(self.times[start], 3):
                        spans[-1][1] = round(self.times[end], 3)  # one dissolve seen by two windows
                    else:
                        spans.append([round(self.times[start], 3), round(self.times[end], 3)])
                    i = j
                    continue
            i += max(1, span // 4)
        return spans
