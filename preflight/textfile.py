"""Reading the small text files a user or a repository hands us (jobs, configurations,
profiles) with the same distrust as media: bounded in bytes and never blocking.

A job file in a repository can be a symlink to ``/dev/zero``, a FIFO nobody writes to, a device
or a 600 MB blob. ``Path.read_text`` would read the first until memory ran out and wait on the
second forever; here each is refused in words, before more than ``max_bytes`` is read.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

from .errors import PreflightError

# Far above any hand-written job, configuration or profile (the bundled profile is 12 kB).
MAX_TEXT_BYTES = 1_000_000


class TextFileError(PreflightError):
    """The file cannot be used; the message names it and says why."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_text(path: str | Path, *, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The file's text (UTF-8), or ``TextFileError``; ``FileNotFoundError`` passes through so
    callers can word a missing file their own way."""
    name = os.fspath(path)
    if isinstance(name, str) and "\0" in name:
        raise TextFileError(f"{name!r}: a file name cannot contain a NUL character")
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise TextFileError(f"{name}: cannot be opened ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)  # what was opened, not what the name pointed to a moment ago
        if not stat.S_ISREG(info.st_mode):
            raise TextFileError(f"{name}: is {_kind(info.st_mode)}, not a text file")
        if info.st_size > max_bytes:
            raise TextFileError(f"{name}: {info.st_size:,} bytes, more than the {max_bytes:,} a file of this kind "
                                "may have")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:  # it grew after fstat (a file still being written)
                raise TextFileError(f"{name}: more than the {max_bytes:,} bytes a file of this kind may have")
            chunks.append(chunk)
    except OSError as exc:
        raise TextFileError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TextFileError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def read_toml(path: str | Path, *, max_bytes: int = MAX_TEXT_BYTES) -> dict:
    """A TOML file's table, with every way it can be unusable as ``TextFileError``."""
    text = read_text(path, max_bytes=max_bytes)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TextFileError(f"{os.fspath(path)}: not valid TOML ({exc})") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise TextFileError(f"{os.fspath(path)}: nested too deeply to be a job, configuration or profile") from None
