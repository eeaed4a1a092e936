"""Full default preflight of 30 s 1080p30 clips (and a 2160p one) beside plain decoding and PySceneDetect.

    python bench/speed.py

The clip (generated once into bench/out/) is H.264 at about 12 Mbit/s, a person from
scikit-image's bundled photo drifting over ffmpeg's busy test pattern, encoded twice:

- like a phone: a keyframe every second and no B-frames, the shape taken here as phone-like
  (Android's MediaCodec asks for the keyframe interval in seconds, and camera apps commonly
  ask for one or two; hardware H.264 encoders commonly write no B-frames). Preflight decodes
  only the start of each GOP here.
- with x264's defaults: keyframes up to 250 frames (8 s) apart and B-frames. Preflight has to
  decode every frame of such a stream to sample inside its GOPs.

and a third clip, 12 s of the same at 2160x3840 and 40 Mbit/s like a phone, for memory: decoded
frames, and so the decoder's memory, grow with the picture (the API takes sides up to 3850 px).

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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accuracy import phone_gop  # noqa: E402 - this folder, where the script runs
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


@dataclass(frozen=True)
class Clip:
    name: str
    width: int
    height: int
    seconds: int
    bitrate: str
    phone: bool  # a keyframe each second and no B-frames; else x264's defaults

    @property
    def encoding(self) -> str:
        return "keyframe each second, no B-frames (phone)" if self.phone else "x264 defaults (long GOPs, B-frames)"


CLIPS = (
    Clip("person_30s_1080p30_phone.mp4", 1080, 1920, 30, "12M", phone=True),
    Clip("person_30s_1080p30.mp4", 1080, 1920, 30, "12M", phone=False),
    # The largest frames phones record, for memory: decoded frames grow with the picture.
    Clip("person_12s_2160p30_phone.mp4", 2160, 3840, 12, "40M", phone=True),
)


def make_clip(spec: Clip) -> Path:
    clip = OUT / spec.name
    if clip.exists():
        return clip
    import skimage

    OUT.mkdir(parents=True, exist_ok=True)
    person = Path(skimage.__file__).parent / "data" / "astronaut.png"
    k = spec.width / 1080  # the 1080-wide layout, scaled
    overlay = (f"[1:v]scale={round(900 * k)}:{round(900 * k)}[p];"
               f"[0:v][p]overlay=x='{round(90 * k)}+{round(60 * k)}*sin(t)':y='{round(500 * k)}+{round(40 * k)}*sin(1.3*t)'"
               ":shortest=1[v]")
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={spec.width}x{spec.height}:rate=30:duration={spec.seconds}",
        "-loop", "1", "-i", str(person),
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={spec.seconds}",
        "-filter_complex", overlay,
        "-map", "[v]", "-map", "2:a", "-c:v", "libx264", "-preset", "veryfast", *(phone_gop(30) if spec.phone else []),
        "-b:v", spec.bitrate, "-maxrate", spec.bitrate,
        "-bufsize", f"{2 * int(spec.bitrate[:-1])}M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
        "-movflags", "+faststart",
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
    for spec in CLIPS:
        bench(make_clip(spec), spec)


def bench(clip: Path, spec: Clip) -> None:
    size_mb = clip.stat().st_size / 1e6
    print(f"\nclip: {clip.name}, {size_mb:.1f} MB ({size_mb * 8 / spec.seconds:.1f} Mbit/s), {spec.seconds} s, "
          f"{spec.width}x{spec.height} at 30 fps, {spec.encoding}; {os.cpu_count()} cores")
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
