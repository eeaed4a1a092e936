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


def _video_frames(path: str, rotation: int, duration: float, estimator) -> list[dict]:
    import av
    import numpy as np

    from .analysis.frames import _upright
    from .probe.video import video_stream

    frames = []
    times = [duration * (i + 0.5) / FRAMES_PER_VIDEO for i in range(FRAMES_PER_VIDEO)]
    with av.open(local_file(path)) as container:
        stream = video_stream(container)  # not a cover picture stored as a video stream
        for t in times:
            container.seek(int(t / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is not None and frame.time + 1e-3 < t:
                    continue
                rgb = np.ascontiguousarray(_upright(frame.to_ndarray(format="rgb24"), rotation))
                drawn, found = _draw_pose(rgb, estimator)
                frames.append({"t": round(frame.time or t, 2), "src": _jpeg_uri(drawn), "pose": found})
                break
    return frames


def visual_data(report: Report) -> dict:
    """Per input: the timelines and pictures the HTML report draws. Needs ``report.analysis``."""
    from .analysis.load import load_image_rgb
    from .analysis.models import PoseEstimator, native_stderr_captured

    inputs = []
    with native_stderr_captured():
        estimator = PoseEstimator(video=False)
        try:
            for entry in report.inputs:
                path, role = entry["path"], entry["role"]
                content = report.analysis.get(path)
                facts = report.facts.get(path)
                item: dict[str, Any] = {"role": role, "path": path}
                if content is None:
                    item["note"] = "not analysed (unreadable, or analysis skipped)"
                elif role == "image":
                    rgb = load_image_rgb(path, 960)
                    drawn, found = _draw_pose(rgb, estimator)
                    item.update(src=_jpeg_uri(drawn), pose=found, people=content.people, body=content.body)
                else:
                    item.update(
                        duration=round(content.duration, 3),
                        cuts=content.cuts.cuts, fades=content.cuts.fades, dissolves=content.cuts.dissolves,
                        people=[[round(t, 2), n] for t, n in content.people_samples],
                        body=[[round(t, 2), bool(seen)] for t, seen in content.body_series],
                        camera=[[round(t, 2), None if r is None else round(r, 4)] for t, r in content.camera_series],
                        several_spans=content.several_spans, camera_spans=content.camera_spans,
                        fast_spans=content.fast_spans,
                        frames=_video_frames(path, facts.video.rotation if facts and facts.video else 0,
                                             content.duration, estimator),
                    )
                inputs.append(item)
        finally:
            estimator.close()
    return {"inputs": inputs}
