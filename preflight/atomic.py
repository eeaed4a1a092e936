"""Writing a file so that readers see the old one or the whole new one, never a part."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


@contextlib.contextmanager
def atomic_output(final: Path):
    """Yield a temporary path beside ``final``; rename it into place only if the block succeeds.

    The temporary name keeps the suffix (ffmpeg picks the container by it) and the process id
    (two runs writing the same output do not share a temporary file).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.part-{os.getpid()}{final.suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
