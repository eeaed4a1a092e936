"""Batch runs and the result cache, measured in one run.

    python bench/batch.py [--jobs-count 50]

50 job files over 10 distinct clips (a person, 4 s, 512x512) and one image, each job with its own
prompt. Measured twice: with every job analysing its files (PREFLIGHT_KEPT_ANALYSES=0, full work
per job), and as the tool runs by default, a worker keeping the analyses of unchanged files:
1. first run, one worker, empty cache;
2. first run, one worker a core, empty cache. Beside one worker on all cores it shows what more
   workers add; beside one worker held to one core (full analysis only), how the work scales with
   cores: one worker already keeps both cores busy with its decoder's and models' threads;
3. second run over the unchanged jobs, from the cache: the goal is under 1 s, the whole
   command (interpreter start-up included).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))

from preflight.ffmpeg_binary import ffmpeg_exe  # noqa: E402

OUT = ROOT / "bench" / "out" / "batch"
PREFLIGHT = Path(sys.executable).parent / "preflight"


def make_jobs(count: int) -> list[Path]:
    import make_fixtures

    fixtures = make_fixtures.build(ROOT / "bench" / "out" / "fixtures", large=False)
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "media").mkdir(parents=True)
    shutil.copy(fixtures / "image/person_upper.png", OUT / "media/person.png")
    clips = []
    for n in range(10):  # distinct bytes (a different title tag), the same picture: a stream copy
        clip = OUT / "media" / f"clip{n}.mp4"
        subprocess.run([ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-i", fixtures / "video/person_steady.mp4",
                        "-c", "copy", "-metadata", f"title=clip {n}", clip], check=True)
        clips.append(clip)
    jobs = []
    for n in range(count):
        job = OUT / f"job{n:02d}.job.toml"
        job.write_text(f'image = "media/person.png"\nvideo = "media/{clips[n % 10].name}"\norientation = "image"\n'
                       f'prompt = "take {n}"\nkeep_sound = false\n')
        jobs.append(job)
    return jobs


def timed(args: list, cache: Path, env: dict | None = None, one_core: bool = False) -> float:
    """Wall seconds of one preflight command; ``one_core``: the process and its children may
    run on one core only (what one worker gets when workers are as many as cores)."""
    first_core = min(os.sched_getaffinity(0))
    started = time.perf_counter()
    done = subprocess.run([PREFLIGHT, *args, "--cache-dir", cache, "--format", "jsonl"], capture_output=True,
                          text=True, env={**os.environ, **(env or {})},
                          preexec_fn=(lambda: os.sched_setaffinity(0, {first_core})) if one_core else None)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1) or len(done.stdout.splitlines()) != sum(str(a).endswith(".toml") for a in args):
        raise SystemExit(f"preflight failed: {done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs-count", type=int, default=50)
    count = parser.parse_args().jobs_count
    jobs = make_jobs(count)
    cores = os.cpu_count() or 1
    cache = OUT / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    fresh = {"PREFLIGHT_KEPT_ANALYSES": "0"}  # every job analyses its files, as before analyses were kept
    serial_fresh = timed([*jobs, "--jobs", "1"], cache, fresh)
    shutil.rmtree(cache, ignore_errors=True)
    one_core_fresh = timed([*jobs, "--jobs", "1"], cache, fresh, one_core=True)
    shutil.rmtree(cache, ignore_errors=True)
    parallel_fresh = timed([*jobs, "--jobs", str(cores)], cache, fresh)
    shutil.rmtree(cache, ignore_errors=True)
    serial = timed([*jobs, "--jobs", "1"], cache)
    shutil.rmtree(cache, ignore_errors=True)
    parallel = timed([*jobs, "--jobs", str(cores)], cache)
    cached = min(timed([*jobs], cache) for _ in range(3))
    print(f"{count} jobs (full analysis, 4 s clips), {cores} cores")
    print("  each job analysing its files (PREFLIGHT_KEPT_ANALYSES=0):")
    print(f"    first run, 1 worker        {serial_fresh:7.2f} s")
    print(f"    first run, {cores} workers       {parallel_fresh:7.2f} s  ({serial_fresh / parallel_fresh:.2f}x)")
    print(f"    first run, 1 worker, 1 core {one_core_fresh:7.2f} s  ({cores} workers on {cores} cores: "
          f"{one_core_fresh / parallel_fresh:.2f}x)")
    print("  a worker keeping the analyses of unchanged files (the default; 11 distinct files here):")
    print(f"    first run, 1 worker        {serial:7.2f} s  ({serial_fresh / serial:.2f}x faster)")
    print(f"    first run, {cores} workers       {parallel:7.2f} s  ({serial / parallel:.2f}x; ideal {cores}x)")
    print(f"  second run, from the cache   {cached:7.2f} s  (goal under 1 s, whole command)")


if __name__ == "__main__":
    main()
