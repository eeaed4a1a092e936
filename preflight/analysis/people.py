"""How many people are visible at once, sampled through the clip."""

from __future__ import annotations

import numpy as np

from .models import FaceCounter, PedestrianDetector, PersonDetector


def people_found(detector: PersonDetector, pedestrians: PedestrianDetector, rgb: np.ndarray, levels: int,
                 faces: FaceCounter | None = None, detail: np.ndarray | None = None
                 ) -> list[tuple[float, float, float, float]]:
    """The people in one picture, as boxes (x, y, w, h, pixels of ``rgb``) from the detector that
    found the most: the BlazePose detector (with tiles; the box around its body circle), OpenCV's
    HOG, or, when ``faces`` is given, the faces two face detectors agree on (``detail``: the
    picture larger, for the face crops). The largest count, not a union of their finds: each
    sees people the others miss (BlazePose close people, HOG small standing ones, faces seated
    ones), and telling whether finds of two detectors are the same person failed on upper-body
    pictures, where one astronaut counted twice."""
    found = [[(p.cx - p.r, p.cy - p.r, 2 * p.r, 2 * p.r) for p in detector.detect(rgb, levels=levels)],
             list(pedestrians.detect(rgb))]
    if faces is not None:
        found.append(list(faces.detect(rgb, detail)))
    return max(found, key=len)


def relative_sizes(boxes: list[tuple[float, float, float, float]]) -> list[float]:
    """Each person's size (the box's height) as a share of the largest one's, largest first.
    Boxes from one detector only (``people_found``), so the sizes compare."""
    sizes = sorted((h for _, _, _, h in boxes), reverse=True)
    return [s / sizes[0] for s in sizes] if sizes and sizes[0] > 0 else [1.0] * len(sizes)


class PeopleCounter:
    name = "people"
    pixel_format = "rgb24"
    lane = "people"  # needs nothing from the other analysers: runs on a thread of its own

    def __init__(self, detector: PersonDetector, interval: float = 1.0, max_side: int = 640, levels: int = 1):
        self.detector = detector
        self.pedestrians = PedestrianDetector()
        self.interval = interval
        self.max_side = max_side
        self.levels = levels
        self.samples: list[tuple[float, int]] = []
        self.sizes: list[tuple[float, list[float]]] = []  # per sample: each person's size (relative_sizes)

    def process(self, t: float, image: np.ndarray, shared: dict) -> None:
        sizes = relative_sizes(people_found(self.detector, self.pedestrians, image, self.levels))
        self.samples.append((t, len(sizes)))
        self.sizes.append((t, sizes))

    def finish(self, duration: float) -> None:
        pass

    def most_at_once(self, min_share: float = 0.15, min_run: int = 3) -> int:
        """The largest count that holds in at least ``min_share`` of the samples or in
        ``min_run`` samples in a row: one odd frame is not a person, a recurring one is."""
        return most_at_once([c for _, c in self.samples], min_share, min_run)

    def spans_over(self, limit: int) -> list[list[float]]:
        """[start, end] spans where more than ``limit`` people were counted."""
        spans: list[list[float]] = []
        for t, c in self.samples:
            if c > limit:
                if spans and t - spans[-1][1] <= self.interval * 1.5:
                    spans[-1][1] = t
                else:
                    spans.append([t, t])
        return [[round(a, 2), round(b + self.interval, 2)] for a, b in spans]


def most_at_once(counts: list[int], min_share: float = 0.15, min_run: int = 3) -> int:
    """The largest count that holds in at least ``min_share`` of ``counts`` or in ``min_run``
    of them in a row: one odd frame is not a person, a recurring one is."""
    if not counts:
        return 0
    best = 0
    for c in range(1, max(counts) + 1):
        hits = [x >= c for x in counts]
        run = longest = 0
        for h in hits:
            run = run + 1 if h else 0
            longest = max(longest, run)
        if sum(hits) >= min_share * len(counts) or longest >= min(min_run, len(counts)):
            best = c
    return best
