"""``submit --provider auto``: the cheapest host that takes the inputs and whose keys are set,
and the next one when a host is down before it created a task.

The inputs are judged once against every host (``preflight.providers.check_providers``). Hosts
are tried cheapest first (a host with no published price last); a host is left for the next
only when it certainly made no task: nothing reached it, or it answered 5xx or 429 past its
retry budget, or an outage (``flow.host_down``), or the inputs could not be uploaded to it.
Once a host has accepted a task, or may have (an answer lost on the way), no other host is tried
for the job: the journal row names the host that holds it. One fingerprint covers the job on
every host, so running the same job again is refused as a duplicate wherever it landed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from preflight.progress import analysis_progress, terminal_progress, worth_a_bar
from preflight.providers import ProviderVerdict, check_providers, render_table

from . import flow
from .backends import file_hosts, hosting_problems
from .body import generation_body, unsupported
from .cli_common import OK, REFUSED, SERVICE, code_for, fail, make_client, print_json, say
from .element_cli import confirm
from .errors import AlreadySubmitted, GateRefused, HostingError, SubmitError
from .journal import Journal, describe_duplicate


@dataclasses.dataclass
class Choice:
    verdict: ProviderVerdict
    conf: object
    skipped: str | None = None  # why this host is not tried

    @property
    def host(self) -> str:
        return self.verdict.host

    def describe(self) -> dict:
        return {"provider": self.host, "fits": self.verdict.fits, "usd": self.verdict.usd,
                "price_confirmed": self.verdict.price_confirmed, "skipped": self.skipped}


def submit_auto(obj: dict, stack, profile, o) -> int:
    """Judge, choose, confirm once, then send to the first host that takes it."""
    from .cli import _run_prep, _show_task, _task_result, _wait_and_download

    fmt = o.fmt
    if o.request.element or o.request.element_ids or o.element_video:
        raise click.UsageError("an element belongs to the host that made it: with an element, name the --provider")
    for role, value in (("image", o.image), ("video", o.video)):
        if not flow.is_url(value) and not Path(value).is_file():
            raise click.BadParameter(f"{value}: no such file", param_hint=f"--{role}")
    image, video = o.image, o.video
    if o.run_prep:
        image, video = _run_prep(image, video, o.request, o.out, o.metadata_only, fmt)
    inputs = {"image": image, "video": video}
    local = (lambda value: None if flow.is_url(value) else value)
    with terminal_progress(fmt == "text") as progress:
        verdicts = check_providers(local(image), local(video), request=o.request, metadata_only=o.metadata_only,
                                   family=profile.family, progress=analysis_progress(progress))
    choices = [_choose(v, obj["conf_for"](v.profile), inputs, o) for v in verdicts]
    usable = [c for c in choices if c.skipped is None]
    if fmt == "text":
        say(render_table(verdicts))
        for c in choices:
            if c.skipped:
                say(f"  not tried: {c.host}: {c.skipped}")
    table = [c.describe() for c in choices]
    if not usable:
        fail(fmt, GateRefused("no host can take this job (see the table: " +
                              "; ".join(f"{c.host}: {c.skipped}" for c in choices) + ")"), REFUSED, providers=table)
    if o.dry_run:
        return _dry_run(usable, inputs, fmt, table)
    journal: Journal = stack.enter_context(Journal(obj["journal"]))
    same = flow.fingerprint(f"provider:auto/{profile.family}", profile.family, inputs,
                            o.request.resolve(profile).to_dict())
    fresh_for = max(c.verdict.profile.value("results.link_lifetime") for c in usable)
    earlier = None if o.again else journal.duplicate_of(same, fresh_for)
    if earlier is not None:
        fail(fmt, AlreadySubmitted(describe_duplicate(earlier), None, earlier.task_id, row=earlier.row), REFUSED,
             journal_row=earlier.row)
    first = usable[0]
    order = ", then ".join(c.host for c in usable[1:])
    confirm(o.yes, fmt, _estimate(first), f"Submit this paid generation to {first.host}"
            f"{f' ({first.verdict.report.cost.amount()})' if first.verdict.report.cost else ''}"
            f"{f', falling back to {order}' if order else ''}?")
    attempts: list[dict] = []
    for choice in usable:
        sent = _send(obj, stack, choice, inputs, journal, same, fresh_for, o, attempts)
        if sent is None:
            continue
        client, created = sent
        task, outputs = created.task, []
        if fmt == "text":
            say(f"created {task.id} on {choice.host} (journal row {created.row})")
        if o.wait:
            try:
                task, outputs = _wait_and_download(client, journal, task.id, o.out, o.interval, fmt,
                                                   choice.verdict.profile)
            except SubmitError as exc:
                exc.task_id = exc.task_id or task.id
                fail(fmt, exc, code_for(exc), journal_row=created.row, provider=choice.host, attempts=attempts)
        if fmt == "json":
            print_json(_task_result(task, outputs, journal_row=created.row, provider=choice.host,
                                    cost=_estimate(choice), attempts=attempts, providers=table))
        else:
            _show_task(task, outputs, fmt)
            if not o.wait:
                say(f"follow it with: submit wait {task.id}")
        return OK
    fail(fmt, SubmitError("every host that could take the job was down; nothing was created anywhere ("
                          + "; ".join(f"{a['provider']}: {a['error']}" for a in attempts) + ")"), SERVICE,
         attempts=attempts, providers=table)
    return SERVICE


def _choose(verdict: ProviderVerdict, conf, inputs: dict, o) -> Choice:
    """Whether a host can be tried at all, and if not, why (in words for the table)."""
    profile = verdict.profile
    if not verdict.fits and not o.force:
        return Choice(verdict, conf, "preflight fails: " + ", ".join(
            sorted({c.id for c in verdict.report.checks if c.status.value == "fail"})))
    if not conf.has_credentials:
        return Choice(verdict, conf, f"no key (set {' and '.join(profile.key_names())})")
    problem = unsupported(profile, verdict.report.request)
    if problem:
        return Choice(verdict, conf, problem)
    try:
        problems = hosting_problems(file_hosts(profile, None, conf, o.video_host, o.s3_lifetime), inputs)
    except SubmitError as exc:
        problems = [str(exc)]
    if problems:
        return Choice(verdict, conf, problems[0])
    if o.max_cost is not None:
        usd = flow.worst_case_usd(verdict.report)
        if usd is None:
            return Choice(verdict, conf, "no published price to hold to --max-cost")
        if usd > o.max_cost + 1e-9:
            return Choice(verdict, conf, f"${usd:.2f} is over --max-cost ${o.max_cost:.2f}")
    return Choice(verdict, conf)


def _estimate(choice: Choice) -> dict | None:
    cost = choice.verdict.report.cost
    return {**cost.to_dict(), "provider": choice.host} if cost else None


def _send(obj, stack, choice: Choice, inputs: dict, journal: Journal, same: str, fresh_for: float, o,
          attempts: list[dict]):
    """Host the inputs on ``choice``'s host and create the task: (client, created), or None when
    the host is down and made nothing (noted in ``attempts``). Anything else ends the job."""
    profile, fmt = choice.verdict.profile, o.fmt
    client = stack.enter_context(make_client(obj, profile=profile, conf=choice.conf,
                                             quality=choice.verdict.report.request.quality))
    hosts = file_hosts(profile, client, choice.conf, o.video_host, o.s3_lifetime)

    def skip(why: str) -> None:
        attempts.append({"provider": choice.host, "outcome": "down, nothing created", "error": why})
        if fmt == "text":
            say(f"{choice.host}: {why}; nothing was created there, trying the next host", err=True)

    try:
        with terminal_progress(fmt == "text") as progress:
            hosted = flow.host_inputs(inputs, hosts, lambda key, label, done, total: progress(
                key, label, done, total) if worth_a_bar("bytes", total) else None)
    except HostingError as exc:
        skip(f"the inputs could not be uploaded ({exc})")
        return None
    body = generation_body(profile, choice.verdict.report.request, hosted["image"].url, hosted["video"].url)
    try:
        created = flow.create(client, journal, body, _estimate(choice), fingerprint=same, fresh_for=fresh_for,
                              again=o.again)
    except AlreadySubmitted as exc:
        fail(fmt, exc, REFUSED, journal_row=exc.row)
    except SubmitError as exc:
        if flow.host_down(exc):
            skip(exc.info.describe() if exc.info else str(exc))
            return None
        fail(fmt, exc, code_for(exc), provider=choice.host, attempts=attempts)
    attempts.append({"provider": choice.host, "outcome": "created", "task_id": created.task.id})
    return client, created


def _dry_run(usable: list[Choice], inputs: dict, fmt: str, table: list[dict]) -> int:
    first = usable[0]
    placeholder = {role: value if flow.is_url(value) else f"<{first.host} URL of {Path(value).name}>"
                   for role, value in inputs.items()}
    body = generation_body(first.verdict.profile, first.verdict.report.request, placeholder["image"],
                           placeholder["video"])
    result = {"dry_run": True, "provider": first.host, "order": [c.host for c in usable], "body": body,
              "cost": _estimate(first), "providers": table}
    if fmt == "json":
        print_json(result)
    else:
        say(f"dry run: nothing was uploaded or sent; {first.host} first, then " +
            (", ".join(c.host for c in usable[1:]) or "no other host"))
        import json

        say(json.dumps(body, indent=2))
    return OK
