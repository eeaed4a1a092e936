"""Helpers for the submit tests: a secret that must never be seen, and a runner for the real
``submit`` command that keeps everything it printed for the secret check."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import CliResult

# A key that looks like a real one and appears nowhere else, so a grep for it cannot match by accident.
SECRET = f"sk-test-{uuid.uuid4().hex}"

# Everything any submit test printed, wrote or raised; the secret guard greps it.
SEEN: list[str] = []


def run_submit(*args, env: dict | None = None, timeout: float = 180, stdin: str | None = None) -> CliResult:
    done = subprocess.run([sys.executable, "-m", "submit.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, input=stdin)
    SEEN.extend([done.stdout, done.stderr])
    assert "Traceback" not in done.stderr, done.stderr
    return CliResult(done)


def seen_files(root: Path) -> list[str]:
    """The bytes of every small file under ``root`` (journals, configs, logs), as text."""
    out = []
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            out.append(path.read_bytes().decode("latin-1"))
    return out


def env_for(server, folder: Path) -> dict:
    """The environment that points ``submit`` at a local EvoLink ``server`` with the secret key,
    a journal in ``folder`` and no configuration file."""
    return {"EVOLINK_API_KEY": SECRET, "EVOLINK_API_BASE": server.url, "EVOLINK_FILES_BASE": server.url,
            "SUBMIT_JOURNAL": str(folder / "journal.sqlite3"), "SUBMIT_CONFIG": str(folder / "absent.toml")}


@pytest.fixture(autouse=True)
def secret_guard(capfd, tmp_path):
    """The key must appear in no output, journal, config or log of any test (issue 5, point 7).
    Autouse in every test module that imports it."""
    SEEN.clear()
    yield
    out, err = capfd.readouterr()
    for text in [*SEEN, out, err, *seen_files(tmp_path)]:
        assert SECRET not in text
