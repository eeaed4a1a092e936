"""Full default preflight of 30 s 1080p30 clips (and 2160p ones) beside plain decoding and PySceneDetect.

    python bench/speed.py

The clip (generated once into bench/out/) is H.264 at about 12 Mbit/s, a person from
scikit-image's bundled photo drifting over ffmpeg's busy test pattern, encoded twice:

- like a phone: a keyframe every second and no B-frames, the shape taken here as phone-like
  (Android's MediaCodec asks for the keyframe interval in seconds, and camera apps commonly
  ask for one or two; hardware H.264 encoders commonly write no B-frames). Preflight decodes
  only the start of each GOP here.
- with x264's defaults: keyframes up to 250 frames (8 s) apart and B-frames. Preflight has to
  decode every frame of such a stream to sample inside its GOPs.

and, for memory (decoded frames, and so the decoder's memory, grow with the picture; the API takes
sides up to 3850 px), 2160x3840 clips like phones record them: 12 s of H.264 at 40 Mbit/s, 12 s
of HEVC 10-bit at 40 Mbit/s (an iPhone's default), and 30 s at 60 fps (H.264, 60 Mbit/s).

Printed as one table, all measured in this run on this machine: for each clip, the wall time of
`preflight --video clip` (start-up and model loading included), of `ffmpeg -i clip -f null -` and
of `scenedetect -i clip detect-content`; preflight's ratio to plain decoding; the peak resident
memory and the CPU seconds (user + system) of each process; and the machine's core count.
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

# Runs a command and prints its peak RSS (ru_maxrss of the only child, in KiB on Linux), its CPU
# seconds (user + system, threads included) and its exit code.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
    "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(use.ru_maxrss, use.ru_utime + use.ru_stime, code)\n"
)


@dataclass(frozen=True)
class Clip:
    name: str
    width: int
    height: int
    seconds: int
    bitrate: str
    phone: bool  # a keyframe each second and no B-frames; else x264's defaults
    rate: int = 30
    hevc10: bool = False  # HEVC Main 10 (what iPhones record) instead of H.264

    @property
    def encoding(self) -> str:
        codec = "HEVC 10-bit" if self.hevc10 else "H.264"
        return f"{codec}, " + ("keyframe each second, no B-frames (phone)" if self.phone
                               else "x264 defaults (long GOPs, B-frames)")


CLIPS = (
    Clip("person_30s_1080p30_phone.mp4", 1080, 1920, 30, "12M", phone=True),
    Clip("person_30s_1080p30.mp4", 1080, 1920, 30, "12M", phone=False),
    # The largest frames phones record, for memory: decoded frames grow with the picture.
    Clip("person_12s_2160p30_phone.mp4", 2160, 3840, 12, "40M", phone=True),
    Clip("person_12s_2160p30_hevc10_phone.mp4", 2160, 3840, 12, "40M", phone=True, hevc10=True),
    Clip("person_30s_2160p60_phone.mp4", 2160, 3840, 30, "60M", phone=True, rate=60),
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
        "-f", "lavfi", "-i", f"testsrc2=size={spec.width}x{spec.height}:rate={spec.rate}:duration={spec.seconds}",
        "-loop", "1", "-i", str(person),
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={spec.seconds}",
        "-filter_complex", overlay,
        "-map", "[v]", "-map", "2:a", *_video_codec(spec),
        "-b:v", spec.bitrate, "-maxrate", spec.bitrate,
        "-bufsize", f"{2 * int(spec.bitrate[:-1])}M", "-c:a", "aac", "-b:a", "128k",
        "-movflags", "+faststart",
    ]
    with atomic_output(clip) as tmp:
        subprocess.run([*command, str(tmp)], check=True)
    return clip


def _video_codec(spec: Clip) -> list[str]:
    if spec.hevc10:
        gop = f"keyint={spec.rate}:min-keyint={spec.rate}:scenecut=0:bframes=0:log-level=error"
        return ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1",
                "-x265-params", gop]
    return ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            *(phone_gop(spec.rate) if spec.phone else [])]


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    rss_mb: float  # peak resident memory
    cpu: float  # user + system seconds, every thread
    code: int


def measure(cmd: list[str]) -> Run:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    rss_kib, cpu, code = done.stdout.split()
    return Run(wall, int(rss_kib) / 1024, float(cpu), int(code))


def main() -> None:
    rows = [bench(make_clip(spec), spec) for spec in CLIPS]
    print(f"\n{os.cpu_count()} cores; every figure from this run. preflight = `preflight --video clip` with full "
          "analysis (start-up and models included); decode = `ffmpeg -i clip -f null -`; ratio = preflight / decode "
          "(goal <= 1.0); memory = peak resident; CPU = user + system seconds.\n")
    header = ("clip", "preflight s", "decode s", "ratio", "scenedetect s", "preflight MB", "decode MB",
              "preflight CPU s", "decode CPU s")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def bench(clip: Path, spec: Clip) -> tuple[str, ...]:
    """Each command once on ``clip``; the table row."""
    size_mb = clip.stat().st_size / 1e6
    print(f"\nclip: {clip.name}, {size_mb:.1f} MB ({size_mb * 8 / spec.seconds:.1f} Mbit/s), {spec.seconds} s, "
          f"{spec.width}x{spec.height} at {spec.rate} fps, {spec.encoding}")
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
        run = results[name] = measure(cmd)
        print(f"  {name:<42} {run.wall:6.2f} s   peak memory {run.rss_mb:6.0f} MB   CPU {run.cpu:6.2f} s   "
              f"exit {run.code}")
    ours = results["preflight --video clip (full analysis)"]
    ffmpeg = results["ffmpeg -i clip -f null -"]
    scenes = results.get("scenedetect -i clip detect-content")
    print(f"preflight / ffmpeg decode: {ours.wall / ffmpeg.wall:.2f} (goal <= 1.0); peak memory {ours.rss_mb:.0f} MB "
          "(goal < 400 MB)")
    return (f"{clip.name} ({spec.encoding})", f"{ours.wall:.2f}", f"{ffmpeg.wall:.2f}", f"{ours.wall / ffmpeg.wall:.2f}",
            f"{scenes.wall:.2f}" if scenes else "-", f"{ours.rss_mb:.0f}", f"{ffmpeg.rss_mb:.0f}", f"{ours.cpu:.1f}",
            f"{ffmpeg.cpu:.1f}")


if __name__ == "__main__":
    main()
