"""The local EvoLink's HTTP side: routes, replies in the documented shapes, injected faults, and
the control endpoints under ``/_fake/``."""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import json
import threading
import time
import uuid
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from preflight.probe.sniff import sniff

from ..errors import HTTP_CODES
from .state import Fault, FakeEvoLink, _File, _Task
from .validation import validate_element, validate_generation

_FILE_TYPES_DOCUMENTED = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
_VIDEO_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime"}
# HTTP error type per status (API ref section 6a).
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "insufficient_quota",
                403: "invalid_request_error", 404: "invalid_request_error", 409: "invalid_request_error",
                413: "invalid_request_error", 429: "rate_limit_error"}


def handler_for(fake: FakeEvoLink):
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
        element = isinstance(body, dict) and body.get("model") == fake.profile.value("element.model")
        problem = validate_element(body, fake.profile) if element else validate_generation(body, fake.profile)
        if problem is None and not element:
            problem = self._element_problem(body)
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

    def _element_problem(self, body: dict) -> str | None:
        """An element this fake made from pictures, named in a motion-control request (the MC spec
        takes only video_refer elements). Ids it never made are taken on trust: they may come
        from another run."""
        fake = self.server_state
        for entry in body["model_params"].get("element_list", []):
            if fake.elements.get(entry["element_id"]) == "image_refer":
                return (f"element {entry['element_id']} was made from images (image_refer); motion control takes "
                        "video_refer elements only")
        return None

    def _create_task(self, body: dict, key: str | None, digest: str) -> None:
        fake = self.server_state
        params = body["model_params"]
        now = int(fake.now())
        task = _Task(id=f"task-unified-{now}-{uuid.uuid4().hex[:8]}", created=now, body=body,
                     orientation=params.get("character_orientation", ""),
                     quality=body.get("quality", fake.profile.value("request.default_quality")), model=body["model"],
                     reference_type=params.get("reference_type"))
        if task.reference_type is not None:
            fake.intake_element(task)
        else:
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
