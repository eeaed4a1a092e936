"""``submit.Client``: EvoLink's task, files and credits endpoints, with typed answers.

The transport is httpx's and can be swapped (``transport=``): tests talk real HTTP to the local
fake server, other tools can pass a mock or a proxy. The API key is sent only to the API and
files hosts; result and user-given URLs are fetched without it (they live on other hosts).
"""

from __future__ import annotations

import mimetypes
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import httpx

from .errors import ApiError, ErrorInfo, HostingError, SubmitError, TaskFailed, TransportError, WaitTimeout, parse_error
from .retry import RetryPolicy, send_with_retries

# API ref section 1.
DEFAULT_API_BASE = "https://api.evolink.ai"
DEFAULT_FILES_BASE = "https://files-api.evolink.ai"
MODEL = "kling-v3-motion-control"
# API ref section 3: pending/processing/completed/failed; section 4: accept "cancelled" too.
TERMINAL = {"completed", "failed", "cancelled"}
# API ref section 3, "Pacing": EvoLink's own client polls video tasks every 8 s; each poll of an
# unfinished task makes the gateway query the provider.
DEFAULT_POLL_INTERVAL = 8.0


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
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

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
            raw=body,
        )

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"task_id": self.id, "status": self.status, "progress": self.progress,
                               "results": self.results}
        if self.created is not None:
            out["created"] = self.created
        if self.error:
            out["error"] = self.error.to_dict()
        return out


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


class Client:
    """A synchronous EvoLink client. Use as a context manager or call ``close()``.

    >>> with Client(api_key) as client:
    ...     task = client.create_task(body)
    ...     task = client.wait(task.id)
    ...     client.download(task, "out")
    """

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        files_base: str = DEFAULT_FILES_BASE,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[int, str, float], None] | None = None,
    ):
        if not api_key:
            raise SubmitError("no API key: set EVOLINK_API_KEY (or api_key in the config file)")
        self._key = _Secret(api_key)
        self.api_base = api_base.rstrip("/")
        self.files_base = files_base.rstrip("/")
        self.retry = retry
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
    def _request(self, method: str, url: str, *, idempotent: bool, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._key}", **kwargs.pop("headers", {})}

        def send() -> httpx.Response:
            return self._api.request(method, url, headers=headers, **kwargs)

        try:
            return send_with_retries(send, self.retry, idempotent=idempotent, sleep=self._sleep, rng=self._rng,
                                     on_retry=self.on_retry)
        except httpx.HTTPError as exc:
            # httpx's messages name the URL, never the headers; the key stays out of it.
            info = ErrorInfo("connection_error", f"{type(exc).__name__}: {exc}")
            raise TransportError(f"{method} {url}: no answer after {self.retry.attempts} tries ({exc})", info) from None

    def _json(self, response: httpx.Response, what: str) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            info = parse_error(body, response.status_code)
            if body is None:
                snippet = " ".join(response.text.split())[:120]
                info = ErrorInfo(info.name, f"{info.message} (the body was not JSON: {snippet!r})",
                                 response.status_code)
            raise ApiError(f"{what}: HTTP {response.status_code} {info.describe()}", info)
        if not isinstance(body, dict):
            snippet = " ".join(response.text.split())[:120]
            raise TransportError(f"{what}: the answer was not the API's JSON: {snippet!r}",
                                 ErrorInfo("malformed_response", "reply body is not a JSON object", response.status_code))
        return body

    # ------------------------------------------------------------------ tasks
    def create_task(self, body: dict, idempotency_key: str | None = None) -> Task:
        """POST /v1/videos/generations (API ref section 2). Every send, retries included, carries
        the same Idempotency-Key, so a retried POST cannot create (and bill) a second task."""
        key = idempotency_key or new_idempotency_key()
        response = self._request("POST", f"{self.api_base}/v1/videos/generations", idempotent=True, json=body,
                                 headers={"Idempotency-Key": key})
        data = self._json(response, "create task")
        if "id" not in data:
            raise TransportError("create task: the answer has no task id",
                                 ErrorInfo("malformed_response", "no id in the reply", response.status_code))
        replayed = response.headers.get("idempotency-replayed", "").lower() == "true"
        return Task.from_body(data, replayed=replayed)

    def get_task(self, task_id: str) -> Task:
        """GET /v1/tasks/{id} (API ref section 3). A failed task is an HTTP 200 with ``error``."""
        response = self._request("GET", f"{self.api_base}/v1/tasks/{quote(task_id, safe='')}", idempotent=True)
        data = self._json(response, f"task {task_id}")
        if "id" not in data:
            data = {**data, "id": task_id}
        return Task.from_body(data)

    def wait(self, task_id: str, *, interval: float = DEFAULT_POLL_INTERVAL, jitter: float = 0.2,
             timeout: float = 1800.0, on_update: Callable[[Task], None] | None = None,
             raise_on_failure: bool = True) -> Task:
        """Poll until the task is completed, failed or cancelled, or ``timeout`` seconds pass.

        ``jitter`` spreads each wait by that fraction either way so many waiting clients do not
        poll in step. Raises ``WaitTimeout`` (the task may still finish: wait again later) and,
        unless ``raise_on_failure`` is false, ``TaskFailed`` with the business code.
        """
        deadline = time.monotonic() + timeout
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
                raise WaitTimeout(f"task {task_id} still {task.status} after {timeout:g} s; "
                                  f"resume with: submit wait {task_id}", None, task_id)
            pause = interval * (1 + self._rng.uniform(-jitter, jitter))
            self._sleep(max(0.0, min(pause, left)))

    # ------------------------------------------------------------------ results
    def download(self, task: Task, out_dir: str | Path, *, expected_max_bytes: int | None = None,
                 on_progress: Callable[[int, int | None], None] | None = None) -> list[Download]:
        """Download every result of a completed task into ``out_dir`` as ``<task id>[-n].<ext>``.

        Each file is written to a hidden ``.part`` file, resumed with a Range request after a
        broken connection (also by a later call), checked against its announced size, then
        renamed into place. A result link answers 403/404/410 once it has expired (24 h).
        """
        if task.status != "completed" or not task.results:
            raise SubmitError(f"task {task.id} has no results to download (status {task.status})", None, task.id)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        done = []
        for n, url in enumerate(task.results):
            suffix = Path(urlsplit(url).path).suffix or ".mp4"
            name = f"{task.id}{'' if len(task.results) == 1 else f'-{n + 1}'}{suffix}"
            done.append(self._download_one(url, out / name, task.id, expected_max_bytes, on_progress))
        return done

    def _download_one(self, url: str, final: Path, task_id: str, max_bytes: int | None, on_progress) -> Download:
        part = final.with_name(f".{final.name}.part")
        start_size = part.stat().st_size if part.exists() else 0
        attempt = 0
        while True:
            attempt += 1
            have = part.stat().st_size if part.exists() else 0
            try:
                total = self._fetch_into(url, part, have, task_id, max_bytes, on_progress)
                break
            except httpx.HTTPError as exc:
                if attempt >= self.retry.attempts:
                    raise TransportError(f"download of task {task_id}'s result broke off {attempt} times "
                                         f"({type(exc).__name__}); run the download again to resume",
                                         ErrorInfo("connection_error", str(exc)), task_id) from None
                self._sleep(self.retry.delay(attempt, None, self._rng))
        size = part.stat().st_size
        if total is not None and size != total:
            raise TransportError(f"download of task {task_id}'s result: got {size} bytes of {total}",
                                 ErrorInfo("incomplete_download", f"{size} of {total} bytes"), task_id)
        with open(part, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(part, final)
        return Download(url=url, path=final, size=size, resumed_from=start_size)

    def _fetch_into(self, url: str, part: Path, have: int, task_id: str, max_bytes: int | None, on_progress):
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self._plain.stream("GET", url, headers=headers) as response:
            status = response.status_code
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
            if status == 200:
                have = 0  # the host ignored the Range: start over
            total = _total_from(response, have)
            if max_bytes is not None and total is not None and total > max_bytes:
                raise ApiError(f"result of task {task_id} announces {total} bytes, above the {max_bytes} expected",
                               ErrorInfo("result_too_large", f"{total} bytes", status), task_id)
            with open(part, "ab" if have else "wb") as fh:
                got = have
                for chunk in response.iter_bytes(1 << 16):
                    fh.write(chunk)
                    got += len(chunk)
                    if on_progress:
                        on_progress(got, total)
            return total

    # ------------------------------------------------------------------ files and credits
    def upload_file(self, path: str | Path, *, upload_path: str | None = None) -> UploadedFile:
        """POST /api/v1/files/upload/stream (API ref section 7). The files API is documented for
        images only; a refusal of another type comes back as an ``ApiError`` naming it."""
        path = Path(path)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = {"upload_path": upload_path} if upload_path else {}

        def send() -> httpx.Response:
            with open(path, "rb") as fh:
                return self._api.post(f"{self.files_base}/api/v1/files/upload/stream", data=data,
                                      files={"file": (path.name, fh, mime)},
                                      headers={"Authorization": f"Bearer {self._key}"})

        # Uploads are idempotent in effect: a repeat only stores another copy of the same bytes.
        try:
            response = send_with_retries(send, self.retry, idempotent=True, sleep=self._sleep, rng=self._rng,
                                         on_retry=self.on_retry)
        except httpx.HTTPError as exc:
            raise HostingError(f"{path}: upload failed ({type(exc).__name__}: {exc})",
                               ErrorInfo("connection_error", str(exc))) from None
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
        body = self._json(self._request("GET", f"{self.api_base}/v1/credits", idempotent=True), "credits")
        return body.get("data") if isinstance(body.get("data"), dict) else body

    def probe_url(self, url: str) -> httpx.Response:
        """HEAD a URL (without the key); a ranged GET when the host does not answer HEAD."""
        def head() -> httpx.Response:
            return self._plain.head(url)

        response = send_with_retries(head, self.retry, idempotent=True, sleep=self._sleep, rng=self._rng)
        if response.status_code in (403, 405, 501) or "content-length" not in response.headers:
            # Presigned URLs are signed for GET only; some hosts refuse HEAD altogether.
            with self._plain.stream("GET", url, headers={"Range": "bytes=0-0"}) as ranged:
                ranged.read()
                return ranged
        return response


class _RetryableStatus(httpx.TransportError):
    """A 429 or 5xx on a result download: retried like a broken connection."""


def _total_from(response: httpx.Response, have: int) -> int | None:
    content_range = response.headers.get("content-range", "")
    if "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = response.headers.get("content-length")
    return have + int(length) if length and length.isdigit() else None
