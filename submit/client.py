"""``submit.Client``: EvoLink's task, files and credits endpoints, with typed answers.

The transport is httpx's and can be swapped (``transport=``): tests talk real HTTP to the local
fake server, other tools can pass a mock or a proxy. The API key is sent only to the API and
files hosts; result and user-given URLs are fetched without it (they live on other hosts).

Nothing a server says is trusted further than it must be: every reply body is read up to a
bound (``max_reply_bytes``, a result up to ``max_result_bytes``), everything the client does
ends by its ``deadline``, task ids must be plain tokens, a result's file name is made here
(never taken from the URL or a header), and a result link must be HTTPS (plain HTTP only on
this machine's loopback, for local test servers).
"""

from __future__ import annotations

import filecmp
import io
import ipaddress
import json
import mimetypes
import os
import random
import stat
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import httpx

from preflight.request import PLAIN_ID

from .errors import (ApiError, DeadlineExceeded, ErrorInfo, HostingError, SubmitError, TaskFailed, TransportError,
                     WaitTimeout, parse_error)
from .retry import NOT_SENT, RetryPolicy, is_retryable_status, send_with_retries
from .secrets import KeyProblem, check_key, redact

# API ref section 1.
DEFAULT_API_BASE = "https://api.evolink.ai"
DEFAULT_FILES_BASE = "https://files-api.evolink.ai"
# API ref section 3: pending/processing/completed/failed; section 4: accept "cancelled" too.
TERMINAL = {"completed", "failed", "cancelled"}
# API ref section 3, "Pacing": EvoLink's own client polls video tasks every 8 s; each poll of an
# unfinished task makes the gateway query the provider.
DEFAULT_POLL_INTERVAL = 8.0
# The profile's bounds (network.max_reply_bytes, results.max_file_size, results.extensions,
# network.task_id_max_chars), for a Client made without a profile.
MAX_REPLY_BYTES = 2_000_000
MAX_RESULT_BYTES = 400_000_000
RESULT_EXTENSIONS = (".mp4", ".mov", ".webm")
ID_MAX_CHARS = 128
_NOT_SENT = (*NOT_SENT, httpx.UnsupportedProtocol, httpx.LocalProtocolError)


class InvalidId(SubmitError):
    """A task or element id that is not a plain token; it is never used in a path or a URL."""


def check_id(value: object, what: str = "task id", max_chars: int = ID_MAX_CHARS) -> str:
    """``value`` if it is a plain token (letters, digits, '.', '_', '-'; not starting with a
    dot or dash; at most ``max_chars``); else ``InvalidId`` with a worded reason."""
    if isinstance(value, str) and len(value) <= max_chars and PLAIN_ID.fullmatch(value):
        return value
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    raise InvalidId(f"{what} {shown} is not a plain id (letters, digits, '.', '_' and '-', at most {max_chars} "
                    "characters, starting with a letter or digit); it is refused, not used",
                    ErrorInfo("invalid_id", f"{what} is not a plain token"))


def _snippet(response: "Reply") -> str:
    """The start of a reply's text, on one line (for messages about an answer that is not JSON)."""
    return " ".join(response.text.split())[:120]


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_result_link(url: str, task_id: str) -> None:
    """A result link must be HTTPS (plain HTTP only on loopback, where local test servers run)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme == "https" and host:
        return
    if scheme == "http" and host and _loopback(host):
        return
    raise ApiError(f"task {task_id}'s result link {url[:100]!r} is not an HTTPS URL; it is not fetched",
                   ErrorInfo("unsafe_result_link", f"scheme {scheme or '(none)'!r}"), task_id)


@dataclass
class Reply:
    """A reply whose body was read in full, within the bounds."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _Secret(str):
    """The API key: a str that never shows itself in a repr, a traceback or a log line."""

    def __repr__(self) -> str:
        return "'***'"


@dataclass
class Task:
    """A task as ``POST /v1/videos/generations`` or ``GET /v1/tasks/{id}`` describes it."""

    id: str
    status: str
    progress: int = 0
    model: str | None = None
    created: int | None = None
    results: list[str] = field(default_factory=list)
    error: ErrorInfo | None = None
    estimated_time: int | None = None
    video_duration: int | None = None
    credits_reserved: float | None = None
    billing_rule: str | None = None
    replayed: bool = False  # the service answered from an earlier send with the same Idempotency-Key
    # A completed element task's answer (API ref section 2a: "result_data will contain the
    # element_id"; its shape is UNCONFIRMED), kept as the service sent it.
    result_data: Any = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def element_id(self, max_chars: int = ID_MAX_CHARS) -> str | None:
        """The element id a completed kling-custom-element task made, from ``result_data`` in any
        of its plausible shapes (see ``find_element_id``); None if there is none. An id that is
        not a plain token raises ``InvalidId``: it would reach a later request body."""
        found = find_element_id(self.result_data)
        return None if found is None else check_id(found, "the element id the service answered with", max_chars)

    @classmethod
    def from_body(cls, body: dict, replayed: bool = False) -> "Task":
        info = body.get("task_info") if isinstance(body.get("task_info"), dict) else {}
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        error = parse_error(body, None) if body.get("error") else None
        results = body.get("results") if isinstance(body.get("results"), list) else []
        return cls(
            id=str(body["id"]),
            status=str(body.get("status") or "pending").lower(),
            progress=_int(body.get("progress")) or 0,
            model=body.get("model"),
            created=_int(body.get("created")),
            results=[str(r) for r in results if r],
            error=error,
            estimated_time=_int(info.get("estimated_time")),
            video_duration=_int(info.get("video_duration")),
            credits_reserved=_number(usage.get("credits_reserved")),
            billing_rule=usage.get("billing_rule"),
            replayed=replayed,
            result_data=body.get("result_data"),
            raw=body,
        )

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"task_id": self.id, "status": self.status, "progress": self.progress,
                               "results": self.results}
        if self.created is not None:
            out["created"] = self.created
        if self.error:
            out["error"] = self.error.to_dict()
        if self.result_data is not None:
            out["result_data"] = self.result_data
        return out


# Where an element id may sit in ``result_data`` (API ref section 9: the shape is unconfirmed).
_ID_KEYS = ("element_id", "elementId", "id")
_LIST_KEYS = ("element_list", "elements", "element")


def find_element_id(data: Any, depth: int = 0) -> str | None:
    """The element id in a ``result_data``: the value itself (a string or an integer, as ids
    were before 2026-03-16), ``{"element_id": ...}`` (or ``elementId``, ``id``), or the first
    entry of ``element_list``/``elements``/``element`` (a list or an object) holding one.
    None when nothing looks like an id; booleans and floats are not ids."""
    if depth > 3:
        return None
    if isinstance(data, str):
        return data.strip() or None
    if isinstance(data, int) and not isinstance(data, bool):
        return str(data)
    if isinstance(data, dict):
        for key in _ID_KEYS:
            value = data.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                return str(value).strip()
        for key in _LIST_KEYS:
            if key in data:
                found = find_element_id(data[key], depth + 1)
                if found:
                    return found
    if isinstance(data, list) and data:
        return find_element_id(data[0], depth + 1)
    return None


@dataclass(frozen=True)
class UploadedFile:
    """A file on EvoLink's files host (API ref section 7)."""

    file_id: str | None
    file_url: str
    size: int | None
    mime_type: str | None
    expires_at: str | None


@dataclass(frozen=True)
class Download:
    url: str
    path: Path
    size: int
    resumed_from: int = 0  # bytes already on disk from an earlier, broken download


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def new_idempotency_key() -> str:
    return f"mp-{uuid.uuid4()}"


class _CountedReader(io.BytesIO):
    """A file's bytes as httpx streams a multipart upload, telling ``progress`` how far it got."""

    def __init__(self, data: bytes, progress: Callable[[int, int], None]):
        super().__init__(data)
        self._progress, self._total = progress, len(data)

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self._progress(self.tell(), self._total)
        return chunk


class Client:
    """A synchronous EvoLink client. Use as a context manager or call ``close()``.

    >>> with Client(api_key) as client:
    ...     task = client.create_task(body)
    ...     task = client.wait(task.id)
    ...     client.download(task, "out")

    Other hosts of the same model have clients of their own built on this one (``submit.kling``,
    ``submit.fal``): the same bounds, retries, waiting and downloads, their own auth and shapes.
    """

    KEY_HINT = "EVOLINK_API_KEY (or api_key in the config file)"
    provider = "evolink"
    # Whether a create may be sent again after its answer was lost (an Idempotency-Key makes
    # the service answer with the task it made instead of making a second).
    idempotent_create = True

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        files_base: str = DEFAULT_FILES_BASE,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        deadline: float | None = None,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        max_result_bytes: int = MAX_RESULT_BYTES,
        result_extensions: tuple[str, ...] = RESULT_EXTENSIONS,
        id_max_chars: int = ID_MAX_CHARS,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[int, str, float], None] | None = None,
    ):
        """``timeout`` bounds each network wait; ``deadline`` (seconds from now) bounds
        everything this client does, retries, polls and downloads included."""
        if not api_key:
            raise SubmitError(f"no API key: set {self.KEY_HINT}")
        redact.add(api_key)
        try:
            check_key(api_key, "the api_key argument")
        except KeyProblem as exc:
            raise SubmitError(str(exc), ErrorInfo("invalid_key", str(exc))) from None
        self._key = _Secret(api_key)
        self.api_base = api_base.rstrip("/")
        self.files_base = files_base.rstrip("/")
        self.retry = retry
        self.timeout = timeout
        self.deadline = None if deadline is None else time.monotonic() + deadline
        self.max_reply_bytes = max_reply_bytes
        self.max_result_bytes = max_result_bytes
        self.result_extensions = tuple(e.lower() for e in result_extensions)
        self.id_max_chars = id_max_chars
        self._sleep = sleep
        self._rng = random.Random()
        self.on_retry = on_retry
        # Two clients: only the first ever carries the key.
        self._api = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False,
                                 headers={"User-Agent": "motion-preflight-submit"})
        self._plain = httpx.Client(transport=transport, timeout=timeout, follow_redirects=True,
                                   headers={"User-Agent": "motion-preflight-submit"})

    def __repr__(self) -> str:
        return f"Client(api_base={self.api_base!r}, files_base={self.files_base!r})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._api.close()
        self._plain.close()

    # ------------------------------------------------------------------ plumbing
    def _left(self, what: str, task_id: str | None = None) -> float | None:
        """Seconds left before the deadline (None: no deadline); ``DeadlineExceeded`` at zero."""
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded(f"{what}: gave up at the deadline (--timeout)", None, task_id)
        return left

    def _timeout(self, what: str) -> httpx.Timeout:
        left = self._left(what)
        return httpx.Timeout(self.timeout if left is None else min(self.timeout, left))

    def _pause(self, seconds: float, what: str = "waiting to retry") -> None:
        left = self._left(what)
        if left is not None and seconds >= left:
            raise DeadlineExceeded(f"{what}: the next try would come after the deadline (--timeout)")
        self._sleep(seconds)

    def _read_body(self, response: httpx.Response, limit: int, what: str) -> bytes:
        """The body, read in chunks: refused past ``limit`` bytes or past the deadline, so an
        endless or dripping body ends when the bounds say, not when the server does."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TransportError(f"{what}: the reply announces {int(declared):,} bytes, more than the {limit:,} "
                                 "expected", ErrorInfo("reply_too_large", f"{declared} bytes", response.status_code))
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise TransportError(f"{what}: the reply went past the {limit:,} bytes expected; it was cut off",
                                     ErrorInfo("reply_too_large", f"over {limit} bytes", response.status_code))
            self._left(what)
        return bytes(body)

    def _exchange(self, client: httpx.Client, method: str, url: str, *, idempotent: bool, what: str,
                  make: Callable[[], dict] = dict, limit: int | None = None, body: bool = True) -> Reply:
        """Send (with retries) and read the whole bounded reply (only its headers when ``body``
        is false). ``make`` gives each send's keyword arguments afresh (an upload rereads its file)."""
        outcomes: list[bool] = []  # per send: may it have reached the server?

        def send() -> Reply:
            request = client.build_request(method, url, timeout=self._timeout(what), **make())
            try:
                response = client.send(request, stream=True)
            except _NOT_SENT:
                outcomes.append(False)
                raise
            except httpx.HTTPError:
                outcomes.append(True)
                raise
            outcomes.append(True)
            try:
                content = self._read_body(response, limit or self.max_reply_bytes, what) if body else b""
                return Reply(response.status_code, response.headers, content)
            finally:
                response.close()

        try:
            return send_with_retries(send, self.retry, idempotent=idempotent, sleep=self._pause, rng=self._rng,
                                     on_retry=self.on_retry, retryable=self._retryable)
        except httpx.HTTPError as exc:
            # httpx's messages name the URL, never the headers; masked all the same, in every form.
            text = redact(f"{type(exc).__name__}: {exc}")
            info = ErrorInfo("connection_error", text)
            error = TransportError(f"{method} {url}: no answer after {len(outcomes)} tr{'y' if len(outcomes) == 1 else 'ies'} "
                                   f"({redact(str(exc))})", info)
            error.sent = any(outcomes)
            raise error from None

    def _retryable(self, reply: Reply) -> bool:
        """Whether an answer is sent again (API ref section 6c: 429 and 5xx). Other hosts'
        clients apply their own rules."""
        return is_retryable_status(reply.status_code)

    def _auth_headers(self) -> dict[str, str]:
        """The headers that carry the key, made for each send (a host may sign per request)."""
        return {"Authorization": f"Bearer {self._key}"}

    def _request(self, method: str, url: str, *, idempotent: bool, what: str | None = None,
                 headers: dict | None = None, **kwargs) -> Reply:
        extra = headers or {}
        return self._exchange(self._api, method, url, idempotent=idempotent, what=what or f"{method} {url}",
                              make=lambda: {"headers": {**self._auth_headers(), **extra}, **kwargs})

    # Whose JSON a malformed answer was not, in messages ("the answer was not fal's JSON").
    API_WORDS = "the API's"

    def _json(self, response: Reply, what: str) -> dict:
        """A reply's JSON object, or the typed error it says (``_error_in``) or is (malformed);
        ``_unwrapped`` gives what the caller reads of it. Hosts override the two hooks only."""
        try:
            body = response.json()
        except ValueError:
            body = None
        info = self._error_in(body, response)
        if info is not None:
            raise ApiError(redact(f"{what}: HTTP {response.status_code} {info.describe()}"), info)
        if not isinstance(body, dict):
            raise TransportError(redact(f"{what}: the answer was not {self.API_WORDS} JSON: {_snippet(response)!r}"),
                                 ErrorInfo("malformed_response", "reply body is not a JSON object", response.status_code))
        return self._unwrapped(body, response, what)

    def _error_in(self, body: Any, response: Reply) -> ErrorInfo | None:
        """The error a reply reports (EvoLink: any HTTP error status), or None."""
        if response.status_code < 400:
            return None
        info = parse_error(body, response.status_code)
        if body is None:
            info = ErrorInfo(info.name, f"{info.message} (the body was not JSON: {_snippet(response)!r})",
                             response.status_code)
        return info

    def _unwrapped(self, body: dict, response: Reply, what: str) -> dict:
        """What a successful reply holds (EvoLink: the body itself, unless it carries an error)."""
        if isinstance(body.get("error"), dict) and "id" not in body:
            # An error said with HTTP 200: its code is kept, not turned into "malformed".
            info = parse_error(body, None)
            raise ApiError(redact(f"{what}: HTTP {response.status_code} with an error: {info.describe()}"), info)
        return body

    def _answered_id(self, value: object, what: str, response: Reply) -> str:
        """The id a create's answer names, if it is a plain token; else a malformed answer to a
        request that reached the service (``sent``: a task may exist)."""
        try:
            return check_id(str(value), what, self.id_max_chars)
        except InvalidId as exc:
            error = TransportError(f"create task: {exc}", ErrorInfo("malformed_response", str(exc),
                                                                     response.status_code))
            error.sent = True
            raise error from None

    # ------------------------------------------------------------------ tasks
    def create_task(self, body: dict, idempotency_key: str | None = None) -> Task:
        """POST /v1/videos/generations (API ref section 2). Every send, retries included, carries
        the same Idempotency-Key, so a retried POST cannot create (and bill) a second task."""
        key = idempotency_key or new_idempotency_key()
        response = self._request("POST", f"{self.api_base}/v1/videos/generations", idempotent=True, json=body,
                                 headers={"Idempotency-Key": key}, what="create task")
        data = self._json(response, "create task")
        if "id" not in data:
            raise TransportError("create task: the answer has no task id",
                                 ErrorInfo("malformed_response", "no id in the reply", response.status_code))
        self._answered_id(data["id"], "the task id the service answered with", response)
        replayed = response.headers.get("idempotency-replayed", "").lower() == "true"
        return Task.from_body(data, replayed=replayed)

    def create_element(self, name: str, description: str, *, video_url: str | None = None,
                       frontal_image_url: str | None = None, ref_image_urls: tuple[str, ...] | list[str] = (),
                       callback_url: str | None = None, idempotency_key: str | None = None, profile=None) -> Task:
        """Create a kling-custom-element task (API ref section 2a) from media already online: one
        video (a video_refer element, the kind Motion Control takes) or a frontal image with 1-3
        reference images (image_refer). Billed per call. ``wait_for_element`` gives its id.
        ``submit.flow`` and ``submit element create`` check and host local files first."""
        from preflight.profile import load_profile
        from preflight.request import ElementRequest

        from .body import element_body

        element = ElementRequest(name, description, video_url, frontal_image_url, tuple(ref_image_urls))
        urls = {url: url for url, _ in element.media()}
        return self.create_task(element_body(profile or load_profile(), element, urls, callback_url),
                                idempotency_key=idempotency_key)

    def wait_for_element(self, task_id: str, **wait_options) -> tuple[Task, str]:
        """Wait for an element task (``wait``'s options) and return it with the element id it made.
        A completed task without a recognisable id raises ``ApiError`` (its ``result_data`` is in
        the message and on ``task.result_data``)."""
        task = self.wait(task_id, **wait_options)
        element_id = task.element_id(self.id_max_chars)
        if element_id is None:
            shown = json.dumps(task.result_data)[:200]
            raise ApiError(f"element task {task_id} completed without an element id in result_data ({shown})",
                           ErrorInfo("malformed_response", "no element id in result_data"), task_id)
        return task, element_id

    def get_task(self, task_id: str) -> Task:
        """GET /v1/tasks/{id} (API ref section 3). A failed task is an HTTP 200 with ``error``."""
        check_id(task_id, "task id", self.id_max_chars)
        response = self._request("GET", f"{self.api_base}/v1/tasks/{quote(task_id, safe='')}", idempotent=True,
                                 what=f"task {task_id}")
        data = self._json(response, f"task {task_id}")
        if str(data.get("id", task_id)) != task_id:
            raise TransportError(f"task {task_id}: the answer is about another task", ErrorInfo(
                "malformed_response", "the reply's id is not the task asked for", response.status_code), task_id)
        return Task.from_body({**data, "id": task_id})

    def wait(self, task_id: str, *, interval: float = DEFAULT_POLL_INTERVAL, jitter: float = 0.2,
             timeout: float = 1800.0, on_update: Callable[[Task], None] | None = None,
             raise_on_failure: bool = True) -> Task:
        """Poll until the task is completed, failed or cancelled, or ``timeout`` seconds pass.

        ``jitter`` spreads each wait by that fraction either way so many waiting clients do not
        poll in step. Raises ``WaitTimeout`` (the task may still finish: wait again later) and,
        unless ``raise_on_failure`` is false, ``TaskFailed`` with the business code.
        """
        check_id(task_id, "task id", self.id_max_chars)
        try:
            return self._wait(task_id, interval, jitter, timeout, on_update, raise_on_failure)
        except DeadlineExceeded:
            # Still running at the deadline: a wait that timed out, whichever step it was in.
            raise WaitTimeout(f"task {task_id} not finished at the deadline (--timeout); it goes on: "
                              f"resume with: submit wait {task_id}", None, task_id) from None

    def _wait(self, task_id, interval, jitter, timeout, on_update, raise_on_failure) -> Task:
        deadline = time.monotonic() + timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        while True:
            task = self.get_task(task_id)
            if on_update:
                on_update(task)
            if task.done:
                if task.status != "completed" and raise_on_failure:
                    info = task.error or ErrorInfo(task.status, f"the task ended as {task.status}")
                    raise TaskFailed(f"task {task_id} {task.status}: {info.describe()}", info, task_id)
                return task
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout(f"task {task_id} still {task.status} at the deadline; "
                                  f"resume with: submit wait {task_id}", None, task_id)
            pause = interval * (1 + self._rng.uniform(-jitter, jitter))
            self._sleep(max(0.0, min(pause, left)))

    # ------------------------------------------------------------------ results
    def result_names(self, task: Task) -> list[str]:
        """The file names results are saved under: the task id, a number when there are several,
        and an ending from ``result_extensions`` (.mp4 otherwise). Nothing a server says
        (a URL's name, a Content-Disposition) picks them."""
        task_id = check_id(task.id, "task id", self.id_max_chars)
        names = []
        for n, url in enumerate(task.results):
            suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
            suffix = suffix if suffix in self.result_extensions else ".mp4"
            names.append(f"{task_id}{'' if len(task.results) == 1 else f'-{n + 1}'}{suffix}")
        return names

    def download(self, task: Task, out_dir: str | Path, *, expected_max_bytes: int | None = None,
                 on_progress: Callable[[int, int | None], None] | None = None) -> list[Download]:
        """Download every result of a completed task into ``out_dir`` (see ``result_names``).

        Each file is written to a hidden ``.part`` file (opened without following links, and
        only if it is this user's own regular file), resumed with a Range request after a broken
        connection (also by a later call), checked against its announced size and the byte
        bound, then linked into place: an existing file of that name is never replaced (the
        same bytes already there count as done; other bytes get a numbered name). A result link
        answers 403/404/410 once it has expired (24 h).
        """
        if task.status != "completed" or not task.results:
            raise SubmitError(f"task {task.id} has no results to download (status {task.status})", None, task.id)
        names = self.result_names(task)
        for url in task.results:
            check_result_link(url, task.id)
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SubmitError(f"{out}: the output folder cannot be made ({exc.strerror or exc})",
                              ErrorInfo("output_not_writable", str(exc)), task.id) from None
        limit = min(self.max_result_bytes, expected_max_bytes or self.max_result_bytes)
        try:
            return [self._download_one(url, out / name, task.id, limit, on_progress)
                    for url, name in zip(task.results, names)]
        except DeadlineExceeded:
            raise DeadlineExceeded(f"task {task.id}'s results were not all downloaded by the deadline (--timeout); "
                                   f"resume with: submit download {task.id}", None, task.id) from None

    def _download_one(self, url: str, final: Path, task_id: str, max_bytes: int, on_progress) -> Download:
        part = final.with_name(f".{final.name}.part")
        try:
            fd = _open_part(part)
        except OSError as exc:
            raise SubmitError(f"{part}: cannot be written ({exc.strerror or exc})",
                              ErrorInfo("output_not_writable", str(exc)), task_id) from None
        with os.fdopen(fd, "r+b") as fh:
            start_size = os.fstat(fh.fileno()).st_size
            attempt = 0
            while True:
                attempt += 1
                try:
                    total = self._fetch_into(url, fh, task_id, max_bytes, on_progress)
                    break
                except httpx.HTTPError as exc:
                    if attempt >= self.retry.attempts:
                        raise TransportError(f"download of task {task_id}'s result broke off {attempt} times "
                                             f"({type(exc).__name__}); run the download again to resume",
                                             ErrorInfo("connection_error", str(exc)), task_id) from None
                    self._pause(self.retry.delay(attempt, None, self._rng), f"download of task {task_id}'s result")
            size = fh.seek(0, os.SEEK_END)
            if total is not None and size != total:
                raise TransportError(f"download of task {task_id}'s result: got {size} bytes of {total}",
                                     ErrorInfo("incomplete_download", f"{size} of {total} bytes"), task_id)
            fh.flush()
            os.fsync(fh.fileno())
        placed = _place(part, final)
        return Download(url=url, path=placed, size=size, resumed_from=start_size)

    def _fetch_into(self, url: str, fh, task_id: str, max_bytes: int, on_progress, redirects: int = 5) -> int | None:
        have = fh.seek(0, os.SEEK_END)
        headers = {"Range": f"bytes={have}-"} if have else {}
        what = f"download of task {task_id}'s result"
        with self._plain.stream("GET", url, headers=headers, timeout=self._timeout(what),
                                follow_redirects=False) as response:
            status = response.status_code
            location = response.headers.get("location")
            if status in (301, 302, 303, 307, 308) and location:
                # Followed here, not by httpx: each new place must be a safe link before it is asked.
                target = str(response.url.join(location))
                check_result_link(target, task_id)
                if redirects <= 0:
                    raise ApiError(f"result of task {task_id}: too many redirects",
                                   ErrorInfo("too_many_redirects", "more than 5 redirects", status), task_id)
                response.close()
                return self._fetch_into(target, fh, task_id, max_bytes, on_progress, redirects - 1)
            if status == 416 and have:  # the .part already holds everything
                return _total_from(response, have) or have
            if status in (401, 403, 404, 410):
                raise ApiError(f"result of task {task_id}: HTTP {status}; result links expire 24 hours after "
                               "the task completes, and this one is no longer served",
                               ErrorInfo("result_link_expired", f"HTTP {status} on the result URL", status), task_id)
            if status >= 400:
                if status == 429 or status >= 500:
                    raise _RetryableStatus(f"HTTP {status}", request=response.request)
                raise ApiError(f"result of task {task_id}: HTTP {status}",
                               ErrorInfo(f"http_{status}", "result download refused", status), task_id)
            if status == 200 and have:
                have = 0  # the host ignored the Range: start over
                fh.seek(0)
                fh.truncate()
            total = _total_from(response, have)
            too_large = ApiError(f"result of task {task_id} is larger than the {max_bytes:,} bytes a result may be; "
                                 "the download was stopped", ErrorInfo("result_too_large", f"over {max_bytes} bytes",
                                                                       status), task_id)
            if total is not None and total > max_bytes:
                raise too_large
            got = have
            for chunk in response.iter_bytes(1 << 16):
                got += len(chunk)
                if got > max_bytes:
                    fh.truncate(0)
                    raise too_large
                fh.write(chunk)
                if on_progress:
                    on_progress(got, total)
                self._left(what, task_id)
            return total

    # ------------------------------------------------------------------ files and credits
    def upload_file(self, path: str | Path, *, upload_path: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> UploadedFile:
        """POST /api/v1/files/upload/stream (API ref section 7). The files API is documented for
        images only; a refusal of another type comes back as an ``ApiError`` naming it.
        ``progress(sent, total)`` hears the bytes go, when given."""
        path = Path(path)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = {"upload_path": upload_path} if upload_path else {}

        def make() -> dict:
            # The bytes are read afresh for each send: a retry must not send a spent stream.
            content = path.read_bytes() if progress is None else _CountedReader(path.read_bytes(), progress)
            return {"data": data, "files": {"file": (path.name, content, mime)},
                    "headers": {"Authorization": f"Bearer {self._key}"}}

        # Uploads are idempotent in effect: a repeat only stores another copy of the same bytes.
        try:
            response = self._exchange(self._api, "POST", f"{self.files_base}/api/v1/files/upload/stream",
                                      idempotent=True, what=f"upload {path.name}", make=make)
        except TransportError as exc:
            raise HostingError(f"{path}: upload failed ({exc})", exc.info) from None
        try:
            body = self._json(response, f"upload {path.name}")
        except ApiError as exc:
            raise HostingError(f"{path}: EvoLink's files API refused it: {exc.info.message}", exc.info) from None
        if body.get("success") is False:
            info = parse_error(body, response.status_code)
            raise HostingError(f"{path}: EvoLink's files API refused it: {info.message}", info)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if not data.get("file_url"):
            raise HostingError(f"{path}: the files API answered without a file_url",
                               ErrorInfo("malformed_response", "no data.file_url"))
        return UploadedFile(file_id=data.get("file_id"), file_url=data["file_url"], size=_int(data.get("file_size")),
                            mime_type=data.get("mime_type"), expires_at=data.get("expires_at"))

    def credits(self) -> dict:
        """GET /v1/credits (API ref section 8): ``{"token": {...}, "user": {...}}``."""
        body = self._json(self._request("GET", f"{self.api_base}/v1/credits", idempotent=True, what="credits"),
                          "credits")
        return body.get("data") if isinstance(body.get("data"), dict) else body

    def probe_url(self, url: str) -> Reply:
        """HEAD a URL (without the key); a ranged GET when the host does not answer HEAD. Only
        the headers are wanted: the GET's body is never read, whether or not the host honours
        the range (an endless body costs nothing)."""
        what = f"checking {url[:100]}"
        response = self._exchange(self._plain, "HEAD", url, idempotent=True, what=what, body=False)
        if response.status_code in (403, 405, 501) or "content-length" not in response.headers:
            # Presigned URLs are signed for GET only; some hosts refuse HEAD altogether.
            return self._exchange(self._plain, "GET", url, idempotent=True, what=what, body=False,
                                  make=lambda: {"headers": {"Range": "bytes=0-0"}})
        return response


def _open_part(part: Path) -> int:
    """The download's ``.part`` file, opened for reading and writing without following a link,
    and only if it is this user's own regular file with no other name: a file or link another
    party planted under this predictable name is refused, never written through."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | \
        getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(part, flags, 0o600)
    except OSError as exc:
        if exc.errno in (getattr(os, "ELOOP", 40), getattr(os, "ENXIO", 6)):
            raise OSError(exc.errno, "a symbolic link or special file is in the way; remove it") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or (hasattr(os, "geteuid") and
                                                                 info.st_uid != os.geteuid()):
        os.close(fd)
        raise OSError(0, "a file that is not this user's own plain file is in the way; remove it")
    return fd


def _place(part: Path, final: Path) -> Path:
    """Give the finished ``part`` the name ``final`` without replacing anything there: a hard
    link fails if the name is taken. The same bytes already there count as done; other bytes
    (or a link, or a folder) get the next free numbered name."""
    candidates = [final, *(final.with_name(f"{final.stem} ({n}){final.suffix}") for n in range(2, 100))]
    for candidate in candidates:
        try:
            os.link(part, candidate, follow_symlinks=False)
        except FileExistsError:
            if candidate.is_file() and not candidate.is_symlink() and filecmp.cmp(part, candidate, shallow=False):
                part.unlink()
                return candidate
            continue
        part.unlink()
        return candidate
    raise SubmitError(f"{final}: that name and 98 numbered ones are taken; choose another --out")


class _RetryableStatus(httpx.TransportError):
    """A 429 or 5xx on a result download: retried like a broken connection."""


def _total_from(response: httpx.Response, have: int) -> int | None:
    content_range = response.headers.get("content-range", "")
    if "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = response.headers.get("content-length")
    return have + int(length) if length and length.isdigit() else None
