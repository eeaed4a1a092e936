"""A second look at a clip's camera, to check a label: the whole frame tracked, nobody masked.

    python bench/camera_audit.py CLIP [CLIP ...] [--step 0.4]

For frames ``--step`` seconds apart, corners over the whole picture are tracked into the next
frame and one similarity transform is fitted with RANSAC, as preflight does but without the
person's box and without sampling windows. Each line gives the shift in pixels at 320 px, the
scale, how many corners agree, and the movement as a share of the diagonal per second.

What to read: in a still shot nearly every corner agrees on a shift of a fraction of a pixel
(the corners are the background); where few agree, something else fills the frame (a cut, a
person moving) and the line says nothing about the camera. This is how the camera labels that
disagree with the pixels were checked (docs/content-analysis.md, "Camera labels checked").
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIDE = 320


def gray_frames(path: str, step: float):
    """(t, grey picture at most SIDE px) for frames at least ``step`` seconds apart."""
    import av
    import cv2

    from preflight.analysis.frames import local_file, video_stream

    with av.open(local_file(path), metadata_errors="ignore") as container:
        stream = video_stream(container)
        origin, last = None, None
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            origin = frame.pts if origin is None else origin
            t = float((frame.pts - origin) * stream.time_base)
            if last is not None and t - last < step - 1e-6:
                continue
            last = t
            image = frame.to_ndarray(format="gray")
            scale = SIDE / max(image.shape)
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            yield t, cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def pair_motion(before, after):
    """(corners, agreeing, dx, dy, scale) between two grey pictures, or None: the camera
    analyser's own fit (``fit_similarity``), over the whole picture and more corners."""
    import cv2

    from preflight.analysis.camera import fit_similarity

    fit = fit_similarity(cv2, before, after, None, max_corners=300, min_points=8)
    if fit is None:
        return None
    matrix, corners, agreeing = fit
    return corners, agreeing, float(matrix[0, 2]), float(matrix[1, 2]), math.hypot(matrix[0, 0], matrix[1, 0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--step", type=float, default=0.4, help="seconds between the frames compared (0.4)")
    args = parser.parse_args()
    for clip in args.clips:
        print(f"== {clip.name}")
        previous = None
        for t, image in gray_frames(str(clip), args.step):
            if previous is not None and previous[1].shape == image.shape:
                t0, before = previous
                found = pair_motion(before, image)
                if found is None:
                    print(f"{t0:7.2f}-{t:6.2f} s  too little to track")
                else:
                    corners, agreeing, dx, dy, scale = found
                    diagonal = math.hypot(*image.shape)
                    rate = (math.hypot(dx, dy) + abs(scale - 1) * diagonal / 2) / diagonal / (t - t0)
                    print(f"{t0:7.2f}-{t:6.2f} s  {agreeing:3d} of {corners:3d} corners agree  shift "
                          f"{dx:+7.2f} {dy:+7.2f} px  scale {scale:.4f}  {rate:6.1%} of the frame per second")
            previous = (t, image)


if __name__ == "__main__":
    main()
