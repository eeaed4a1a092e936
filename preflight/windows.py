"""Which stretch of a clip to keep: the shots between cuts and transitions, and the best window
of a given length among them. preflight's HTML report draws it; prep trims to it. Pure
arithmetic on an analysis, so both can ask without either importing the other's command."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass
class Window:
    start: float
    end: float
    why: str

    @property
    def length(self) -> float:
        return self.end - self.start


def shots(duration: float, content) -> list[tuple[float, float]]:
    """Stretches without a cut or transition (a dissolve's whole span is left out)."""
    if content is None:
        return [(0.0, duration)]
    bounds: list[tuple[float, float]] = [(t, t) for t in content.cuts.cuts + content.cuts.fades]
    bounds += [(a, b) for a, b in content.cuts.dissolves]
    pieces, start = [], 0.0
    for a, b in sorted(bounds):
        if a > start:
            pieces.append((start, a))
        start = max(start, b)
    if duration > start:
        pieces.append((start, duration))
    return pieces


def _share(series: list[tuple[float, Any]], a: float, b: float, good) -> float | None:
    values = [good(v) for t, v in series if a <= t <= b and v is not None]
    return sum(values) / len(values) if values else None


def best_window(duration: float, length: float, min_length: float, content, some_camera: float) -> Window | None:
    """The best stretch of ``length`` seconds (or the longest shot, if shorter): no cut inside,
    the person visible the most, the camera the stillest. None if no shot is ``min_length``."""
    candidates = [(a, b) for a, b in shots(duration, content) if b - a >= min_length - 1e-6]
    if not candidates:
        return None
    best, best_score = None, -math.inf
    for a, b in candidates:
        span = min(length, b - a)
        # Every half second from the shot's start, and flush with its end; the earliest of equal
        # windows wins, so without content analysis prep keeps the first seconds, as it says.
        starts = sorted({a + k * 0.5 for k in range(int((b - a - span) / 0.5) + 1)} | {b - span})
        for s in starts:
            e = s + span
            visible = _share(content.body_series, s, e, bool) if content else None
            moving = _share(content.camera_series, s, e, lambda r: r >= some_camera) if content else None
            # Longer is better up to the limit; then a visible person; then a still camera.
            score = span * 10 + (visible if visible is not None else 0) * 5 - (moving or 0) * 3
            if score > best_score + 1e-9:
                best_score = score
                parts = []
                if content is not None:
                    parts.append("no cut inside")
                    if visible is not None:
                        parts.append(f"person visible {visible:.0%} of the time")
                    if moving is not None:
                        parts.append(f"camera moving {moving:.0%} of the time")
                best = Window(round(s, 3), round(e, 3), ", ".join(parts) or "the first seconds (no content analysis)")
    return best
