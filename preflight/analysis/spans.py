"""Time spans from per-sample findings."""

from __future__ import annotations

from typing import Iterable

# Two samples are compared (a limb's speed, the camera's move) only when at most this many
# sampling steps apart: one or two missing frames (a VFR gap) are bridged, but across a skipped
# stretch a limb may have gone and come back, or the view moved too far to track.
MAX_PAIR_STEPS = 2.5


def consecutive_runs(samples: Iterable[tuple[float, float, bool]]) -> list[list[float]]:
    """[start, end] of each run of consecutive samples that are on, a sample covering its own
    (start, end). Consecutive in the sample sequence, not by a fixed step: samples may be 0.2 s
    or a skipped stretch apart."""
    spans: list[list[float]] = []
    on_before = False
    for start, end, on in samples:
        if on and on_before:
            spans[-1][1] = end
        elif on:
            spans.append([start, end])
        on_before = on
    return spans


def rounded(spans: Iterable[list[float]]) -> list[list[float]]:
    """Spans to hundredths of a second, as reports give them."""
    return [[round(a, 2), round(b, 2)] for a, b in spans]


def merge_overlapping(spans: Iterable, joined_within: float = 0) -> list[list]:
    """The union of ``spans``, as sorted [start, end] spans that do not overlap; spans whose
    gap is at most ``joined_within`` are joined too (1 for runs of whole numbers that touch)."""
    merged: list[list] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + joined_within:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged
