"""Every example in the three commands' --help and in the ``sh`` blocks of docs/*.md runs in a
shell, as written, in a folder holding the files it names (made from the generated fixtures),
against a real local EvoLink; only the placeholders TASK_ID and ROW are filled in with a task and
a journal row that exist, and a fixed port with a free one. (The README's examples have a test of
their own, which also compares what they print.)"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from submit.fake import FakeEvoLink
from submit_support import SECRET, SEEN

BIN = Path(sys.executable).parent


def examples(tool: str) -> list[str]:
    """The lines under "Examples:" in ``tool --help``."""
    program, *sub = tool.split()
    done = subprocess.run([BIN / program, *sub, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    block = done.stdout.split("Examples:", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def doc_examples() -> list[tuple[str, str]]:
    """(doc file, command line) for every line of every ``sh`` block in docs/, continuations joined."""
    found = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for block in re.findall(r"^```sh\n(.*?)^```", doc.read_text(), flags=re.S | re.M):
            found += [(doc.name, line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    return found


@pytest.fixture
def world(fx, tmp_path):
    """A folder with the files the examples name."""
    from PIL import Image

    Image.open(fx / "image/person_upper.png").convert("RGB").save(tmp_path / "me.jpg", quality=92)
    clip = (fx / "video/person_steady.mp4").read_bytes()
    for name in ("dance.mp4", "clip1.mp4", "clip2.mov"):
        (tmp_path / name).write_bytes(clip)
    (tmp_path / "photo.png").write_bytes((fx / "image/person_upper.png").read_bytes())
    (tmp_path / "jobs").mkdir()
    for n in (1, 2):
        (tmp_path / "jobs" / f"take{n}.job.toml").write_text(
            f'image = "../me.jpg"\nvideo = "../dance.mp4"\norientation = "video"\nprompt = "take {n}"\n')
    # The jobs' media sit beside the jobs folder: this configuration says that is allowed.
    (tmp_path / "preflight.toml").write_text("allow_media_outside_job = true\n")
    # A custom element's source (docs/elements.md), one too long for it, and a job naming it.
    (tmp_path / "ann.mp4").write_bytes((fx / "video/element_face.mp4").read_bytes())
    (tmp_path / "ann_long.mp4").write_bytes((fx / "video/element_9s.mp4").read_bytes())
    for name in ("me.jpg", "dance.mp4"):
        (tmp_path / "jobs" / name).write_bytes((tmp_path / name).read_bytes())
    (tmp_path / "jobs" / "ann.job.toml").write_text(
        'image = "me.jpg"\nvideo = "dance.mp4"\norientation = "video"\nelement = "Ann"\nprompt = "Ann dances"\n')
    return tmp_path


def _environment(world: Path, server) -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "EVOLINK_API_KEY": SECRET,
            "EVOLINK_API_BASE": server.url, "EVOLINK_FILES_BASE": server.url,
            "SUBMIT_JOURNAL": str(world / "journal.sqlite3"), "SUBMIT_CONFIG": str(world / "absent.toml"),
            "PREFLIGHT_CACHE_DIR": str(world / "cache")}  # --clear-cache must not empty the machine's own


def _placeholders_filled(line: str, world: Path, server) -> str:
    if "TASK_ID" in line or "ROW" in line:
        with sqlite3.connect(world / "journal.sqlite3") as db:
            # A task this test's server holds (the --fake-server example's server is gone).
            row, task = db.execute("SELECT id, task_id FROM submissions WHERE task_id IS NOT NULL AND "
                                   "api_base = ? AND json_extract(body, '$.model') = 'kling-v3-motion-control' "
                                   "ORDER BY id LIMIT 1", (server.url,)).fetchone()
        line = line.replace("TASK_ID", task).replace("ROW", str(row))
    return line


def _check(line: str, done: subprocess.CompletedProcess) -> None:
    SEEN.extend([done.stdout, done.stderr])
    assert "Traceback" not in done.stderr, (line, done.stderr[-2000:])
    assert done.returncode in (0, 1), (line, done.returncode, done.stdout[-1500:], done.stderr[-1500:])
    if line.startswith("submit") and "--wait" in line:
        assert done.returncode == 0 and "completed" in done.stdout, (line, done.stdout[-1500:], done.stderr[-1500:])
    assert not re.search(r"^(Usage|Error):", done.stderr, flags=re.M), (line, done.stderr[-1500:])


def _serves(line: str, cwd: Path, env: dict) -> None:
    """A line that starts a server runs until it says where it listens, then is stopped."""
    import select
    import signal
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = subprocess.Popen(["bash", "-c", line.replace("8765", str(port))], cwd=cwd, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        ready, _, _ = select.select([child.stderr], [], [], 60)
        first = child.stderr.readline() if ready else ""  # the server says where it listens on stderr
    finally:
        os.killpg(child.pid, signal.SIGINT)
        _, rest = child.communicate(timeout=60)
    assert f"listening on http://127.0.0.1:{port}" in first, (line, first, rest[-1500:])
    assert "Traceback" not in rest


def _run(line: str, cwd: Path, env: dict, confirm: bool) -> subprocess.CompletedProcess:
    """The line in bash; with ``confirm``, on a terminal where a person answers "y" to the
    cost question (the example is meant to be run by hand)."""
    if not confirm:
        return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    import pty

    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"y\n")
        done = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, stdin=terminal, capture_output=True,
                              text=True, timeout=300)
    finally:
        os.close(terminal)
        os.close(controller)
    return done


@pytest.mark.parametrize("tool", ["preflight", "submit", "submit element"])
def test_every_help_example_runs(world, tool):
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1) as server:
        env = _environment(world, server)
        lines = examples(tool)
        assert lines, f"{tool} --help shows no example"
        for line in lines:
            line = _placeholders_filled(line, world, server)
            _check(line, _run(line, world, env,
                              confirm=tool.startswith("submit") and "--yes" not in line and "--dry-run" not in line))


def test_every_docs_example_runs(world):
    lines = doc_examples()
    assert {doc for doc, _ in lines} >= {"checks.md", "prep.md", "submit.md", "elements.md"}
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1) as server:
        env = _environment(world, server)
        for doc, line in lines:
            if "fake-server --port" in line:
                _serves(line, world, env)
                continue
            line = _placeholders_filled(line, world, server)
            confirm = line.startswith("submit") and "--yes" not in line and "--dry-run" not in line
            _check(line, _run(line, world, env, confirm=confirm))
