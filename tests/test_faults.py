"""Issue 7: the fault corpus through preflight and prep, and submit against a misbehaving
server. Every outcome goes into docs/faults.md, which this module (with test_hostile.py) writes:
the table docs/hostile-inputs.md points to is this run's, not written by hand."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import fault_table
from conftest import ROOT, sha256
from fault_table import ROWS
from submit.fake import FakeEvoLink
from submit_support import SECRET, run_submit

sys.path.insert(0, str(ROOT / "fixtures"))
import make_faults  # noqa: E402

TIMEOUT = 60  # preflight's --timeout in these runs; a run must end well within it


@pytest.fixture(scope="module")
def faults(tmp_path_factory, fx):
    out = tmp_path_factory.mktemp("faults")
    entries = make_faults.build(out, fx)
    yield out, entries
    for entry in entries:  # let pytest remove the folder
        path = out / entry["file"]
        if path.exists() and not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    fault_table.write()


def _cell(text: str) -> str:
    return fault_table.cell(text)


def _name(file: str) -> str:
    from preflight.formats.printable import printable

    return f"`{printable(file)}`"


def _preflight(folder: Path, entry: dict) -> tuple[dict, subprocess.CompletedProcess, float]:
    flag = "--image" if entry["role"] == "image" else "--video"
    started = time.monotonic()
    # "--option=value" so that a file name starting with a dash is never read as an option.
    done = subprocess.run([sys.executable, "-m", "preflight", f"{flag}={entry['file']}", "--format", "json",
                           "--no-cache", "--timeout", str(TIMEOUT)], cwd=folder, capture_output=True, text=True,
                          timeout=TIMEOUT + 60)
    return entry, done, time.monotonic() - started


def test_preflight_on_every_fault(faults):
    folder, entries = faults
    before = {e["file"]: sha256(folder / e["file"]) for e in entries if (folder / e["file"]).is_file()
              and os.access(folder / e["file"], os.R_OK)}
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda e: _preflight(folder, e), entries))
    problems = []
    for entry, done, elapsed in runs:
        name = entry["file"]
        if "Traceback" in done.stderr or done.returncode not in (0, 1):
            problems.append(f"{name!r}: exit {done.returncode}: {done.stderr[-400:]}")
            continue
        report = json.loads(done.stdout)
        failed = [c for c in report["checks"] if c["status"] == "fail"]
        if done.returncode != entry["exit"] and not (entry.get("needs_non_root") and os.geteuid() == 0):
            problems.append(f"{name!r}: exit {done.returncode}, expected {entry['exit']}: "
                            f"{[c['message'] for c in failed]}")
        if elapsed > TIMEOUT + 30:
            problems.append(f"{name!r}: took {elapsed:.0f} s")
        first = failed[0] if failed else None
        if first and first["id"].endswith((".readable", ".timeout")):
            # An unusable file's message names the file, for logs that mix many.
            if os.path.basename(name) not in first["message"]:
                problems.append(f"{name!r}: message does not name the file: {first['message']}")
        verdict = f"{first['id']}: {first['message']}" if first else "passes"
        ROWS["preflight"].append(f"| {_name(name)} | {_cell(entry['what'])} | {done.returncode} | {_cell(verdict)} |")
    assert not problems, "\n".join(problems)
    after = {f: sha256(folder / f) for f in before}
    assert after == before  # inputs never modified
    # Every run in its own process: the largest of them stays bounded even for the bombs.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mb < 1500, f"a preflight run peaked at {peak_mb:.0f} MB"


def test_prep_on_every_fault(faults, tmp_path):
    folder, entries = faults
    usable = entries  # directories, loops and unreadable files included: prep must refuse them in words
    before = {e["file"]: sha256(folder / e["file"]) for e in entries if (folder / e["file"]).is_file()
              and os.access(folder / e["file"], os.R_OK)}

    def prep(entry):
        out = tmp_path / f"out{entries.index(entry)}"
        done = subprocess.run([sys.executable, "-m", "prep", f"--{entry['role']}={entry['file']}", "--metadata-only",
                               "-o", str(out), "--format", "json"], cwd=folder, capture_output=True, text=True,
                              timeout=300)
        return entry, out, done

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(prep, usable))
    problems = []
    for entry, out, done in runs:
        name = entry["file"]
        if "Traceback" in done.stderr or done.returncode not in (0, 1, 2):
            problems.append(f"{name!r}: exit {done.returncode}: {done.stderr[-400:]}")
            continue
        leftovers = [p.name for p in out.rglob(".*part*")] if out.exists() else []
        if leftovers:
            problems.append(f"{name!r}: half-written files left: {leftovers}")
        if done.returncode == 0:
            result = json.loads(done.stdout)
            outputs = [o for o in result["outputs"] if o["changed"]]
            if not result["preflight"]["ok"]:
                problems.append(f"{name!r}: exit 0 but the outputs fail preflight")
            did = "fixed: " + ", ".join(Path(o["path"]).name for o in outputs) if outputs else "nothing to change"
        else:
            said = done.stdout.strip() or done.stderr.strip()
            try:
                parsed = json.loads(done.stdout)
                said = "; ".join(i["refused"] for i in parsed["plan"] if i.get("refused")) or said
            except ValueError:
                pass
            if not said:
                problems.append(f"{name!r}: refused without a word")
            did = f"refused: {said}"
        ROWS["prep"].append(f"| {_name(name)} | {done.returncode} | {_cell(did)} |")
    assert not problems, "\n".join(problems)
    assert {f: sha256(folder / f) for f in before} == before


SUBMIT_FAULTS = [
    # (label, fault, expected exit, expected error code or None for success)
    ("connection reset before the answer", {"kind": "drop", "times": 1}, 0, None),
    ("answer lost after the task was created", {"kind": "drop_after", "times": 1}, 0, None),
    ("slow answer (3 s)", {"kind": "slow", "delay": 3.0}, 0, None),
    ("malformed (truncated) JSON", {"kind": "malformed", "status": 200, "times": -1}, 4, "malformed_response"),
    ("HTML error page, 502", {"kind": "html", "status": 502, "times": -1}, 4, "upstream_error"),
    ("401", {"kind": "status", "status": 401, "times": -1}, 2, "unauthorized"),
    ("402 insufficient credits", {"kind": "status", "status": 402, "times": -1}, 2, "insufficient_quota"),
    ("403", {"kind": "status", "status": 403, "times": -1}, 2, "permission_denied"),
    ("404", {"kind": "status", "status": 404, "times": -1}, 2, "task_not_found"),
    ("413", {"kind": "status", "status": 413, "times": -1}, 2, "payload_too_large"),
    ("429 with Retry-After: 1, once", {"kind": "status", "status": 429, "retry_after": "1"}, 0, None),
    ("429 without Retry-After, once", {"kind": "status", "status": 429}, 0, None),
    ("429 every time", {"kind": "status", "status": 429, "times": -1}, 4, "rate_limit_exceeded"),
    ("500, twice", {"kind": "status", "status": 500, "times": 2}, 0, None),
    ("503 every time", {"kind": "status", "status": 503, "times": -1}, 4, "service_unavailable"),
]


@pytest.mark.parametrize("label,fault,exit_code,error", SUBMIT_FAULTS, ids=[f[0] for f in SUBMIT_FAULTS])
def test_submit_create_under_fault(fx, tmp_path, label, fault, exit_code, error):
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1) as server:
        server.inject(route="POST /v1/videos/generations", **fault)
        env = {"EVOLINK_API_KEY": SECRET, "EVOLINK_API_BASE": server.url, "EVOLINK_FILES_BASE": server.url,
               "SUBMIT_JOURNAL": str(tmp_path / "journal.sqlite3"), "SUBMIT_CONFIG": str(tmp_path / "none.toml")}
        run = run_submit("--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
                         "--orientation", "image", "--yes", "--metadata-only", "--format", "json", env=env)
        listed = run_submit("list", "--format", "json", env=env).json()["tasks"]
        created = set(server.tasks)
        charged = server.used_credits + (10_000 - server.credits)
    assert SECRET not in run.stdout + run.stderr
    assert run.code == exit_code, run.stdout + run.stderr
    result = run.json()
    if error:
        assert result["error"]["code"] == error
    journalled = {e["task_id"] for e in listed if e["task_id"]}
    assert created <= journalled  # every task the server created is in the journal
    assert len(created) <= 1  # nothing created (and paid) twice
    assert charged == pytest.approx(4 * 8.1648 * len(created))
    ROWS["submit"].append(f"| {label} | {run.code} | {result['error']['code'] if result.get('error') else '-'} | "
                          f"{len(created)} / {len(journalled)} | {charged:g} |")


def test_submit_read_timeout_is_retried_with_the_same_key(fx):
    """The answer to the POST takes longer than the client waits: it is sent again with the same
    Idempotency-Key, and however the two sends interleave, one task is created."""
    from submit import Client, RetryPolicy
    from submit.body import generation_body
    from preflight.profile import load_profile
    from preflight.request import Request

    profile = load_profile("kling-v3-motion-control")
    with FakeEvoLink(api_key=SECRET) as server, \
            Client(SECRET, api_base=server.url, files_base=server.url, timeout=1.0,
                   retry=RetryPolicy(base_delay=2.0, max_delay=2.0)) as client:
        body = generation_body(profile, Request(orientation="image").resolve(profile),
                               client.upload_file(fx / "image/person_upper.png").file_url,
                               client.upload_file(fx / "video/person_steady.mp4").file_url)
        server.inject(route="POST /v1/videos/generations", kind="slow", delay=1.5)
        task = client.create_task(body)
        created = set(server.tasks)
    # Whichever send the server finished first created the task; the other got the same one.
    assert created == {task.id}
    ROWS["submit"].append("| read timeout (answer slower than the client waits), once | 0 | - | 1 / 1 "
                          f"| {4 * 8.1648:g} |")


def test_submit_with_nobody_listening(fx, tmp_path):
    with FakeEvoLink(api_key=SECRET) as server:
        url = server.url  # the port is closed again when the block ends
    env = {"EVOLINK_API_KEY": SECRET, "EVOLINK_API_BASE": url, "EVOLINK_FILES_BASE": url,
           "SUBMIT_JOURNAL": str(tmp_path / "journal.sqlite3"), "SUBMIT_CONFIG": str(tmp_path / "none.toml")}
    run = run_submit("--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
                     "--orientation", "image", "--yes", "--metadata-only", "--format", "json", env=env)
    assert run.code == 4 and run.json()["error"]["code"] == "connection_error"
    assert SECRET not in run.stdout + run.stderr
    ROWS["submit"].append("| connection refused (nobody listening) | 4 | connection_error | 0 / 0 | 0 |")


def test_submit_wait_and_download_under_fault(fx, tmp_path):
    """The task-level and download faults, in one journal: fail, hang, expire, cut."""
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1) as server:
        env = {"EVOLINK_API_KEY": SECRET, "EVOLINK_API_BASE": server.url, "EVOLINK_FILES_BASE": server.url,
               "SUBMIT_JOURNAL": str(tmp_path / "journal.sqlite3"), "SUBMIT_CONFIG": str(tmp_path / "none.toml")}
        args = ["--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4", "--orientation",
                "image", "--yes", "--metadata-only", "--format", "json", "--wait", "--poll-interval", "0.05",
                "--out", tmp_path / "results", "--again"]  # the same inputs each time, on purpose
        cases = []
        server.inject(route="task", kind="fail", code="generation_timeout")
        cases.append(("task fails (generation_timeout)", run_submit(*args, env=env), 1, "generation_timeout"))
        server.inject(route="task", kind="stuck")
        cases.append(("task pending forever (--timeout 1)", run_submit(*args, "--timeout", "1", env=env), 5,
                      "wait_timeout"))
        server.inject(route="GET /results", kind="cut")
        cases.append(("download cut in the middle", run_submit(*args, env=env), 0, None))
        done = run_submit(*args, env=env)
        server.advance(25 * 3600)
        task_id = done.json()["task_id"]
        cases.append(("result link expired (25 h later)",
                      run_submit("download", task_id, "--out", tmp_path / "late", "--format", "json", env=env), 4,
                      "result_link_expired"))
        listed = run_submit("list", "--format", "json", env=env).json()["tasks"]
        created = set(server.tasks)
    for label, run, exit_code, error in cases:
        assert run.code == exit_code, (label, run.stdout, run.stderr)
        result = run.json()
        assert (result["error"] or {}).get("code") == error, label
        ROWS["submit"].append(f"| {label} | {run.code} | {error or '-'} | - | - |")
    assert created == {e["task_id"] for e in listed}
    assert all(SECRET not in run.stdout + run.stderr for _, run, _, _ in cases)
