"""Full default preflight of a 30 s 1080p30 phone-like clip beside plain decoding and PySceneDetect.

    python bench/speed.py

The clip (generated once into bench/out/) is H.264 at about 12 Mbit/s, a person from
scikit-image's bundled photo drifting over ffmpeg's busy test pattern, encoded twice:

- like a phone: a keyframe every second and no B-frames, the shape taken here as phone-like
  (Android's MediaCodec asks for the keyframe interval in seconds, and camera apps commonly
  ask for one or two; hardware H.264 encoders commonly write no B-frames). Preflight decodes
  only the start of each GOP here.
- with x264's defaults: keyframes up to 250 frames (8 s) apart and B-frames. Preflight has to
  decode every frame of such a stream to sample inside its GOPs.

Printed for each, all measured in this run on this machine: wall time of
`preflight --video clip` (start-up and model loading included), of `ffmpeg -i clip -f null -`,
and of `scenedetect -i clip detect-content`; their ratios; and the peak resident memory of each
process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from preflight.atomic import atomic_output  # noqa: E402
from preflight.ffmpeg_binary import ffmpeg_exe  # noqa: E402

OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent

# Runs a command and prints its peak RSS (ru_maxrss of the only child, in KiB on Linux).
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n"
)


PHONE_GOP = ["-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0"]


def make_clip(phone: bool) -> Path:
    clip = OUT / ("person_30s_1080p30_phone.mp4" if phone else "person_30s_1080p30.mp4")
    if clip.exists():
        return clip
    import skimage

    OUT.mkdir(parents=True, exist_ok=True)
    person = Path(skimage.__file__).parent / "data" / "astronaut.png"
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30:duration=30",
        "-loop", "1", "-i", str(person),
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=30",
        "-filter_complex", "[1:v]scale=900:900[p];[0:v][p]overlay=x='90+60*sin(t)':y='500+40*sin(1.3*t)':shortest=1[v]",
        "-map", "[v]", "-map", "2:a", "-c:v", "libx264", "-preset", "veryfast", *(PHONE_GOP if phone else []),
        "-b:v", "12M", "-maxrate", "12M",
        "-bufsize", "24M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
    ]
    with atomic_output(clip) as tmp:
        subprocess.run([*command, str(tmp)], check=True)
    return clip


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB, exit code."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    rss_kib, code = done.stdout.split()
    return wall, int(rss_kib) / 1024, int(code)


def main() -> None:
    for phone in (True, False):
        encoding = "keyframe each second, no B-frames (phone)" if phone else "x264 defaults (long GOPs, B-frames)"
        bench(make_clip(phone), encoding)


def bench(clip: Path, encoding: str) -> None:
    size_mb = clip.stat().st_size / 1e6
    print(f"\nclip: {clip.name}, {size_mb:.1f} MB ({size_mb * 8 / 30:.1f} Mbit/s), 30 s, 1080x1920 at 30 fps, "
          f"{encoding}; {os.cpu_count()} cores")
    runs = {
        "ffmpeg -i clip -f null -": [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(clip), "-f", "null", "-"],
        "preflight --video clip (full analysis)": [str(BIN / "preflight"), "--video", str(clip), "--orientation",
                                                   "video", "--format", "json", "--no-cache"],
        "scenedetect -i clip detect-content": [str(BIN / "scenedetect"), "-i", str(clip), "detect-content"],
    }
    results = {}
    for name, cmd in runs.items():
        if not Path(cmd[0]).exists():
            print(f"  {name:<42} not installed (make bench installs PySceneDetect)")
            continue
        results[name] = measure(cmd)
        wall, rss, code = results[name]
        print(f"  {name:<42} {wall:6.2f} s   peak memory {rss:6.0f} MB   exit {code}")
    ours = results["preflight --video clip (full analysis)"]
    ffmpeg = results["ffmpeg -i clip -f null -"]
    print(f"preflight / ffmpeg decode: {ours[0] / ffmpeg[0]:.2f} (goal <= 1.0, aim 0.5)")
    if "scenedetect -i clip detect-content" in results:
        print(f"preflight / scenedetect detect-content: {ours[0] / results['scenedetect -i clip detect-content'][0]:.2f}")
    print(f"preflight peak memory: {ours[1]:.0f} MB (goal < 400 MB)")


if __name__ == "__main__":
    main()
