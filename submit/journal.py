"""The local record of every submission, so a task that was paid for is never lost.

A row is written and committed before the POST (with the Idempotency-Key and the body), and
updated as soon as the reply is read. If the process dies in between, the row stays in state
``sent`` without a task id; ``submit recover`` sends the same body with the same key again, and
the service answers with the task it already created instead of creating a second one.
The API key is never stored here: every text written is masked for it first (``secrets``).

A submission of the same inputs (by content) and request as one still in flight, or completed
within its result links' lifetime, is refused unless asked for again; the check and the new
row are one transaction, so two identical submits at once cannot both go out.

Custom elements have a table of their own: the name a team gives one, its id once its creation
task completed, what it was made from (sha256 of each source) and the submissions row of that
task (which holds the estimate and the reservation), so that ``--element NAME`` finds the id and
the same media are never paid for twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AlreadySubmitted, ErrorInfo, SubmitError
from .secrets import redact

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
    completed_at    TEXT,
    fingerprint     TEXT,
    provider        TEXT
);
CREATE INDEX IF NOT EXISTS submissions_fingerprint ON submissions (fingerprint);
CREATE TABLE IF NOT EXISTS elements (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    api_base        TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    reference_type  TEXT NOT NULL,
    sources         TEXT NOT NULL,
    submission      INTEGER NOT NULL REFERENCES submissions (id),
    element_id      TEXT,
    result_data     TEXT
);
CREATE INDEX IF NOT EXISTS elements_name ON elements (name);
"""

# Row states. "sent": the POST may have reached the service and its answer was not read;
# "unsent": it certainly did not (nothing can have been created).
SENDING, SENT, CREATED, REFUSED, UNSENT = "sending", "sent", "created", "refused", "unsent"
_JSON_COLUMNS = ("results", "outputs", "error", "estimate", "reserved")


def default_path() -> Path:
    if os.environ.get("SUBMIT_JOURNAL"):
        return Path(os.environ["SUBMIT_JOURNAL"])
    from platformdirs import user_data_path

    return user_data_path("motion-preflight", appauthor=False) / "journal.sqlite3"


def same_service(a: str, b: str) -> bool:
    """Whether two API bases are one service. Servers on this machine's loopback are local test
    servers (the bundled fake), whose port changes from run to run: they count as one."""
    from urllib.parse import urlsplit

    def key(url: str) -> str:
        parts = urlsplit(url.rstrip("/"))
        host = (parts.hostname or "").lower()
        if host in ("localhost", "::1") or host.startswith("127."):
            return "loopback"
        return f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"

    return key(a) == key(b)


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
    fingerprint: str | None = None
    provider: str | None = None  # the host that holds the task (evolink, kling, fal); None: EvoLink

    def to_dict(self) -> dict[str, Any]:
        return ({k: v for k, v in self.__dict__.items() if k != "body"} |
                {"model": self.body.get("model") or self.body.get("model_name"), "provider": self.provider or "evolink"})


@dataclass
class StoredElement:
    """A custom element this journal saw being created: what it was made from, which submission
    (task, cost) made it, and its id once the task completed (None until then, or if it failed)."""

    row: int
    created_at: str
    api_base: str
    name: str
    description: str | None
    reference_type: str
    sources: dict[str, str]  # each medium's role and content (sha256:..., or the URL as given)
    submission: int  # the submissions row of the creation task
    element_id: str | None
    result_data: Any = None  # the completed task's result_data, as the service sent it

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Elements:
    """The journal's elements table (a mixin of ``Journal``, which owns the connection)."""

    _db: sqlite3.Connection

    def add_element(self, api_base: str, name: str, description: str | None, reference_type: str,
                    sources: dict[str, str], submission: int) -> int:
        now = _now()
        cur = self._db.execute(
            "INSERT INTO elements (created_at, updated_at, api_base, name, description, reference_type, sources,"
            " submission) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now, now, api_base, redact(name), redact(description) if description else None, reference_type,
             json.dumps(sources), submission))
        return int(cur.lastrowid)

    def element_made(self, task_id: str, element_id: str | None, result_data: Any) -> None:
        """What the completed creation task ``task_id`` answered (if this journal made it): the
        element's id (None when the answer held no usable one) and the raw ``result_data``."""
        self._db.execute(
            "UPDATE elements SET element_id = ?, result_data = ?, updated_at = ? WHERE submission = "
            "(SELECT id FROM submissions WHERE task_id = ?)",
            (element_id, redact(json.dumps(result_data)), _now(), task_id))

    def elements(self) -> list[StoredElement]:
        return [self._element(r) for r in self._db.execute("SELECT * FROM elements ORDER BY id DESC").fetchall()]

    def element_named(self, name: str, api_base: str | None = None) -> StoredElement | None:
        """The newest element of this name with an id (made on the service at ``api_base``, if given)."""
        for element in self.elements():
            if element.name == name and element.element_id and (api_base is None
                                                                 or same_service(api_base, element.api_base)):
                return element
        return None

    def element_with_id(self, element_id: str) -> StoredElement | None:
        found = self._db.execute("SELECT * FROM elements WHERE element_id = ? ORDER BY id DESC LIMIT 1",
                                 (element_id,)).fetchone()
        return self._element(found) if found else None

    def element_of_submission(self, row: int) -> StoredElement | None:
        found = self._db.execute("SELECT * FROM elements WHERE submission = ?", (row,)).fetchone()
        return self._element(found) if found else None

    @staticmethod
    def _element(r: tuple) -> StoredElement:
        (row, created_at, _updated, api_base, name, description, kind, sources, submission, element_id,
         result_data) = r
        return StoredElement(row, created_at, api_base, name, description, kind, json.loads(sources), submission,
                             element_id, json.loads(result_data) if result_data else None)


class Journal(_Elements):
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
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(submissions)")}
        if columns and "fingerprint" not in columns:  # a journal from before duplicates were told
            self._db.execute("ALTER TABLE submissions ADD COLUMN fingerprint TEXT")
        if columns and "provider" not in columns:  # a journal from before other hosts (all EvoLink)
            self._db.execute("ALTER TABLE submissions ADD COLUMN provider TEXT")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, api_base: str, idempotency_key: str, body: dict, estimate: dict | None,
              fingerprint: str | None = None, fresh_for: float | None = None, again: bool = False,
              provider: str | None = None) -> int:
        """Record a submission about to be sent; returns its row number. With a ``fingerprint``,
        refuses (``AlreadySubmitted``) when ``duplicate_of`` finds one, in the same transaction
        as the new row, unless ``again`` (the row still records it, for later checks)."""
        now = _now()
        self._db.execute("BEGIN IMMEDIATE")  # the write lock: a second identical submit waits here
        try:
            if fingerprint is not None and not again:
                earlier = self.duplicate_of(fingerprint, fresh_for)
                if earlier is not None:
                    raise AlreadySubmitted(describe_duplicate(earlier), None, earlier.task_id, row=earlier.row)
            cur = self._db.execute(
                "INSERT INTO submissions (created_at, updated_at, api_base, idempotency_key, body, state, estimate,"
                " fingerprint, provider) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (now, now, api_base, idempotency_key, redact(json.dumps(body)), SENDING,
                 redact(json.dumps(estimate)), fingerprint, provider))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return int(cur.lastrowid)

    def duplicate_of(self, fingerprint: str, fresh_for: float | None = None) -> "Entry | None":
        """The latest submission of the same inputs and request that is still in flight (sending,
        sent, pending, processing), or completed less than ``fresh_for`` seconds ago."""
        found = self._db.execute("SELECT * FROM submissions WHERE fingerprint = ? ORDER BY id DESC LIMIT 1",
                                 (fingerprint,)).fetchone()
        if not found:
            return None
        entry = self._entry(found)
        if entry.state in (SENDING, SENT):
            return entry
        if entry.state != CREATED or entry.status in ("failed", "cancelled"):
            return None
        if entry.status != "completed":
            return entry
        since = dt.datetime.fromisoformat(entry.completed_at or entry.updated_at)
        age = (dt.datetime.now(dt.timezone.utc) - since).total_seconds()
        return entry if fresh_for is None or age < fresh_for else None

    def update(self, row: int, **fields) -> None:
        encoded = {k: redact(json.dumps(v)) if k in _JSON_COLUMNS else (redact(v) if isinstance(v, str) else v)
                   for k, v in fields.items()}
        encoded["updated_at"] = _now()
        columns = ", ".join(f"{k} = ?" for k in encoded)
        try:
            self._db.execute(f"UPDATE submissions SET {columns} WHERE id = ?", (*encoded.values(), row))
        except sqlite3.IntegrityError:
            task_id = fields.get("task_id")
            holder = self.row_of(task_id) if task_id else None
            if holder is None:
                raise
            # The service named a task another row holds: recorded as said, and told.
            message = (f"the service answered with task {task_id}, which journal row {holder} already holds; "
                       f"no second task was recorded (check it with: submit status {task_id})")
            error = ErrorInfo("duplicate_task_id", message)
            kept = {k: v for k, v in fields.items() if k != "task_id"}
            self.update(row, **{**kept, "error": error.to_dict()})
            raise SubmitError(message, error, task_id) from None

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
         error, estimate, reserved, completed_at, fingerprint, provider) = r
        return Entry(row, created_at, updated_at, api_base, key, json.loads(body), state, task_id, status, progress,
                     json.loads(results) if results else [], json.loads(outputs) if outputs else [],
                     json.loads(error) if error else None, json.loads(estimate) if estimate else None,
                     json.loads(reserved) if reserved else None, completed_at, fingerprint, provider)


def describe_duplicate(entry: Entry) -> str:
    """Why a submission of the same inputs is refused, and what to do instead."""
    if entry.state in (SENDING, SENT):
        what = (f"journal row {entry.row} sent the same inputs and request and its answer was not read: "
                f"`submit recover {entry.row}` finds that task without paying again")
    elif entry.status == "completed":
        what = (f"task {entry.task_id} (journal row {entry.row}) already made this from the same inputs and request: "
                f"`submit download {entry.task_id}` fetches it")
    else:
        what = (f"task {entry.task_id} (journal row {entry.row}) is {entry.status or 'in flight'} with the same "
                f"inputs and request: `submit wait {entry.task_id}` follows it")
    return f"{what}; pass --again to pay for another generation"
