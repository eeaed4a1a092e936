"""What a set of 33 pose landmarks says: how much of the body shows, which way up, how big.

Landmarks are mediapipe's (x, y normalised to the frame, z, visibility). A landmark counts as
seen when the model is confident of it *and* it lies inside the frame: a guessed ankle below
the bottom edge is not a visible foot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NOSE, LEFT_EYE, RIGHT_EYE = 0, 2, 5
SHOULDERS, ELBOWS, WRISTS = (11, 12), (13, 14), (15, 16)
HIPS, KNEES, ANKLES, HEELS, FEET = (23, 24), (25, 26), (27, 28), (29, 30), (31, 32)
# The order matters for reports: full > upper > partial > none.
BODY_CLASSES = ("none", "partial", "upper", "full")


@dataclass(frozen=True)
class BodySettings:
    min_visibility: float = 0.5
    upright_max_deg: float = 45.0  # torso within this of vertical: upright
    inverted_min_deg: float = 135.0  # beyond this: upside down; in between: lying or sideways


def _seen(lm: np.ndarray, idx: int, s: BodySettings) -> bool:
    x, y, _, v = lm[idx]
    return v >= s.min_visibility and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0


def body_class(lm: np.ndarray | None, s: BodySettings = BodySettings()) -> str:
    """full (head to feet), upper (head and torso to the chest), partial, or none."""
    if lm is None:
        return "none"
    seen = lambda group: any(_seen(lm, i, s) for i in group)  # noqa: E731
    head = seen((NOSE, LEFT_EYE, RIGHT_EYE))
    shoulders = sum(_seen(lm, i, s) for i in SHOULDERS)
    torso = shoulders == 2 or (shoulders == 1 and (seen(HIPS) or seen(ELBOWS)))
    if head and torso and seen(HIPS) and seen(KNEES) and seen(ANKLES + HEELS + FEET):
        return "full"
    if head and torso:
        return "upper"
    return "partial"


def torso_lean(lm: np.ndarray, width: int, height: int, s: BodySettings = BodySettings()) -> float | None:
    """Signed degrees from the frame's up to the body's up: 0 upright, positive when the body's up
    points clockwise of the frame's (90: lying with the head to the right), +-180 upside down.

    The torso (hips to shoulders) is the body's axis; when the hips are not seen, the head's
    direction from the shoulders stands in for it.
    """
    def mid(pair):
        pts = [lm[i] for i in pair if lm[i][3] >= s.min_visibility]
        if not pts:
            return None
        return (sum(p[0] for p in pts) / len(pts) * width, sum(p[1] for p in pts) / len(pts) * height)

    top = mid(SHOULDERS)
    bottom = mid(HIPS)
    if top is None:
        return None
    if bottom is None:
        head = mid((NOSE, LEFT_EYE, RIGHT_EYE))
        if head is None:
            return None
        bottom, top = top, head
    dx, dy = top[0] - bottom[0], top[1] - bottom[1]
    if math.hypot(dx, dy) < 1e-6:
        return None
    return math.degrees(math.atan2(dx, -dy))  # image y grows downwards


def torso_angle(lm: np.ndarray, width: int, height: int, s: BodySettings = BodySettings()) -> float | None:
    """Degrees between the body's up direction and the frame's up (0 upright, 180 upside down)."""
    lean = torso_lean(lm, width, height, s)
    return None if lean is None else abs(lean)


def quarter_turns(lean: float | None) -> int | None:
    """Quarter turns counter-clockwise (0-3) that bring a body leaning ``lean`` degrees upright."""
    return None if lean is None else int(round(lean / 90.0)) % 4


def posture(angle: float | None, s: BodySettings = BodySettings()) -> str | None:
    if angle is None:
        return None
    if angle <= s.upright_max_deg:
        return "upright"
    if angle >= s.inverted_min_deg:
        return "upside down"
    return "lying or sideways"


def subject_area(lm: np.ndarray, s: BodySettings = BodySettings()) -> float:
    """Share of the frame covered by the box around the seen landmarks, widened a little
    because landmarks sit on joints, not on the outline of the body."""
    pts = np.array([p[:2] for i, p in enumerate(lm) if _seen(lm, i, s)])
    if len(pts) < 2:
        return 0.0
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    w, h = (x1 - x0), (y1 - y0)
    x0, x1 = max(0.0, x0 - 0.15 * w), min(1.0, x1 + 0.15 * w)
    y0, y1 = max(0.0, y0 - 0.12 * h), min(1.0, y1 + 0.08 * h)
    return float((x1 - x0) * (y1 - y0))


def body_box(lm: np.ndarray, s: BodySettings = BodySettings()) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) normalised, around the seen landmarks, generously widened."""
    pts = np.array([p[:2] for i, p in enumerate(lm) if _seen(lm, i, s)])
    if len(pts) < 2:
        return None
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    w, h = x1 - x0, y1 - y0
    return max(0.0, x0 - 0.25 * w), max(0.0, y0 - 0.2 * h), min(1.0, x1 + 0.25 * w), min(1.0, y1 + 0.1 * h)
