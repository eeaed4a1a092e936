"""The local EvoLink's state: tasks, uploaded files, credits, idempotency keys, faults to inject,
and the server's lifecycle. What it answers over HTTP is in ``handler``; what a valid request
body is, in ``validation``."""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from preflight.profile import DEFAULT_PROFILE, load_profile


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
    model: str = ""
    reference_type: str | None = None  # an element task's: video_refer or image_refer
    element_id: str | None = None  # made when an element task completes


@dataclass
class _File:
    file_id: str
    name: str
    path: Path
    mime: str
    size: int
    uploaded: float


# result_data shapes a completed element task can answer with (see FakeEvoLink.element_result).
ELEMENT_RESULT_SHAPES = ("object", "list", "nested", "bare", "integer")


def download(url: str, target: Path, limit: int, role: str) -> tuple[Path | None, str | None]:
    """Fetch ``url`` into ``target`` as a service would, up to ``limit`` bytes: (target, None)
    or (None, why). Every local stand-in fetches media this way."""
    import httpx

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


class _ReplyLost(Exception):
    """A ``drop_after`` fault: the request was acted on, its answer is thrown away."""


class FakeEvoLink:
    def __init__(self, api_key: str = "fake-key", *, host: str = "127.0.0.1", port: int = 0,
                 polls_to_complete: int = 3, credits: float = 10_000.0, credit_unit: str = "uc",
                 code_style: str = "string", link_ttl: float = 86_400, files_accept_video: bool = True,
                 max_files: int = 2000, check_media: bool = True, quiet: bool = True, profile=None,
                 element_result_shape: str = "object"):
        if credit_unit not in ("uc", "credits") or code_style not in ("string", "int"):
            raise ValueError("credit_unit is uc or credits; code_style is string or int")
        if element_result_shape not in ELEMENT_RESULT_SHAPES:
            raise ValueError(f"element_result_shape is one of {', '.join(ELEMENT_RESULT_SHAPES)}")
        # The shape of a completed element task's result_data: UNCONFIRMED (API ref section 9), so
        # the fake can answer in each plausible one.
        self.element_result_shape = element_result_shape
        self.elements: dict[str, str] = {}  # element id -> the reference type it was made from
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
        from .handler import handler_for  # the handler reads this module's types

        self._server = ThreadingHTTPServer((host, port), handler_for(self))
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
        limit = self.profile.value(f"{role}.max_file_size")
        # Keep the URL's file ending: the limits check judges the name as the service may.
        target = self._dir / f"{role}-{uuid.uuid4().hex}{Path(urlsplit(url).path).suffix[:8]}"
        own = self._own_file(url)
        if own is not None:
            shutil.copyfile(own.path, target)
            return target, None
        return download(url, target, limit, role)

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

    def intake_element(self, task: _Task) -> None:
        """Fetch an element's media and check them against the element's documented limits."""
        params = task.body["model_params"]
        if task.reference_type == "video_refer":
            media = [("element_video", params["element_video_list"]["refer_videos"][0]["video_url"], "video")]
        else:
            images = params["element_image_list"]
            media = [("element_image", images["frontal_image"], "image")] + \
                [("element_ref", r["image_url"], "image") for r in images["refer_images"]]
        fetched: dict[str, list[Path]] = {}
        for role, url, kind in media:
            path, why = self.fetch(url, kind)
            if path is None:
                task.fail_code, task.fail_message = "invalid_parameters", why
                return
            fetched.setdefault(role, []).append(path)
        if self.check_media:
            from preflight import check_element

            report = check_element(video=(fetched.get("element_video") or [None])[0],
                                   image=(fetched.get("element_image") or [None])[0],
                                   refs=fetched.get("element_ref", []), name=params["element_name"],
                                   description=params["element_description"], metadata_only=True,
                                   profile=self.profile)
            for c in report.checks:
                if c.status.value == "fail":
                    task.fail_code = "invalid_parameters"
                    task.fail_message = f"{c.subject} rejected ({c.id}): {c.message}"
                    return

    def element_result(self, task: _Task) -> Any:
        """A completed element task's result_data, in the shape this fake was told to use."""
        element_id = task.element_id
        return {"object": {"element_id": element_id},
                "list": {"element_list": [{"element_id": element_id}]},
                "nested": {"element": {"id": element_id, "name": task.body["model_params"]["element_name"]}},
                "bare": element_id,
                "integer": int(element_id)}[self.element_result_shape]

    # ------------------------------------------------------------------ billing
    def reserve(self, task: _Task) -> float:
        if task.reference_type is not None:  # an element: a fixed price per call (API ref section 2a)
            task.reserved_credits = float(self.profile.value("element.billing")["credits"])
            return task.reserved_credits
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
            if task.reference_type is not None:
                # Digits, as element ids were integers before 2026-03-16 (API ref section 2).
                task.element_id = str(int(self.now() * 1000)) + str(uuid.uuid4().int % 10**6).zfill(6)
                self.elements[task.element_id] = task.reference_type

    def task_body(self, task: _Task) -> dict:
        body: dict[str, Any] = {
            "created": task.created, "id": task.id, "model": task.model or self.profile.value("request.model"),
            "object": "video.generation.task",
            "progress": task.progress, "status": task.status, "type": "video",
            "task_info": {"can_cancel": task.status == "pending"},
        }
        if task.status == "completed" and task.reference_type is not None:
            body["result_data"] = self.element_result(task)
        elif task.status == "completed":
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
        body["usage"] = {"billing_rule": "per_call" if task.reference_type else "per_second",
                         "credits_reserved": self.reserved_field(task),
                         "user_group": "default"}
        return body
