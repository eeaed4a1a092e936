"""``submit.kling.KlingClient``: Kling AI's own motion-control API (spec/providers.md section 1).

The same client as EvoLink's (bounds, deadline, waiting, downloads), with Kling's ways: a JWT
signed with the secret key for each request (renewed before it expires), the create and query
paths of motion control, answers wrapped in ``{code, message, request_id, data}``, task states
``submitted|processing|succeed|failed``, and Kling's retry rules (1302 and 1303 and 5000-5002
are tried again; billing and parameter codes are not).

Kling has no Idempotency-Key. A create is never sent again once it may have arrived; each carries
``external_task_id`` (the journal's key), which Kling keeps unique per account (UNCONFIRMED that
it refuses a second use), so a task can still be found by it in Kling's console.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from preflight.request import PLAIN_ID

from .client import Client, Reply, Task, _snippet, check_id
from .errors import ErrorInfo, HostingError, SubmitError, TransportError
from .secrets import redact

DEFAULT_API_BASE = "https://api-singapore.klingai.com"
CREATE_PATH = "/v1/videos/motion-control"
# Kling's task states, in the words the rest of the tool uses (API ref section 3's).
_STATES = {"submitted": "pending", "processing": "processing", "succeed": "completed", "failed": "failed"}
TOKEN_LIFETIME = 1800  # seconds (providers section 1: exp = now + 1800)


def kling_token(access_key: str, secret_key: str, now: float | None = None, lifetime: int = TOKEN_LIFETIME) -> str:
    """The JWT Kling takes as a bearer token: HS256 over ``{"iss": access key, "exp": now +
    lifetime, "nbf": now - 5}``, signed with the secret key (providers section 1 [S1][S5])."""
    now = int(time.time() if now is None else now)

    def part(obj: dict) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "typ": "JWT"}) + b"." + part(
        {"iss": access_key, "exp": now + lifetime, "nbf": now - 5})
    signature = hmac.new(secret_key.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


# Kling's business codes (providers section 1, [S1]; 1103 onwards UNCONFIRMED), as the names
# the tool's errors use, so that exit codes and advice are the same on every host.
def _code_name(code: int) -> str:
    if 1000 <= code <= 1004:
        return "unauthorized"
    if code in (1101, 1102):
        return "insufficient_quota"
    if code in (1100, 1103):
        return "permission_denied"
    if 1200 <= code <= 1203:
        return "invalid_parameters"
    if code == 1301:
        return "content_policy_violation"
    if code == 1302:
        return "rate_limit_exceeded"
    if code == 1303:
        return "quota_exceeded"
    if code == 1304:
        return "permission_denied"
    if 5000 <= code <= 5002:
        return {5000: "service_error", 5001: "service_unavailable", 5002: "gateway_timeout"}[code]
    return f"kling_{code}"


_RETRIED_CODES = {1302, 1303, 5000, 5001, 5002}


def _code(body: Any) -> int | None:
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


class KlingClient(Client):
    """A synchronous client for Kling AI's API. ``api_key`` is the secret key; ``access_key``
    names the account in each token."""

    KEY_HINT = "KLING_ACCESS_KEY and KLING_SECRET_KEY (or [providers.kling] in the config file)"
    provider = "kling"
    idempotent_create = False  # external_task_id's uniqueness is UNCONFIRMED (providers section 12)

    def __init__(self, api_key: str, *, access_key: str, api_base: str = DEFAULT_API_BASE, **options):
        if not access_key:
            raise SubmitError(f"no access key: set {self.KEY_HINT}")
        super().__init__(api_key, api_base=api_base, files_base=api_base, **options)
        redact.add(access_key)
        self._access = access_key
        self._token: tuple[str, float] | None = None

    def _auth_headers(self) -> dict[str, str]:
        now = time.time()
        if self._token is None or self._token[1] - now < 60:  # renewed a minute before it expires
            token = kling_token(self._access, self._key, now)
            redact.add(token)
            self._token = (token, now + TOKEN_LIFETIME)
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _retryable(self, reply: Reply) -> bool:
        try:
            code = _code(reply.json())
        except ValueError:
            code = None
        if code is not None and code != 0:
            return code in _RETRIED_CODES
        return super()._retryable(reply)

    API_WORDS = "Kling's"

    def _error_in(self, body: Any, response: Reply) -> ErrorInfo | None:
        """Kling's ``code`` (0 is success), whatever the HTTP status; else the status."""
        code = _code(body)
        if response.status_code < 400 and code in (None, 0):
            return None
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        if body is None:
            message = f"the body was not JSON: {_snippet(response)!r}"
        name = _code_name(code) if code is not None else f"http_{response.status_code}"
        return ErrorInfo(name, message or f"HTTP {response.status_code}", response.status_code, code)

    def _unwrapped(self, body: dict, response: Reply, what: str) -> dict:
        if not isinstance(body.get("data"), dict):
            raise TransportError(redact(f"{what}: the answer was not Kling's JSON: {_snippet(response)!r}"),
                                 ErrorInfo("malformed_response", "no data object", response.status_code))
        return body["data"]

    def create_task(self, body: dict, idempotency_key: str | None = None) -> Task:
        """POST /v1/videos/motion-control. Sent once (Kling has no idempotency key): only a
        failure to connect is tried again. ``external_task_id`` carries the journal's key."""
        sent = {**body, **({"external_task_id": idempotency_key} if idempotency_key else {})}
        response = self._request("POST", f"{self.api_base}{CREATE_PATH}", idempotent=False, json=sent,
                                 what="create task")
        data = self._json(response, "create task")
        task_id = self._answered_id(data.get("task_id", ""), "the task id Kling answered with", response)
        return self._task(task_id, data)

    def get_task(self, task_id: str) -> Task:
        """GET /v1/videos/motion-control/{task_id}."""
        check_id(task_id, "task id", self.id_max_chars)
        response = self._request("GET", f"{self.api_base}{CREATE_PATH}/{task_id}", idempotent=True,
                                 what=f"task {task_id}")
        data = self._json(response, f"task {task_id}")
        if str(data.get("task_id", task_id)) != task_id:
            raise TransportError(f"task {task_id}: the answer is about another task",
                                 ErrorInfo("malformed_response", "another task id", response.status_code), task_id)
        return self._task(task_id, data)

    def _task(self, task_id: str, data: dict) -> Task:
        state = str(data.get("task_status") or "submitted").lower()
        status = _STATES.get(state, state)
        result = data.get("task_result") if isinstance(data.get("task_result"), dict) else {}
        videos = result.get("videos") if isinstance(result.get("videos"), list) else []
        urls = [str(v["url"]) for v in videos if isinstance(v, dict) and v.get("url")]
        error = None
        if status == "failed":
            error = ErrorInfo("generation_failed", str(data.get("task_status_msg") or "the task failed"))
        created = data.get("created_at")
        return Task(id=task_id, status=status, progress=100 if status == "completed" else 0,
                    created=int(created) // 1000 if isinstance(created, int) else None,  # Kling's times are in ms
                    results=urls if status == "completed" else [], error=error, raw=data)

    def upload_file(self, *args, **kwargs):
        raise HostingError("Kling's API has no file upload: the image goes inline, the video by URL",
                           ErrorInfo("no_upload", "no upload endpoint"))

    def credits(self) -> dict:
        raise SubmitError("Kling's API has no balance endpoint in the reference (see the Kling console)",
                          ErrorInfo("not_available", "no balance endpoint"))


def element_id_value(element_id: str) -> int | str:
    """Kling's element_list takes a number (providers section 1); an id that is not all digits
    is sent as it is."""
    return int(element_id) if element_id.isdigit() and PLAIN_ID.fullmatch(element_id) else element_id
