"""What the HTML report shows: timelines from the analysis, and a few frames with the detected
pose drawn on them. Runs only for ``--report`` (it decodes a handful of frames again and runs
the pose model on each, a second or two per file)."""

from __future__ import annotations

import base64
from typing import Any

from .ffmpeg_binary import local_file
from .report import Report

FRAMES_PER_VIDEO = 6
FRAME_WIDTH = 320


def _jpeg_uri(rgb) -> str:
    import cv2

    height, width = rgb.shape[:2]
    if width > FRAME_WIDTH:
        rgb = cv2.resize(rgb, (FRAME_WIDTH, round(height * FRAME_WIDTH / width)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode() if ok else ""


def _draw_pose(rgb, estimator) -> tuple[Any, bool]:
    """The picture with the pose model's skeleton drawn on it, and whether a person was found."""
    import cv2

    from .analysis.mediapipe_import import load_solution

    lm = estimator.landmarks(rgb)
    if lm is None:
        return rgb, False
    out = rgb.copy()
    height, width = out.shape[:2]
    thickness = max(2, width // 240)
    points = [(int(x * width), int(y * height)) for x, y in lm[:, :2]]
    for a, b in load_solution("pose").POSE_CONNECTIONS:
        if lm[a, 3] > 0.5 and lm[b, 3] > 0.5:
            cv2.line(out, points[a], points[b], (0, 255, 120), thickness, cv2.LINE_AA)
    for (x, y), seen in zip(points, lm[:, 3]):
        if seen > 0.5:
            cv2.circle(out, (x, y), thickness + 1, (255, 60, 60), -1, cv2.LINE_AA)
    return out, True


class _PeopleBoxes:
    """The detectors preflight counts people with: the one that found the most (the count the
    report gives) draws a box around each person it found."""

    def __init__(self):
        from .analysis.models import FaceCounter, PedestrianDetector, PersonDetector

        self.detector, self.pedestrians, self.faces = PersonDetector(), PedestrianDetector(), FaceCounter()

    def close(self) -> None:
        self.detector.close()
        self.faces.close()

    def boxes(self, rgb) -> list[tuple[int, int, int, int]]:
        """Integer boxes inside the picture (a body circle may reach past its edges)."""
        from .analysis.people import people_found

        height, width = rgb.shape[:2]
        inside = []
        for x, y, w, h in people_found(self.detector, self.pedestrians, rgb, levels=2, faces=self.faces):
            x0, y0 = max(0, int(x)), max(0, int(y))
            inside.append((x0, y0, min(width, int(x + w)) - x0, min(height, int(y + h)) - y0))
        return inside


def _draw_boxes(rgb, boxes) -> Any:
    import cv2

    out = rgb.copy()
    thickness = max(2, out.shape[1] // 300)
    for n, (x, y, w, h) in enumerate(boxes, 1):
        cv2.rectangle(out, (x, y), (x + w, y + h), (255, 200, 0), thickness)
        cv2.putText(out, str(n), (x + 4, y + 8 + 10 * thickness), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness,
                    (255, 200, 0), thickness)
    return out


def _picture(rgb, estimator, people: _PeopleBoxes) -> tuple[str, bool, int]:
    """The picture with the pose drawn and a box per person: (data URI, pose found, boxes)."""
    boxes = people.boxes(rgb)
    drawn, found = _draw_pose(rgb, estimator)
    return _jpeg_uri(_draw_boxes(drawn, boxes)), found, len(boxes)


def _video_frames(path: str, rotation: int, duration: float, cuts: list[float], estimator,
                  people: _PeopleBoxes) -> list[dict]:
    """Frames spread over the clip, and the first frame after each cut (the shot the model
    would jump to)."""
    import av
    import numpy as np

    from .analysis.frames import _upright
    from .probe.video import video_stream

    wanted = [(duration * (i + 0.5) / FRAMES_PER_VIDEO, None) for i in range(FRAMES_PER_VIDEO)]
    wanted += [(t + 1e-3, f"after the cut at {t:.2f} s") for t in cuts[:FRAMES_PER_VIDEO]]
    frames = []
    with av.open(local_file(path)) as container:
        stream = video_stream(container)  # not a cover picture stored as a video stream
        for t, caption in sorted(wanted):
            container.seek(int(t / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is not None and frame.time + 1e-3 < t:
                    continue
                rgb = np.ascontiguousarray(_upright(frame.to_ndarray(format="rgb24"), rotation))
                src, found, boxes = _picture(rgb, estimator, people)
                frames.append({"t": round(frame.time or t, 2), "src": src, "pose": found, "people": boxes,
                               "caption": caption})
                break
    return frames


def _windows(content, report: Report, profile) -> dict:
    """The stretch the model will most likely use, and the one prep would keep."""
    from .checks.content import usable_segment
    from .windows import best_window

    start, end, reason = usable_segment(content, profile)
    orientation = report.request.orientation
    window = best_window(content.duration, profile.value("video.max_duration")[orientation],
                         profile.value("video.min_duration"), content,
                         profile.value("content.camera_motion")["some"])
    return {"usable": [round(start, 2), round(end, 2)], "usable_why": reason,
            "keep": [window.start, window.end] if window else None, "keep_why": window.why if window else None}


def visual_data(report: Report, profile) -> dict:
    """Per input: the timelines and pictures the HTML report draws. Needs ``report.analysis``."""
    from .analysis.load import load_image_rgb
    from .analysis.models import PoseEstimator, native_stderr_captured

    inputs = []
    with native_stderr_captured():
        estimator, people = PoseEstimator(video=False), _PeopleBoxes()
        try:
            for entry in report.inputs:
                inputs.append(_visual_item(entry, report, profile, estimator, people, load_image_rgb))
        finally:
            estimator.close()
            people.close()
    return {"inputs": inputs}


def _visual_item(entry: dict, report: Report, profile, estimator, people, load_image_rgb) -> dict:
    path, role = entry["path"], entry["role"]
    content = report.analysis.get(path)
    facts = report.facts.get(path)
    item: dict[str, Any] = {"role": role, "path": path}
    if content is None:
        item["note"] = "not analysed (unreadable, or analysis skipped)"
    elif role not in ("image", "video"):
        item["note"] = "a custom element's medium: its verdicts are in the table above"
    elif role == "image":
        src, found, boxes = _picture(load_image_rgb(path, 960), estimator, people)
        item.update(src=src, pose=found, people=content.people, boxes=boxes, body=content.body)
    else:
        item.update(
            duration=round(content.duration, 3),
            cuts=content.cuts.cuts, fades=content.cuts.fades, dissolves=content.cuts.dissolves,
            people=[[round(t, 2), n] for t, n in content.people_samples],
            body=[[round(t, 2), bool(seen)] for t, seen in content.body_series],
            camera=[[round(t, 2), None if r is None else round(r, 4)] for t, r in content.camera_series],
            several_spans=content.several_spans, camera_spans=content.camera_spans,
            fast_spans=content.fast_spans, **_windows(content, report, profile),
            frames=_video_frames(path, facts.video.rotation if facts and facts.video else 0, content.duration,
                                 content.cuts.cuts, estimator, people),
        )
    return item
