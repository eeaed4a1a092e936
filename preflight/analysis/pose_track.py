"""The main person's pose through the clip: body visibility, posture, size and limb speed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .body import ANKLES, HIPS, SHOULDERS, WRISTS, BodySettings, body_box, body_class, posture, subject_area, torso_lean
from .models import PoseEstimator
from .spans import MAX_PAIR_STEPS


@dataclass
class PoseSample:
    t: float
    body: str  # none, partial, upper, full
    posture: str | None
    area: float
    limb_speed: float | None = None  # torso lengths per second, relative to the torso
    lean: float | None = None  # signed degrees from upright (see body.torso_lean)


class PoseTracker:
    name = "pose"
    pixel_format = "rgb24"

    def __init__(self, estimator: PoseEstimator, interval: float = 0.2, max_side: int = 512,
                 settings: BodySettings = BodySettings()):
        self.estimator = estimator
        self.interval = interval
        self.max_pair_seconds = MAX_PAIR_STEPS * interval
        self.max_side = max_side
        self.settings = settings
        self.samples: list[PoseSample] = []
        self._previous: tuple[float, np.ndarray, float] | None = None  # t, limbs relative to torso, torso length

    def process(self, t: float, image: np.ndarray, shared: dict) -> None:
        height, width = image.shape[:2]
        lm = self.estimator.landmarks(image)
        if lm is None:
            self.samples.append(PoseSample(t, "none", None, 0.0))
            self._previous = None
            return
        lean = torso_lean(lm, width, height, self.settings)
        sample = PoseSample(t, body_class(lm, self.settings), posture(None if lean is None else abs(lean), self.settings),
                            subject_area(lm, self.settings), lean=lean)
        box = body_box(lm, self.settings)
        if box:
            shared["person_box"] = box  # for the camera analyser: not background
        limbs = self._limbs_relative(lm, width, height)
        if limbs is not None:
            relative, torso = limbs
            if self._previous is not None and torso > 0:
                t0, before, torso0 = self._previous
                dt = t - t0
                if 0 < dt <= self.max_pair_seconds:
                    moved = np.linalg.norm(relative - before, axis=1)
                    if not np.all(np.isnan(moved)):
                        sample.limb_speed = float(np.nanmax(moved)) / ((torso + torso0) / 2) / dt
            self._previous = (t, relative, torso)
        else:
            self._previous = None
        self.samples.append(sample)

    def _limbs_relative(self, lm: np.ndarray, width: int, height: int):
        """Wrists and ankles relative to the torso's centre (in pixels), and the torso length."""
        s = self.settings

        def point(i):
            x, y, _, v = lm[i]
            return np.array([x * width, y * height]) if v >= s.min_visibility else None

        shoulders = [p for p in (point(i) for i in SHOULDERS) if p is not None]
        hips = [p for p in (point(i) for i in HIPS) if p is not None]
        if not shoulders:
            return None
        top = np.mean(shoulders, axis=0)
        if hips:
            bottom = np.mean(hips, axis=0)
            torso = float(np.linalg.norm(top - bottom))
        elif len(shoulders) == 2:
            bottom = top
            torso = 1.5 * float(np.linalg.norm(shoulders[0] - shoulders[1]))
        else:
            return None
        centre = (top + bottom) / 2
        limbs = []
        for i in WRISTS + ANKLES:
            p = point(i)
            limbs.append(p - centre if p is not None else np.array([math.nan, math.nan]))
        return np.array(limbs), torso

    def finish(self, duration: float) -> None:
        pass
