"""Global camera movement, told apart from the person's own motion.

Corners are tracked between sampled frames outside the person's box (set by the pose tracker on
the same frame), and a similarity transform is fitted with RANSAC: what most of the background
does is what the camera did. Translation, zoom and roll are each expressed as a share of the
frame per second and summed. The same movement taken net over each second of pairs
(``CameraMotion.sustained``) tells a pan, which keeps it up, from a shake, which does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .spans import MAX_PAIR_STEPS, consecutive_runs, merge_overlapping, rounded

# A hand shakes the camera back and forth several times a second; a pan, a tilt or a walk keeps
# going. The movement is also taken net over this long, so a shake averages out and a pan does not.
SUSTAIN_SECONDS = 1.0
# Where pairs are sparse (a clip decoded only at its keyframes), net over at least this many
# measured pairs, reaching back at most SUSTAIN_REACH seconds: one pair alone cannot tell a shake.
SUSTAIN_PAIRS = 3
SUSTAIN_REACH = 3 * SUSTAIN_SECONDS


@dataclass(frozen=True)
class CameraSummary:
    """The camera's movement added up over the measured pairs: net pan (right positive) and tilt
    (down positive) as shares of the frame's diagonal, net zoom (in positive) as a change of
    scale, the path the frame's centre travelled, and the seconds measured."""

    pan: float
    tilt: float
    zoom: float
    path: float
    seconds: float

    # Below this share of the frame (path, or zoom) over the clip the camera is taken as still.
    STILL = 0.02

    @property
    def kind(self) -> str:
        """steady, pan, tilt, zoom or shake."""
        net = math.hypot(self.pan, self.tilt)
        if self.path < self.STILL and abs(self.zoom) < self.STILL:
            return "steady"
        if abs(self.zoom) > self.path:
            return "zoom"
        if net >= 0.5 * self.path:  # mostly one way: a pan or tilt, not a shake
            return "pan" if abs(self.pan) >= abs(self.tilt) else "tilt"
        return "shake"

    def words(self) -> str:
        """The movement as a person would say it: "camera pans right 40% of the frame over 2 s"."""
        over = f"over {self.seconds:.1f} s"
        kind = self.kind
        if kind == "steady":
            return f"camera steady (moves {self.path:.0%} of the frame {over})"
        if kind == "zoom":
            return f"camera zooms {'in' if self.zoom > 0 else 'out'} {abs(self.zoom):.0%} {over}"
        if kind == "pan":
            return f"camera pans {'right' if self.pan > 0 else 'left'} {abs(self.pan):.0%} of the frame {over}"
        if kind == "tilt":
            return f"camera tilts {'down' if self.tilt > 0 else 'up'} {abs(self.tilt):.0%} of the frame {over}"
        return (f"camera shakes (handheld): {self.path:.0%} of the frame back and forth {over}, ending "
                f"{math.hypot(self.pan, self.tilt):.0%} from where it started")


def fit_similarity(cv2, before: np.ndarray, after: np.ndarray, mask: np.ndarray | None, max_corners: int,
                   min_points: int) -> tuple[np.ndarray, int, int] | None:
    """Corners of the grey picture ``before`` (inside ``mask``) tracked into ``after``, and one
    similarity transform fitted to them with RANSAC: what most of them did. (2x3 matrix, corners
    found, corners agreeing), or None when fewer than ``min_points`` were found or tracked."""
    corners = cv2.goodFeaturesToTrack(before, maxCorners=max_corners, qualityLevel=0.01, minDistance=6, mask=mask)
    if corners is None or len(corners) < min_points:
        return None
    moved, status, _ = cv2.calcOpticalFlowPyrLK(before, after, corners, None, winSize=(15, 15), maxLevel=3)
    ok = status.ravel() == 1
    if ok.sum() < min_points:
        return None
    matrix, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC,
                                                  ransacReprojThreshold=1.5)
    if matrix is None or inliers is None:
        return None
    return matrix, len(corners), int(inliers.sum())


class CameraMotion:
    name = "camera"
    pixel_format = "gray"

    def __init__(self, interval: float = 0.2, max_side: int = 320, min_points: int = 12):
        self.interval = interval
        self.max_side = max_side
        self.min_points = min_points
        self.samples: list[tuple[float, float | None]] = []  # t, motion (share of frame per second)
        # (t, dt, (pan x, tilt y, zoom, roll) per second): shifts as shares of the diagonal, zoom
        # as the scale's change, roll in radians; None where the pair could not be measured.
        self.components: list[tuple[float, float, tuple[float, float, float, float] | None]] = []
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
                parts = self._motion(cv2, before, image, box0 or box, dt)
                self.samples.append((t, None if parts is None else parts[0]))
                self.components.append((t, dt, None if parts is None else parts[1]))
                self.starts.append(t0)
        self._previous = (t, image, box)

    def _motion(self, cv2, before: np.ndarray, after: np.ndarray, box, dt: float):
        """(motion rate, (pan x, tilt y, zoom, roll) rates) between two frames, or None."""
        height, width = before.shape
        mask = np.full(before.shape, 255, np.uint8)
        if box:
            x0, y0, x1, y1 = box
            mask[int(y0 * height):int(math.ceil(y1 * height)), int(x0 * width):int(math.ceil(x1 * width))] = 0
        fit = fit_similarity(cv2, before, after, mask, max_corners=200, min_points=self.min_points)
        if fit is None or fit[2] < self.min_points:
            return None
        matrix = fit[0]
        diagonal = math.hypot(width, height)
        shift = math.hypot(matrix[0, 2], matrix[1, 2])
        scale = math.hypot(matrix[0, 0], matrix[1, 0])
        roll = math.atan2(matrix[1, 0], matrix[0, 0])
        # Zoom and roll move the frame's corners by about half the diagonal times the change.
        corner_shift = shift + abs(scale - 1) * diagonal / 2 + abs(roll) * diagonal / 2
        parts = (float(-matrix[0, 2]) / diagonal / dt, float(-matrix[1, 2]) / diagonal / dt,
                 float(scale - 1) / dt, float(roll) / dt)
        return corner_shift / diagonal / dt, parts

    def finish(self, duration: float) -> None:
        pass

    def summary(self) -> "CameraSummary | None":
        """What the camera did over the measured pairs, or None when no pair was measured."""
        measured = [(dt, parts) for _, dt, parts in self.components if parts is not None]
        if not measured:
            return None
        steps = np.array([[px * dt, py * dt, zoom * dt] for dt, (px, py, zoom, _) in measured])
        pan, tilt, zoom = (float(v) for v in steps.sum(axis=0))
        path = float(np.hypot(steps[:, 0], steps[:, 1]).sum())
        seconds = float(sum(dt for dt, _ in measured))
        return CameraSummary(pan=pan, tilt=tilt, zoom=zoom, path=path, seconds=seconds)

    def rates(self) -> list[float]:
        return [m for _, m in self.samples if m is not None]

    def sustained(self) -> list[tuple[float, float, float]]:
        """The camera's net movement over each run of measured pairs covering at least
        ``SUSTAIN_SECONDS`` and ``SUSTAIN_PAIRS`` pairs (sliding by a pair), as (start, end,
        share of the frame per second measured); one run of every measured pair when the clip
        has no such run (a clip shorter than a second)."""
        measured = [(t0, t, dt, parts) for t0, (t, dt, parts) in zip(self.starts, self.components)
                    if parts is not None]
        runs = []
        for last, (_, t, _, _) in enumerate(measured):
            first = last
            while first > 0 and t - measured[first - 1][0] <= SUSTAIN_REACH and (
                    t - measured[first][0] < SUSTAIN_SECONDS - 1e-6 or last - first + 1 < SUSTAIN_PAIRS):
                first -= 1
            if t - measured[first][0] >= SUSTAIN_SECONDS - 1e-6 and last - first + 1 >= SUSTAIN_PAIRS:
                runs.append(measured[first:last + 1])
        if not runs and measured:
            runs = [measured]
        out = []
        for run in runs:
            seconds = sum(dt for _, _, dt, _ in run)
            px, py, zoom, roll = (sum(parts[k] * dt for _, _, dt, parts in run) for k in range(4))
            # As for one pair: zoom and roll move the frame's corners by half the diagonal times the change.
            out.append((run[0][0], run[-1][1], (math.hypot(px, py) + abs(zoom) / 2 + abs(roll) / 2) / seconds))
        return out

    def moving_spans(self, threshold: float, min_length: float) -> list[list[float]]:
        """Spans of consecutive pairs moving at or above ``threshold`` between their two frames
        (a shake as well as a pan), each from the first frame of its first pair to the last
        frame of its last one."""
        spans = consecutive_runs((t0, t, rate is not None and rate >= threshold)
                                 for (t, rate), t0 in zip(self.samples, self.starts))
        return rounded(span for span in spans if span[1] - span[0] >= min_length)


def kept_up_spans(sustained: list[tuple[float, float, float]], threshold: float,
                  min_length: float) -> list[list[float]]:
    """Spans where the movement net over a second (``CameraMotion.sustained``) is at or above
    ``threshold``: the union of the runs of pairs that kept it up."""
    spans = merge_overlapping([start, end] for start, end, rate in sustained if rate >= threshold)
    return rounded(span for span in spans if span[1] - span[0] >= min_length)
