"""What every command of the three tools shares: exit codes scripts rely on, worded usage
errors, one line instead of a traceback, and a job file given with ``--job``. prep and submit
use this module, not preflight's own command."""

from __future__ import annotations

import os
import signal
import sys
import traceback

import click

from .errors import PreflightError
from .report import ExitCode


def load_job_option(path: str):
    """The job file named by a command's ``--job``; a bad one is a usage error naming the problem.
    Its media may leave its folder only when the configuration found from here allows it."""
    from .config import ConfigError, load_config
    from .job import JobError, load_job

    try:
        return load_job(path, allow_outside=load_config().allow_media_outside_job)
    except (JobError, ConfigError) as exc:
        raise click.UsageError(str(exc)) from None


def _interrupt(signum, frame):
    raise KeyboardInterrupt


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
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code)
    except SystemExit:
        raise
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except PreflightError as exc:  # bad input that reached no report: worded, never "internal"
        click.echo(f"{name}: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    except Exception as exc:
        if os.environ.get("PREFLIGHT_DEBUG"):
            traceback.print_exc()
        else:
            click.echo(f"{name}: internal error: {type(exc).__name__}: {exc} "
                       "(set PREFLIGHT_DEBUG=1 for a traceback, and please report it)", err=True)
        sys.exit(ExitCode.INTERNAL)


