"""``submit.fal.FalClient``: fal's queue API for Kling 3.0 Motion Control (spec/providers.md
section 2).

The same client as EvoLink's, with fal's ways: ``Authorization: Key ...``, one endpoint per
quality tier (the client is made for one: its ``api_base`` is the endpoint's queue URL, which is
what the journal records), a request id answered at once, ``IN_QUEUE``/``IN_PROGRESS``/
``COMPLETED`` from the status URL, and the output (or the error of a failed run) from the
response URL. Local files go to fal's storage (initiate an upload, then PUT the bytes to the
signed URL it answers; the REST path is UNCONFIRMED, providers section 2).

fal has no idempotency key: a create is never sent again once it may have arrived.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from .client import Client, Reply, Task, UploadedFile, _CountedReader, _snippet, check_id, check_result_link
from .errors import ApiError, ErrorInfo, HostingError, SubmitError, TransportError

DEFAULT_QUEUE_BASE = "https://queue.fal.run"
DEFAULT_UPLOAD_BASE = "https://rest.alpha.fal.ai"
_STATES = {"IN_QUEUE": "pending", "IN_PROGRESS": "processing", "COMPLETED": "completed"}
_HTTP_NAMES = {401: "unauthorized", 403: "permission_denied", 404: "task_not_found", 422: "invalid_parameters",
               429: "rate_limit_exceeded"}


def _detail(body) -> str:
    """fal's error text: ``detail`` as a string or a list of ``{loc, msg}`` (422 validation)."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                where = ".".join(str(x) for x in item.get("loc", []) if x != "body")
                parts.append(f"{where}: {item.get('msg', '')}".strip(": "))
        return "; ".join(parts)
    if isinstance(detail, str):
        return detail
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("message") if isinstance(error, dict) else error or "")


class FalClient(Client):
    """A synchronous client for one fal endpoint (``endpoint``, e.g.
    ``fal-ai/kling-video/v3/pro/motion-control``)."""

    KEY_HINT = "FAL_KEY (or [providers.fal] in the config file)"
    provider = "fal"
    idempotent_create = False

    def __init__(self, api_key: str, *, endpoint: str, api_base: str = DEFAULT_QUEUE_BASE,
                 upload_base: str = DEFAULT_UPLOAD_BASE, **options):
        queue = f"{api_base.rstrip('/')}/{endpoint.strip('/')}"
        super().__init__(api_key, api_base=queue, files_base=upload_base, **options)
        self.endpoint = endpoint

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self._key}"}

    API_WORDS = "fal's"

    def _error_in(self, body, response: Reply) -> ErrorInfo | None:
        """fal's errors: the HTTP status, with ``detail`` as the message."""
        status = response.status_code
        if status < 400:
            return None
        message = _detail(body) if body is not None else f"the body was not JSON: {_snippet(response)!r}"
        name = _HTTP_NAMES.get(status) or ("service_error" if status >= 500 else f"http_{status}")
        return ErrorInfo(name, message or f"HTTP {status}", status)

    def _unwrapped(self, body: dict, response: Reply, what: str) -> dict:
        return body  # fal's outputs are the body; an error is always an HTTP error status

    def create_task(self, body: dict, idempotency_key: str | None = None) -> Task:
        """POST the input to the endpoint's queue; the request id is the task id. Sent once."""
        response = self._request("POST", self.api_base, idempotent=False, json=body, what="create task")
        data = self._json(response, "create task")
        task_id = self._answered_id(data.get("request_id", ""), "the request id fal answered with", response)
        return Task(id=task_id, status="pending", raw=data)

    def get_task(self, task_id: str) -> Task:
        """The status; once ``COMPLETED``, the output (or the run's error) from the response URL."""
        check_id(task_id, "task id", self.id_max_chars)
        where = f"{self.api_base}/requests/{quote(task_id, safe='')}"
        data = self._json(self._request("GET", f"{where}/status", idempotent=True, what=f"task {task_id}"),
                          f"task {task_id}")
        status = _STATES.get(str(data.get("status", "")).upper(), "processing")
        if status != "completed":
            position = data.get("queue_position")
            return Task(id=task_id, status=status, progress=0 if isinstance(position, int) else 50, raw=data)
        try:
            output = self._json(self._request("GET", where, idempotent=True, what=f"result of {task_id}"),
                                f"result of {task_id}")
        except ApiError as exc:
            if exc.info and exc.info.http_status and 400 <= exc.info.http_status < 500 and \
                    exc.info.http_status not in (401, 403, 404, 429):
                # A failed run still reaches COMPLETED; its result is the error (providers section 2).
                return Task(id=task_id, status="failed", error=exc.info, raw=data)
            raise
        video = output.get("video") if isinstance(output.get("video"), dict) else {}
        url = video.get("url")
        if not url:
            return Task(id=task_id, status="failed", raw=output, error=ErrorInfo(
                "generation_failed_no_content", "the output has no video URL"))
        return Task(id=task_id, status="completed", progress=100, results=[str(url)], raw=output)

    def upload_file(self, path: str | Path, *, upload_path: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> UploadedFile:
        """fal storage: initiate (with the key), then PUT the bytes to the signed URL (without)."""
        path = Path(path)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        try:
            response = self._request("POST", f"{self.files_base}/storage/upload/initiate?storage_type=fal-cdn-v3",
                                     idempotent=True, json={"content_type": mime, "file_name": path.name},
                                     what=f"upload {path.name}")
            data = self._json(response, f"upload {path.name}")
            upload_url, file_url = data.get("upload_url"), data.get("file_url")
            if not (isinstance(upload_url, str) and isinstance(file_url, str)):
                raise HostingError(f"{path}: fal's storage answered without upload_url and file_url",
                                   ErrorInfo("malformed_response", "no upload_url"))
            check_result_link(upload_url, path.name)  # HTTPS only (loopback for the local fake)

            def make() -> dict:
                content = path.read_bytes()
                return {"content": content if progress is None else _CountedReader(content, progress).read(),
                        "headers": {"Content-Type": mime}}

            put = self._exchange(self._plain, "PUT", upload_url, idempotent=True, what=f"upload {path.name}", make=make)
        except (ApiError, TransportError) as exc:
            raise HostingError(f"{path}: fal's storage refused it ({exc})", exc.info) from None
        if put.status_code >= 400:
            raise HostingError(f"{path}: fal's storage refused the bytes (HTTP {put.status_code})",
                               ErrorInfo(f"http_{put.status_code}", "upload refused", put.status_code))
        return UploadedFile(None, file_url, path.stat().st_size, mime, None)

    def credits(self) -> dict:
        raise SubmitError("fal's queue API has no balance endpoint in the reference (see fal's dashboard)",
                          ErrorInfo("not_available", "no balance endpoint"))
