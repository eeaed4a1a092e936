"""Writing a file so that readers see the old one or the whole new one, never a part, and so
that nobody else can choose where the bytes go.

The bytes are written inside a fresh private folder beside the destination (``mkdtemp``: an
unpredictable name, created exclusively, mode 0700), then renamed into place. A file or
symlink planted in a shared output folder under a guessable temporary name is never opened or
followed; a planted symlink at the destination itself is replaced, not written through.

A process killed before it could clean up leaves its private folder behind; the folder's name
carries the process id, and the next write into the same place removes the folders of
processes that no longer run (only those this user owns).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

STALE_PREFIX = ".part-"
_STALE = re.compile(rf"^{re.escape(STALE_PREFIX)}(\d+)-")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # somebody else's process
    return True


def clear_stale_parts(folder: Path) -> list[Path]:
    """Remove the private folders left in ``folder`` by killed runs of this user; returns them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = _STALE.match(entry.name)
        if not found or int(found.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not entry.is_dir(follow_symlinks=False) or info.st_uid != os.geteuid() or _running(int(found.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_output(final: Path):
    """Yield a temporary path for ``final``; rename it into place only if the block succeeds.

    The temporary file keeps the suffix (ffmpeg picks the container by it).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    clear_stale_parts(final.parent)
    workdir = Path(tempfile.mkdtemp(prefix=f"{STALE_PREFIX}{os.getpid()}-", dir=final.parent))
    tmp = workdir / f"output{final.suffix}"
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def write_problem(exc: OSError) -> str:
    """Why a write failed, in words (``mkdir`` says "File exists" when a folder on the path is a file)."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return "a part of its path is a file, not a folder"
    return exc.strerror or str(exc)


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
