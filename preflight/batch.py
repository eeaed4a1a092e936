"""Many jobs or files in one run: cached by content, the rest in parallel worker processes.

A unit is what gets one report: a job file, a bare media file, or an --image/--video pair.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

from . import __version__
from .cache import Cache
from .config import Config
from .job import JobError, load_job
from .profile import Profile
from .report import Check, Report, Status
from .request import ElementRequest, Request


@dataclass(frozen=True)
class Unit:
    name: str  # what the user named: a job file, a media file, or "image + video"
    request: Request
    image: str | None = None
    video: str | None = None
    files: tuple[str, ...] = ()  # bare media files, role told by content
    job: str | None = None
    error: str | None = None  # a job file that could not be read
    element: ElementRequest | None = None  # a custom element's inputs, checked with the rest


@dataclass
class Result:
    unit: Unit
    report: Report
    cached: bool = False
    visual: dict | None = field(default=None, repr=False)


def _is_url(value: str | None) -> bool:
    return bool(value) and value.lower().startswith(("http://", "https://"))


def job_unit(path: str, defaults: Request, given: Request = Request(), *, allow_outside: bool = False,
             profile: Profile | None = None) -> Unit:
    """A job file's unit. Each request field comes from ``given`` (the command line) if set there,
    else from the job file, else from ``defaults`` (the configuration). ``allow_outside``: the
    job's media may live outside its folder."""
    try:
        job = load_job(path, allow_outside=allow_outside, profile=profile)
    except JobError as exc:
        return Unit(name=path, request=defaults, job=path, error=str(exc))
    # Fields nobody set are fixed in the job file too: the job is where this unit's request lives.
    request = dataclasses.replace(given.filled_from(job.request, defaults), written_in="job")
    return Unit(name=path, request=request, image=job.image, video=job.video, job=path)


def git_files(folder: Path | None = None) -> set[Path] | None:
    """The files git tracks or has staged under ``folder`` (None outside a repository): a job file
    that is not part of the repository does not speak for the media it names."""
    import subprocess

    try:
        done = subprocess.run(["git", "ls-files", "-z", "--cached", "--full-name"], cwd=folder, capture_output=True,
                              timeout=30)
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=folder, capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or top.returncode != 0:
        return None
    root = Path(top.stdout.strip())
    return {(root / name.decode()).resolve() for name in done.stdout.split(b"\0") if name}


def jobs_using(media: str, stop: Path | None = None, known: set[Path] | None = None, *,
               allow_outside: bool = False) -> list[str]:
    """Job files in the media file's folder or above (up to ``stop``) that name it; only those in
    ``known`` when it is given."""
    from .job import JOB_SUFFIX

    target = Path(media).resolve()
    stop = (stop or Path.cwd()).resolve()
    found = []
    folder = target.parent
    while True:
        for candidate in sorted(folder.glob(f"*{JOB_SUFFIX}")):
            if known is not None and candidate.resolve() not in known:
                continue
            try:
                job = load_job(candidate, allow_outside=allow_outside)
            except JobError:
                continue
            if any(v and not _is_url(v) and Path(v).resolve() == target for v in (job.image, job.video)):
                found.append(str(candidate if folder != stop else candidate.relative_to(stop)))
        if folder == stop or folder == folder.parent or stop not in folder.parents:
            break
        folder = folder.parent
    return found


def _local(value: str | None) -> str | None:
    return None if _is_url(value) else value


class _TimedOut(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` on the way swallows it."""


def _alarm(signum, frame):
    raise _TimedOut


def _execute(unit: Unit, profile: Profile, metadata_only: bool, visual: bool,
             progress: Callable | None = None, timeout: float | None = None) -> tuple[dict, dict | None]:
    """One unit's report (as a dict, so it crosses process boundaries) and its visual data,
    given up on after ``timeout`` seconds (a hostile file must not hold a pipeline forever)."""
    import signal
    import threading

    crash_on = os.environ.get("PREFLIGHT_TEST_CRASH_ON")  # the tests' stand-in for a native crash
    if crash_on and crash_on in unit.name:
        os.abort()
    bounded = bool(timeout) and threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")
    if bounded:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return _execute_unbounded(unit, profile, metadata_only, visual, progress)
    except _TimedOut:
        report = Report(profile=profile.id, tool_version=__version__, metadata_only=metadata_only,
                        request=unit.request.resolve(profile),
                        inputs=[{"role": "unit", "path": unit.name}],
                        checks=[Check("run.timeout", "run", Status.FAIL,
                                      f"{unit.name}: gave up after {timeout:g} s (--timeout); the file may be "
                                      "damaged, hostile or far larger than the limits", file=unit.name)])
        return report.to_dict(), None
    finally:
        if bounded:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


# Analyses a worker keeps for the next units: jobs in a batch share files (one character
# picture, clips used twice), and an unchanged file needs analysing once per worker.
# PREFLIGHT_KEPT_ANALYSES=0 keeps none (bench/batch.py measures both side by side).
KEPT_ANALYSES = int(os.environ.get("PREFLIGHT_KEPT_ANALYSES", "32") or 0)


def _groups(units: list[Unit], todo: list[int], workers: int) -> list[list[int]]:
    """The units to run, grouped so that units sharing their heaviest file (the video, else the
    first file or the image) run in one worker, which then analyses that file once; groups are
    split while there are fewer than workers, largest first."""
    by_file: dict[str, list[int]] = {}
    for i in todo:
        unit = units[i]
        by_file.setdefault(unit.video or (unit.files[0] if unit.files else None) or unit.image or unit.name,
                           []).append(i)
    groups = sorted(by_file.values(), key=len, reverse=True)
    while len(groups) < workers and len(groups[0]) > 1:
        largest = groups.pop(0)
        groups = sorted([*groups, largest[:len(largest) // 2], largest[len(largest) // 2:]], key=len, reverse=True)
    return groups


def _execute_group(units: list[Unit], profile: Profile, metadata_only: bool, visual: bool,
                   timeout: float | None) -> list[tuple[dict, dict | None]]:
    """``_execute`` for each of ``units``, in one worker, one after the other."""
    return [_execute(unit, profile, metadata_only, visual, None, timeout) for unit in units]


def _keep_analyses(count: int, models: bool = False) -> None:
    """Keep ``count`` content analyses in this process, and its models between units (only
    where content is analysed: the models module loads numpy)."""
    from .api import keep_analyses

    keep_analyses(count)
    if models or "preflight.analysis.models" in sys.modules:
        from .analysis.models import keep_models

        keep_models(models)


def _execute_unbounded(unit: Unit, profile: Profile, metadata_only: bool, visual: bool,
                       progress: Callable | None) -> tuple[dict, dict | None]:
    from .api import check, check_files

    if unit.error:
        report = Report(profile=profile.id, tool_version=__version__, metadata_only=metadata_only,
                        request=unit.request.resolve(profile), inputs=[{"role": "job", "path": unit.job}],
                        checks=[Check("job.file", "job", Status.FAIL, unit.error, file=unit.job)])
        return report.to_dict(), None
    if unit.files:
        report = check_files(unit.files, request=unit.request, metadata_only=metadata_only, profile=profile,
                             progress=progress)
    else:
        report = check(_local(unit.image), _local(unit.video), request=unit.request, metadata_only=metadata_only,
                       profile=profile, progress=progress, element=unit.element)
        for role, value in (("image", unit.image), ("video", unit.video)):
            if _is_url(value):
                report.checks.insert(0, Check(f"{role}.url", role, Status.SKIP,
                                              "a URL: submit checks it is reachable and within the limits before "
                                              "sending", file=value))
    data = None
    if visual:
        from .visual import visual_data

        data = visual_data(report, profile)
    return report.to_dict(), data


def _cache_key(cache: Cache, unit: Unit, profile: Profile, config: Config, metadata_only: bool,
               visual: bool) -> str | None:
    media = [*unit.files, *(v for v in (unit.image, unit.video) if v),
             *(path for path, _ in (unit.element.media() if unit.element else []))]
    hashes = {}
    for value in media:
        if _is_url(value):
            hashes[value] = "url"
            continue
        digest = cache.file_hash(value)
        if digest is None:
            return None  # unreadable now: not worth caching, and its problem may be fixed any time
        hashes[value] = digest
    return cache.key({
        "profile": cache.file_hash(str(profile.path)) or profile.id,
        "config": config.fingerprint(), "request": unit.request.__dict__, "metadata_only": metadata_only,
        "visual": visual, "files": hashes, "roles": [unit.image, unit.video, list(unit.files)],
        "job": unit.job and cache.file_hash(unit.job),
        "element": unit.element and unit.element.to_dict(),
    })


def _alone(unit: Unit, profile: Profile, metadata_only: bool, visual: bool,
           timeout: float | None) -> tuple[dict, dict | None]:
    """A unit whose worker died, run again in a process of its own: if that dies too, the unit
    is what kills it, and it fails as run.crashed instead of taking the batch down."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        try:
            return pool.submit(_execute, unit, profile, metadata_only, visual, None, timeout).result()
        except BrokenProcessPool:
            pass
    report = Report(profile=profile.id, tool_version=__version__, metadata_only=metadata_only,
                    request=unit.request.resolve(profile), inputs=[{"role": "unit", "path": unit.name}],
                    checks=[Check("run.crashed", "run", Status.FAIL,
                                  f"{unit.name}: the process checking it died (a crash in native media code); the "
                                  "file is probably damaged or hostile", file=unit.name)])
    return report.to_dict(), None


def run(units: list[Unit], *, profile: Profile, config: Config = Config(), metadata_only: bool = False,
        jobs: int | None = None, cache: Cache | None = None, visual: bool = False,
        progress: Callable | None = None, timeout: float | None = None,
        on_unit_done: Callable[[int, int], None] | None = None) -> list[Result]:
    """Reports for every unit, in the order given. ``on_unit_done(done, total)`` hears each unit
    finish (cached ones count at once)."""
    results: list[Result | None] = [None] * len(units)
    keys: list[str | None] = [None] * len(units)
    todo = []
    for i, unit in enumerate(units):
        if cache is not None and not unit.error:
            keys[i] = _cache_key(cache, unit, profile, config, metadata_only, visual)
            hit = cache.get(keys[i]) if keys[i] else None
            if hit is not None:
                results[i] = Result(unit, config.apply(Report.from_dict(hit["report"])), True, hit.get("visual"))
                continue
        todo.append(i)
    finished = len(units) - len(todo)
    tell = on_unit_done or (lambda done, total: None)
    tell(finished, len(units))
    workers = min(jobs or os.cpu_count() or 1, len(todo))
    done: dict[int, tuple[dict, dict | None]] = {}
    groups = _groups(units, todo, workers)
    workers = min(workers, len(groups))
    if workers > 1:
        # spawn, not fork: the parent may hold threads (progress, HTTP) and native libraries.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_keep_analyses,
                                 initargs=(KEPT_ANALYSES, not metadata_only)) as pool:
            futures = {pool.submit(_execute_group, [units[i] for i in group], profile, metadata_only, visual,
                                   timeout): group for group in groups}
            lost = []
            for future in as_completed(futures):
                group = futures[future]
                try:
                    done.update(zip(group, future.result()))
                    finished += len(group)
                    tell(finished, len(units))
                except BrokenProcessPool:
                    lost.extend(group)  # a worker died (native code crashed): one of these units, or a neighbour
        for i in lost:
            done[i] = _alone(units[i], profile, metadata_only, visual, timeout)
            finished += 1
            tell(finished, len(units))
    else:
        # For this run only: a library caller's later checks start afresh.
        _keep_analyses(KEPT_ANALYSES, models=not metadata_only and len(todo) > 1)
        try:
            for i in todo:
                done[i] = _execute(units[i], profile, metadata_only, visual, progress, timeout)
                finished += 1
                tell(finished, len(units))
        finally:
            _keep_analyses(0)
    for i, (report_dict, visual_dict) in done.items():
        timed_out = any(c["id"] in ("run.timeout", "run.crashed") for c in report_dict["checks"])
        if cache is not None and keys[i] and not timed_out:
            cache.put(keys[i], {"report": report_dict, "visual": visual_dict})
        results[i] = Result(units[i], config.apply(Report.from_dict(report_dict)), False, visual_dict)
    if cache is not None:
        cache.save()
    return results  # type: ignore[return-value]
