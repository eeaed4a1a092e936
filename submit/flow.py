"""The steps of a submission, each usable on its own: gate, host, create (journalled), wait,
download, recover. The CLI strings them together; other tools can too."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from preflight import ElementRequest, Report, Request, check
from preflight.profile import Profile

from .body import element_body
from .client import Client, Download, InvalidId, Task, new_idempotency_key
from .errors import ApiError, DeadlineExceeded, ErrorInfo, GateRefused, SubmitError, TransportError
from .hosting import HostedFile, Host, UrlCheck, check_url
from .journal import CREATED, REFUSED, SENT, UNSENT, Journal, StoredElement


def is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def gate(image: str | None, video: str | None, request: Request, profile: Profile, *, metadata_only: bool = False,
         progress=None, element: ElementRequest | None = None) -> Report:
    """preflight on whichever inputs are local files (URLs are checked by ``check_urls``), and on
    a custom element made on the way (``element``, local files; its price is in the cost)."""
    local = (lambda value: None if value is None or is_url(value) else value)
    return check(image=local(image), video=local(video), request=request, metadata_only=metadata_only,
                 profile=profile, progress=progress, element=element)


def check_urls(client: Client, inputs: dict[str, str], profile: Profile) -> list[UrlCheck]:
    return [check_url(client, value, role, profile) for role, value in inputs.items() if is_url(value)]


def worst_case_usd(report: Report) -> float | None:
    """The highest of the USD figures for the estimate: EvoLink's pages convert credits to USD
    at two rates (API ref section 8); a budget is checked against the dearer one."""
    if report.cost is None or report.cost.usd is None:
        return None
    return max([report.cost.usd, *report.cost.usd_alternatives.values()])


def check_budget(report: Report, max_cost_usd: float | None) -> None:
    if max_cost_usd is None:
        return
    usd = worst_case_usd(report)
    if usd is None:
        raise GateRefused("--max-cost: the cost could not be estimated (see the request checks)")
    if usd > max_cost_usd + 1e-9:
        raise GateRefused(f"estimated cost up to ${usd:.4f} is above --max-cost ${max_cost_usd:.4f}")


def file_digest(path: str | Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def fingerprint(api_base: str, model: str, inputs: dict[str, str], request: dict) -> str:
    """What makes two submissions the same generation: the host, the model, each input's
    content (a URL as written) and every request field."""
    return fingerprint_of(api_base, model, contents(inputs), request)


def contents(inputs: dict[str, str]) -> dict[str, str]:
    """Each input's content: ``sha256:`` and its digest for a file, a URL as written."""
    return {role: value if is_url(value) else "sha256:" + file_digest(value) for role, value in inputs.items()}


def fingerprint_of(api_base: str, model: str, media: dict[str, str], request: dict) -> str:
    """``fingerprint`` of inputs already reduced to their ``contents``."""
    canonical = json.dumps({"api_base": api_base.rstrip("/"), "model": model, "inputs": media, "request": request},
                           sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def host_inputs(inputs: dict[str, str], hosts: dict[str, Host],
                progress: Callable[[str, str, float, float], None] | None = None) -> dict[str, HostedFile]:
    """A URL for each input: the user's own URL as it is, local files through their host.
    ``progress(key, label, sent, total)`` hears each upload go (``preflight.progress``)."""
    hosted = {}
    for role, value in inputs.items():
        if is_url(value):
            hosted[role] = HostedFile(value, value, "user-url")
            continue
        path = Path(value)
        told = None if progress is None else (
            lambda sent, total, path=path: progress(f"upload:{path}", f"uploading {path.name}", sent, total))
        hosted[role] = hosts[role].host(path, told)
    return hosted


@dataclass
class Created:
    task: Task
    row: int
    reserved: dict | None = None
    warnings: list[str] = field(default_factory=list)


def interpret_reserved(raw: float | None, expected_credits: float | None) -> dict | None:
    """``credits_reserved`` is in UC (1/10,000 credit) in the documented example and in credits
    in EvoLink's client (API ref section 8, UNCONFIRMED): take the reading nearer the estimate."""
    if raw is None:
        return None
    if not expected_credits or raw <= 0:
        return {"raw": raw, "credits": raw, "unit": "credits (assumed)"}
    readings = {"credits": raw, "uc": raw / 10_000}
    unit = min(readings, key=lambda u: abs(math.log(max(readings[u], 1e-9) / expected_credits)))
    return {"raw": raw, "credits": round(readings[unit], 4), "unit": unit}


def create(client: Client, journal: Journal, body: dict, estimate: dict | None = None,
           idempotency_key: str | None = None, fingerprint: str | None = None,
           fresh_for: float | None = None, again: bool = False) -> Created:
    """POST the task with the journal written first, so the id survives anything after the send.
    With a ``fingerprint`` (see ``fingerprint()``), the same generation still in flight or made
    within ``fresh_for`` seconds is refused with ``AlreadySubmitted`` before anything is sent,
    unless ``again``."""
    key = idempotency_key or new_idempotency_key()
    row = journal.start(client.api_base, key, body, estimate, fingerprint=fingerprint, fresh_for=fresh_for,
                        again=again, provider=client.provider)
    try:
        task = client.create_task(body, idempotency_key=key)
    except TransportError as exc:
        error = exc.info.to_dict() if exc.info else {"message": str(exc)}
        if exc.sent is False:
            journal.update(row, state=UNSENT, error=error)
            unsent = SubmitError(f"{exc}. Nothing reached the service, so no task was created", exc.info)
            unsent.created = False
            raise unsent from None
        # The POST may have arrived: keep the row so `submit recover` can ask again with the key.
        journal.update(row, state=SENT, error=error)
        raise SubmitError(f"{exc}. {_maybe_created(client, row, key)}", exc.info) from None
    except DeadlineExceeded as exc:  # cut off mid-request: it may have arrived
        journal.update(row, state=SENT, error={"code": "deadline_exceeded", "message": str(exc)})
        raise DeadlineExceeded(f"{exc}. {_maybe_created(client, row, key)}") from None
    except SubmitError as exc:
        journal.update(row, state=REFUSED, error=exc.info.to_dict() if exc.info else {"message": str(exc)})
        if isinstance(exc, ApiError):
            exc.created = False  # an error answer: the service made no task
        raise
    return _record_created(journal, row, task, estimate)


def _maybe_created(client: Client, row: int, key: str) -> str:
    """What to do about a create whose answer was lost, on this host."""
    if client.idempotent_create:
        return (f"The task may have been created: `submit recover {row}` asks again with the same Idempotency-Key, "
                "which cannot create a second task")
    return (f"The task may have been created on {client.provider}, which has no idempotency key: it is not sent "
            f"again (that could pay twice); look in the host's console for a task sent now (external id {key}), "
            f"journal row {row}")


def host_down(exc: SubmitError) -> bool:
    """Whether a failed create means the host is down and certainly made no task, so that the
    next host may be tried: nothing reached it (no connection), or it answered 5xx or 429 past
    the retry budget, or an outage in words. A send whose answer was lost is not: the task may
    exist, and trying elsewhere could pay twice."""
    if getattr(exc, "created", None) is not False or exc.info is None:
        return False
    info = exc.info
    outage = info.name in ("connection_error", "service_unavailable", "service_error", "upstream_error",
                           "gateway_timeout", "rate_limit_exceeded", "resource_exhausted", "quota_exceeded")
    return outage or info.http_status == 429 or (info.http_status or 0) >= 500


def _record_created(journal: Journal, row: int, task: Task, estimate: dict | None) -> Created:
    expected = estimate.get("credits") if estimate else None
    reserved = interpret_reserved(task.credits_reserved, expected)
    journal.update(row, state=CREATED, task_id=task.id, status=task.status, progress=task.progress,
                   reserved=reserved, error=None)
    warnings = []
    if reserved and expected and reserved["credits"] > expected * 1.5:
        warnings.append(f"the service reserved {reserved['credits']:g} credits, more than the "
                        f"{expected:g} estimated")
    return Created(task, row, reserved, warnings)


def recover(client: Client, journal: Journal, row: int) -> Created:
    """Ask again for a submission whose answer was lost, with its original Idempotency-Key."""
    entry = journal.get(row)
    if entry is None:
        raise SubmitError(f"no journal row {row}")
    if entry.task_id:
        return Created(client.get_task(entry.task_id), row, entry.reserved)
    if entry.api_base != client.api_base:
        raise SubmitError(f"row {row} was sent to {entry.api_base}, not {client.api_base}: use --api-base")
    if not client.idempotent_create:
        raise GateRefused(f"row {row} was sent to {client.provider}, which has no idempotency key: sending it again "
                          "could create and bill a second task, so it is not resent. Look for the task in the "
                          f"host's console (sent at {entry.created_at}, external id {entry.idempotency_key}); "
                          "`submit status TASK_ID` then records it")
    try:
        task = client.create_task(entry.body, idempotency_key=entry.idempotency_key)
    except TransportError as exc:
        journal.update(row, state=SENT, error=exc.info.to_dict() if exc.info else {"message": str(exc)})
        raise
    return _record_created(journal, row, task, entry.estimate)


def record_task(journal: Journal, task: Task, outputs: list[str] | None = None) -> None:
    """What the service said of a task, into its journal row (and an element's id, once made)."""
    if task.status == "completed" and task.result_data is not None:
        try:
            element_id = task.element_id()
        except InvalidId:
            element_id = None  # not a plain token: never used; the raw answer is kept
        journal.element_made(task.id, element_id, task.result_data)
    fields: dict = {"status": task.status, "progress": task.progress, "results": task.results,
                    "error": task.error.to_dict() if task.error else None}
    if task.status == "completed":
        entry = journal.by_task(task.id)
        if entry is not None and not entry.completed_at:
            fields["completed_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    if outputs is not None:
        fields["outputs"] = outputs
    journal.update_task(task.id, **fields)


def link_expiry_warning(task: Task, journal: Journal, lifetime: float, margin: float = 4 * 3600) -> str | None:
    """Result links live 24 h from completion (API ref section 3). The completion time is known
    only if this journal saw it; otherwise the task's creation time is the safe lower bound."""
    entry = journal.by_task(task.id)
    started = None
    if entry is not None and entry.completed_at:
        started = dt.datetime.fromisoformat(entry.completed_at).timestamp()
    elif task.created:
        started = float(task.created)
    if started is None:
        return None
    left = started + lifetime - dt.datetime.now(dt.timezone.utc).timestamp()
    if left < margin:
        when = "have probably expired" if left <= 0 else f"expire in about {left / 3600:.1f} h"
        return f"task {task.id}'s result links {when} (they live {lifetime / 3600:g} h): download them now"
    return None


def download(client: Client, journal: Journal, task: Task, out_dir: str | Path, profile: Profile,
             on_progress: Callable[[int, int | None], None] | None = None) -> list[Download]:
    files = client.download(task, out_dir, expected_max_bytes=profile.value("results.max_file_size"),
                            on_progress=on_progress)
    record_task(journal, task, [str(f.path) for f in files])
    return files


# ---------------------------------------------------------------------- custom elements

def element_inputs(element: ElementRequest) -> dict[str, str]:
    """Each of an element's media by a key of its own: element_video, or element_image and
    element_ref_1..3 (the keys that hosting and the journal's sources use)."""
    inputs = {"element_video": element.video} if element.video else {}
    if element.image:
        inputs["element_image"] = element.image
    inputs.update({f"element_ref_{i}": ref for i, ref in enumerate(element.refs, 1)})
    return inputs


def element_sources(element: ElementRequest) -> dict[str, str]:
    """Each medium's content (sha256 of a file, or a URL as written): what made an element."""
    return contents(element_inputs(element))


def create_element(client: Client, journal: Journal, profile: Profile, element: ElementRequest,
                   hosted: dict[str, HostedFile], estimate: dict | None = None, *, again: bool = False) -> Created:
    """POST the element task (journalled like a generation: written first, one Idempotency-Key,
    an identical creation still in flight refused) and record the element under its name."""
    urls = {value: hosted[key].url for key, value in element_inputs(element).items()}
    body = element_body(profile, element, urls)
    sources = element_sources(element)  # each file read once, for the journal and the fingerprint
    same = fingerprint_of(client.api_base, profile.value("element.model"), sources,
                          {"name": element.name, "description": element.description})
    # fresh_for=0: a completed element is found by name (``StoredElement``), not as a duplicate.
    created = create(client, journal, body, estimate, fingerprint=same, fresh_for=0, again=again)
    if journal.element_of_submission(created.row) is None:
        journal.add_element(client.api_base, element.name or "", element.description, element.reference_type or "",
                            sources, created.row)
    return created


def finish_element(client: Client, journal: Journal, task_id: str, *, interval: float,
                   on_update: Callable[[Task], None] | None = None) -> StoredElement:
    """Wait for an element task and return the stored element with its id."""
    def told(task: Task) -> None:
        record_task(journal, task)
        if on_update is not None:
            on_update(task)

    task = client.wait(task_id, interval=interval, timeout=float("inf"), on_update=told)
    record_task(journal, task)
    row = journal.row_of(task_id)
    stored = journal.element_of_submission(row) if row is not None else None
    if stored is None or stored.element_id is None:
        shown = json.dumps(task.result_data)[:200]
        raise ApiError(f"element task {task_id} completed without a usable element id in result_data ({shown}); "
                       "the answer is kept in the journal", ErrorInfo("malformed_response", "no element id"), task_id)
    return stored
