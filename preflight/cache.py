"""Results by content: a second run over unchanged files does no media work.

A report is stored under a key made of the tool version, the profile's own bytes, the
configuration that changes verdicts, the request, the mode, and the SHA-256 of every input
file. Hashing a 100 MB clip costs about 0.1 s, so hashes are remembered by (path, size,
mtime, inode) the way build tools do; a changed file gets a new stat and is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from . import __version__
from .atomic import write_problem, write_text_atomic


def default_dir() -> Path:
    if os.environ.get("PREFLIGHT_CACHE_DIR"):
        return Path(os.environ["PREFLIGHT_CACHE_DIR"])
    from platformdirs import user_cache_path

    return user_cache_path("motion-preflight", appauthor=False)


_CODE: list[str] = []


# The libraries whose upgrade can change a finding (decoding, models, image conversion).
_MEDIA_LIBRARIES = ("av", "mediapipe", "opencv-contrib-python", "numpy", "pillow")


def code_fingerprint() -> str:
    """The sizes and times of this package's own files and the versions of the media libraries:
    an edited checkout (same version number, different code) or an upgraded decoder must not be
    answered from results of the old one."""
    if not _CODE:
        from importlib import metadata

        root = Path(__file__).parent
        digest = hashlib.sha256()
        for name in _MEDIA_LIBRARIES:
            try:
                digest.update(f"{name}={metadata.version(name)};".encode())
            except metadata.PackageNotFoundError:
                digest.update(f"{name}=none;".encode())
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".toml", ".json"):
                st = path.stat()
                digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
        _CODE.append(digest.hexdigest())
    return _CODE[0]


# Reports kept at most, in bytes: past it the oldest are removed when a run ends.
MAX_BYTES = 100 * 1024 * 1024


class Cache:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else default_dir()
        self._index_path = self.root / "file-hashes.json"
        self._lock = threading.Lock()
        self._dirty = False
        self.problem: str | None = None  # why results could not be stored (the run goes on without)
        try:
            self._index: dict[str, list] = json.loads(self._index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._index = {}

    def file_hash(self, path: str) -> str | None:
        """SHA-256 of a file's bytes, or None when it cannot be read (the checks say why)."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not os.path.isfile(path):
            return None
        real = os.path.realpath(path)
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        with self._lock:
            known = self._index.get(real)
        if known and known[:3] == stamp:
            return known[3]
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            return None
        value = digest.hexdigest()
        with self._lock:
            self._index[real] = [*stamp, value]
            self._dirty = True
        return value

    def key(self, parts: dict[str, Any]) -> str:
        blob = json.dumps({"tool": __version__, "code": code_fingerprint(), **parts}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        try:
            return json.loads((self.root / "reports" / key[:2] / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict) -> None:
        try:
            write_text_atomic(self.root / "reports" / key[:2] / f"{key}.json", json.dumps(value))
        except OSError as exc:  # a cache is a saving, never a reason to fail a run
            self.problem = f"{self.root}: results not cached ({write_problem(exc)})"

    def _report_files(self) -> list[Path]:
        # Only what this class writes: a cache folder a user named may hold other files too.
        return [p for p in (self.root / "reports").glob("??/*.json") if p.is_file() and not p.is_symlink()]

    def prune(self, max_bytes: int = MAX_BYTES) -> int:
        """Remove the oldest reports until the rest fit in ``max_bytes``; the bytes freed."""
        files = []
        for path in self._report_files():
            try:
                st = path.stat()
            except OSError:
                continue
            files.append((st.st_mtime_ns, st.st_size, path))
        total = sum(size for _, size, _ in files)
        freed = 0
        for _, size, path in sorted(files):
            if total - freed <= max_bytes:
                break
            try:
                path.unlink()
                freed += size
            except OSError:
                pass
        return freed

    def clear(self) -> tuple[int, int]:
        """Remove every stored report and remembered file hash: (files removed, bytes freed)."""
        removed = freed = 0
        for path in [*self._report_files(), self._index_path]:
            try:
                size = path.stat().st_size
                path.unlink()
            except OSError:
                continue
            removed += 1
            freed += size
        with self._lock:
            self._index, self._dirty = {}, False
        return removed, freed

    def save(self) -> None:
        self.prune()
        with self._lock:
            if not self._dirty:
                return
            # Another run may have added entries meanwhile: merge rather than overwrite.
            try:
                on_disk = json.loads(self._index_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                on_disk = {}
            on_disk.update(self._index)
            try:
                write_text_atomic(self._index_path, json.dumps(on_disk))
            except OSError as exc:
                self.problem = f"{self.root}: results not cached ({write_problem(exc)})"
            self._dirty = False
