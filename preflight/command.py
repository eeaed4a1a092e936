"""What every command of the three tools shares: exit codes scripts rely on, worded usage
errors, one line instead of a traceback, and a job file given with ``--job``. prep and submit
use this module, not preflight's own command."""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback

import click

from .errors import PreflightError
from .report import ExitCode


def load_job_option(path: str, profile=None):
    """The job file named by a command's ``--job``; a bad one is a usage error naming the problem.
    Its media may leave its folder only when the configuration found from here allows it; its
    orientation and quality are words of ``profile``."""
    from .config import ConfigError, load_config
    from .job import JobError, load_job

    try:
        return load_job(path, allow_outside=load_config().allow_media_outside_job, profile=profile)
    except (JobError, ConfigError) as exc:
        raise click.UsageError(str(exc)) from None


def load_profile_option(name: str | None):
    """The profile a command works with: ``--profile`` if given, else the configuration's (found
    from the working directory), else the default; a bad one is a usage error naming it."""
    from .config import ConfigError, load_config
    from .profile import ProfileError

    try:
        return load_config().load_profile(name)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    except ProfileError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None


def profile_choice(profile, key: str, value: str | None, option: str) -> str | None:
    """Validate a value against the profile's allowed list (the CLI's usage errors come from data)."""
    if value is None:
        return None
    allowed = profile.value(key)
    for candidate in allowed:
        if value.lower() == candidate.lower():
            return candidate
    raise click.BadParameter(f"{value!r} is not one of {', '.join(allowed)}", param_hint=option)





def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _asked_for_json(argv: list[str]) -> bool:
    """Whether the command line asks for JSON output. Read from the words themselves: a usage
    error may come before the options are parsed."""
    for i, word in enumerate(argv):
        if word == "--format" and i + 1 < len(argv):
            value = argv[i + 1]
        elif word.startswith("--format="):
            value = word.split("=", 1)[1]
        else:
            continue
        if value in ("json", "jsonl"):
            return True
    return False


def _usage_error_as_json(message: str) -> None:
    """Besides the words on stderr, a usage error as a JSON object on stdout when JSON was asked
    for, so a program reading stdout gets an answer it can parse."""
    if _asked_for_json(sys.argv[1:]):
        click.echo(json.dumps({"ok": False, "error": {"code": "usage_error", "exit_code": int(ExitCode.USAGE),
                                                      "message": message}}))


def run_command(command: click.Command, name: str) -> None:
    """Run a click command with the exit codes scripts rely on: usage errors and bad input that
    reached no report (a ``PreflightError``) 2, bugs 3 with one line instead of a traceback,
    interruptions (Ctrl-C or SIGTERM, which unwinds the same way so temporary files are removed)
    130."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        command.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.UsageError as exc:
        exc.show()
        _usage_error_as_json(exc.format_message())
        sys.exit(ExitCode.USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code)
    except SystemExit:
        raise
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except PreflightError as exc:  # bad input that reached no report: worded, never "internal"
        click.echo(f"{name}: {exc}", err=True)
        _usage_error_as_json(str(exc))
        sys.exit(ExitCode.USAGE)
    except Exception as exc:
        if os.environ.get("PREFLIGHT_DEBUG"):
            traceback.print_exc()
        else:
            click.echo(f"{name}: internal error: {type(exc).__name__}: {exc} "
                       "(set PREFLIGHT_DEBUG=1 for a traceback, and please report it)", err=True)
        sys.exit(ExitCode.INTERNAL)


