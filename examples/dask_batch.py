"""Check a large batch of jobs on a Dask cluster through preflight's library API.

    python examples/dask_batch.py jobs/*.job.toml                     # a local cluster, one worker a core
    python examples/dask_batch.py jobs/*.job.toml --scheduler tcp://scheduler:8786

Each task loads one job file and runs ``preflight.check`` on it inside a Dask worker process;
the reports come back as plain dicts (the report's JSON). Dask does the scheduling, retries of
lost workers and data locality; nothing here is a scheduler of its own. The workers need this
package installed and the media reachable at the same paths (a shared file system or object
store mount), as with any Dask job. Exit code: 0 when every job passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def check_job(path: str, metadata_only: bool) -> dict:
    """Runs on a worker: one job file in, its report as JSON-ready data out."""
    from preflight import check
    from preflight.job import JobError, load_job

    try:
        job = load_job(path)
    except JobError as exc:
        return {"name": path, "ok": False, "error": str(exc)}
    report = check(image=job.image, video=job.video, request=job.request, metadata_only=metadata_only)
    return {"name": path, **report.to_dict()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", nargs="+", help="job files (*.job.toml)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler; default: start a local cluster")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local cluster size")
    parser.add_argument("--metadata-only", action="store_true", help="the documented limits only")
    parser.add_argument("--json", action="store_true", help="print every report as one JSON line")
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if not args.scheduler:
        # Processes, one thread each: the pose and person models are CPU-bound native code.
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    failed = 0
    try:
        with Client(args.scheduler or cluster) as client:
            futures = client.map(check_job, args.jobs, metadata_only=args.metadata_only, pure=False)
            for _, report in as_completed(futures, with_results=True):
                failed += not report["ok"]
                if args.json:
                    print(json.dumps(report))
                else:
                    problems = [c["id"] for c in report.get("checks", []) if c["status"] == "fail"]
                    detail = report.get("error") or ", ".join(problems)
                    print(f"{'ok    ' if report['ok'] else 'FAILED'}  {report['name']}  {detail}")
    finally:
        if cluster is not None:
            cluster.close()
    print(f"{len(args.jobs)} jobs, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
