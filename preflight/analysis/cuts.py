"""Hard cuts and gradual transitions (fades through black, dissolves).

Every frame is reduced to a small HSV picture. A hard cut is a frame whose difference from the
previous one stands far above the differences around it (as PySceneDetect's adaptive detector
does) *and* whose new content persists: a few frames later the picture is still far from the
one before the jump. That second test is what keeps flashes, flicker and a single whip of the
camera from counting as cuts. Fades are runs of near-black frames; dissolves are windows where
the colour distribution moves from one steady state to another without any single jump.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


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
    dissolve_span_s: float = 0.8  # frames this far apart are compared for dissolves
    dissolve_hist: float = 0.5  # histogram distance (0-1) that marks a dissolve
    dissolve_step_share: float = 0.35  # no single step may carry more than this share of it
    dissolve_run_s: tuple[float, float] = (0.3, 4.0)  # length of a run of change between still shots
    # Between two still shots the structure itself is evidence, so less colour change is needed.
    dissolve_run_hist: float = 0.35


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


class CutDetector:
    name = "cuts"
    interval = 0.0  # every frame
    max_side = 96
    pixel_format = "rgb24"

    def __init__(self, settings: CutSettings | None = None):
        self.settings = settings or CutSettings()
        self.times: list[float] = []
        self.scores: list[float] = []  # difference from the previous frame
        self.persist: list[float] = []  # difference of frame i+k from frame i-1 (filled later)
        self.brightness: list[float] = []
        self.hists: list[np.ndarray] = []
        self._recent: deque = deque(maxlen=self.settings.persist_frames + 2)
        self.result = CutResult()

    def process(self, t: float, image: np.ndarray, shared: dict) -> None:
        import cv2

        hsv8 = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
        hsv = hsv8.astype(np.float32)
        hsv[..., 0] *= 255 / 179  # hue on the same 0-255 scale as the others
        # Hue means nothing in grey or near-black pixels: weigh it by saturation and brightness.
        hsv[..., 0] *= (hsv[..., 1] / 255) * (hsv[..., 2] / 255)
        i = len(self.times)
        self.times.append(t)
        self.brightness.append(float(hsv[..., 2].mean()))
        self.hists.append(_hist(hsv8))
        self.persist.append(0.0)
        if self._recent:
            self.scores.append(float(np.abs(hsv - self._recent[-1]).mean()))
        else:
            self.scores.append(0.0)
        k = self.settings.persist_frames
        if len(self._recent) >= k + 1:
            # frame i compared with frame i-k-1: the persistence of a jump at frame i-k
            self.persist[i - k] = float(np.abs(hsv - self._recent[-(k + 1)]).mean())
        self._recent.append(hsv)

    def finish(self, duration: float) -> None:
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
            if i + s.persist_frames < n and self.persist[i] < s.persist_share * score:
                continue
            # Dim on both sides: the first step of a fade from black, not a cut.
            if max(self.brightness[i - 1], self.brightness[i]) < 2 * s.dark_level:
                continue
            candidates.append((i, score))
        cuts: list[tuple[int, float]] = []
        for i, score in candidates:
            if cuts and self.times[i] - self.times[cuts[-1][0]] < s.min_gap_s:
                if score > cuts[-1][1]:
                    cuts[-1] = (i, score)
                continue
            cuts.append((i, score))
        self.result.cuts = [round(self.times[i], 3) for i, _ in cuts]
        cut_times = self.result.cuts
        frame = 2 / max(len(self.times) / max(duration, 1e-6), 1.0)
        self.result.fades = [f for f in self._fades() if all(abs(f - c) > frame for c in cut_times)]
        cut_frames = {i for i, _ in cuts}
        spans = self._dissolves(cut_frames) + self._dissolve_runs(cut_frames)
        merged: list[list[float]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.result.dissolves = merged

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
                distance = 0.5 * float(np.abs(self.hists[after] - self.hists[before]).sum())
                steps = [0.5 * float(np.abs(self.hists[k] - self.hists[k - 1]).sum()) for k in range(i, after + 1)]
                if distance >= s.dissolve_run_hist and max(steps) <= s.dissolve_step_share * distance:
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
        dim = [b < 2 * s.dark_level for b in self.brightness]  # fade ramps are not dissolves
        scores = self.scores
        half = max(1, span // 2)

        def steady(a: int, b: int) -> bool:
            window = scores[max(1, a):min(n, b)]
            return bool(window) and float(np.mean(window)) < s.min_score / 2

        spans: list[list[float]] = []
        i = 0
        while i + span < n:
            j = i + span
            distance = 0.5 * float(np.abs(self.hists[j] - self.hists[i]).sum())
            inside = range(i + 1, j + 1)
            if (distance >= s.dissolve_hist and not any(k in cut_frames for k in inside)
                    and not any(dim[k] for k in range(i, j + 1))
                    and steady(i - half, i + 1) and steady(j + 1, j + half + 1)):
                steps = [0.5 * float(np.abs(self.hists[k] - self.hists[k - 1]).sum()) for k in inside]
                if max(steps) <= s.dissolve_step_share * distance:
                    if spans and spans[-1][1] >= round(self.times[i], 3):
                        spans[-1][1] = round(self.times[j], 3)  # one dissolve seen by two windows
                    else:
                        spans.append([round(self.times[i], 3), round(self.times[j], 3)])
                    i = j
                    continue
            i += max(1, span // 4)
        return spans
