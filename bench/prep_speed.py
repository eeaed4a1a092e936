"""prep's speed and quality, measured in one run.

    python bench/prep_speed.py

1. A 60 s 1080x1920 30 fps phone-like clip (H.264 ~12 Mbit/s, 1 s GOP, AAC) trimmed to 10 s:
   `prep --metadata-only` (probe, plan, encode, re-check) and full `prep` (content analysis
   chooses the window) beside the equivalent hand-written ffmpeg command.
2. The stream-copy path: a ~95 MB, 28 s Matroska file (H.264 at ~27 Mbit/s, AAC) that needs
   only a new container, remuxed to MP4 by `prep --metadata-only --orientation video`.
3. SSIM of prep's output against the same source segment, at default settings.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from preflight.ffmpeg_binary import ffmpeg_exe  # noqa: E402

OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent


def ffmpeg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args], capture_output=True, text=True,
                          check=True)


def make_inputs() -> tuple[Path, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    clip = OUT / "phone_60s_1080p30.mp4"
    if not clip.exists():
        import skimage

        person = Path(skimage.__file__).parent / "data" / "astronaut.png"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30:duration=60", "-loop", "1", "-i", str(person),
               "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=60",
               "-filter_complex", "[1:v]scale=900:900[p];[0:v][p]overlay=x='90+60*sin(t)':y='500+40*sin(1.3*t)':shortest=1[v]",
               "-map", "[v]", "-map", "2:a", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "12M", "-maxrate", "12M",
               "-bufsize", "24M", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(clip))
    big = OUT / "remux_28s_95MB.mkv"
    if not big.exists():
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30:duration=28",
               "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=28",
               "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "27M", "-maxrate", "27M", "-bufsize", "27M", "-g", "30",
               "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(big))
    return clip, big


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def ssim(a: Path, b: Path, b_start: float, seconds: float) -> float:
    done = ffmpeg("-i", str(a), "-ss", str(b_start), "-t", str(seconds), "-i", str(b),
                  "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-")
    return float(re.search(r"All:([0-9.]+)", done.stderr).group(1))


def main() -> None:
    clip, big = make_inputs()
    work = OUT / "prep"
    prep = [str(BIN / "prep"), "--orientation", "image", "--force", "-o", str(work)]
    print(f"source: {clip.name} ({clip.stat().st_size / 1e6:.1f} MB, 60 s); {big.name} ({big.stat().st_size / 1e6:.1f} MB)")

    hand = OUT / "hand_10s.mp4"
    hand_cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(clip),
                "-frames:v", "300", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-maxrate", "20000000",
                "-bufsize", "20000000", "-profile:v", "high", "-pix_fmt", "yuv420p", "-af", "atrim=duration=9.95",
                "-c:a", "aac", "-b:a", "128000", "-movflags", "+faststart", str(hand)]
    t_hand = timed(hand_cmd)
    t_meta = timed([*prep, "--metadata-only", "--video", str(clip)])
    t_full = timed([*prep, "--video", str(clip)])
    out = work / f"{clip.stem}.prep.mp4"
    print(f"  hand-written ffmpeg trim+encode to 10 s          {t_hand:6.2f} s")
    print(f"  prep --metadata-only (probe, plan, encode, check) {t_meta:6.2f} s  ({t_meta / t_hand:.2f}x; goal within 1.10x)")
    print(f"  prep with content analysis choosing the window    {t_full:6.2f} s  ({t_full / t_hand:.2f}x, analysis included)")

    t_copy = timed([str(BIN / "prep"), "--orientation", "video", "--force", "-o", str(work), "--metadata-only",
                    "--video", str(big)])
    print(f"  prep stream copy of {big.stat().st_size / 1e6:.0f} MB MKV to MP4             {t_copy:6.2f} s  (goal under 1 s)")

    # The window prep chose (from its plan) against the same stretch of the source.
    plan = subprocess.run([*prep, "--video", str(clip), "--dry-run", "--format", "json"], capture_output=True, text=True)
    import json

    steps = json.loads(plan.stdout)["plan"][0]["steps"]
    start = next((s["detail"]["start"] for s in steps if s["action"] == "trim"), 0.0)
    print(f"  SSIM of prep's output against the source {start:g}-{start + 10:g} s: {ssim(out, clip, start, 10):.4f} "
          "(goal at least 0.95)")


if __name__ == "__main__":
    main()
