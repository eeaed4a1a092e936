"""The local record of every submission, so a task that was paid for is never lost.

A row is written and committed before the POST (with the Idempotency-Key and the body), and
updated as soon as the reply is read. If the process dies in between, the row stays in state
``sent`` without a task id; ``submit recover`` sends the same body with the same key again, and
the service answers with the task it already created instead of creating a second one.
The API key is never stored here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    api_base        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    task_id         TEXT UNIQUE,
    status          TEXT,
    progress        INTEGER,
    results         TEXT,
    outputs         TEXT,
    error           TEXT,
    estimate        TEXT,
    reserved        TEXT,
    completed_at    TEXT
);
"""

# Row states. "sent": the POST may have reached the service and its answer was not read.
SENDING, SENT, CREATED, REFUSED = "sending", "sent", "created", "refused"


def default_path() -> Path:
    if os.environ.get("SUBMIT_JOURNAL"):
        return Path(os.environ["SUBMIT_JOURNAL"])
    from platformdirs import user_data_path

    return user_data_path("motion-preflight", appauthor=False) / "journal.sqlite3"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Entry:
    row: int
    created_at: str
    updated_at: str
    api_base: str
    idempotency_key: str
    body: dict
    state: str
    task_id: str | None
    status: str | None
    progress: int | None
    results: list[str]
    outputs: list[str]
    error: dict | None
    estimate: dict | None
    reserved: dict | None
    completed_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "body"} | {"model": self.body.get("model")}


class Journal:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        # isolation_level=None: every statement commits at once; synchronous=FULL: a commit is on
        # disk before the call returns, which is the point of writing before the POST.
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        if fresh:
            os.chmod(self.path, 0o600)  # task ids and hosted URLs are the user's business
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, api_base: str, idempotency_key: str, body: dict, estimate: dict | None) -> int:
        """Record a submission about to be sent; returns its row number."""
        now = _now()
        cur = self._db.execute(
            "INSERT INTO submissions (created_at, updated_at, api_base, idempotency_key, body, state, estimate)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now, now, api_base, idempotency_key, json.dumps(body), SENDING, json.dumps(estimate)))
        return int(cur.lastrowid)

    def update(self, row: int, **fields) -> None:
        encoded = {k: json.dumps(v) if k in ("results", "outputs", "error", "estimate", "reserved") else v
                   for k, v in fields.items()}
        encoded["updated_at"] = _now()
        columns = ", ".join(f"{k} = ?" for k in encoded)
        self._db.execute(f"UPDATE submissions SET {columns} WHERE id = ?", (*encoded.values(), row))

    def update_task(self, task_id: str, **fields) -> None:
        row = self.row_of(task_id)
        if row is not None:
            self.update(row, **fields)

    def row_of(self, task_id: str) -> int | None:
        found = self._db.execute("SELECT id FROM submissions WHERE task_id = ?", (task_id,)).fetchone()
        return found[0] if found else None

    def get(self, row: int) -> Entry | None:
        found = self._db.execute("SELECT * FROM submissions WHERE id = ?", (row,)).fetchone()
        return self._entry(found) if found else None

    def by_task(self, task_id: str) -> Entry | None:
        row = self.row_of(task_id)
        return self.get(row) if row is not None else None

    def entries(self, limit: int | None = None) -> list[Entry]:
        sql = "SELECT * FROM submissions ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        return [self._entry(r) for r in self._db.execute(sql).fetchall()]

    def _entry(self, r: tuple) -> Entry:
        (row, created_at, updated_at, api_base, key, body, state, task_id, status, progress, results, outputs,
         error, estimate, reserved, completed_at) = r
        return Entry(row, created_at, updated_at, api_base, key, json.loads(body), state, task_id, status, progress,
                     json.loads(results) if results else [], json.loads(outputs) if outputs else [],
                     json.loads(error) if error else None, json.loads(estimate) if estimate else None,
                     json.loads(reserved) if reserved else None, completed_at)
