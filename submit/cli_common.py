"""What the ``submit`` commands share: exit codes, printing (every string masked for the key),
failing with a worded message and the right code, the client made from the settings, the
journal, the hosts and the cost line. ``cli`` (generations) and ``element_cli`` (custom
elements) build on it."""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass

import click

from . import flow
from .client import Client, InvalidId
from .errors import AlreadySubmitted, DeadlineExceeded, GateRefused, SubmitError, TaskFailed, WaitTimeout
from .journal import Journal
from .secrets import KeyProblem, check_key, redact

OK, REFUSED, USAGE, INTERNAL, SERVICE, TIMEOUT = 0, 1, 2, 3, 4, 5
# The keys the embedded local hosts (--fake-server) accept; not secrets.
FAKE_KEY = "fake-key"
FAKE_ACCESS_KEY = "fake-access"


@dataclass(frozen=True)
class FakeHost:
    url: str
    key: str
    access_key: str | None = None


def start_fake(stack, host: str, profile=None) -> FakeHost:
    """Start the local stand-in of ``host`` (evolink, kling, fal) for this command's life."""
    from .fake import FakeEvoLink, FakeFal, FakeKling

    if host == "kling":
        fake = stack.enter_context(FakeKling(access_key=FAKE_ACCESS_KEY, secret_key=FAKE_KEY, profile=profile))
        return FakeHost(fake.url, FAKE_KEY, FAKE_ACCESS_KEY)
    if host == "fal":
        fake = stack.enter_context(FakeFal(api_key=FAKE_KEY, profile=profile))
        return FakeHost(fake.url, FAKE_KEY)
    fake = stack.enter_context(FakeEvoLink(api_key=FAKE_KEY, profile=profile))
    return FakeHost(fake.url, FAKE_KEY)

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


def make_client(ctx_obj: dict, *, profile=None, conf=None, quality: str | None = None) -> Client:
    """The client for the command's host (or ``profile``'s, with ``conf`` its settings); fal's
    endpoint from ``quality`` (the request's), else from the settings' base (a journal row's)."""
    from .backends import make_backend

    profile = profile or ctx_obj["profile"]
    conf = conf or ctx_obj["settings"]
    if not conf.has_credentials:
        names = " and ".join(profile.key_names())
        where = "api_key in the config file" if conf.host == "evolink" else f"[providers.{conf.host}] in the config file"
        raise click.UsageError(f"no API key for {profile.provider or conf.host}: set {names}, put {where}, "
                               "or try everything locally with --fake-server")
    for secret, source in ((conf.api_key, conf.key_source), (conf.access_key, conf.access_source)):
        if secret:
            redact.add(secret)
            try:
                check_key(secret, source)  # before any request, so the key never meets the network
            except KeyProblem as exc:
                raise click.UsageError(str(exc)) from None

    def told(attempt: int, why: str, delay: float) -> None:
        if ctx_obj["fmt"] == "text":
            say(f"  retrying ({why}) in {delay:.1f} s", err=True)

    deadline = ctx_obj["deadline"]
    _arm_deadline(deadline)
    try:
        return make_backend(profile, conf, quality, on_retry=told, deadline=deadline - time.monotonic(),
                            **client_bounds(profile))
    except SubmitError as exc:
        raise click.UsageError(str(exc)) from None


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


def hosts_for(client, conf, video_host: str, lifetime: int, profile=None) -> dict:
    """Where local files go for the host (``submit.backends.file_hosts``); a bucket asked for
    but not named is a usage error."""
    from preflight.profile import load_profile

    from .backends import file_hosts

    try:
        return file_hosts(profile or load_profile(), client, conf, video_host, lifetime)
    except SubmitError as exc:
        raise click.UsageError(str(exc)) from None


# ---------------------------------------------------------------------- subcommands
def open_journal(ctx) -> Journal:
    return ctx.with_resource(Journal(ctx.obj["journal"]))


def output_format(ctx, fmt):
    return fmt or ctx.obj["fmt"]
