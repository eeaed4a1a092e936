"""Global camera movement, told apart from the person's own motion.

Corners are tracked between sampled frames outside the person's box (set by the pose tracker on
the same frame), and a similarity transform is fitted with RANSAC: what most of the background
does is what the camera did. Translation, zoom and roll are each expressed as a share of the
frame per second and summed.
"""

from __future__ import annotations

import math

import numpy as np

from .spans import MAX_PAIR_STEPS, consecutive_runs, rounded


class CameraMotion:
    name = "camera"
    pixel_format = "gray"

    def __init__(self, interval: float = 0.2, max_side: int = 320, min_points: int = 12):
        self.interval = interval
        self.max_side = max_side
        self.min_points = min_points
        self.samples: list[tuple[float, float | None]] = []  # t, motion (share of frame per second)
        self.starts: list[float] = []  # time of the earlier frame of each sample's pair
        self.max_pair_seconds = MAX_PAIR_STEPS * interval
        self._previous: tuple[float, np.ndarray, tuple | None] | None = None

    def process(self, t: float, image: np.ndarray, shared: dict) -> None:
        import cv2

        box = shared.get("person_box")
        if self._previous is not None:
            t0, before, box0 = self._previous
            dt = t - t0
            # Measured over a long stretch, a shake would also average out.
            if 0 < dt <= self.max_pair_seconds:
                self.samples.append((t, self._motion(cv2, before, image, box0 or box, dt)))
                self.starts.append(t0)
        self._previous = (t, image, box)

    def _motion(self, cv2, before: np.ndarray, after: np.ndarray, box, dt: float) -> float | None:
        height, width = before.shape
        mask = np.full(before.shape, 255, np.uint8)
        if box:
            x0, y0, x1, y1 = box
            mask[int(y0 * height):int(math.ceil(y1 * height)), int(x0 * width):int(math.ceil(x1 * width))] = 0
        corners = cv2.goodFeaturesToTrack(before, maxCorners=200, qualityLevel=0.01, minDistance=6, mask=mask)
        if corners is None or len(corners) < self.min_points:
            return None
        moved, status, _ = cv2.calcOpticalFlowPyrLK(before, after, corners, None, winSize=(15, 15), maxLevel=3)
        ok = status.ravel() == 1
        if ok.sum() < self.min_points:
            return None
        matrix, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC,
                                                      ransacReprojThreshold=1.5)
        if matrix is None or inliers is None or inliers.sum() < self.min_points:
            return None
        diagonal = math.hypot(width, height)
        shift = math.hypot(matrix[0, 2], matrix[1, 2])
        scale = math.hypot(matrix[0, 0], matrix[1, 0])
        roll = math.atan2(matrix[1, 0], matrix[0, 0])
        # Zoom and roll move the frame's corners by about half the diagonal times the change.
        corner_shift = shift + abs(scale - 1) * diagonal / 2 + abs(roll) * diagonal / 2
        return corner_shift / diagonal / dt

    def finish(self, duration: float) -> None:
        pass

    def rates(self) -> list[float]:
        return [m for _, m in self.samples if m is not None]

    def spans_over(self, threshold: float, min_length: float) -> list[list[float]]:
        """Spans of consecutive samples at or above ``threshold``, each from the first frame of
        its first pair to the last frame of its last one."""
        spans = consecutive_runs((t0, t, m is not None and m >= threshold)
                                 for (t, m), t0 in zip(self.samples, self.starts))
        return rounded(span for span in spans if span[1] - span[0] >= min_length)
