"""Is there a clearly visible face? For a custom element's source, which must show one
(API ref section 2a). mediapipe's full-range BlazeFace finds frontal and half-turned faces from
close up to a few metres; the largest face of each sampled frame is kept with its score.

The people count stays with ``people.PeopleCounter``: BlazeFace reports one face several times
over (overlapping boxes at falling scores), so it is a witness of a face, not a counter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import blazeface


@dataclass(frozen=True)
class Face:
    width: float  # the face box's width as a share of the frame's width
    score: float  # the detector's confidence, 0-1


class FaceFinder:
    """The most confident face in a picture (full-range BlazeFace)."""

    # Low enough to hear about a blurred or turned face, whose score the checks then judge.
    MIN_SCORE = 0.3

    def __init__(self):
        self._blazeface = blazeface(short_range=False, min_score=self.MIN_SCORE)

    def close(self) -> None:
        self._blazeface.close()

    def best(self, rgb: np.ndarray) -> Face | None:
        detections = self._blazeface.process(np.ascontiguousarray(rgb)).detections or []
        faces = [Face(round(float(d.location_data.relative_bounding_box.width), 4), round(float(d.score[0]), 3))
                 for d in detections]
        return max(faces, key=lambda f: f.score, default=None)


class FaceSampler:
    """An analyser for the decode pass (``frames.run_decode``): the best face every ``interval``."""

    name = "faces"
    pixel_format = "rgb24"
    lane = "faces"  # needs nothing from the other analysers
    max_side = 960

    def __init__(self, finder: FaceFinder, interval: float = 0.25):
        self.finder = finder
        self.interval = interval
        self.samples: list[tuple[float, Face | None]] = []

    def process(self, t: float, image: np.ndarray, shared: dict) -> None:
        self.samples.append((t, self.finder.best(image)))

    def finish(self, duration: float) -> None:
        pass
