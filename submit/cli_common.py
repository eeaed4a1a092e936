"""What the ``submit`` commands share: exit codes, printing (every string masked for the key),
failing with a worded message and the right code, the client made from the settings, the
journal, the hosts and the cost line. ``cli`` (generations) and ``element_cli`` (custom
elements) build on it."""

from __future__ import annotations

import json
import signal
import time

import click

from . import flow
from .client import Client, InvalidId
from .errors import AlreadySubmitted, DeadlineExceeded, GateRefused, SubmitError, TaskFailed, WaitTimeout
from .journal import Journal
from .secrets import KeyProblem, check_key, redact

OK, REFUSED, USAGE, INTERNAL, SERVICE, TIMEOUT = 0, 1, 2, 3, 4, 5
# The key the embedded local EvoLink (--fake-server) accepts; not a secret.
FAKE_KEY = "fake-key"

# Every string this process prints passes through ``redact``: a key that somehow reaches a
# message (a server echoing it, say) is masked in every form before it can be seen.


def say(text: str = "", err: bool = False) -> None:
    click.echo(redact(text), err=err)


def print_json(obj: dict) -> None:
    click.echo(redact(json.dumps(obj, indent=2, default=str)))


class Finish(Exception):
    """Leave with this exit code after the result has been printed."""

    def __init__(self, code: int):
        self.code = code


def fail(fmt: str, exc: SubmitError, code: int, **extra) -> None:
    if fmt == "json":
        error = exc.info.to_dict() if exc.info else {"code": _ERROR_NAMES.get(type(exc), "error"), "message": str(exc)}
        error["detail"] = str(exc)  # the whole sentence, with what to do next
        print_json({"task_id": exc.task_id, "status": extra.pop("status", None), "outputs": [], "error": error,
                     **extra})
    else:
        say(f"submit: {exc}", err=True)
    raise Finish(code)


_ERROR_NAMES = {GateRefused: "refused", WaitTimeout: "wait_timeout", TaskFailed: "task_failed",
                DeadlineExceeded: "deadline_exceeded", AlreadySubmitted: "already_submitted"}


def code_for(exc: SubmitError) -> int:
    if isinstance(exc, (GateRefused, TaskFailed)):
        return REFUSED
    if isinstance(exc, InvalidId) and exc.info and exc.info.name == "invalid_id":
        return USAGE
    if isinstance(exc, WaitTimeout):
        return TIMEOUT
    if exc.info is not None and exc.info.caller_error:  # wrong key, unknown task, bad request: not an outage
        return USAGE
    return SERVICE


# The deadline's last resort: a read that blocks inside the HTTP library (headers sent a byte
# a second) is interrupted this long after the deadline, if the client's own checks have not
# ended it first.
_DEADLINE_GRACE_S = 1.0


def _arm_deadline(deadline: float) -> None:
    """Interrupt whatever runs when ``deadline`` (a monotonic time) has passed."""
    def expired(signum, frame):
        signal.setitimer(signal.ITIMER_REAL, 0)
        raise DeadlineExceeded("the command's --timeout passed; a task already created goes on (see `submit list`)")

    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, max(0.01, deadline - time.monotonic() + _DEADLINE_GRACE_S))


def make_client(ctx_obj: dict) -> Client:
    conf = ctx_obj["settings"]
    if not conf.api_key:
        raise click.UsageError("no API key: set EVOLINK_API_KEY, put api_key in the config file, "
                               "or try everything locally with --fake-server")
    redact.add(conf.api_key)
    try:
        check_key(conf.api_key, conf.key_source)  # before any request, so the key never meets the network
    except KeyProblem as exc:
        raise click.UsageError(str(exc)) from None

    def told(attempt: int, why: str, delay: float) -> None:
        if ctx_obj["fmt"] == "text":
            say(f"  retrying ({why}) in {delay:.1f} s", err=True)

    deadline = ctx_obj["deadline"]
    _arm_deadline(deadline)
    return Client(conf.api_key, api_base=conf.api_base, files_base=conf.files_base, on_retry=told,
                  deadline=deadline - time.monotonic(), **client_bounds(ctx_obj["profile"]))


def client_bounds(profile) -> dict:
    """The client's byte bounds and id rules, from the profile."""
    return {"max_reply_bytes": profile.value("network.max_reply_bytes"),
            "max_result_bytes": profile.value("results.max_file_size"),
            "result_extensions": tuple(profile.value("results.extensions")),
            "id_max_chars": profile.value("network.task_id_max_chars")}


format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None,
                              help="Output format (default: text, or the group's --format).")


def cost_line(report) -> str:
    cost = report.cost
    if cost is None:
        return "cost: not estimated (see the request checks)"
    bound = "at most " if cost.upper_bound else ""
    if cost.credits is None:
        return f"cost: {bound}{cost.amount()}; {cost.basis}"
    return (f"cost: {bound}{cost.credits:g} credits, about ${cost.usd:.2f} "
            f"(up to ${flow.worst_case_usd(report):.2f} at the other published rate); {cost.basis}")


def hosts_for(client, conf, video_host: str, lifetime: int) -> dict:
    from .hosting import EvoLinkFilesHost, S3Host

    files = EvoLinkFilesHost(client, conf.files_base)
    if video_host == "s3" or (video_host == "auto" and conf.s3_bucket):
        if not conf.s3_bucket:
            raise click.UsageError("--video-host s3 needs --s3-bucket (or SUBMIT_S3_BUCKET)")
        video = S3Host(conf.s3_bucket, prefix=conf.s3_prefix, lifetime=lifetime, endpoint_url=conf.s3_endpoint,
                       region=conf.s3_region)
    else:
        video = files
    return {"image": files, "video": video}


# ---------------------------------------------------------------------- subcommands
def open_journal(ctx) -> Journal:
    return ctx.with_resource(Journal(ctx.obj["journal"]))


def output_format(ctx, fmt):
    return fmt or ctx.obj["fmt"]
