"""Content analysis: what is in the picture. Loads OpenCV and mediapipe, so it is imported only
when a report asks for content checks (never with --metadata-only)."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .body import (BODY_CLASSES, BodySettings, body_box, body_class, posture, quarter_turns, subject_area,
                   torso_lean)
from .camera import CameraMotion, CameraSummary, kept_up_spans
from .cuts import CutDetector, CutResult
from .faces import Face, FaceFinder, FaceSampler
from .frames import DecodeStats, models_after_decoding, read_index_or_none, run_decode
from .models import (FaceCounter, PedestrianDetector, PersonDetector, PoseEstimator, lent, load_in_background,
                     load_when_used, on_loan)
from .people import PeopleCounter, people_found, relative_sizes
from .pose_track import PoseTracker
from .spans import consecutive_runs, rounded

# Images are analysed at this size: enough for small people in tiles, cheap for the models.
IMAGE_MAX_SIDE = 1280
# Faces found at that size are confirmed on crops of the picture up to this size: a small face
# needs the pixels, and a crop costs nothing more for being sharp.
FACE_DETAIL_MAX_SIDE = 2 * IMAGE_MAX_SIDE
# The person detector alone mistakes some patterns and animals for people; in a video, someone
# counts only if the pose model also finds a body in at least this share of its samples, and in
# at least POSE_CONFIRMS_SAMPLES of them (a short clip: one odd pose in four samples is not a body).
POSE_CONFIRMS_SHARE = 0.1
POSE_CONFIRMS_SAMPLES = 2
PEOPLE_SAMPLES = 15
# The pose and the camera are sampled this often; a clip shorter than SHORT_CLIP_SAMPLES steps
# is sampled more often, or it would give a single frame and no pair to compare. Only a clip
# whose packets show it short and with at most SHORT_CLIP_MAX_FRAMES frames: timestamps that
# stand still (or a header) can make a long file look short, and then every frame would be sampled.
SAMPLE_INTERVAL = 0.2
SHORT_CLIP_SAMPLES = 4
SHORT_CLIP_MAX_FRAMES = 60
# The share of pose samples turned the same way that makes a whole clip turned (a wrong rotation
# flag) rather than a person who turns for a moment.
WHOLE_TURN_SHARE = 0.8


@dataclass
class ImageContent:
    people: int
    body: str
    posture: str | None
    torso_angle: float | None
    subject_area: float
    turned: int = 0  # degrees the picture had to be turned for the pose model to find the person
    # (x0, y0, x1, y1), normalised, around the person's landmarks in the upright picture
    person_box: tuple[float, float, float, float] | None = None
    # Quarter turns counter-clockwise that would make the person upright (0: already upright;
    # 2: upside down; 1 or 3: sideways), from the body's lean in the picture as shown.
    turn_quarters: int = 0
    # Each person's size as a share of the largest one's (1.0 first), from the detector that
    # gave the count: a much smaller person is a bystander, not a second performer.
    sizes: list[float] = field(default_factory=list)


@dataclass
class VideoContent:
    duration: float
    cuts: CutResult
    people_samples: list[tuple[float, int]]
    people: int
    several_spans: list[list[float]]
    body_shares: dict[str, float]  # share of pose samples per body class
    body: str  # the most common class among samples with a person
    not_upright_spans: list[list[float]]
    camera_rates: list[float]
    camera_spans: list[list[float]]  # strong movement, kept up (``camera.kept_up_spans``)
    fast_spans: list[list[float]]
    limb_speed_p90: float | None
    subject_area: float
    stats: DecodeStats = field(default_factory=DecodeStats)
    # Per-sample series, for tools that choose a window (prep): (t, upper or full body seen)
    # and (t, camera motion rate or None).
    body_series: list[tuple[float, bool]] = field(default_factory=list)
    camera_series: list[tuple[float, float | None]] = field(default_factory=list)
    # What the camera did (kind and amount), None when nothing could be tracked; and how many
    # frame pairs were compared (pairs but no summary: too little texture to track).
    camera_summary: "CameraSummary | None" = None
    camera_pairs: int = 0
    # The camera's net movement over each second of measured pairs (share of the frame per
    # second, ``CameraMotion.sustained``): a pan keeps it up, a shake does not.
    camera_sustained: list[float] = field(default_factory=list)
    # Where the camera moves at all, kept up or not (a shake too): runs of frame pairs at or
    # above ``some_camera`` (``CameraMotion.moving_spans``); empty when it was not asked for.
    camera_moving_spans: list[list[float]] = field(default_factory=list)
    # Per people sample: each person's size as a share of the largest one's (``relative_sizes``).
    people_sizes: list[tuple[float, list[float]]] = field(default_factory=list)
    # Gaps in the timestamps (frames a phone dropped), from the packets: spans and how many
    # frames they would have held; None when the stream gives no usable timestamps.
    frame_drops: list[list[float]] | None = None
    dropped_frames: int = 0
    # Quarter turns counter-clockwise that make the person upright when they are turned the same
    # way for the whole clip (a wrong rotation flag, a phone held upside down); 0 otherwise.
    turn_quarters: int = 0


def analyse_image_file(path: str, settings: BodySettings = BodySettings()) -> ImageContent:
    """``analyse_image`` of the picture in ``path``, turned as its EXIF says."""
    from .load import load_image_rgb

    rgb = load_image_rgb(path, IMAGE_MAX_SIDE)
    detail = load_image_rgb(path, FACE_DETAIL_MAX_SIDE) if max(rgb.shape[:2]) >= IMAGE_MAX_SIDE else None
    return analyse_image(rgb, settings, detail=detail)


def analyse_image(rgb: np.ndarray, settings: BodySettings = BodySettings(),
                  detail: np.ndarray | None = None) -> ImageContent:
    """People, body visibility, posture and size in one upright RGB picture (``detail``: the
    same picture larger, when it was shrunk to ``rgb``)."""
    detector, faces = lent("person detector", PersonDetector), lent("face counter", FaceCounter)
    with on_loan({"person detector": detector, "face counter": faces}):
        sizes = relative_sizes(people_found(detector, PedestrianDetector(max_side=IMAGE_MAX_SIDE), rgb, levels=2,
                                            faces=faces, detail=detail))
        people = len(sizes)
    estimator = lent("picture pose", lambda: PoseEstimator(video=False))
    with on_loan({"picture pose": estimator}):
        # A person upside down or lying is often missed upright: try the picture turned too.
        for turns in (0, 2, 1, 3):
            turned = np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb
            lm = estimator.landmarks(turned)
            if lm is not None:
                break
    if lm is None:
        return ImageContent(people, "none", None, None, 0.0, sizes=sizes)
    height, width = turned.shape[:2]
    lean = torso_lean(lm, width, height, settings)
    if lean is not None:
        # Measured in the picture turned counter-clockwise by the quarter turns: in the picture
        # as shown, the body's up is that many quarters further clockwise.
        lean = (lean + 90.0 * turns + 180.0) % 360.0 - 180.0
    angle = None if lean is None else abs(lean)
    box = body_box(lm, settings) if turns == 0 else None
    upright_in = quarter_turns(lean) or 0
    return ImageContent(max(people, 1), body_class(lm, settings), posture(angle, settings), angle,
                        subject_area(lm, settings), turned=90 * turns, person_box=box,
                        turn_quarters=upright_in if posture(angle, settings) != "upright" else 0,
                        sizes=sizes or [1.0])


def analyse_video(path: str, rotation: int, *, strong_camera: float, fast_limb_speed: float,
                  some_camera: float | None = None, duration_hint: float | None = None,
                  progress: Callable[[float, float], None] | None = None,
                  settings: BodySettings = BodySettings(), skip: bool = True) -> VideoContent:
    """One decode pass through the clip feeding every analyser (and a short second pass where
    the first skipped frames a cut may hide in; ``skip=False`` decodes every frame)."""
    # Longer than most functions on purpose: it is the one place where the analysers are wired
    # to the decode pass and their results gathered into VideoContent, field by field.
    # The index first: read while mediapipe loads, it took 0.28 s instead of 0.03 (both want
    # the interpreter lock).
    index = read_index_or_none(path)  # also read when everything is decoded: it shows dropped frames
    # The largest frames leave the memory to the decoder: the models are built after it closes.
    load = load_when_used if models_after_decoding(path, index) else load_in_background
    estimator, detector = load(lambda: lent("video pose", lambda: PoseEstimator(video=True)),
                               lambda: lent("person detector", PersonDetector))
    cuts = CutDetector()
    # About PEOPLE_SAMPLES looks at the whole clip, at least one a second: counting is the
    # most expensive analysis (up to ten detector runs a frame with tiles).
    people_interval = max(1.0, (duration_hint or 0) / PEOPLE_SAMPLES)
    people = PeopleCounter(detector, interval=people_interval, max_side=960, levels=2)
    interval = sample_interval(index)
    pose = PoseTracker(estimator, interval=interval, settings=settings)
    camera = CameraMotion(interval=interval)
    with on_loan({"person detector": detector, "video pose": estimator}):
        # The pose tracker runs before the camera analyser on shared frames: it marks where the
        # person is, so the camera's background features leave them out.
        stats = run_decode(path, [cuts, people, pose, camera], rotation=rotation, progress=progress, skip=skip,
                           index=index)

    drops = index.dropped_frames() if index is not None else None
    # Turned the same way in most samples with a pose: the whole clip is turned, not the person.
    turns = collections.Counter(quarter_turns(s.lean) for s in pose.samples if s.lean is not None)
    posed = sum(turns.values())
    whole_turn = next((q for q, n in turns.most_common(1) if q and posed >= 3 and n >= WHOLE_TURN_SHARE * posed), 0)
    with_person = [s for s in pose.samples if s.body != "none"]
    counts = collections.Counter(s.body for s in pose.samples)
    total = max(len(pose.samples), 1)
    body_shares = {c: round(counts.get(c, 0) / total, 3) for c in BODY_CLASSES}
    body = collections.Counter(s.body for s in with_person).most_common(1)[0][0] if with_person else "none"
    with_speed = [s for s in pose.samples if s.limb_speed is not None]
    speeds = [s.limb_speed for s in with_speed]
    # A single fast sample is a flick; fast motion is a span of at least two.
    fast = rounded(consecutive_runs((s.t, s.t, s.limb_speed >= fast_limb_speed) for s in with_speed))
    fast = [span for span in fast if span[1] > span[0]]
    not_upright = rounded(consecutive_runs((s.t, s.t, s.posture is not None and s.posture != "upright")
                                           for s in pose.samples))
    areas = [s.area for s in with_person]
    needed = max(POSE_CONFIRMS_SHARE * len(pose.samples), min(POSE_CONFIRMS_SAMPLES, len(pose.samples)))
    confirmed = with_person and len(with_person) >= needed
    sustained = camera.sustained()
    return VideoContent(
        duration=stats.duration,
        cuts=cuts.result,
        people_samples=people.samples,
        people=people.most_at_once() if confirmed else 0,
        several_spans=people.spans_over(1),
        body_shares=body_shares,
        body=body,
        not_upright_spans=[s for s in not_upright if s[1] - s[0] >= 0.4],
        camera_rates=camera.rates(),
        camera_spans=kept_up_spans(sustained, strong_camera, min_length=0.4),
        camera_moving_spans=camera.moving_spans(some_camera, min_length=0.4) if some_camera else [],
        fast_spans=fast,
        limb_speed_p90=float(np.percentile(speeds, 90)) if speeds else None,
        subject_area=float(np.median(areas)) if areas else 0.0,
        stats=stats,
        body_series=[(s.t, s.body in ("upper", "full")) for s in pose.samples],
        camera_series=list(camera.samples),
        camera_summary=camera.summary(),
        camera_pairs=len(camera.components),
        camera_sustained=[rate for _, _, rate in sustained],
        people_sizes=list(people.sizes),
        frame_drops=drops[0] if drops else None,
        dropped_frames=drops[1] if drops else 0,
        turn_quarters=whole_turn,
    )


def sample_interval(index) -> float:
    """Seconds between pose and camera samples for the clip ``index`` (``read_index_or_none``)
    describes; the usual step when there is no index."""
    if index is not None and len(index.times) <= SHORT_CLIP_MAX_FRAMES:
        duration = index.duration
        if 0 < duration < SHORT_CLIP_SAMPLES * SAMPLE_INTERVAL:
            return duration / SHORT_CLIP_SAMPLES
    return SAMPLE_INTERVAL


# ---------------------------------------------------------------------------- custom elements

@dataclass
class ElementVideoContent:
    """What a custom element's source video shows: one person throughout, a face, no cut."""

    duration: float
    cuts: CutResult
    people_samples: list[tuple[float, int]]
    people: int  # most people at once (``PeopleCounter.most_at_once``)
    several_spans: list[list[float]]
    no_person_spans: list[list[float]]
    faces: list[tuple[float, Face | None]]  # the best face of each sample
    stats: DecodeStats = field(default_factory=DecodeStats)


@dataclass
class ElementImageContent:
    """A frontal picture for an image_refer element: the people in it and its best face."""

    people: int
    face: Face | None
    sizes: list[float] = field(default_factory=list)


def analyse_element_video(path: str, rotation: int, duration_hint: float | None = None,
                          progress: Callable[[float, float], None] | None = None) -> ElementVideoContent:
    """One decode pass feeding the cut detector, the people counter and the face sampler."""
    finder, detector = load_in_background(lambda: lent("face finder", FaceFinder),
                                          lambda: lent("person detector", PersonDetector))
    cuts = CutDetector()
    # An element clip is at most 8 s: people twice a second, faces four times.
    people = PeopleCounter(detector, interval=max(0.5, (duration_hint or 0) / PEOPLE_SAMPLES), max_side=960,
                           levels=2)
    faces = FaceSampler(finder, interval=0.25)
    with on_loan({"person detector": detector, "face finder": finder}):
        stats = run_decode(path, [cuts, people, faces], rotation=rotation, progress=progress, skip=False)
    nobody = rounded(consecutive_runs((t, t, n == 0) for t, n in people.samples))
    return ElementVideoContent(
        duration=stats.duration, cuts=cuts.result, people_samples=people.samples, people=people.most_at_once(),
        several_spans=people.spans_over(1), no_person_spans=[s for s in nobody if s[1] > s[0]],
        faces=list(faces.samples), stats=stats)


def analyse_element_image_file(path: str) -> ElementImageContent:
    """The people and the best face in a frontal picture (turned as its EXIF says)."""
    from .load import load_image_rgb

    rgb = load_image_rgb(path, IMAGE_MAX_SIDE)
    detector, finder = lent("person detector", PersonDetector), lent("face finder", FaceFinder)
    with on_loan({"person detector": detector, "face finder": finder}):
        sizes = relative_sizes(people_found(detector, PedestrianDetector(max_side=IMAGE_MAX_SIDE), rgb, levels=2))
        face = finder.best(rgb)
    # A face is a person even where the body detectors see none (a close portrait).
    return ElementImageContent(max(len(sizes), 1 if face else 0), face, sizes or ([1.0] if face else []))
