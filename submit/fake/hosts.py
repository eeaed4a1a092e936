"""Local stand-ins for the other hosts of the model: Kling AI's own API (``FakeKling``) and fal's
queue (``FakeFal``), over real HTTP, as spec/providers.md documents them.

Each checks its host's auth (Kling: an HS256 JWT from the access and secret keys, with ``exp``
and ``nbf``; fal: ``Key``), validates the body field by field with the host's error shape
(Kling: ``{code, message, request_id}``; fal: 422 with a ``detail`` list), fetches the media and
checks them against the host's profile (metadata only, like a service's intake), moves a task
from queued to done over a few polls, and serves the result. Faults are injected with
``inject()``: answers of a status (a 503 storm, a 429 storm), an outage in the host's own words,
a failed task, and ``down``: the server stops listening after answering a route (a host that
dies mid-run).

    >>> with FakeKling(access_key="ak", secret_key="sk") as kling, FakeFal(api_key="fk") as fal:
    ...     ...
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from preflight.probe.sniff import sniff
from preflight.profile import load_profile

from .state import download



@dataclass
class Reply:
    status: int
    body: Any = None  # a dict (sent as JSON) or bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class HostFault:
    """One injected misbehaviour of a fake host (see ``_FakeHost.inject``)."""

    route: str  # "METHOD /path-prefix", "*" for any method
    kind: str
    status: int = 503
    times: int = 1  # counts down; -1 is forever
    code: int | str | None = None
    skip: int = 0  # matching requests let through first

    def matches(self, method: str, path: str) -> bool:
        want, _, prefix = self.route.partition(" ")
        return want in ("*", method) and path.startswith(prefix or "/")


@dataclass
class HostTask:
    id: str
    body: dict
    quality: str
    polls: int = 0
    status: str = "queued"  # queued | running | done | failed
    message: str = ""
    result: Path | None = None
    created_ms: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: "_FakeHost"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        if not self.fake.quiet:
            super().log_message(format, *args)

    def setup(self) -> None:
        super().setup()
        with self.fake.lock:
            self.fake.connections.add(self.connection)

    def finish(self) -> None:
        with self.fake.lock:
            self.fake.connections.discard(self.connection)
        super().finish()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        try:
            reply = self.fake.answer(self.command, parts.path, parse_qs(parts.query), self.headers, raw)
        except Exception as exc:  # a bug in the fake is a 500 the client must cope with, not a hang
            reply = Reply(500, {"detail": f"fake {self.fake.name} failed: {type(exc).__name__}: {exc}"})
        if self.fake._fault(self.command, parts.path, ("lost",)):
            self.close_connection = True  # acted on, the answer never sent
            return
        dying = self.fake._fault(self.command, parts.path, ("down",)) is not None
        if dying:
            # The other connections drop before this answer goes out, so that a client that
            # reads it finds the host gone (connection refused), not a connection that resets.
            self.fake.kill(keep=self.connection)
            self.close_connection = True
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_HEAD = _serve


class _FakeHost:
    """What both fakes share: the server's lifecycle, tasks, stored files, faults, counts."""

    name = "host"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, polls_to_complete: int = 2, profile=None,
                 check_media: bool = True, quiet: bool = True):
        self.polls_to_complete = max(1, polls_to_complete)
        self.profile = profile or load_profile(self.PROFILE)
        self.check_media = check_media
        self.quiet = quiet
        self.tasks: dict[str, HostTask] = {}
        self.files: dict[str, Path] = {}
        self.faults: list[HostFault] = []
        self.counts = {"creates": 0, "polls": 0, "uploads": 0, "downloads": 0}
        self.received: list[str] = []
        self.connections: set = set()  # open client connections (a host that dies drops them all)
        self.lock = threading.RLock()
        self._dir = Path(tempfile.mkdtemp(prefix=f"fake-{self.name}-"))
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._down = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``submit fake-server --provider``)."""
        self._server.serve_forever()

    def kill(self, keep=None) -> None:
        """Stop listening and drop every open connection (but ``keep``, which is answering):
        from now on a connection is refused (a host that went down)."""
        if not self._down:
            self._down = True
            # The accept loop ends first: while it waits on the listening socket, the kernel
            # keeps that socket alive and would still accept (then reset) new connections.
            self._server.shutdown()
            self._server.socket.close()
            import socket

            with self.lock:
                for connection in list(self.connections - {keep}):  # kept-alive connections die with the host
                    try:
                        connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def stop(self) -> None:
        if not self._down:
            self._down = True
            self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def inject(self, route: str, kind: str, status: int = 503, times: int = 1, code: int | str | None = None,
               skip: int = 0) -> None:
        """``route`` is ``"METHOD /path-prefix"`` (``*`` for any method). ``kind``: ``status``
        (answer ``status`` with the host's error shape), ``outage`` (the host's own words for
        being down, as a 503), ``fail`` (the next task fails, whatever the route), ``down`` (stop
        listening after answering ``route``), ``lost`` (act on the request, then close the
        connection without answering). ``times`` counts down; -1 is forever. ``skip`` lets that
        many matching requests through first (``down`` after the second upload: ``skip=1``)."""
        if kind not in ("status", "outage", "fail", "down", "lost"):
            raise ValueError(f"unknown fault kind {kind!r}")
        with self.lock:
            self.faults.append(HostFault(route, kind, status, times, code, skip))

    def _fault(self, method: str, path: str, kinds: tuple[str, ...]) -> HostFault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    if fault.times > 0:
                        fault.times -= 1
                        if fault.times == 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def answer(self, method: str, path: str, query: dict, headers, raw: bytes) -> Reply:
        with self.lock:
            self.received.append(f"{method} {path}")
        if path.startswith("/files/") and method in ("GET", "HEAD"):
            return self._file(path)
        if path.startswith("/results/") and method in ("GET", "HEAD"):
            return self._result(path)
        fault = self._fault(method, path, ("status", "outage"))
        if fault is not None:
            return self.error(fault.status, fault.code, "the service is temporarily unavailable"
                              if fault.kind == "outage" else f"injected HTTP {fault.status}")
        return self.route(method, path, query, headers, raw)

    def _file(self, path: str) -> Reply:
        stored = self.files.get(path.split("/")[2] if path.count("/") >= 2 else "")
        if stored is None or not stored.exists():
            return Reply(404, b"not found", content_type="text/plain")
        return Reply(200, stored.read_bytes(), content_type="application/octet-stream")

    def _result(self, path: str) -> Reply:
        task = self.tasks.get(Path(path).stem)
        if task is None or task.result is None:
            return Reply(404, b"not found", content_type="text/plain")
        with self.lock:
            self.counts["downloads"] += 1
        return Reply(200, task.result.read_bytes(), content_type="video/mp4")

    def fetch(self, url: str, role: str) -> tuple[Path | None, str | None]:
        """The media behind a URL, as the host would fetch it (its own files without a request)."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.url and parts.path.startswith("/files/"):
            stored = self.files.get(parts.path.split("/")[2])
            return (stored, None) if stored else (None, f"the {role} URL is not a stored file")
        target = self._dir / f"{role}-{uuid.uuid4().hex}{Path(parts.path).suffix[:8]}"
        # Twice the limit: a file over it is fetched, so that the intake check can say by how much.
        return download(url, target, self.profile.value(f"{role}.max_file_size") * 2, role)

    def intake(self, task: HostTask, image: Path, video: Path, orientation: str) -> None:
        """Check the media against the host's profile (metadata only); a failure fails the task."""
        if self.check_media:
            from preflight import check

            report = check(image=image, video=video, orientation=orientation, quality=task.quality,
                           metadata_only=True, profile=self.profile)
            failed = [c for c in report.checks if c.status.value == "fail" and c.subject in ("image", "video")]
            if failed:
                task.status, task.message = "failed", f"{failed[0].id}: {failed[0].message}"
                return
        task.result = video

    def advance(self, task: HostTask) -> None:
        """One poll: queued, running, then done (or failed, when a fault says so)."""
        with self.lock:
            self.counts["polls"] += 1
            if task.status in ("done", "failed"):
                return
            task.polls += 1
            if task.polls >= self.polls_to_complete:
                task.status = "done" if task.result is not None else "failed"
                task.message = task.message or "no result"
            else:
                task.status = "running"

    def new_task(self, body: dict, quality: str) -> HostTask:
        task = HostTask(id=self.task_id(), body=body, quality=quality, created_ms=int(time.time() * 1000))
        with self.lock:
            self.counts["creates"] += 1
            self.tasks[task.id] = task
            fault = next((f for f in self.faults if f.kind == "fail"), None)
            if fault is not None:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                task.message = "injected failure"
        return task


# ---------------------------------------------------------------------------------- Kling AI

class FakeKling(_FakeHost):
    """Kling AI's motion-control API (providers section 1)."""

    name = "kling"
    PROFILE = "kling-v3-motion-control-kling"
    _FIELDS = {"model_name", "image_url", "video_url", "character_orientation", "mode", "prompt",
               "keep_original_sound", "element_list", "watermark_info", "callback_url", "external_task_id"}

    def __init__(self, access_key: str = "fake-access", secret_key: str = "fake-secret", **options):
        self.access_key, self.secret_key = access_key, secret_key
        self.external_ids: set[str] = set()
        super().__init__(**options)

    def task_id(self) -> str:
        return str(800_000_000_000_000_000 + len(self.tasks) + int(time.time()) % 100_000 * 1000)

    def error(self, status: int, code: int | str | None, message: str) -> Reply:
        default = {401: 1002, 429: 1302, 400: 1201, 404: 1203, 500: 5000, 503: 5001, 504: 5002}.get(status, 5000)
        return Reply(status, {"code": code if code is not None else default, "message": message,
                              "request_id": uuid.uuid4().hex})

    def _authorised(self, headers) -> Reply | None:
        """Kling's JWT: signed with the secret key, issued by the access key, inside nbf..exp."""
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            return self.error(401, 1001, "Authorization is empty")
        token = auth[7:]
        try:
            head, payload, signature = token.split(".")
            expected = base64.urlsafe_b64encode(hmac.new(self.secret_key.encode(), f"{head}.{payload}".encode(),
                                                         hashlib.sha256).digest()).rstrip(b"=").decode()
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        except (ValueError, TypeError):
            return self.error(401, 1002, "Authorization is invalid")
        if header.get("alg") != "HS256" or not hmac.compare_digest(signature, expected) or \
                claims.get("iss") != self.access_key:
            return self.error(401, 1002, "Authorization is invalid")
        now = time.time()
        if claims.get("nbf", 0) > now:
            return self.error(401, 1003, "Authorization is not yet valid")
        if claims.get("exp", 0) <= now:
            return self.error(401, 1004, "Authorization has expired")
        return None

    def route(self, method: str, path: str, query: dict, headers, raw: bytes) -> Reply:
        base = "/v1/videos/motion-control"
        if not path.startswith(base):
            return self.error(404, 1203, f"no route {method} {path}")
        refused = self._authorised(headers)
        if refused is not None:
            return refused
        if method == "POST" and path == base:
            return self._create(raw)
        if method == "GET" and path.startswith(base + "/"):
            task = self.tasks.get(path[len(base) + 1:])
            if task is None:
                return self.error(404, 1203, "task not found")
            self.advance(task)
            return Reply(200, {"code": 0, "message": "SUCCEED", "request_id": uuid.uuid4().hex,
                               "data": self._describe(task)})
        return self.error(404, 1203, f"no route {method} {path}")

    def _validate(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "the body must be a JSON object"
        unknown = sorted(set(body) - self._FIELDS)
        if unknown:
            return f"unknown fields: {', '.join(unknown)}"
        if body.get("model_name") != "kling-v3":
            return f"model_name {body.get('model_name')!r}: this fake serves kling-v3 (without it Kling uses kling-v2-6)"
        for name in ("image_url", "video_url", "character_orientation", "mode"):
            if not isinstance(body.get(name), str) or not body[name]:
                return f"{name} is required"
        if body["character_orientation"] not in ("image", "video"):
            return "character_orientation must be image or video"
        if body["mode"] not in ("std", "pro"):
            return "mode must be std or pro"
        if "keep_original_sound" in body and body["keep_original_sound"] not in ("yes", "no"):
            return "keep_original_sound must be the string yes or no"
        if len(body.get("prompt") or "") > 2500:
            return "prompt is longer than 2500 characters"
        elements = body.get("element_list")
        if elements is not None and (not isinstance(elements, list) or len(elements) > 1 or not all(
                isinstance(e, dict) and isinstance(e.get("element_id"), (int, str)) for e in elements)):
            return "element_list takes at most 1 {element_id}"
        if not body["video_url"].lower().startswith(("http://", "https://")):
            return "video_url must be a URL"
        if body.get("external_task_id") in self.external_ids:
            return "external_task_id is already used"
        return None

    def _image(self, value: str) -> tuple[Path | None, str | None]:
        if value.lower().startswith(("http://", "https://")):
            return self.fetch(value, "image")
        if value.startswith("data:"):
            return None, "image_url base64 must not carry a data: prefix"
        try:
            data = base64.b64decode(value, validate=True)
        except ValueError:
            return None, "image_url is neither a URL nor base64"
        path = self._dir / f"image-{uuid.uuid4().hex}"
        path.write_bytes(data)
        found = sniff(data[:4096])
        if found is None or found.format not in ("jpeg", "png"):
            return None, "image_url base64 is not a JPG or PNG"
        path = path.rename(path.with_suffix(".jpg" if found.format == "jpeg" else ".png"))
        return path, None

    def _create(self, raw: bytes) -> Reply:
        try:
            body = json.loads(raw)
        except ValueError:
            return self.error(400, 1200, "the body is not JSON")
        problem = self._validate(body)
        if problem:
            return self.error(400, 1201, problem)
        image, why = self._image(body["image_url"])
        if image is None:
            return self.error(400, 1201, why or "image_url")
        quality = "1080p" if body["mode"] == "pro" else "720p"
        task = self.new_task(body, quality)
        if body.get("external_task_id"):
            self.external_ids.add(body["external_task_id"])
        if not task.message:
            video, why = self.fetch(body["video_url"], "video")
            if video is None:
                task.status, task.message = "failed", why or "video_url"
            else:
                self.intake(task, image, video, body["character_orientation"])
        return Reply(200, {"code": 0, "message": "SUCCEED", "request_id": uuid.uuid4().hex,
                           "data": self._describe(task)})

    def _describe(self, task: HostTask) -> dict:
        state = {"queued": "submitted", "running": "processing", "done": "succeed", "failed": "failed"}[task.status]
        data: dict = {"task_id": task.id, "task_status": state, "created_at": task.created_ms,
                      "updated_at": int(time.time() * 1000),
                      "task_info": {"external_task_id": task.body.get("external_task_id")}}
        if task.status == "done":
            data["task_result"] = {"videos": [{"id": f"v{task.id}", "url": f"{self.url}/results/{task.id}.mp4",
                                               "duration": "5"}]}
            data["final_unit_deduction"] = "5"
        if task.status == "failed":
            data["task_status_msg"] = task.message
        return data


# ---------------------------------------------------------------------------------- fal

class FakeFal(_FakeHost):
    """fal's queue and storage for the v3 motion-control endpoints (providers section 2). One
    server plays the queue, the storage REST host and the CDN."""

    name = "fal"
    PROFILE = "kling-v3-motion-control-fal"
    _FIELDS = {"image_url", "video_url", "character_orientation", "keep_original_sound", "prompt", "elements"}

    def __init__(self, api_key: str = "fake-fal-key", **options):
        self.api_key = api_key
        self.uploads: dict[str, Path] = {}
        super().__init__(**options)
        self.endpoints = {v: k for k, v in self.profile.value("host.endpoints").items()}

    def task_id(self) -> str:
        return str(uuid.uuid4())

    def error(self, status: int, code: int | str | None, message: str, loc: list | None = None) -> Reply:
        if status == 422:
            return Reply(422, {"detail": [{"loc": ["body", *(loc or [])], "msg": message, "type": "value_error"}]})
        return Reply(status, {"detail": message})

    def route(self, method: str, path: str, query: dict, headers, raw: bytes) -> Reply:
        if method == "PUT" and path.startswith("/_upload/"):
            return self._receive(path.split("/")[2], raw)
        if (headers.get("Authorization") or "") != f"Key {self.api_key}":
            return self.error(401, None, "Invalid Key authorization header")
        if method == "POST" and path == "/storage/upload/initiate":
            return self._initiate(raw)
        endpoint = next((e for e in self.endpoints if path == f"/{e}" or path.startswith(f"/{e}/requests/")), None)
        if endpoint is None:
            return self.error(404, None, f"no application at {path}")
        if method == "POST" and path == f"/{endpoint}":
            return self._create(endpoint, raw)
        rest = path[len(endpoint) + len("/requests/") + 1:]
        task_id, _, tail = rest.partition("/")
        task = self.tasks.get(task_id)
        if task is None or method != "GET" or tail not in ("", "status"):
            return self.error(404, None, "request not found")
        if tail == "status":
            self.advance(task)
            status = {"queued": "IN_QUEUE", "running": "IN_PROGRESS"}.get(task.status, "COMPLETED")
            return Reply(200, {"status": status, **({"queue_position": 0} if status == "IN_QUEUE" else {}),
                               "response_url": f"{self.url}/{endpoint}/requests/{task.id}"})
        if task.status in ("queued", "running"):
            return self.error(400, None, "request is still in progress")
        if task.status == "failed":
            return self.error(422, None, task.message, ["video_url"])
        size = task.result.stat().st_size if task.result else 0
        return Reply(200, {"video": {"url": f"{self.url}/results/{task.id}.mp4", "content_type": "video/mp4",
                                     "file_name": "output.mp4", "file_size": size}})

    def _initiate(self, raw: bytes) -> Reply:
        try:
            body = json.loads(raw)
            name = Path(str(body["file_name"])).name or "file"
        except (ValueError, KeyError, TypeError):
            return self.error(422, None, "file_name and content_type are required", ["file_name"])
        token = uuid.uuid4().hex
        self.uploads[token] = self._dir / f"{token}-{name}"
        return Reply(200, {"upload_url": f"{self.url}/_upload/{token}", "file_url": f"{self.url}/files/{token}/{name}"})

    def _receive(self, token: str, raw: bytes) -> Reply:
        path = self.uploads.pop(token, None)
        if path is None:
            return self.error(403, None, "the upload URL is not valid")
        path.write_bytes(raw)
        with self.lock:
            self.counts["uploads"] += 1
            self.files[token] = path
        return Reply(200, b"", content_type="text/plain")

    def _create(self, endpoint: str, raw: bytes) -> Reply:
        try:
            body = json.loads(raw)
        except ValueError:
            return self.error(422, None, "the body is not JSON")
        if not isinstance(body, dict):
            return self.error(422, None, "the input must be an object")
        for name in sorted(set(body) - self._FIELDS):
            return self.error(422, None, "extra fields not permitted", [name])
        for name in ("image_url", "video_url"):
            if not isinstance(body.get(name), str) or not body[name].lower().startswith(("http://", "https://")):
                return self.error(422, None, "a URL is required", [name])
        if body.get("character_orientation") not in ("image", "video"):
            return self.error(422, None, "value is not a valid enumeration member: image, video",
                              ["character_orientation"])
        if "keep_original_sound" in body and not isinstance(body["keep_original_sound"], bool):
            return self.error(422, None, "value is not a valid boolean", ["keep_original_sound"])
        task = self.new_task(body, self.endpoints[endpoint])
        if not task.message:
            image, why = self.fetch(body["image_url"], "image")
            video, why_video = self.fetch(body["video_url"], "video") if image else (None, None)
            if image is None or video is None:
                task.status, task.message = "failed", why or why_video or "media"
            else:
                self.intake(task, image, video, body["character_orientation"])
        where = f"{self.url}/{endpoint}/requests/{task.id}"
        return Reply(200, {"request_id": task.id, "status_url": f"{where}/status", "response_url": where,
                           "cancel_url": f"{where}/cancel"})
