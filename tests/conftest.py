"""Shared fixtures: generated media (built once per session) and the optional shared corpus."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("PREFLIGHT_CORPUS", ROOT.parent / "shared" / "corpus"))

sys.path.insert(0, str(ROOT / "fixtures"))
sys.path.append(str(ROOT / "bench"))  # after the packages: a bench script must never shadow one
import make_fixtures  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """The result cache of every command run by the tests goes to a throwaway folder."""
    os.environ["PREFLIGHT_CACHE_DIR"] = str(tmp_path_factory.mktemp("preflight-cache"))


@pytest.fixture(scope="session")
def fx(tmp_path_factory) -> Path:
    """The generated fixtures, including the 100 MB edge files (written sparse)."""
    return make_fixtures.build(tmp_path_factory.mktemp("fixtures"), large=True)


@pytest.fixture(scope="session")
def corpus() -> dict[str, dict]:
    """The labelled real-media corpus, by file name; tests using it skip when it is absent."""
    manifest = CORPUS / "manifest.json"
    if not manifest.is_file():
        pytest.skip(f"no corpus at {CORPUS} (set PREFLIGHT_CORPUS to use one elsewhere)")
    entries = json.loads(manifest.read_text())
    return {Path(e["file"]).name: dict(e, path=str(CORPUS / e["file"])) for e in entries}


class CliResult:
    def __init__(self, done: subprocess.CompletedProcess):
        self.code = done.returncode
        self.stdout = done.stdout
        self.stderr = done.stderr

    def json(self) -> dict:
        return json.loads(self.stdout)


def run_cli(*args: str, env: dict | None = None) -> CliResult:
    """Run the real command in a child process, as a user or a script would."""
    done = subprocess.run(
        [sys.executable, "-m", "preflight", *map(str, args)],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return CliResult(done)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def on_a_terminal(argv: list[str], cwd: Path, env: dict | None = None) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal, as a person at a shell would: (exit code, what the
    terminal showed, stdout)."""
    import os
    import pty
    import select

    controller, terminal = pty.openpty()
    child = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    shown = bytearray()
    deadline = time.time() + 300
    while time.time() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the child closed its end
                break
            if not data:
                break
            shown += data
        elif child.poll() is not None:
            break
    stdout = child.communicate(timeout=60)[0].decode()
    os.close(controller)
    return child.returncode, shown.decode(errors="replace"), stdout
