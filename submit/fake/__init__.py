"""A local EvoLink: the task, files and credits endpoints of API ref sections 2, 3, 7 and 8,
served over real HTTP, for tests and for demos that need no key, network or money.

It behaves as the documentation says the service does: checks the bearer key, validates the
body field by field, fetches the image and video URLs and checks them against the limits
(metadata only, like the service's own intake), moves a task from pending through processing
to completed over a few polls, reserves and settles credits, serves the result with Range
support and lets the link expire. Where the documentation disagrees with itself the reading is
a setting (``code_style`` for integer or string ``error.code``, ``credit_unit`` for
``credits_reserved``, ``files_accept_video``).

Faults are injected on demand, in process (``server.inject(...)``) or over HTTP
(``POST /_fake/faults``): status codes with or without Retry-After, HTML error pages, malformed
JSON, dropped connections before or after the request is acted on, slow answers, downloads cut
in the middle, and tasks that fail with a business code or stay pending forever. Hostile ones
too: an endless body, a reply dripped a byte at a time (headers included), an error said with
HTTP 200, the bearer key echoed in an error, and a next task whose id or result link the fault
chooses (``value``).

    >>> with FakeEvoLink(api_key="k") as server:
    ...     client = Client("k", api_base=server.url, files_base=server.url)
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import ipaddress
import json
import math
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from preflight.profile import DEFAULT_PROFILE, load_profile
from preflight.probe.sniff import sniff

from ..errors import HTTP_CODES

_FILE_TYPES_DOCUMENTED = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
_VIDEO_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime"}
_TOP_FIELDS = {"model", "prompt", "image_urls", "video_urls", "quality", "model_params", "callback_url"}
_PARAM_FIELDS = {"character_orientation", "keep_sound", "element_list", "watermark_info"}
# HTTP error type per status (API ref section 6a).
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "insufficient_quota",
                403: "invalid_request_error", 404: "invalid_request_error", 409: "invalid_request_error",
                413: "invalid_request_error", 429: "rate_limit_error"}


@dataclass
class Fault:
    """One injected misbehaviour. ``route`` is ``"METHOD /path-prefix"``, ``"* /path-prefix"``,
    or ``"task"`` for the next created task. ``times`` counts down; -1 is forever."""

    route: str
    # status | html | malformed | drop | drop_after | slow | cut | fail | stuck | endless | drip | error_200
    # | echo_key | task_id | result_url
    kind: str
    status: int = 500
    code: str | int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    times: int = 1
    value: str | None = None  # task_id: the next task's id; result_url: its result link

    def matches(self, method: str, path: str) -> bool:
        want_method, _, prefix = self.route.partition(" ")
        return (want_method in ("*", method)) and path.startswith(prefix or "/")


@dataclass
class _Task:
    id: str
    created: int
    body: dict
    orientation: str
    quality: str
    polls: int = 0
    status: str = "pending"
    progress: int = 0
    stuck: bool = False
    fail_code: str | None = None
    fail_message: str = ""
    result_path: Path | None = None
    result_url: str | None = None  # a link the fault chose instead of the fake's own
    completed_at: float | None = None
    reserved_credits: float = 0.0
    billed_seconds: int = 0
    video_duration: float | None = None


@dataclass
class _File:
    file_id: str
    name: str
    path: Path
    mime: str
    size: int
    uploaded: float


class _ReplyLost(Exception):
    """A ``drop_after`` fault: the request was acted on, its answer is thrown away."""


class FakeEvoLink:
    def __init__(self, api_key: str = "fake-key", *, host: str = "127.0.0.1", port: int = 0,
                 polls_to_complete: int = 3, credits: float = 10_000.0, credit_unit: str = "uc",
                 code_style: str = "string", link_ttl: float = 86_400, files_accept_video: bool = True,
                 max_files: int = 2000, check_media: bool = True, quiet: bool = True, profile=None):
        if credit_unit not in ("uc", "credits") or code_style not in ("string", "int"):
            raise ValueError("credit_unit is uc or credits; code_style is string or int")
        self.api_key = api_key
        self.polls_to_complete = max(1, polls_to_complete)
        self.credits = credits
        self.used_credits = 0.0
        self.credit_unit = credit_unit
        self.code_style = code_style
        self.link_ttl = link_ttl
        self.files_accept_video = files_accept_video
        self.max_files = max_files
        self.check_media = check_media
        self.quiet = quiet
        # The limits it enforces: the bundled profile unless told (a test's own profile).
        self.profile = profile or load_profile(DEFAULT_PROFILE)
        self.faults: list[Fault] = []
        self.tasks: dict[str, _Task] = {}
        self.files: dict[str, _File] = {}
        self.idempotency: dict[str, tuple[str, dict]] = {}
        self.inflight: dict[str, threading.Event] = {}  # Idempotency-Keys whose first send is being handled
        self.counts = {"posts": 0, "creates": 0, "polls": 0, "uploads": 0, "downloads": 0}
        self.received: list[str] = []  # "METHOD /path" of every request, as it arrives
        self.clock_offset = 0.0
        self.lock = threading.RLock()
        self._dir = Path(tempfile.mkdtemp(prefix="fake-evolink-"))
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"  # listening everywhere: hand out a loopback address that works here
        return f"http://{host}:{port}"

    def start(self) -> "FakeEvoLink":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-evolink", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "FakeEvoLink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ control
    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock on (result links and uploaded files expire by it)."""
        with self.lock:
            self.clock_offset += seconds

    def inject(self, fault: Fault | None = None, **fields) -> Fault:
        fault = fault or Fault(**fields)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def state(self) -> dict:
        with self.lock:
            return {**self.counts, "tasks": {t.id: t.status for t in self.tasks.values()},
                    "remaining_credits": round(self.credits, 4), "used_credits": round(self.used_credits, 4),
                    "files": len(self.files), "faults": [asdict(f) for f in self.faults]}

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.route != "task" and fault.matches(method, path):
                    self._use(fault)
                    return fault
        return None

    def _take_task_fault(self) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.route == "task":
                    self._use(fault)
                    return fault
        return None

    def _use(self, fault: Fault) -> None:
        if fault.times > 0:
            fault.times -= 1
            if fault.times == 0:
                self.faults.remove(fault)

    # ------------------------------------------------------------------ media intake
    def fetch(self, url: str, role: str) -> tuple[Path | None, str | None]:
        """Download a URL as the service would; (path, None) or (None, why)."""
        import httpx

        limit = self.profile.value(f"{role}.max_file_size")
        # Keep the URL's file ending: the limits check judges the name as the service may.
        target = self._dir / f"{role}-{uuid.uuid4().hex}{Path(urlsplit(url).path).suffix[:8]}"
        own = self._own_file(url)
        if own is not None:
            shutil.copyfile(own.path, target)
            return target, None
        try:
            with httpx.stream("GET", url, follow_redirects=True, timeout=30) as response:
                if response.status_code >= 400:
                    return None, f"the {role} URL answered HTTP {response.status_code}"
                size = 0
                with open(target, "wb") as fh:
                    for chunk in response.iter_bytes(1 << 16):
                        size += len(chunk)
                        if size > limit:
                            return None, f"the {role} is larger than {limit / 1e6:g} MB"
                        fh.write(chunk)
        except httpx.HTTPError as exc:
            return None, f"the {role} URL could not be fetched ({type(exc).__name__})"
        return target, None

    def _own_file(self, url: str) -> _File | None:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.url or not parts.path.startswith("/files/"):
            return None
        file_id = parts.path.split("/")[2]
        return self.files.get(file_id)

    def intake(self, task: _Task) -> None:
        """Fetch and check both inputs; a problem fails the task with the documented code."""
        image, why = self.fetch(task.body["image_urls"][0], "image")
        if image is None:
            task.fail_code, task.fail_message = "image_processing_error", why
            return
        video, why = self.fetch(task.body["video_urls"][0], "video")
        if video is None:
            task.fail_code, task.fail_message = "invalid_parameters", why
            return
        if self.check_media:
            from preflight import check

            report = check(image=image, video=video, orientation=task.orientation, quality=task.quality,
                           metadata_only=True, profile=self.profile)
            for c in report.checks:
                if c.status.value != "fail":
                    continue
                unreadable = c.id in ("image.readable", "image.format")
                task.fail_code = "image_processing_error" if unreadable else "invalid_parameters"
                task.fail_message = f"{c.subject} rejected ({c.id}): {c.message}"
                return
            facts = report.facts.get(str(video))
            readings = facts.video.durations() if facts and facts.video else {}
            task.video_duration = max(readings.values()) if readings else None
        task.result_path = video

    # ------------------------------------------------------------------ billing
    def reserve(self, task: _Task) -> float:
        cap = self.profile.value("video.max_duration")[task.orientation]
        seconds = min(task.video_duration or cap, cap)
        # The product page bills the output "rounded to the nearest integer" (API ref section 8).
        task.billed_seconds = max(int(self.profile.value("billing.min_billed_seconds")), math.floor(seconds + 0.5))
        rate = self.profile.value("billing.credits_per_second")[task.quality]
        task.reserved_credits = round(rate * task.billed_seconds, 4)
        return task.reserved_credits

    def reserved_field(self, task: _Task) -> float:
        # API ref section 8: the example's credits_reserved is in UC (1/10,000 credit).
        return round(task.reserved_credits * 10_000) if self.credit_unit == "uc" else task.reserved_credits

    # ------------------------------------------------------------------ task state
    def advance_task(self, task: _Task) -> None:
        if task.status in ("completed", "failed") or task.stuck:
            return
        task.polls += 1
        if task.polls < self.polls_to_complete:
            task.status, task.progress = "processing", int(100 * task.polls / self.polls_to_complete)
            return
        if task.fail_code:
            task.status, task.progress = "failed", 0
            self.credits += task.reserved_credits  # failed tasks are not charged (API ref section 8)
        else:
            task.status, task.progress, task.completed_at = "completed", 100, self.now()
            self.used_credits += task.reserved_credits

    def task_body(self, task: _Task) -> dict:
        body: dict[str, Any] = {
            "created": task.created, "id": task.id, "model": self.profile.value("request.model"), "object": "video.generation.task",
            "progress": task.progress, "status": task.status, "type": "video",
            "task_info": {"can_cancel": task.status == "pending"},
        }
        if task.status == "completed":
            expires = int(task.completed_at + self.link_ttl)
            body["results"] = [task.result_url or f"{self.url}/results/{task.id}/output.mp4?expires={expires}"]
        if task.status == "failed":
            body["error"] = {"code": task.fail_code, "message": task.fail_message or task.fail_code,
                             "type": "task_error"}
        return body

    def create_body(self, task: _Task) -> dict:
        body = self.task_body(task)
        body["task_info"] = {"can_cancel": True, "estimated_time": 300,
                             "video_duration": task.billed_seconds}
        body["usage"] = {"billing_rule": "per_second", "credits_reserved": self.reserved_field(task),
                         "user_group": "default"}
        return body


def _private_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".local"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not ip.is_global


def validate_generation(body: Any, profile) -> str | None:
    """What is wrong with a POST body, as the documentation describes the fields (section 2)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    unknown = set(body) - _TOP_FIELDS
    if unknown:
        return f"unknown field(s): {', '.join(sorted(unknown))}"
    model = profile.value("request.model")
    if body.get("model") != model:
        return f"model must be {model}"
    for name in ("image_urls", "video_urls"):
        urls = body.get(name)
        if not isinstance(urls, list) or len(urls) != 1:
            return f"{name} must hold exactly one URL"
        if not isinstance(urls[0], str) or urlsplit(urls[0]).scheme not in ("http", "https"):
            return f"{name}[0] must be an http(s) URL"
    prompt = body.get("prompt")
    if prompt is not None and (not isinstance(prompt, str) or len(prompt) > profile.value("request.prompt_max_chars")):
        return f"prompt must be a string of at most {profile.value('request.prompt_max_chars')} characters"
    qualities = profile.value("request.qualities")
    if "quality" in body and body["quality"] not in qualities:
        return f"quality must be one of {', '.join(qualities)}"
    params = body.get("model_params")
    if not isinstance(params, dict):
        return "model_params is required"
    unknown = set(params) - _PARAM_FIELDS
    if unknown:
        return f"unknown model_params field(s): {', '.join(sorted(unknown))}"
    orientations = profile.value("request.orientations")
    if params.get("character_orientation") not in orientations:
        return f"model_params.character_orientation must be one of {', '.join(orientations)}"
    if "keep_sound" in params and not isinstance(params["keep_sound"], bool):
        return "model_params.keep_sound must be a boolean"
    if "watermark_info" in params and not (isinstance(params["watermark_info"], dict)
                                           and isinstance(params["watermark_info"].get("enabled"), bool)):
        return "model_params.watermark_info must be {\"enabled\": true|false}"
    if "element_list" in params:
        elements = params["element_list"]
        if not isinstance(elements, list) or len(elements) > profile.value("request.element_max_items"):
            return "model_params.element_list holds at most one element"
        for element in elements:
            if not isinstance(element, dict) or not isinstance(element.get("element_id"), str) or not element["element_id"]:
                return "model_params.element_list[].element_id must be a non-empty string"
        needs = profile.value("request.element_requires_orientation")
        if elements and params["character_orientation"] != needs:
            return f"element_list requires character_orientation {needs}"
    callback = body.get("callback_url")
    if callback is not None:
        if not isinstance(callback, str) or len(callback) > profile.value("request.callback_max_chars"):
            return "callback_url must be a URL of at most 2048 characters"
        parts = urlsplit(callback)
        if parts.scheme != "https":
            return "callback_url must use HTTPS"
        if parts.username is not None or parts.password is not None:
            return "callback_url must not carry credentials"
        if not parts.hostname or _private_host(parts.hostname):
            return "callback_url must not point to a private address"
    return None


def _handler_for(fake: FakeEvoLink):
    class Handler(_Handler):
        server_state = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: FakeEvoLink

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        if not self.server_state.quiet:
            super().log_message(format, *args)

    # ------------------------------------------------------------------ replies
    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), headers=headers)

    def _error(self, status: int, code: str | None = None, message: str | None = None,
               headers: dict[str, str] | None = None, **extra) -> None:
        name, default_message = HTTP_CODES.get(status, (f"http_{status}", f"HTTP {status}"))
        written: str | int = status if self.server_state.code_style == "int" else (code or name)
        error = {"code": written, "message": message or default_message,
                 "type": _ERROR_TYPES.get(status, "api_error"), **extra}
        self._json(status, {"error": error}, headers)

    def _files_error(self, status: int, message: str) -> None:
        self._json(status, {"success": False, "code": status, "msg": message})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[7:] != self.server_state.api_key:
            # Never echo the token back: it would end up in somebody's logs.
            self._error(401, "unauthorized", "Invalid or expired token" if header else "Authentication required")
            return False
        return True

    # ------------------------------------------------------------------ dispatch
    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server_state
        path = urlsplit(self.path).path
        body = self._body() if self.command in ("POST", "DELETE") else b""
        with fake.lock:
            fake.received.append(f"{self.command} {path}")
        fault = None if path.startswith("/_fake/") else fake.take_fault(self.command, path)
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "drop":
                self.close_connection = True
                return
            elif fault.kind in ("status", "html", "malformed", "error_200", "echo_key"):
                self._fault_reply(fault)
                return
            elif fault.kind == "endless":
                return self._endless()
            elif fault.kind == "drip":
                return self._drip(fault)
        try:
            if fault is not None and fault.kind == "drop_after":
                real = self.wfile
                self.wfile = BytesIO()  # act on the request, then lose the answer
                try:
                    self._route(path, body, None)
                finally:
                    self.wfile = real
                self.close_connection = True
                return
            self._route(path, body, fault)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug here must look like a server error to the client, not a hang-up
            if not self.server_state.quiet:
                import traceback

                traceback.print_exc()
            self._error(500, "internal_error", f"fake server error: {type(exc).__name__}: {exc}")

    def _fault_reply(self, fault: Fault) -> None:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        if fault.kind == "html":
            page = f"<html><head><title>{fault.status}</title></head><body><h1>{fault.status} Bad Gateway</h1>" \
                   "<hr><center>nginx</center></body></html>"
            self._send(fault.status, page.encode(), "text/html", headers)
        elif fault.kind == "malformed":
            self._send(fault.status if fault.status < 400 else 200, b'{"id": "task-unified-17', headers=headers)
        elif fault.kind == "error_200":
            self._json(200, {"error": {"code": fault.code or "insufficient_quota", "message": "said with HTTP 200",
                                       "type": "api_error"}})
        elif fault.kind == "echo_key":  # a careless server quoting the credentials back
            self._error(fault.status, "unauthorized", f"bad token: {self.headers.get('Authorization', '')!r}")
        else:
            self._error(fault.status, fault.code if isinstance(fault.code, str) else None, headers=headers)

    # A hostile reply stops by itself after this long, whatever the client does.
    _HOSTILE_LIMIT_S = 120.0

    def _endless(self) -> None:
        """200 with no length, then bytes until the client hangs up (or the limit)."""
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Connection", "close")
        self.end_headers()
        block, stop = b"\0" * (1 << 16), time.monotonic() + self._HOSTILE_LIMIT_S
        self.close_connection = True
        try:
            while time.monotonic() < stop:
                self.wfile.write(block)
        except OSError:
            pass

    def _drip(self, fault: Fault) -> None:
        """A whole JSON reply, headers included, one byte every ``delay`` seconds."""
        body = json.dumps({"id": "task-unified-0-drip", "status": "pending"}).encode()
        raw = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body
        stop = time.monotonic() + self._HOSTILE_LIMIT_S
        self.close_connection = True
        try:
            for byte in raw:
                if time.monotonic() > stop:
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(fault.delay or 1.0)
        except OSError:
            pass

    def _route(self, path: str, body: bytes, fault: Fault | None) -> None:
        fake = self.server_state
        method = self.command
        if path.startswith("/_fake/"):
            return self._admin(path, body)
        if path.startswith("/results/") and method in ("GET", "HEAD"):
            return self._result(path, fault)
        if path.startswith("/files/") and method in ("GET", "HEAD"):
            return self._public_file(path)
        if not self._authorised():
            return
        if path == "/v1/videos/generations" and method == "POST":
            return self._create(body)
        if path.startswith("/v1/tasks/") and method in ("GET", "HEAD"):
            return self._get_task(path[len("/v1/tasks/"):])
        if path == "/v1/credits" and method == "GET":
            return self._json(200, {"data": {
                "token": {"remaining_credits": round(fake.credits, 4), "unlimited_credits": False,
                          "used_credits": round(fake.used_credits, 4)},
                "user": {"remaining_credits": round(fake.credits, 4), "used_credits": round(fake.used_credits, 4)}},
                "message": "", "success": True})
        if path.startswith("/api/v1/files/"):
            return self._files(path[len("/api/v1/files/"):], method, body)
        self._error(404, "not_found", f"no route {method} {path}")

    # ------------------------------------------------------------------ tasks
    def _create(self, raw: bytes) -> None:
        fake = self.server_state
        with fake.lock:
            fake.counts["posts"] += 1
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return self._error(400, "invalid_request", "the body is not valid JSON")
        problem = validate_generation(body, fake.profile)
        if problem:
            return self._error(400, "invalid_request", problem)
        key = self.headers.get("Idempotency-Key")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if not key:
            return self._create_task(body, None, digest)
        while True:
            # A second send with the key while the first is still being handled waits for it,
            # then gets its answer: two sends never both create (and bill) a task.
            with fake.lock:
                seen = fake.idempotency.get(key)
                running = fake.inflight.get(key)
                if seen is None and running is None:
                    fake.inflight[key] = threading.Event()
                    break
            if seen is not None:
                if seen[0] != digest:
                    return self._error(409, "idempotency_conflict", "Idempotency-Key reused with a different body")
                return self._json(200, seen[1], {"Idempotency-Replayed": "true"})
            running.wait(60)
        try:
            self._create_task(body, key, digest)
        finally:
            with fake.lock:
                fake.inflight.pop(key).set()

    def _create_task(self, body: dict, key: str | None, digest: str) -> None:
        fake = self.server_state
        params = body["model_params"]
        task = _Task(id=f"task-unified-{int(fake.now())}-{uuid.uuid4().hex[:8]}", created=int(fake.now()), body=body,
                     orientation=params["character_orientation"],
                     quality=body.get("quality", fake.profile.value("request.default_quality")))
        fake.intake(task)
        with fake.lock:
            needed = fake.reserve(task)
            if needed > fake.credits:
                return self._error(402, "insufficient_quota",
                                   f"Insufficient credits: {needed:.4f} needed, {fake.credits:.4f} left")
            fake.credits -= needed
            task_fault = fake._take_task_fault()
            if task_fault is not None and task_fault.kind == "stuck":
                task.stuck = True
            elif task_fault is not None and task_fault.kind == "task_id":
                task.id = str(task_fault.value)
            elif task_fault is not None and task_fault.kind == "result_url":
                task.result_url = str(task_fault.value)
            elif task_fault is not None:
                task.fail_code = str(task_fault.code or "unknown_error")
                task.fail_message = f"injected failure: {task.fail_code}"
            fake.tasks[task.id] = task
            fake.counts["creates"] += 1
            reply = fake.create_body(task)
            if key:
                fake.idempotency[key] = (digest, reply)
        self._json(200, reply)

    def _get_task(self, task_id: str) -> None:
        fake = self.server_state
        if not task_id.startswith("task-unified-"):
            return self._error(400, "invalid_task_id", "task_id must start with 'task-unified-'", param="task_id")
        with fake.lock:
            fake.counts["polls"] += 1
            task = fake.tasks.get(task_id)
            if task is None:
                return self._error(404, "task_not_found", f"task {task_id} not found")
            fake.advance_task(task)
            reply = fake.task_body(task)
        self._json(200, reply)

    def _result(self, path: str, fault: Fault | None) -> None:
        fake = self.server_state
        task = fake.tasks.get(path.split("/")[2])
        expires = parse_qs(urlsplit(self.path).query).get("expires", ["0"])[0]
        if task is None or task.result_path is None or task.status != "completed":
            return self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        if not expires.isdigit() or fake.now() > int(expires):
            return self._send(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                              "application/xml")
        with fake.lock:
            fake.counts["downloads"] += 1
        self._serve_file(task.result_path, "video/mp4", cut=fault is not None and fault.kind == "cut")

    def _serve_file(self, path: Path, mime: str, cut: bool = False) -> None:
        data = path.read_bytes()
        start, status, headers = 0, 200, {"Accept-Ranges": "bytes"}
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes="):
            first, _, last = wanted[6:].partition("-")
            start = int(first or 0)
            end = int(last) if last else len(data) - 1
            if start >= len(data):
                return self._send(416, b"", mime, {"Content-Range": f"bytes */{len(data)}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data = data[start:end + 1]
        if not cut:
            return self._send(status, data, mime, headers)
        # Announce everything, send half, hang up: a download broken in the middle.
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    # ------------------------------------------------------------------ files API (section 7)
    def _files(self, route: str, method: str, body: bytes) -> None:
        if route == "quota" and method == "GET":
            fake = self.server_state
            used = len(fake.files)
            return self._json(200, {"success": True, "code": 200, "data": {
                "user_group": "default", "used_files": used, "max_files": fake.max_files,
                "remain_files": fake.max_files - used, "is_custom": False, "quota_reason": ""}})
        if route.startswith("download/") and method in ("GET", "HEAD"):
            stored = self.server_state.files.get(route.split("/", 1)[1])
            if stored is None:
                return self._files_error(404, "File not found")
            return self._serve_file(stored.path, stored.mime)
        if method != "POST":
            return self._files_error(404, f"no route {method} /api/v1/files/{route}")
        if route == "upload/stream":
            fields = _multipart(self.headers.get("Content-Type", ""), body)
            if fields is None or "file" not in fields:
                return self._files_error(400, "multipart field 'file' is required")
            name, data = fields["file"]
            return self._store(data, fields.get("file_name", (None, b""))[1].decode() or name or "upload")
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return self._files_error(400, "the body is not valid JSON")
        if not isinstance(payload, dict):
            return self._files_error(400, "the body must be a JSON object")
        if route == "upload/base64":
            text = str(payload.get("base64_data") or "")
            try:
                data = base64.b64decode(text.split(",", 1)[1] if text.startswith("data:") else text, validate=True)
            except (binascii.Error, ValueError):
                return self._files_error(400, "base64_data is not valid base64")
            return self._store(data, str(payload.get("file_name") or "upload"))
        if route == "upload/url":
            fetched, why = self.server_state.fetch(str(payload.get("file_url") or ""), "video")
            if fetched is None:
                return self._files_error(400, why)
            return self._store(fetched.read_bytes(), str(payload.get("file_name") or "upload"))
        self._files_error(404, f"no route POST /api/v1/files/{route}")

    def _store(self, data: bytes, name: str) -> None:
        fake = self.server_state
        sniffed = sniff(data[:4096])
        mime = _FILE_TYPES_DOCUMENTED.get(sniffed.format)
        if mime is None and fake.files_accept_video:
            mime = _VIDEO_TYPES.get(sniffed.format)
        if mime is None:
            return self._files_error(400, f"Unsupported file type ({sniffed.label}): only image/jpeg, image/png, "
                                          "image/gif and image/webp are accepted")
        with fake.lock:
            if len(fake.files) >= fake.max_files:
                return self._files_error(403, "File quota exceeded")
            file_id = f"file_{uuid.uuid4().hex[:16]}"
            safe = Path(name).name or "upload"
            path = fake._dir / file_id
            path.write_bytes(data)
            fake.files[file_id] = _File(file_id, safe, path, mime, len(data), fake.now())
            fake.counts["uploads"] += 1
        expires = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(fake.now() + 72 * 3600 + 8 * 3600))
        self._json(200, {"success": True, "code": 200, "msg": "File uploaded successfully", "data": {
            "file_id": file_id, "file_name": safe, "original_name": name, "file_size": len(data), "mime_type": mime,
            "upload_path": "", "file_url": f"{fake.url}/files/{file_id}/{safe}",
            "download_url": f"{fake.url}/api/v1/files/download/{file_id}",
            "upload_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(fake.now() + 8 * 3600)),
            "expires_at": expires}})

    def _public_file(self, path: str) -> None:
        fake = self.server_state
        stored = fake.files.get(path.split("/")[2])
        if stored is None or fake.now() > stored.uploaded + 72 * 3600:
            return self._send(404, b"not found", "text/plain")
        self._serve_file(stored.path, stored.mime)

    # ------------------------------------------------------------------ control over HTTP
    def _admin(self, path: str, body: bytes) -> None:
        fake = self.server_state
        if path == "/_fake/state":
            return self._json(200, fake.state())
        if path == "/_fake/faults" and self.command == "DELETE":
            fake.clear_faults()
            return self._json(200, {"faults": []})
        if path == "/_fake/faults" and self.command == "POST":
            try:
                items = json.loads(body or b"null")
                items = items if isinstance(items, list) else [items]
                added = [asdict(fake.inject(Fault(**item))) for item in items]
            except (TypeError, ValueError) as exc:
                return self._json(400, {"error": {"code": "invalid_fault", "message": str(exc)}})
            return self._json(200, {"faults": added})
        if path == "/_fake/clock" and self.command == "POST":
            try:
                fake.advance(float(json.loads(body or b"{}").get("advance", 0)))
            except (TypeError, ValueError, AttributeError) as exc:
                return self._json(400, {"error": {"code": "invalid_clock", "message": str(exc)}})
            return self._json(200, {"offset": fake.clock_offset})
        self._json(404, {"error": {"code": "not_found", "message": path}})


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]] | None:
    """The fields of a multipart/form-data body: name -> (filename, bytes)."""
    if not content_type.startswith("multipart/form-data"):
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return None
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields
