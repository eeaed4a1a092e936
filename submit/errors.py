"""What EvoLink's errors mean, and the exceptions the client raises.

EvoLink writes ``error.code`` two ways (API ref section 6a, CONFLICT): a string such as
``rate_limit_exceeded`` on most pages, the integer HTTP status on the credits page and on older
task pages. Both are read; ``ErrorInfo.name`` is always a string so callers compare one kind.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeMeaning:
    meaning: str
    advice: str
    retryable: bool


# Business codes of a failed task: API ref section 6b (source [ERR]). ``retryable`` follows
# [ERR]'s own sample, which retries only the five marked True.
TASK_CODES: dict[str, CodeMeaning] = {
    "content_policy_violation": CodeMeaning(
        "the safety filters refused the input (real faces, celebrities, logos, NSFW, violence, minors)",
        "change the image or video", False),
    "invalid_parameters": CodeMeaning(
        "a parameter is out of range (prompt length, dimensions, file size, format, duration)",
        "fix the parameters; run preflight on the inputs", False),
    "image_processing_error": CodeMeaning(
        "the image was unreachable, corrupt or in an unsupported format (HEIC, AVIF)",
        "use another image (JPEG or PNG) at a URL the service can fetch", False),
    "image_dimension_mismatch": CodeMeaning(
        "the image size does not match the requested aspect", "resize the image (prep does)", False),
    "request_cancelled": CodeMeaning("the task was cancelled or interrupted", "submit it again", False),
    "generation_failed_no_content": CodeMeaning(
        "the model produced nothing", "change the prompt, then retry", True),
    "service_error": CodeMeaning("an internal error upstream", "retry after 30-60 s", True),
    "generation_timeout": CodeMeaning("the generation did not finish in time", "retry later", True),
    "resource_exhausted": CodeMeaning("upstream capacity ran out", "retry in 1-5 minutes", True),
    "quota_exceeded": CodeMeaning("a rate, concurrency or quota limit was hit", "slow down (1-2 s between calls)", True),
    "service_unavailable": CodeMeaning("an internal authentication or connection problem", "retry in a few minutes", False),
    "resource_not_found": CodeMeaning("the task id is invalid or has expired", "check the task id", False),
    "unknown_error": CodeMeaning("an unclassified error", "retry once, then contact EvoLink support", False),
}

# HTTP-level errors: API ref section 6a. Integer codes (the other reading) map through the status.
HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "the request was refused as invalid"),
    401: ("unauthorized", "the API key is missing, invalid or expired"),
    402: ("insufficient_quota", "the account has too few credits"),
    403: ("permission_denied", "the key may not use this model or resource"),
    404: ("task_not_found", "no such task"),
    409: ("idempotency_conflict", "the Idempotency-Key was used before with another body"),
    413: ("payload_too_large", "the upload is too large"),
    429: ("rate_limit_exceeded", "too many requests"),
    500: ("internal_error", "the service failed"),
    502: ("upstream_error", "the service's upstream failed"),
    503: ("service_unavailable", "no channel is available for the model"),
    504: ("gateway_timeout", "the service timed out"),
}


@dataclass(frozen=True)
class ErrorInfo:
    """One error as the service (or the network) reported it."""

    name: str  # always a string: "rate_limit_exceeded", "content_policy_violation", "connection_error"
    message: str
    http_status: int | None = None
    raw_code: str | int | None = None  # what the body said, unchanged
    type: str | None = None

    @property
    def meaning(self) -> CodeMeaning | None:
        return TASK_CODES.get(self.name)

    @property
    def retryable(self) -> bool:
        if self.name in TASK_CODES:
            return TASK_CODES[self.name].retryable
        return self.http_status == 429 or (self.http_status or 0) >= 500 or self.name == "connection_error"

    @property
    def caller_error(self) -> bool:
        """The service refused what it was sent as the caller's mistake (a 4xx other than a
        timeout or a rate limit): a wrong key, an unknown task id, a bad request, too few
        credits. Sending it again as it is cannot help; the service itself did not fail."""
        if self.name in _NOT_THE_CALLERS:
            return False
        status = self.http_status or 0
        return (400 <= status < 500 and status not in (408, 429)) or self.name in _CALLER_ERROR_NAMES

    def to_dict(self) -> dict:
        out = {"code": self.name, "message": self.message, "retryable": self.retryable}
        if self.http_status is not None:
            out["http_status"] = self.http_status
        if self.raw_code is not None and self.raw_code != self.name:
            out["raw_code"] = self.raw_code
        if self.meaning:
            out["meaning"] = self.meaning.meaning
            out["advice"] = self.meaning.advice
        return out

    def describe(self) -> str:
        text = f"{self.name}: {self.message}".rstrip(": ")
        if self.meaning:
            retry = "a retry can help" if self.retryable else "a retry will not help"
            text += f" ({self.meaning.meaning}; {self.meaning.advice}; {retry})"
        return text


def error_name(code: str | int | None, http_status: int | None) -> str:
    """A string name for ``error.code`` whichever way the service wrote it."""
    if isinstance(code, str) and code.strip() and not code.strip().isdigit():
        return code.strip()
    number = int(code) if code is not None and str(code).strip().isdigit() else http_status
    if number in HTTP_CODES:
        return HTTP_CODES[number][0]
    return f"http_{number}" if number else "unknown_error"


def parse_error(body: object, http_status: int | None) -> ErrorInfo:
    """Read the error of a reply body (or of a failed task); tolerant of every shape seen."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = err.get("code")
        message = str(err.get("message") or "")
        kind = err.get("type")
    elif isinstance(body, dict) and "msg" in body:  # the files API: {"success": false, "code": 400, "msg": ...}
        code, message, kind = body.get("code"), str(body.get("msg") or ""), None
    else:
        code, message, kind = None, "", None
    name = error_name(code, http_status)
    if not message:
        message = HTTP_CODES.get(http_status or 0, ("", f"HTTP {http_status}"))[1]
    return ErrorInfo(name=name, message=message.strip(), http_status=http_status, raw_code=code, type=kind)


# A 4xx that is nobody's mistake in what was sent: the result link's lifetime ran out.
_NOT_THE_CALLERS = frozenset({"result_link_expired"})
# The same errors said with another status (an error body with HTTP 200, say) by their names.
_CALLER_ERROR_NAMES = frozenset(name for status, (name, _) in HTTP_CODES.items() if 400 <= status < 500 and status != 429)


class SubmitError(Exception):
    """Anything the client cannot do; ``info`` says what the service or network reported."""

    # False when it is certain that no task was created (nothing was sent, or the service
    # answered with an error); None when unknown.
    created: bool | None = None

    def __init__(self, message: str, info: ErrorInfo | None = None, task_id: str | None = None):
        super().__init__(message)
        self.info = info
        self.task_id = task_id


class ApiError(SubmitError):
    """The service answered with an error."""


class TransportError(SubmitError):
    """No usable answer: connection refused or reset, timeout, a body that is not the API's JSON.

    ``sent`` says whether the request may have reached the service: False when no try got past
    connecting (nothing can have been created), True or None (unknown) otherwise."""

    sent: bool | None = None


class TaskFailed(SubmitError):
    """The task ran and failed; ``info`` holds its business code."""


class WaitTimeout(SubmitError):
    """The task did not finish within the overall wait."""


class DeadlineExceeded(WaitTimeout):
    """The command's deadline (``--timeout``) passed while something was still running: a
    request, a retry's pause, a download or a URL check."""


class HostingError(SubmitError):
    """A file could not be given a URL the service can fetch."""


class GateRefused(SubmitError):
    """preflight, the budget or the user said no before anything was paid."""


class AlreadySubmitted(GateRefused):
    """The same inputs and request are in flight or were made recently; ``row`` is the journal's."""

    def __init__(self, message: str, info: ErrorInfo | None = None, task_id: str | None = None, row: int = 0):
        super().__init__(message, info, task_id)
        self.row = row
