"""The vision models, all from inside the mediapipe 0.10.21 wheel (nothing is downloaded).

- ``PersonDetector`` runs the BlazePose person detector (``PoseDetectionCpu`` subgraph,
  ``pose_detection.tflite``) on its own. Inside the Pose solution only its first detection is
  used; run alone it reports every person it finds, which is what counting needs. Small people
  are found by also running it on overlapping square tiles of the frame.
- ``PedestrianDetector`` is OpenCV's HOG people detector, a second opinion for small standing
  people.
- ``FaceCounter`` counts faces that two unrelated detectors agree on: OpenCV's Haar cascades
  (shipped in the OpenCV wheel) propose, mediapipe's short-range BlazeFace confirms. A third
  opinion for seated and crowded people, whose bodies neither detector above sees.
- ``PoseEstimator`` is the legacy Pose solution at ``model_complexity=1`` (the bundled model;
  0 and 2 would try to download theirs).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass

import numpy as np

# Quiet the C++ logging of mediapipe's graphs; must be set before mediapipe is imported.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_DETECTOR_GRAPH = """
input_stream: "image"
output_stream: "detections"
node {
  calculator: "PoseDetectionCpu"
  input_stream: "IMAGE:image"
  output_stream: "DETECTIONS:detections"
}
"""


# What mediapipe and TensorFlow Lite print on their own: start-up notes, not problems.
_NATIVE_CHATTER = re.compile(
    r"^(?:[WI]\d{4} [\d:.]+ +\d+ \S+\] |INFO: Created TensorFlow Lite|WARNING: All log messages before absl)")


@contextlib.contextmanager
def native_stderr_captured():
    """Hold what native code writes to fd 2 while models run; afterwards pass on any line that
    is not known start-up chatter, so real errors still reach the user."""
    import sys

    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not _NATIVE_CHATTER.match(line):
                    print(line, file=sys.stderr)




class Loading:
    """A model being built elsewhere or later (``load_in_background``, ``load_when_used``);
    every use, ``close()`` aside, waits until every model of its batch is built."""

    def __init__(self, batch: "_Batch", position: int):
        self._batch = batch
        self._position = position

    def __getattr__(self, name: str):
        return getattr(self._batch.models()[self._position], name)

    def built(self):
        """The model if it was built (waiting for a build under way), else None: a model never
        used is not built just to be closed, and one whose build failed has nothing to close
        (the use that asked for it has had the error)."""
        try:
            models = self._batch.models(build=False)
        except Exception:  # noqa: BLE001 - the build's error went to its user
            return None
        return None if models is None else models[self._position]

    def close(self) -> None:
        model = self.built()
        if model is not None:
            model.close()


class _Batch:
    """Models built one after the other, once, on a background thread (``start``) or on the
    first thread that asks for them: mediapipe's protobuf registry is not safe to fill from two
    threads at once (two threads building graphs failed here with a descriptor-pool error), and
    no model is handed out before all are built, so no graph is ever built while another runs,
    which nothing says is safe."""

    def __init__(self, factories):
        self._factories = factories
        self._lock = threading.Lock()
        self._future = None

    def start(self) -> None:
        import concurrent.futures

        with self._lock:
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflight-models")
            self._future = pool.submit(lambda: [factory() for factory in self._factories])
            pool.shutdown(wait=False)

    def models(self, build: bool = True) -> list | None:
        with self._lock:
            if self._future is None:
                if not build:
                    return None
                import concurrent.futures

                self._future = concurrent.futures.Future()
                try:
                    self._future.set_result([factory() for factory in self._factories])
                except BaseException as exc:
                    self._future.set_exception(exc)
            future = self._future
        return future.result()


def load_in_background(*factories) -> list[Loading]:
    """The models ``factories`` build, built on a background thread from now on, so that
    decoding starts while mediapipe loads (about a third of a second)."""
    batch = _Batch(factories)
    batch.start()
    return [Loading(batch, i) for i in range(len(factories))]


def load_when_used(*factories) -> list[Loading]:
    """The models ``factories`` build, built when one of them is first used (on that thread):
    for clips whose decoder alone takes a large share of the memory, the models' 160 MB come
    after it has closed (see ``frames.MODELS_AFTER_DECODING_FRAME_BYTES``)."""
    batch = _Batch(factories)
    return [Loading(batch, i) for i in range(len(factories))]


# This process's idle models by kind, when it keeps them between analyses (``keep_models``);
# None: every model is built for one analysis and closed after it.
_idle: "dict[str, list] | None" = None
_idle_lock = threading.Lock()


def keep_models(keep: bool) -> None:
    """Keep models between analyses (a batch worker, analysing one job after another) or not
    (closing those kept). Built again, mediapipe's graphs cost 0.07-0.22 CPU s each on their
    first picture (XNNPACK preparing its weights); a kept video pose model is reset instead."""
    global _idle
    with _idle_lock:
        if keep:
            _idle = {} if _idle is None else _idle
            return
        idle, _idle = _idle, None
    for models in (idle or {}).values():
        for model in models:
            model.close()


def lent(kind: str, factory):
    """An idle model of ``kind`` if this process keeps one, else a new one from ``factory``;
    hand it back with ``on_loan``."""
    with _idle_lock:
        if _idle and _idle.get(kind):
            return _idle[kind].pop()
    return factory()


@contextlib.contextmanager
def on_loan(models: "dict[str, object]"):
    """Around the use of ``models`` (kind: model or Loading, from ``lent``): afterwards each
    goes back to the idle ones, reset, if this process keeps models; it is closed if not, or
    if the use failed (its state is then unknown). A Loading never built is left alone."""
    failed = True
    try:
        yield
        failed = False
    finally:
        for kind, model in models.items():
            if isinstance(model, Loading):
                model = model.built()
                if model is None:
                    continue
            if failed or _idle is None or not _reset(model) or not _kept(kind, model):
                model.close()


def _kept(kind: str, model) -> bool:
    """Put ``model`` with the idle ones; False if this process stopped keeping models."""
    with _idle_lock:
        if _idle is None:
            return False
        _idle.setdefault(kind, []).append(model)
        return True


def _reset(model) -> bool:
    """Ready a model for its next user (a video's pose model forgets whom it tracked); False
    when that failed, and the model is not fit to keep."""
    reset = getattr(model, "reset", None)
    if reset is None:
        return True
    try:
        reset()
    except Exception:  # noqa: BLE001 - any failure means: do not keep it
        return False
    return True


@dataclass(frozen=True)
class PersonBox:
    """A detected person, in pixels of the analysed frame.

    ``x, y, w, h`` is the detector's box (around the head); ``cx, cy, r`` the circle the
    BlazePose detector draws around the whole body (centre at the hips, radius to its second
    keypoint), which is what tells one person from another.
    """

    score: float
    x: float
    y: float
    w: float
    h: float
    cx: float
    cy: float
    r: float

    def same_person(self, bigger: "PersonBox") -> bool:
        """A find inside ``bigger``'s body circle is the same person when it is nearly the same
        circle (found twice), or much smaller with its head where ``bigger``'s head is (the same
        face seen again in a crop). A much smaller find with a head of its own is somebody else:
        a person close to the camera has a body circle that covers the people behind them."""
        distance = ((self.cx - bigger.cx) ** 2 + (self.cy - bigger.cy) ** 2) ** 0.5
        if distance < 0.5 * bigger.r and self.r > 0.6 * bigger.r:
            return True  # the same circle
        heads_meet = _overlap((self.x, self.y, self.w, self.h), (bigger.x, bigger.y, bigger.w, bigger.h)) > 0
        return distance < bigger.r and self.r < 0.6 * bigger.r and heads_meet


class PersonDetector:
    def __init__(self, min_score: float = 0.5, min_tile_score: float = 0.7, max_tile_body: float = 0.9):
        with native_stderr_captured():
            from google.protobuf import text_format

            from .mediapipe_import import load_solution

            # The pose solution's module registers the option types of the pose detection subgraph
            # with protobuf; without them the graph's options are dropped on their way through Python.
            load_solution("pose")
            from mediapipe.framework import calculator_pb2
            from mediapipe.python.solution_base import SolutionBase

            config = text_format.Parse(_DETECTOR_GRAPH, calculator_pb2.CalculatorGraphConfig())
            self._graph = SolutionBase(graph_config=config, outputs=["detections"])
        self.min_score = min_score
        # A crop shows less context, so a crop-only find must be surer than a whole-frame one.
        self.min_tile_score = min_tile_score
        self.max_tile_body = max_tile_body  # body circle's diameter over the tile side

    def close(self) -> None:
        self._graph.close()

    def _detect(self, rgb: np.ndarray, min_score: float, x0: int = 0, y0: int = 0) -> list[PersonBox]:
        """Detections in ``rgb`` (a crop at x0, y0 of the frame), in frame pixels."""
        height, width = rgb.shape[:2]
        result = self._graph.process({"image": np.ascontiguousarray(rgb)})
        boxes = []
        for d in result.detections or []:
            score = d.score[0] if d.score else 0.0
            if score < min_score:
                continue
            b = d.location_data.relative_bounding_box
            kp = d.location_data.relative_keypoints
            cx, cy = kp[0].x * width, kp[0].y * height
            r = ((kp[1].x * width - cx) ** 2 + (kp[1].y * height - cy) ** 2) ** 0.5
            boxes.append(PersonBox(float(score), x0 + b.xmin * width, y0 + b.ymin * height, b.width * width,
                                   b.height * height, x0 + cx, y0 + cy, r))
        return boxes

    def detect(self, rgb: np.ndarray, levels: int = 2) -> list[PersonBox]:
        """People in ``rgb`` (H x W x 3, uint8).

        Level 0 is the whole frame. Level 1 adds squares of the short side along the long side;
        level 2 a grid of squares of half the long side. The detector sees a 224 px square, so
        each level finds people about half the size the one before could.
        """
        height, width = rgb.shape[:2]
        found = self._detect(rgb, self.min_score)
        for side in _tile_sides(width, height, levels):
            for x0, y0 in _tile_origins(width, height, side):
                crop = rgb[y0:y0 + side, x0:x0 + side]
                for b in self._detect(crop, self.min_tile_score, x0, y0):
                    if _cut_by_tile(b, x0, y0, side, width, height):
                        continue  # half a person: the frame or another tile sees all of them
                    if 2 * b.r > self.max_tile_body * side:
                        continue  # tiles are for small people; a big find in a crop is part of a close-up
                    found.append(b)
        return _suppress(found)


def _cut_by_tile(b: PersonBox, x0: int, y0: int, side: int, width: int, height: int, margin: float = 0.02) -> bool:
    """Whether a find's body circle crosses one of the tile's edges that lies inside the frame."""
    m = margin * side
    return ((b.cx - b.r <= x0 + m and x0 > 0) or (b.cx + b.r >= x0 + side - m and x0 + side < width)
            or (b.cy - b.r <= y0 + m and y0 > 0) or (b.cy + b.r >= y0 + side - m and y0 + side < height))


def _tile_sides(width: int, height: int, levels: int) -> list[int]:
    """Tile sides per level. A level whose tiles are not clearly smaller than the previous
    level's (or the frame's short side) would see the same people at the same scale: skipped."""
    short, long_side = min(width, height), max(width, height)
    sides = []
    previous = long_side  # the whole frame, letterboxed to a square
    for level in range(1, levels + 1):
        side = short if level == 1 else min(short, long_side >> (level - 1))
        if side < 224:  # the detector's own input size: smaller tiles add nothing
            break
        if side <= 0.8 * previous:
            sides.append(side)
            previous = side
    return sides


def _tile_origins(width: int, height: int, side: int) -> list[tuple[int, int]]:
    """Overlapping tile corners covering the frame, about a third of a tile apart at most."""
    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        count = int(np.ceil((length - side) / (side * 2 / 3))) + 1
        return [int(round(k * (length - side) / (count - 1))) for k in range(count)]

    return [(x, y) for y in starts(height) for x in starts(width)]


def _suppress(boxes: list[PersonBox]) -> list[PersonBox]:
    """One find per person: the biggest first, then whatever is not part of a kept one."""
    kept: list[PersonBox] = []
    for box in sorted(boxes, key=lambda b: (-b.r, -b.score)):
        if not any(box.same_person(k) for k in kept):
            kept.append(box)
    return kept


class PedestrianDetector:
    """OpenCV's HOG people detector (Dalal and Triggs; its SVM is built into OpenCV, nothing is
    downloaded). It finds standing and walking people too small and too many for the BlazePose
    detector, as in a street filmed from the pavement; a second opinion on how many people there
    are, never the only one."""

    MIN_WEIGHT = 1.0  # SVM margin of a find that counts
    _WINDOW = (64, 128)

    def __init__(self, max_side: int = 640):
        """``max_side``: the picture is looked at this big. At 640 px (20 ms a frame here, for
        the many frames of a video) it sees people from about a fifth of the frame's height
        up; a single picture can afford more (1280 px)."""
        import cv2

        self.max_side = max_side
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Boxes (x, y, w, h, in pixels of ``rgb``) around the people found, one per person."""
        import cv2

        height, width = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        if scale < 1.0:
            rgb = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                             interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        # detectMultiScale crashes the process (SIGSEGV) on a picture smaller than its window
        # and padding: an 80x112 frame did here.
        if gray.shape[1] < self._WINDOW[0] + 16 or gray.shape[0] < self._WINDOW[1] + 16:
            return []
        # A pyramid step of 1.1 rather than OpenCV's usual 1.05 halves the cost (20 ms instead of
        # 40-66 ms a 640 px frame here) and still finds three of the four people 1.05 finds in
        # the corpus street clip.
        rects, weights = self._hog.detectMultiScale(gray, winStride=(8, 8), padding=(8, 8), scale=1.1)
        found = sorted(((float(w), tuple(float(v) / scale for v in r))
                        for r, w in zip(rects, np.asarray(weights).ravel()) if w >= self.MIN_WEIGHT), reverse=True)
        # Its own grouping leaves nested boxes on one person (two on one spectator, seen here).
        return _distinct([box for _, box in found], max_overlap=0.5)


def _overlap(a, b) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(min(a[2] * a[3], b[2] * b[3]), 1e-9)


def _distinct(boxes, max_overlap: float) -> list[tuple[float, float, float, float]]:
    """``boxes`` (x, y, w, h) in order of preference, without those that overlap a kept one by
    more than ``max_overlap`` of the smaller box: one box per thing found."""
    kept: list[tuple[float, float, float, float]] = []
    for box in boxes:
        if all(_overlap(box, k) <= max_overlap for k in kept):
            kept.append(box)
    return kept


def blazeface(short_range: bool, min_score: float):
    """mediapipe's BlazeFace: the short-range model (faces within about 2 m, 128 px input) or
    the full-range one (up to about 5 m, 192 px), reporting faces of at least ``min_score``."""
    with native_stderr_captured():
        from .mediapipe_import import load_solution

        return load_solution("face_detection").FaceDetection(model_selection=0 if short_range else 1,
                                                             min_detection_confidence=min_score)


class FaceCounter:
    """Faces in a picture, each seen by two detectors that share nothing: OpenCV's Viola-Jones
    cascades (frontal, and profile facing either way) propose, and mediapipe's short-range
    BlazeFace, shown a crop twice the proposed face's size, must find a face there too.

    Either alone is not enough: the cascades see a second face in single-person photos (a neck,
    a pattern) and BlazeFace run over a whole picture in tiles found 2-4 faces on single-person
    pictures, but none of those survived the other's look on the corpus. Seated spectators,
    whose bodies the BlazePose and HOG detectors do not see, are found here by their faces.
    Too slow for every sample of a video (0.1-1 s a 1280 px picture here), so images only."""

    CASCADES = ("haarcascade_frontalface_alt2.xml", "haarcascade_profileface.xml")
    MIN_FACE = 20  # px: the cascades' own window
    CROP_GROW = 2.0  # the crop BlazeFace sees, in face sizes: a face with a margin of context
    CROP_SIDE = 128  # BlazeFace short-range's input size
    MIN_SCORE = 0.5  # BlazeFace's own default

    def __init__(self):
        self._blazeface = blazeface(short_range=True, min_score=self.MIN_SCORE)

    def close(self) -> None:
        self._blazeface.close()

    def _proposals(self, gray: np.ndarray) -> list[tuple[float, float, float, float]]:
        """What the cascades take for faces, largest first, overlapping ones merged."""
        import cv2

        width = gray.shape[1]
        mirrored = np.ascontiguousarray(gray[:, ::-1])
        boxes = []
        for i, name in enumerate(self.CASCADES):
            # A cascade keeps integral images of every scale it searched (55 MB for a 1280 x 720
            # picture here): one at a time, each loaded for the search (5 ms) and let go after.
            cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, name))
            if cascade.empty():
                raise RuntimeError(f"OpenCV's Haar cascade {name} is missing from its wheel")
            # The profile cascade knows faces turned one way only: look at the mirror image too.
            for picture, flipped in ((gray, False), (mirrored, True)) if i else ((gray, False),):
                for x, y, w, h in cascade.detectMultiScale(picture, minSize=(self.MIN_FACE, self.MIN_FACE)):
                    boxes.append((float(width - x - w if flipped else x), float(y), float(w), float(h)))
            del cascade
        return _distinct(sorted(boxes, key=lambda b: -b[2]), max_overlap=0.3)

    def _confirmed(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> bool:
        """Whether BlazeFace finds a face in a crop of ``rgb`` around ``box`` (pixels of ``rgb``)."""
        import cv2

        height, width = rgb.shape[:2]
        x, y, w, h = box
        half = w * self.CROP_GROW / 2
        cx, cy = x + w / 2, y + h / 2
        x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
        crop = rgb[y0:int(min(height, cy + half)), x0:int(min(width, cx + half))]
        if crop.size == 0:
            return False
        side = max(crop.shape[:2])
        square = np.zeros((side, side, 3), np.uint8)  # padded, not stretched, at the picture's edge
        square[:crop.shape[0], :crop.shape[1]] = crop
        square = cv2.resize(square, (self.CROP_SIDE, self.CROP_SIDE),
                            interpolation=cv2.INTER_CUBIC if side < self.CROP_SIDE else cv2.INTER_AREA)
        return bool(self._blazeface.process(square).detections)

    def detect(self, rgb: np.ndarray, detail: np.ndarray | None = None) -> list[tuple[float, float, float, float]]:
        """Boxes (x, y, w, h, pixels of ``rgb``) of the faces both detectors see.

        ``detail``: the same picture larger, if there is one; BlazeFace's crops are cut from it.
        Spectators' faces 30-45 px wide in a 1280 px picture were no faces to BlazeFace, and two
        were in the same crops from the 1920 px original; the search itself stays at ``rgb``'s
        size (the cascades' memory and time grow with the picture)."""
        import cv2

        sharp = rgb if detail is None else detail
        scale = sharp.shape[1] / rgb.shape[1]
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return [box for box in self._proposals(gray) if self._confirmed(sharp, tuple(v * scale for v in box))]


class PoseEstimator:
    """33 body landmarks of the most prominent person (mediapipe legacy Pose, complexity 1)."""

    def __init__(self, video: bool):
        self._video = video
        self._restart = False
        self._pose = self._built()

    def _built(self):
        with native_stderr_captured():
            from .mediapipe_import import load_solution

            return load_solution("pose").Pose(
                static_image_mode=not self._video, model_complexity=1, smooth_landmarks=self._video,
                enable_segmentation=False, min_detection_confidence=0.5, min_tracking_confidence=0.5,
            )

    def close(self) -> None:
        self._pose.close()

    def reset(self) -> None:
        """Forget the person tracked so far (a video's pose model, before another clip; a
        picture's keeps nothing). The graph restarts at the next picture, not now: mediapipe
        starts it on a thread of its own, and what its models print on starting would come after
        the caller's capture of native output had ended."""
        self._restart = self._video

    def landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        """(33, 4) array of x, y (normalised), z, visibility; None when nobody is found."""
        if self._restart:
            self._restart = False
            try:
                self._pose.reset()
            except Exception:  # noqa: BLE001 - a graph that will not restart is replaced, not used
                broken, self._pose = self._pose, self._built()
                with contextlib.suppress(Exception):
                    broken.close()
        result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return None
        return np.array([[p.x, p.y, p.z, p.visibility] for p in result.pose_landmarks.landmark], dtype=np.float32)
