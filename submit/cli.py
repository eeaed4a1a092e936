"""The ``submit`` command: gate, host, create, wait, download; and the journal's subcommands.

Exit codes: 0 done (task created, or completed and downloaded with --wait), 1 refused before
sending (preflight, budget, the user) or the task failed, 2 usage error, or a request the
service refused as the caller's mistake (wrong key, unknown task id, bad request, too few
credits: HTTP 4xx other than 408 and 429), 3 internal error, 4 the service or the network
failed, 5 the wait timed out (the task may still finish: resume with ``submit wait``),
130 interrupted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from preflight import Request, __version__
from preflight.cost import element_cost
from preflight.command import load_job_option, load_profile_option, profile_choice, run_command
from preflight.formats import render
from preflight.progress import analysis_progress, terminal_progress, worth_a_bar
from preflight.providers import host_profiles

from . import flow
from .body import element_body, generation_body
from .cli_common import (OK, REFUSED, Finish, code_for, cost_line, fail, format_option, hosts_for,
                         make_client, open_journal, output_format, print_json, say, start_fake)
from .client import DEFAULT_POLL_INTERVAL, Client, InvalidId, Task, check_id
from .config import settings
from .element_cli import confirm, element as element_commands, prep_element_video, wait_for_element
from .backends import hosting_problems
from .body import unsupported
from .errors import AlreadySubmitted, GateRefused, SubmitError
from .journal import Journal
from .secrets import KeyProblem, check_key, redact


def _provider_profile(name: str) -> str:
    """The profile id of host ``name`` (a usage error naming the known hosts otherwise)."""
    from preflight.profile import ProfileError
    from preflight.providers import profile_for_host

    try:
        return profile_for_host(name).id
    except ProfileError as exc:
        raise click.BadParameter(str(exc).replace(", or all)", ", or auto)"), param_hint="--provider") from None


def _task_id_argument(ctx, task_id: str) -> str:
    try:
        return check_id(task_id, "TASK_ID", ctx.obj["profile"].value("network.task_id_max_chars"))
    except InvalidId as exc:
        raise click.BadParameter(str(exc), param_hint="TASK_ID") from None


def _wait_and_download(client: Client, journal: Journal, task_id: str, out: str, interval: float,
                       fmt: str, profile) -> tuple[Task, list[str]]:
    """Until the client's deadline: the task done, then its results saved."""
    with terminal_progress(fmt == "text") as bar:
        def on_update(task: Task) -> None:
            flow.record_task(journal, task)
            bar("wait", f"waiting: {task_id} {task.status}", task.progress, 100)

        task = client.wait(task_id, interval=interval, timeout=float("inf"), on_update=on_update)
    return task, _download(client, journal, task, out, fmt, profile)


def _download(client: Client, journal: Journal, task: Task, out: str, fmt: str, profile) -> list[str]:
    """A completed task's results into ``out``, warning first when their links are near expiry.
    An element task has none: its answer is an element id (recorded in the journal)."""
    if task.status == "completed" and not task.results and task.result_data is not None:
        if fmt == "text":
            say(f"task {task.id} made an element ({json.dumps(task.result_data)[:120]}); nothing to download, "
                "see `submit element list`")
        return []
    warning = flow.link_expiry_warning(task, journal, profile.value("results.link_lifetime"))
    if warning and fmt == "text":
        say(f"warning: {warning}", err=True)
    with terminal_progress(fmt == "text") as bar:
        files = flow.download(client, journal, task, out, profile,
                              on_progress=lambda done, total: bar("download", f"downloading {task.id}", done, total or 0))
    return [str(f.path) for f in files]


def _task_result(task: Task, outputs: list[str], **extra) -> dict:
    return {**task.to_dict(), "outputs": outputs, "error": task.error.to_dict() if task.error else None, **extra}


def _show_task(task: Task, outputs: list[str], fmt: str, **extra) -> None:
    if fmt == "json":
        print_json(_task_result(task, outputs, **extra))
        return
    line = f"{task.id}  {task.status}"
    if task.status not in ("completed", "failed"):
        line += f"  {task.progress}%"
    say(line)
    if task.error:
        say(f"  error: {task.error.describe()}")
    for url in task.results:
        say(f"  result: {url}")
    for path in outputs:
        say(f"  saved: {path}")


_EPILOG = """\b
Examples:
  submit --image me.jpg --video dance.mp4 --orientation video --wait
  submit --image me.jpg --video https://cdn.example.com/dance.mp4 --orientation video --dry-run --format json
  submit --image me.jpg --video dance.mp4 --orientation video --fake-server --wait --yes   # local, free
  submit list;  submit wait TASK_ID;  submit recover ROW
  submit element create --name Ann --description "Ann, red jacket" --video ann.mp4 --yes
  submit --image me.jpg --video dance.mp4 --orientation video --element Ann --watermark --yes
  submit --image me.jpg --video dance.mp4 --orientation video --provider auto --fake-server --yes

\b
Exit codes: 0 done, 1 refused before sending or the task failed, 2 usage error,
3 internal error, 4 the service or network failed, 5 the wait timed out.
"""



@click.group(invoke_without_command=True, epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--image", metavar="PATH|URL", help="Character image (JPG or PNG), a local file or a URL.")
@click.option("--video", metavar="PATH|URL", help="Reference video (MP4 or MOV), a local file or a URL.")
@click.option("--orientation", metavar="WORD", help="character_orientation (required): a word of the profile's "
              "request.orientations (image or video for Kling).")
@click.option("--quality", metavar="WORD", help="Output quality, a word of the profile's request.qualities. "
              "Default: the profile's (720p for Kling).")
@click.option("--prompt", metavar="TEXT")
@click.option("--keep-sound/--no-keep-sound", default=None, help="Keep the reference audio. Default: keep.")
@click.option("--element-id", "element_ids", multiple=True, metavar="ID", help="A video_refer element (orientation video).")
@click.option("--element", "element_name", metavar="NAME",
              help="A custom element by its name in the journal (submit element create); orientation video.")
@click.option("--element-video", metavar="PATH",
              help="With --element NAME not made yet: create it from this video first (its price is in the estimate).")
@click.option("--element-description", metavar="TEXT",
              help="The description of an element made with --element-video (default: its name).")
@click.option("--watermark/--no-watermark", default=None,
              help="model_params.watermark_info. Default: not sent (the service decides).")
@click.option("--callback-url", metavar="URL", help="HTTPS URL the service calls when the task ends.")
@click.option("--wait", is_flag=True, help="Wait for the task and download its results.")
@click.option("--out", default="results", show_default=True, metavar="DIR", help="Where results are saved.")
@click.option("--max-cost", type=float, metavar="USD", help="Refuse if the estimate is above this budget.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed when not on a terminal).")
@click.option("--dry-run", is_flag=True, help="Print the exact body and where each file would be hosted; send nothing.")
@click.option("--force", is_flag=True, help="Submit even though preflight failed a check (the failures are printed).")
@click.option("--prep", "run_prep", is_flag=True, help="Run prep on local inputs first and submit its outputs.")
@click.option("--metadata-only", is_flag=True, help="Gate on the documented limits only (no content analysis).")
@click.option("--video-host", type=click.Choice(["auto", "s3", "evolink"]), default="auto", show_default=True,
              help="Where a local video goes: auto = the S3 bucket if one is set, else EvoLink's files API.")
@click.option("--s3-bucket", metavar="NAME", help="S3 bucket for the video (or SUBMIT_S3_BUCKET).")
@click.option("--s3-endpoint", metavar="URL", help="S3-compatible endpoint (or SUBMIT_S3_ENDPOINT).")
@click.option("--s3-url-lifetime", type=int, default=24 * 3600, show_default=True, metavar="SECONDS",
              help="Lifetime of the presigned video URL; it must outlast the task.")
@click.option("--poll-interval", type=float, metavar="SECONDS", help=f"Between polls (default {DEFAULT_POLL_INTERVAL:g}).")
@click.option("--timeout", "wait_timeout", type=click.FloatRange(min=0, min_open=True), default=1800,
              show_default=True, metavar="SECONDS",
              help="A deadline for the whole command: requests, uploads, URL checks, waiting and downloads "
                   "(a created task goes on; `submit wait` resumes).")
@click.option("--again", is_flag=True,
              help="Submit even though the same inputs and request are in flight or were made recently (pays again).")
@click.option("--api-base", metavar="URL", help="API base URL (or EVOLINK_API_BASE).")
@click.option("--files-base", metavar="URL", help="Files API base URL (or EVOLINK_FILES_BASE).")
@click.option("--journal", "journal_path", metavar="PATH", help="Journal database (or SUBMIT_JOURNAL).")
@click.option("--fake-server", is_flag=True, help="Send everything to the bundled local EvoLink: no key, no network, no cost.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--job", "job_file", metavar="JOB.job.toml",
              help="Take the inputs and request from a job file (options given here win).")
@click.option("--profile", "profile_name", default=None, metavar="NAME|PATH",
              help="Constraint profile: a bundled name or a TOML file. Default: the configuration's, else the bundled one.")
@click.option("--provider", "provider_name", default=None, metavar="NAME|auto",
              help="The host: evolink (default), kling (Kling AI's API) or fal; auto: the cheapest host that takes "
                   "the inputs and whose keys are set, falling back to the next when one is down before a task "
                   "was created there (docs/providers.md).")
@click.version_option(__version__, prog_name="submit")
@click.pass_context
def submit(ctx, image, video, orientation, quality, prompt, keep_sound, element_ids, element_name, element_video,
           element_description, watermark, callback_url, wait, out, max_cost, yes, dry_run, force, run_prep, metadata_only, video_host, s3_bucket, s3_endpoint,
           s3_url_lifetime, poll_interval, wait_timeout, again, api_base, files_base, journal_path, fake_server, fmt,
           job_file, profile_name, provider_name):
    """Send a checked image and reference video to Kling 3.0 Motion Control on EvoLink (or
    another host of the model: --provider)."""
    deadline = time.monotonic() + wait_timeout
    if provider_name and profile_name:
        raise click.UsageError("give --provider or --profile, not both (a provider is a bundled profile)")
    auto = provider_name == "auto"
    profile = load_profile_option(_provider_profile(provider_name) if provider_name and not auto else profile_name)
    request = Request(orientation=profile_choice(profile, "request.orientations", orientation, "--orientation"),
                      quality=profile_choice(profile, "request.qualities", quality, "--quality"), prompt=prompt,
                      keep_sound=keep_sound, element_ids=tuple(element_ids), callback_url=callback_url,
                      watermark=watermark, element=element_name)
    if job_file:
        job = load_job_option(job_file, profile)
        image, video = image or job.image, video or job.video
        request = request.filled_from(job.request)
    stack = ctx.with_resource(contextlib.ExitStack())
    fakes = {}
    if fake_server:
        hosts = [p.host for p in host_profiles(profile.family)] if auto else [profile.host or "evolink"]
        fakes = {host: start_fake(stack, host, profile if host == profile.host else None) for host in hosts}
        poll_interval = poll_interval if poll_interval is not None else 0.2

    def conf_for(chosen):
        """The settings of ``chosen``'s host: the local fake's, or from options, environment, config."""
        fake = fakes.get(chosen.host or "evolink")
        try:
            if fake is not None:
                return settings(fake.url, fake.url, s3_bucket, s3_endpoint, api_key=fake.key,
                                access_key=fake.access_key, profile=chosen)
            mine = chosen is profile and not auto  # --api-base and --files-base are the chosen host's
            return settings(api_base if mine else None, files_base if mine else None, s3_bucket, s3_endpoint,
                            profile=chosen)
        except SubmitError as exc:  # a config file that is unsafe or unreadable
            raise click.UsageError(str(exc)) from None

    conf = conf_for(profile)
    for secret, source in ((conf.api_key, conf.key_source), (conf.access_key, conf.access_source)):
        if secret:
            redact.add(secret)
            try:
                check_key(secret, source)  # before anything else: a bad key fails fast
            except KeyProblem as exc:
                raise click.UsageError(str(exc)) from None
    ctx.obj = {"settings": conf, "fmt": fmt, "journal": journal_path, "profile": profile, "deadline": deadline,
               "poll_interval": poll_interval or DEFAULT_POLL_INTERVAL, "conf_for": conf_for}
    if ctx.invoked_subcommand is not None:
        return
    if not image or not video:
        raise click.UsageError("give --image and --video (a local file or a URL each), or a subcommand")
    if request.orientation is None:
        words = "|".join(profile.value("request.orientations"))
        raise click.UsageError(f"--orientation {words} is required: it sets the duration limit")
    try:
        options = _Options(image, video, request, wait, out, max_cost, yes, dry_run, force, run_prep, metadata_only,
                           video_host, s3_url_lifetime, poll_interval or DEFAULT_POLL_INTERVAL, again, fmt,
                           element_video, element_description)
        if auto:
            from .auto_cli import submit_auto

            code = submit_auto(ctx.obj, stack, profile, options)
        else:
            code = _submit(ctx.obj, stack, profile, options)
    except Finish as finish:
        code = finish.code
    except SubmitError as exc:  # the deadline, or a step without its own handling
        try:
            fail(fmt, exc, code_for(exc))
        except Finish as finish:
            code = finish.code
    sys.exit(code)


@dataclass(frozen=True)
class _Options:
    """What the user asked ``submit`` to do, besides the request itself."""

    image: str
    video: str
    request: Request
    wait: bool
    out: str
    max_cost: float | None
    yes: bool
    dry_run: bool
    force: bool
    run_prep: bool
    metadata_only: bool
    video_host: str
    s3_lifetime: int
    interval: float
    again: bool
    fmt: str
    element_video: str | None = None  # create the element named in the request from this first
    element_description: str | None = None


def _submit(obj, stack, profile, o: _Options) -> int:
    """Gate, then (unless a dry run) host, create and, with --wait, wait and download."""
    conf = obj["settings"]
    given = {"image": o.image, "video": o.video}
    journal = stack.enter_context(Journal(obj["journal"]))
    # The same generation twice is told by the request as written (an element by its name),
    # whether or not the element had to be made first.
    same = flow.fingerprint(conf.api_base, profile.value("request.model"), given, o.request.resolve(profile).to_dict())
    problem = unsupported(profile, o.request.resolve(profile))
    if problem:
        raise click.UsageError(problem)
    request, new_element = _element_to_use(journal, conf.api_base, profile, o)
    o = dataclasses.replace(o, request=request)
    image, video, report, new_element = _gate(profile, o, new_element)
    inputs = {"image": image, "video": video}
    # A dry run needs no key: it sends nothing.
    client = (stack.enter_context(make_client(obj, quality=request.resolve(profile).quality))
              if conf.has_credentials or not o.dry_run else None)
    estimate = report.cost.to_dict() if report.cost else None
    try:
        flow.check_budget(report, o.max_cost)
    except GateRefused as exc:
        fail(o.fmt, exc, REFUSED, cost=estimate)
    hosts = hosts_for(client, conf, o.video_host, o.s3_lifetime, profile)
    problems = hosting_problems(hosts, inputs)
    if problems:
        fail(o.fmt, GateRefused("; ".join(problems)), REFUSED, cost=estimate)
    if o.dry_run:
        return _dry_run(profile, o, report, inputs, hosts, estimate, new_element)
    return _send(obj, profile, o, client, report, same, inputs, hosts, estimate, journal, new_element)


def _element_to_use(journal: Journal, api_base: str, profile, o: _Options):
    """The request with a stored element's name turned into its id, and the element to create on
    the way (or None). Every mistake here is a usage error, found before anything is uploaded."""
    request = o.request
    named = request.element
    if o.element_video and not named:
        raise click.UsageError("--element-video makes the element named by --element NAME: give the name")
    if not (named or request.element_ids):
        return request, None
    if named and not profile.creates_elements:
        raise click.UsageError(f"--element NAME finds elements made on EvoLink (submit element create); "
                               f"{profile.provider or profile.host} cannot use them: give --element-id with an id "
                               "made on that host, or choose --provider evolink")
    needs = profile.value("request.element_requires_orientation")
    orientation = request.resolve(profile).orientation
    if orientation != needs:
        raise click.UsageError(f"an element needs orientation {needs} (it is {orientation}); give --orientation {needs}")
    usable = profile.value("element.usable_reference_types")
    for element_id in request.element_ids:
        known = journal.element_with_id(element_id)
        if known is not None and known.reference_type not in usable:
            raise click.UsageError(f"element {element_id} ({known.name!r}) was made from images ({known.reference_type}"
                                   f"); Motion Control takes {' or '.join(usable)} elements only")
    if not named:
        return request, None
    stored = journal.element_named(named, api_base)
    if stored is None:
        if not o.element_video:
            raise click.UsageError(f"no element named {named!r} in the journal for {api_base} (see `submit element "
                                   "list`); make it with `submit element create`, or give --element-video to make it "
                                   "on the way")
        from preflight import ElementRequest

        return request, ElementRequest(named, o.element_description or named, o.element_video)
    if stored.reference_type not in usable:
        raise click.UsageError(f"element {named!r} was made from images ({stored.reference_type}); Motion Control "
                               f"takes {' or '.join(usable)} elements only")
    if o.element_video and Path(o.element_video).is_file() and \
            stored.sources.get("element_video") != "sha256:" + flow.file_digest(o.element_video):
        raise click.UsageError(f"an element named {named!r} exists ({stored.element_id}), made from another video; "
                               "drop --element-video to use it, or choose another name")
    return dataclasses.replace(request, element=None, element_ids=(*request.element_ids, stored.element_id)), None


def _gate(profile, o: _Options, new_element=None):
    """The inputs (prepped with --prep), the element to make on the way (its video prepped too)
    and preflight's report on all of them; refuses what fails unless --force."""
    image, video, fmt = o.image, o.video, o.fmt
    for role, value in (("image", image), ("video", video), ("element-video", o.element_video)):
        if value is not None and not flow.is_url(value) and not Path(value).is_file():
            raise click.BadParameter(f"{value}: no such file", param_hint=f"--{role}")
    if new_element is not None and flow.is_url(new_element.video):
        raise click.BadParameter(f"{new_element.video}: an element's video must be a local file (it is checked and "
                                 "hosted here)", param_hint="--element-video")
    if o.run_prep:
        image, video = _run_prep(image, video, o.request, o.out, o.metadata_only, fmt)
        if new_element is not None:
            new_element = dataclasses.replace(new_element, video=prep_element_video(new_element.video, o.out,
                                                                                   o.metadata_only, fmt))
    with terminal_progress(fmt == "text") as progress:  # a bar on a terminal only
        report = flow.gate(image, video, o.request, profile, metadata_only=o.metadata_only,
                           progress=analysis_progress(progress), element=new_element)
    failures = [c for c in report.checks if c.status.value == "fail"]
    if fmt == "text":
        if failures:
            say(render(report, "text"), err=True)
        else:
            n = report.counts()
            warnings = f"{n['warn']} warning" + ("" if n["warn"] == 1 else "s")
            say(f"preflight: ok ({n['pass']} passed, {warnings}, {n['skip']} skipped)")
            for c in report.checks:
                if c.status.value == "warn":
                    say(f"  warning {c.id}: {c.message}", err=True)
    if failures and not o.force:
        names = ", ".join(sorted({c.id for c in failures}))
        fail(fmt, GateRefused(f"preflight failed ({names}); fix the inputs (`prep` can), or pass --force"),
              REFUSED, preflight=report.to_dict())
    if failures and o.force:
        say(f"warning: submitting despite {len(failures)} failed check(s) (--force)", err=True)
    return image, video, report, new_element


def _dry_run(profile, o: _Options, report, inputs, hosts, estimate, new_element=None) -> int:
    """The exact body (and an element's, to be made first) and where each file would go;
    nothing is uploaded or sent."""
    fmt, resolved = o.fmt, o.request.resolve(profile)
    where = {role: ({"url": value, "host": "user-url"} if flow.is_url(value) else
                    {"path": value, "host": hosts[role].name, "destination": hosts[role].describe(Path(value))})
             for role, value in inputs.items()}
    placeholder = {role: value if flow.is_url(value) else f"<{hosts[role].name} URL of {Path(value).name}>"
                   for role, value in inputs.items()}
    result: dict = {"dry_run": True}
    if new_element is not None:
        urls = {value: f"<{hosts['image' if key != 'element_video' else 'video'].name} URL of {Path(value).name}>"
                for key, value in flow.element_inputs(new_element).items()}
        result["element_body"] = element_body(profile, new_element, urls)
        resolved = dataclasses.replace(resolved, element=None,
                                       element_ids=(f"<id of the new element {new_element.name}>",))
    body = generation_body(profile, resolved, placeholder["image"], placeholder["video"])
    result.update({"body": body, "hosting": where, "cost": estimate, "preflight_ok": report.ok})
    if fmt == "json":
        print_json(result)
    else:
        say("dry run: nothing was uploaded or sent")
        if new_element is not None:
            say("first the element:")
            say(json.dumps(result["element_body"], indent=2))
            say("then the generation:")
        say(json.dumps(body, indent=2))
        for role, place in where.items():
            say(f"{role}: {place.get('path') or place.get('url')} -> {place.get('destination') or 'used as given'}")
        say(cost_line(report))
    return OK


def _send(obj, profile, o: _Options, client, report, same, inputs, hosts, estimate, journal: Journal,
          new_element=None) -> int:
    """Refuse a duplicate, check user URLs, confirm, make the element if one is to be made, host,
    create; then wait if asked."""
    fmt, resolved, wait = o.fmt, o.request.resolve(profile), o.wait
    again, yes = o.again, o.yes
    fresh_for = profile.value("results.link_lifetime")
    earlier = None if again else journal.duplicate_of(same, fresh_for)
    if earlier is not None:
        from .journal import describe_duplicate

        fail(fmt, AlreadySubmitted(describe_duplicate(earlier), None, earlier.task_id, row=earlier.row), REFUSED,
              journal_row=earlier.row)
    for problem in _url_problems(client, inputs, profile, fmt):
        fail(fmt, GateRefused(problem), REFUSED)
    if fmt == "text":
        say(cost_line(report))
    confirm(yes, fmt, estimate, "Submit this paid generation?" if new_element is None else
            "Create the element and submit this paid generation?")
    made = None
    try:
        if new_element is not None:
            made = _make_element_on_the_way(client, journal, profile, new_element, hosts, o)
            resolved = dataclasses.replace(resolved, element=None, element_ids=(*resolved.element_ids, made.element_id))
        with terminal_progress(fmt == "text") as progress:
            hosted = flow.host_inputs(inputs, hosts, lambda key, label, sent, total: progress(
                key, label, sent, total) if worth_a_bar("bytes", total) else None)
        body = generation_body(profile, resolved, hosted["image"].url, hosted["video"].url)
        created = flow.create(client, journal, body, estimate, fingerprint=same, fresh_for=fresh_for,
                              again=again)
    except SubmitError as exc:
        fail(fmt, exc, code_for(exc), cost=estimate)
    task = created.task
    if fmt == "text":
        say(f"created {task.id} (journal row {created.row}){' (replayed)' if task.replayed else ''}")
        if created.reserved:
            say(f"  reserved {created.reserved['credits']:g} credits")
        for warning in created.warnings:
            say(f"warning: {warning}", err=True)
    outputs: list[str] = []
    if wait:
        try:
            task, outputs = _wait_and_download(client, journal, task.id, o.out, o.interval, fmt, profile)
        except SubmitError as exc:
            exc.task_id = exc.task_id or task.id
            fail(fmt, exc, code_for(exc), journal_row=created.row, cost=estimate)
    if fmt == "json":
        print_json(_task_result(task, outputs, journal_row=created.row, cost=estimate, reserved=created.reserved,
                                hosted={r: {"host": h.host, "url": h.url, "expires_at": h.expires_at}
                                        for r, h in hosted.items()}, warnings=created.warnings,
                                **({"element": made.to_dict()} if made else {})))
    else:
        _show_task(task, outputs, fmt)
        if not wait:
            say(f"follow it with: submit wait {task.id}")
    return OK


def _make_element_on_the_way(client, journal, profile, element, hosts, o: _Options):
    """Host and create the element and wait for its id (the stored element)."""
    element_hosts = {key: hosts["video" if key == "element_video" else "image"] for key in flow.element_inputs(element)}
    with terminal_progress(o.fmt == "text") as progress:
        hosted = flow.host_inputs(flow.element_inputs(element), element_hosts, lambda key, label, sent, total: progress(
            key, label, sent, total) if worth_a_bar("bytes", total) else None)
    cost = element_cost(profile).to_dict()
    created = flow.create_element(client, journal, profile, element, hosted, cost, again=o.again)
    if o.fmt == "text":
        say(f"created element task {created.task.id} (journal row {created.row})")
    stored = wait_for_element(client, journal, created.task.id, o.interval, o.fmt)
    if o.fmt == "text":
        say(f"element {stored.name!r}: {stored.element_id}")
    return stored






def _url_problems(client, inputs, profile, fmt) -> list[str]:
    problems = []
    for result in flow.check_urls(client, inputs, profile):
        problems.extend(result.problems)
        if fmt == "text":
            for warning in result.warnings:
                say(f"warning: {warning}", err=True)
    return problems


def _run_prep(image, video, request, out, metadata_only, fmt):
    import prep as prep_module

    local = {k: v for k, v in (("image", image), ("video", video)) if not flow.is_url(v)}
    plan = prep_module.plan(**local, orientation=request.orientation, keep_sound=request.keep_sound,
                            out_dir=Path(out) / "prepped", force=True, metadata_only=metadata_only)
    result = prep_module.apply(plan)
    refused = [i for i in plan.items if i.refused]
    if refused:
        why = "; ".join(f"{i.source}: {i.refused}" for i in refused)
        fail(fmt, GateRefused(f"prep cannot fix the inputs: {why}"), REFUSED)
    paths = {o["role"]: o["path"] for o in result.outputs}
    if fmt == "text":
        for o in result.outputs:
            if o["changed"]:
                say(f"prep: {o['role']} -> {o['path']}")
    return paths.get("image", image), paths.get("video", video)






def _client_for_task(ctx, task_id: str | None, entry=None):
    """The client (and profile) of the host the journal says holds the task (the command's host
    when the journal does not know it). A fal task's endpoint is the one the journal recorded."""
    from preflight.profile import load_profile

    entry = entry or open_journal(ctx).by_task(task_id)
    profile = ctx.obj["profile"]
    if entry is not None and (entry.provider or "evolink") != (profile.host or "evolink"):
        profile = load_profile(_provider_profile(entry.provider or "evolink"))
    conf = ctx.obj["conf_for"](profile)
    if profile.host == "fal":
        if entry is None:
            raise click.UsageError(f"task {task_id}: a fal task is followed through the journal that sent it (it "
                                   "holds the endpoint); this journal does not know it (--journal)")
        conf = dataclasses.replace(conf, api_base=entry.api_base)
    return ctx.with_resource(make_client(ctx.obj, profile=profile, conf=conf)), profile


def _run_sub(ctx, fmt, action) -> None:
    try:
        code = action()
    except SubmitError as exc:
        try:
            fail(fmt, exc, code_for(exc))
        except Finish as finish:
            code = finish.code
    sys.exit(code or OK)


@submit.command()
@click.argument("task_id")
@format_option
@click.pass_context
def status(ctx, task_id, fmt):
    """Show a task's status once (no waiting)."""
    fmt = output_format(ctx, fmt)
    task_id = _task_id_argument(ctx, task_id)

    def action():
        client, _ = _client_for_task(ctx, task_id)
        task = client.get_task(task_id)
        flow.record_task(open_journal(ctx), task)
        _show_task(task, [], fmt)
        return REFUSED if task.status == "failed" else OK

    _run_sub(ctx, fmt, action)


@submit.command()
@click.argument("task_id")
@click.option("--out", default="results", show_default=True, metavar="DIR")
@click.option("--poll-interval", type=float, default=DEFAULT_POLL_INTERVAL, show_default=True, metavar="SECONDS")
@click.option("--timeout", "wait_timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="A deadline for waiting and downloading (default: the group's --timeout).")
@format_option
@click.pass_context
def wait(ctx, task_id, out, poll_interval, wait_timeout, fmt):
    """Wait for any task (one from the journal or not) and download its results."""
    fmt = output_format(ctx, fmt)
    task_id = _task_id_argument(ctx, task_id)
    if wait_timeout is not None:
        ctx.obj["deadline"] = time.monotonic() + wait_timeout

    def action():
        client, profile = _client_for_task(ctx, task_id)
        task, outputs = _wait_and_download(client, open_journal(ctx), task_id, out, poll_interval, fmt, profile)
        _show_task(task, outputs, fmt)
        return OK

    _run_sub(ctx, fmt, action)


@submit.command()
@click.argument("task_id")
@click.option("--out", default="results", show_default=True, metavar="DIR")
@format_option
@click.pass_context
def download(ctx, task_id, out, fmt):
    """Download a completed task's results (resumes a broken download)."""
    fmt = output_format(ctx, fmt)
    task_id = _task_id_argument(ctx, task_id)

    def action():
        client, profile = _client_for_task(ctx, task_id)
        journal = open_journal(ctx)
        task = client.get_task(task_id)
        flow.record_task(journal, task)
        _show_task(task, _download(client, journal, task, out, fmt, profile), fmt)
        return OK

    _run_sub(ctx, fmt, action)


@submit.command(name="list")
@click.option("--limit", type=int, default=20, show_default=True)
@format_option
@click.pass_context
def list_(ctx, limit, fmt):
    """Show the journal: every submission, newest first."""
    fmt = output_format(ctx, fmt)
    entries = open_journal(ctx).entries(limit)
    if fmt == "json":
        print_json({"tasks": [e.to_dict() for e in entries]})
        return
    if not entries:
        say("the journal is empty")
    for e in entries:
        state = e.status or e.state
        who = e.task_id or (f"answer lost: `submit recover {e.row}`" if e.state in ("sending", "sent") else "-")
        say(f"{e.row:>4}  {e.created_at}  {e.provider or 'evolink':<8}  {state:<10}  {who}  {', '.join(e.outputs)}")


@submit.command()
@click.argument("row", type=int)
@format_option
@click.pass_context
def recover(ctx, row, fmt):
    """Find the task of a submission whose answer was lost (same Idempotency-Key, never a second task)."""
    fmt = output_format(ctx, fmt)

    def action():
        entry = open_journal(ctx).get(row)
        client = _client_for_task(ctx, None, entry)[0] if entry is not None else ctx.with_resource(make_client(ctx.obj))
        created = flow.recover(client, open_journal(ctx), row)
        _show_task(created.task, [], fmt, journal_row=row)
        return OK

    _run_sub(ctx, fmt, action)


@submit.command()
@format_option
@click.pass_context
def credits(ctx, fmt):
    """Show the remaining credits of the key and of the account."""
    fmt = output_format(ctx, fmt)

    profile = ctx.obj["profile"]
    if profile.host not in ("", "evolink"):
        raise click.UsageError(f"{profile.provider or profile.host} has no balance endpoint in the reference: look "
                               "in its console (credits is EvoLink's)")

    def action():
        data = ctx.with_resource(make_client(ctx.obj)).credits()
        if fmt == "json":
            print_json({"credits": data})
        else:
            for who in ("token", "user"):
                if isinstance(data.get(who), dict):
                    say(f"{who}: {data[who].get('remaining_credits')} credits left")
        return OK

    _run_sub(ctx, fmt, action)


@click.command(name="fake-server", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--key", default="fake-key", show_default=True, help="The bearer key it accepts.")
@click.option("--polls", type=int, default=3, show_default=True, help="Polls from pending to completed.")
@click.option("--credits", "credit_balance", type=float, default=10_000.0, show_default=True)
@click.option("--credit-unit", type=click.Choice(["uc", "credits"]), default="uc", show_default=True,
              help="Unit of credits_reserved (the docs disagree).")
@click.option("--code-style", type=click.Choice(["string", "int"]), default="string", show_default=True,
              help="error.code as a string or as the HTTP status (the docs disagree).")
@click.option("--files-images-only", is_flag=True, help="Refuse video uploads, as the files API docs say.")
@click.option("--verbose", is_flag=True, help="Log each request line.")
@click.option("--provider", "stand_in", type=click.Choice(["evolink", "kling", "fal"]), default="evolink",
              show_default=True, help="Which host to stand in for (kling: --key is the secret key, the access key "
                                      "is fake-access).")
def fake_server(host, port, key, polls, credit_balance, credit_unit, code_style, files_images_only, verbose,
                stand_in):
    """Run the bundled local EvoLink server (tasks, files, credits, fault injection) until Ctrl-C;
    or a local Kling AI or fal (--provider)."""
    from .fake import FakeEvoLink, FakeFal, FakeKling

    if stand_in != "evolink":
        other = (FakeKling(access_key="fake-access", secret_key=key, host=host, port=port, polls_to_complete=polls,
                           quiet=not verbose) if stand_in == "kling" else
                 FakeFal(api_key=key, host=host, port=port, polls_to_complete=polls, quiet=not verbose))
        click.echo(f"fake {stand_in} listening on {other.url}", err=True)
        try:
            other.serve_forever()
        finally:
            other.stop()
        return
    server = FakeEvoLink(api_key=key, host=host, port=port, polls_to_complete=polls, credits=credit_balance,
                         credit_unit=credit_unit, code_style=code_style, files_accept_video=not files_images_only,
                         quiet=not verbose)
    click.echo(f"fake EvoLink listening on {server.url} (API and files); faults: POST {server.url}/_fake/faults",
               err=True)
    try:
        server.serve_forever()
    finally:
        server.stop()


submit.add_command(fake_server)
submit.add_command(element_commands)


def main() -> None:
    run_command(submit, "submit")


if __name__ == "__main__":
    main()
