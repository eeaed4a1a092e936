"""``submit element``: create a custom character element once (kling-custom-element), keep its id
in the journal under a name, and list what was made. ``submit --element NAME`` uses one.

Creating an element is a paid task like a generation, so it goes through the same steps: the
element's media checked by preflight (``check_element``), an estimate and a confirmation, the
media hosted, the task journalled before it is sent, and waited for until its id is known."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from preflight import ElementRequest
from preflight.formats import render
from preflight.progress import analysis_progress, terminal_progress, worth_a_bar

from . import flow
from .body import element_body
from .cli_common import (OK, REFUSED, USAGE, Finish, code_for, cost_line, fail, format_option, hosts_for,
                         make_client, open_journal, output_format, print_json, say)
from .errors import GateRefused, SubmitError
from .journal import Journal, StoredElement


@click.group(name="element", context_settings={"help_option_names": ["-h", "--help"]})
def element() -> None:
    """Custom elements: a character made once from a short video, used by name in every job
    (docs/elements.md).

    \b
    Examples:
      submit element create --name Ann --description "Ann, red jacket" --video ann.mp4 --yes
      submit element list
      submit --image me.jpg --video dance.mp4 --orientation video --element Ann --yes
    """


@element.command()
@click.option("--name", required=True, metavar="TEXT", help="The element's name (at most 20 characters); "
              "jobs use it (--element NAME, element = \"NAME\").")
@click.option("--description", required=True, metavar="TEXT", help="What the character is (at most 100 characters).")
@click.option("--video", metavar="PATH", help="One video of the character: at most 8 s, width 720-2160 px, the face "
              "clearly visible, nobody else (video_refer: the kind Motion Control takes).")
@click.option("--image", metavar="PATH", help="A frontal picture of the character (image_refer, with --ref).")
@click.option("--ref", "refs", multiple=True, metavar="PATH", help="A reference picture (1-3, with --image).")
@click.option("--prep", "run_prep", is_flag=True, help="Fix the video with prep first (trim to 8 s, scale the width).")
@click.option("--out", default="results", show_default=True, metavar="DIR", help="Where prep writes (DIR/prepped).")
@click.option("--max-cost", type=float, metavar="USD", help="Refuse if the estimate is above this budget.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed when not on a terminal).")
@click.option("--dry-run", is_flag=True, help="Print the exact body and where each file would go; send nothing.")
@click.option("--force", is_flag=True, help="Create it even though preflight failed a check.")
@click.option("--metadata-only", is_flag=True, help="Gate on the documented limits only (no face or cut analysis).")
@click.option("--again", is_flag=True, help="Make it even though an element of this name exists (pays again).")
@click.option("--no-wait", is_flag=True, help="Return once the task is created; `submit wait TASK_ID` fetches the id.")
@format_option
@click.pass_context
def create(ctx, name, description, video, image, refs, run_prep, out, max_cost, yes, dry_run, force, metadata_only,
           again, no_wait, fmt):
    """Check, host and create a character element; store its id in the journal under NAME."""
    fmt = output_format(ctx, fmt)
    if bool(video) == bool(image):
        raise click.UsageError("give --video (video_refer), or --image with --ref (image_refer)")
    if refs and not image:
        raise click.UsageError("--ref pictures go with a frontal --image")
    for option, value in (("--video", video), ("--image", image), *(("--ref", r) for r in refs)):
        if value is None:
            continue
        if flow.is_url(value) or not Path(value).is_file():
            raise click.BadParameter(f"{value}: not a local file (an element's media are checked and hosted here)",
                                     param_hint=option)
    try:
        if run_prep and video:
            video = prep_element_video(video, out, metadata_only, fmt)
        wanted = ElementRequest(name, description, video, image, tuple(refs))
        code = _create(ctx, wanted, max_cost, yes, dry_run, force, metadata_only, again, not no_wait, fmt)
    except Finish as finish:
        code = finish.code
    except SubmitError as exc:
        try:
            fail(fmt, exc, code_for(exc))
        except Finish as finish:
            code = finish.code
    sys.exit(code)


def prep_element_video(video: str, out: str, metadata_only: bool, fmt: str) -> str:
    """prep's fixed copy of an element video (or the video itself when nothing needed fixing)."""
    import prep

    try:
        plan = prep.plan(element_video=video, out_dir=Path(out) / "prepped", force=True, metadata_only=metadata_only)
        refused = [i for i in plan.items if i.refused]
        if refused:
            fail(fmt, GateRefused(f"prep cannot fix the element video: {refused[0].refused}"), REFUSED)
        result = prep.apply(plan)
    except prep.PrepError as exc:  # an output folder that cannot be written, say
        fail(fmt, GateRefused(f"prep: {exc}"), REFUSED)
    changed = [o for o in result.outputs if o["changed"]]
    if changed and fmt == "text":
        say(f"prep: element video -> {changed[0]['path']}")
    return changed[0]["path"] if changed else video


def _create(ctx, wanted: ElementRequest, max_cost, yes, dry_run, force, metadata_only, again, wait, fmt) -> int:
    obj, profile = ctx.obj, ctx.obj["profile"]
    if not profile.creates_elements:
        host = profile.provider or profile.host
        raise click.UsageError(f"custom elements are made on EvoLink (kling-custom-element); {host} has no element "
                               "creation in the reference: use --provider evolink")
    journal = open_journal(ctx)
    earlier = None if again else journal.element_named(wanted.name, obj["settings"].api_base)
    if earlier is not None:
        return _already_made(earlier, wanted, fmt)
    report = gate_element(wanted, profile, metadata_only, force, fmt)
    estimate = report.cost.to_dict() if report.cost else None
    try:
        flow.check_budget(report, max_cost)
    except GateRefused as exc:
        fail(fmt, exc, REFUSED, cost=estimate)
    conf = obj["settings"]
    client = ctx.with_resource(make_client(obj)) if conf.api_key or not dry_run else None
    files = hosts_for(client, conf, "auto", 24 * 3600)
    hosts = {key: files["video" if key == "element_video" else "image"] for key in flow.element_inputs(wanted)}
    if dry_run:
        urls = {value: f"<{hosts[key].name} URL of {Path(value).name}>"
                for key, value in flow.element_inputs(wanted).items()}
        body = element_body(profile, wanted, urls)
        if fmt == "json":
            print_json({"dry_run": True, "body": body, "cost": estimate, "preflight_ok": report.ok})
        else:
            say("dry run: nothing was uploaded or sent")
            say(json.dumps(body, indent=2))
            say(cost_line(report))
        return OK
    if fmt == "text":
        say(cost_line(report))
    confirm(yes, fmt, estimate, "Create this paid element?")
    with terminal_progress(fmt == "text") as progress:
        hosted = flow.host_inputs(flow.element_inputs(wanted), hosts, lambda key, label, sent, total: progress(
            key, label, sent, total) if worth_a_bar("bytes", total) else None)
    created = flow.create_element(client, journal, profile, wanted, hosted, estimate, again=again)
    if fmt == "text":
        say(f"created element task {created.task.id} (journal row {created.row})")
    if not wait:
        if fmt == "json":
            print_json({"element": None, "task_id": created.task.id, "journal_row": created.row, "cost": estimate})
        else:
            say(f"follow it with: submit wait {created.task.id}; then `submit element list` shows its id")
        return OK
    stored = wait_for_element(client, journal, created.task.id, obj["poll_interval"], fmt)
    if fmt == "json":
        print_json({"element": stored.to_dict(), "task_id": created.task.id, "journal_row": created.row,
                     "cost": estimate, "reserved": created.reserved})
    else:
        say(f"element {stored.name!r}: {stored.element_id} ({stored.reference_type}); use it with --element "
             f"{stored.name}")
    return OK


def gate_element(wanted: ElementRequest, profile, metadata_only: bool, force: bool, fmt: str):
    """preflight on the element's media; refuses what fails unless ``force``."""
    with terminal_progress(fmt == "text") as progress:
        report = flow.gate(None, None, None, profile, metadata_only=metadata_only, progress=analysis_progress(progress),
                           element=wanted)
    failures = sorted({c.id for c in report.checks if c.status.value == "fail"})
    if fmt == "text" and (failures or any(c.status.value == "warn" for c in report.checks)):
        say(render(report, "text"), err=True)
    if failures and not force:
        fail(fmt, GateRefused(f"preflight failed ({', '.join(failures)}); fix the element's media (`--prep` fixes "
                               "a video's length and width), or pass --force"), REFUSED, preflight=report.to_dict())
    if failures:
        say(f"warning: creating the element despite {len(failures)} failed check(s) (--force)", err=True)
    return report


def confirm(yes: bool, fmt: str, estimate: dict | None, question: str) -> None:
    """Ask before paying, on a terminal; elsewhere only --yes pays."""
    if yes:
        return
    if not sys.stdin.isatty():
        fail(fmt, GateRefused("not on a terminal, so nobody can confirm the cost: pass --yes"), REFUSED,
              cost=estimate)
    if not click.confirm(question, default=False, err=True):
        fail(fmt, GateRefused("not confirmed"), REFUSED, cost=estimate)


def wait_for_element(client, journal: Journal, task_id: str, interval: float, fmt: str) -> StoredElement:
    with terminal_progress(fmt == "text") as bar:
        return flow.finish_element(client, journal, task_id, interval=interval, on_update=lambda task: bar(
            "element", f"creating the element: {task.status}", task.progress, 100))


def _already_made(earlier: StoredElement, wanted: ElementRequest, fmt: str) -> int:
    """An element of this name exists: the same media are not paid for twice; other media under
    the same name need --again (the newest of a name is the one jobs get)."""
    same = earlier.sources == flow.element_sources(wanted)
    if not same:
        fail(fmt, GateRefused(f"an element named {wanted.name!r} exists ({earlier.element_id}, made "
                               f"{earlier.created_at} from other media); choose another name, or pass --again to "
                               "make a new one that jobs naming it will use"), USAGE)
    if fmt == "json":
        print_json({"element": earlier.to_dict(), "already_made": True})
    else:
        say(f"element {earlier.name!r} was already made from these media: {earlier.element_id} (nothing paid); "
             "pass --again to pay for another")
    return OK


@element.command(name="list")
@format_option
@click.pass_context
def list_elements(ctx, fmt):
    """Show the elements made with this journal, newest first."""
    fmt = output_format(ctx, fmt)
    journal = open_journal(ctx)
    stored = journal.elements()
    rows = []
    for e in stored:
        entry = journal.get(e.submission)
        state = "ready" if e.element_id else ((entry.status or entry.state) if entry else "unknown")
        rows.append({**e.to_dict(), "state": state, "task_id": entry.task_id if entry else None,
                     "cost": entry.estimate if entry else None})
    if fmt == "json":
        print_json({"elements": rows})
        return
    if not rows:
        say("no elements yet: `submit element create --name NAME --description TEXT --video FILE` makes one")
    for r in rows:
        say(f"{r['row']:>4}  {r['created_at']}  {r['name']:<20}  {r['element_id'] or r['state']:<20}  "
             f"{r['reference_type']}  task {r['task_id'] or '-'}")

