"""How long `preflight --metadata-only` takes end to end on one photo and a 30 s 1080p phone-like clip.

    python bench/metadata_speed.py [--runs 15]

Goal (issue 2): well under 0.5 s wall time, process start included. Every figure is measured
in this run, beside the bare interpreter start-up and ffmpeg merely opening the same file, so
a noisy machine shows up in the baselines too.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from preflight.ffmpeg_binary import ffmpeg_exe  # noqa: E402

OUT = ROOT / "bench" / "out"


def make_inputs() -> tuple[Path, Path]:
    """A 30 s 1080p30 H.264 clip at ~12 Mbit/s with AAC audio, and a 12 MP JPEG photo."""
    OUT.mkdir(parents=True, exist_ok=True)
    clip = OUT / "clip_30s_1080p30.mp4"
    if not clip.exists():
        tmp = clip.with_suffix(".part.mp4")
        subprocess.run([
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=30",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=30",
            "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "12M", "-maxrate", "12M", "-bufsize", "24M",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(tmp),
        ], check=True)
        tmp.rename(clip)
    photo = OUT / "photo_12mp.jpg"
    if not photo.exists():
        from PIL import Image, ImageDraw

        im = Image.new("RGB", (4032, 3024), (120, 150, 180))
        draw = ImageDraw.Draw(im)
        for i in range(0, 4032, 64):
            draw.line([i, 0, 4032 - i, 3024], fill=(i % 255, 80, 200 - i % 200), width=9)
        im.save(photo, quality=92)
    return clip, photo


def timed(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    clip, photo = make_inputs()
    # --no-cache: the probe is what is measured, not a lookup of the previous run's result.
    preflight = [sys.executable, "-m", "preflight", "--metadata-only", "--no-cache", "--format", "json",
                 "--image", str(photo), "--video", str(clip)]
    rows = {
        "python -c pass (interpreter start)": timed([sys.executable, "-c", "pass"], args.runs),
        "ffmpeg -i clip (open and print header)": timed([ffmpeg_exe(), "-hide_banner", "-i", str(clip)], args.runs),
        "preflight --metadata-only (photo + clip)": timed(preflight, args.runs),
    }
    print(f"clip: {clip.name} ({clip.stat().st_size / 1e6:.1f} MB), photo: {photo.name} "
          f"({photo.stat().st_size / 1e6:.1f} MB), {args.runs} runs each")
    for name, times in rows.items():
        print(f"  {name:<44} median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f})")
    ours = statistics.median(rows["preflight --metadata-only (photo + clip)"])
    ffmpeg_open = statistics.median(rows["ffmpeg -i clip (open and print header)"])
    print(f"preflight --metadata-only end to end: {ours:.3f} s (goal: well under 0.5 s) -> "
          f"{'OK' if ours < 0.5 else 'OVER'}; {ours / ffmpeg_open:.2f}x ffmpeg just opening the clip")


if __name__ == "__main__":
    main()
