"""The ``prep`` command. Exit codes: 0 the outputs pass preflight, 1 they do not (or an input
could not be fixed), 2 usage error, 3 internal error, 130 interrupted."""

from __future__ import annotations

import json
import os
import sys

import click

from preflight import ExitCode, __version__
from preflight.command import load_job_option, load_profile_option, profile_choice, run_command
from preflight.formats import render
from preflight.progress import analysis_progress, terminal_progress

from . import PlanError, PrepError, apply, plan


def _text_plan(p) -> str:
    lines = []
    for item in p.items:
        lines.append(f"{item.role}  {item.source}")
        if item.refused:
            lines.append(f"  cannot fix: {item.refused}")
        elif not item.steps:
            lines.append("  nothing to change: used as it is")
        for step in item.steps:
            lines.append(f"  {step.action:<10} {step.reason}")
        if item.output and item.changes:
            lines.append(f"  -> {item.output}")
    return "\n".join(lines)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--image", metavar="PATH", help="Character image to prepare.")
@click.option("--video", metavar="PATH", help="Reference video to prepare.")
@click.option("--element-video", metavar="PATH",
              help="A custom element's source video to prepare (at most 8 s, width 720-2160 px).")
@click.option("--orientation", metavar="image|video", help="character_orientation (sets the duration limit). Default: image.")
@click.option("-o", "--out", "out_dir", default="prepped", show_default=True, metavar="DIR", help="Output folder.")
@click.option("--start", type=float, metavar="SECONDS", help="Keep the video from here (overrides the chosen window).")
@click.option("--end", type=float, metavar="SECONDS", help="Keep the video up to here.")
@click.option("--extend", type=click.Choice(["loop", "boomerang"]), help="Lengthen a clip under the minimum.")
@click.option("--keep-sound/--no-keep-sound", default=None, help="Keep the video's audio. Default: keep.")
@click.option("--force", is_flag=True, help="Replace existing outputs.")
@click.option("--metadata-only", is_flag=True,
              help="Fix the documented limits only: no content analysis (the window is the first seconds).")
@click.option("--dry-run", is_flag=True, help="Show the plan (and with --format json the ffmpeg arguments); write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--job", "job_file", metavar="JOB.job.toml", help="Take the inputs, orientation and keep_sound from a job file.")
@click.option("--profile", "profile_name", default=None, metavar="NAME|PATH",
              help="Constraint profile: a bundled name or a TOML file. Default: the configuration's, else the bundled one.")
@click.version_option(__version__, prog_name="prep")
def prep(image, video, element_video, orientation, out_dir, start, end, extend, keep_sound, force, metadata_only, dry_run, fmt,
         job_file, profile_name):
    """Turn a clip and a photo into inputs that pass preflight, then prove it."""
    profile = load_profile_option(profile_name)
    orientation = profile_choice(profile, "request.orientations", orientation, "--orientation")
    if job_file:
        job = load_job_option(job_file, profile)
        for role, value in (("image", job.image), ("video", job.video)):
            if value and value.lower().startswith(("http://", "https://")):
                raise click.UsageError(f"{job_file}: the {role} is a URL; prep works on local files")
        image, video = image or job.image, video or job.video
        orientation = orientation or job.request.orientation
        keep_sound = job.request.keep_sound if keep_sound is None else keep_sound
    if image is None and video is None and element_video is None:
        raise click.UsageError("nothing to prepare: give --image, --video, --element-video or several")
    with terminal_progress(fmt == "text") as progress:  # a bar on a terminal only
        try:
            p = plan(image=image, video=video, orientation=orientation, keep_sound=keep_sound, out_dir=out_dir,
                     start=start, end=end, extend=extend, force=force, metadata_only=metadata_only, profile=profile,
                     progress=analysis_progress(progress), element_video=element_video)
        except PlanError as exc:
            raise click.UsageError(str(exc)) from None
    _carry_out(p, fmt, dry_run)


def _carry_out(p, fmt: str, dry_run: bool) -> None:
    refused = any(i.refused for i in p.items)
    if dry_run:
        if fmt == "json":
            click.echo(json.dumps({"ok": not refused, "dry_run": True, "plan": p.to_dict()["items"],
                                   "outputs": [], "preflight": p.report.to_dict()}, indent=2))
        else:
            click.echo(_text_plan(p))
            click.echo("\n(dry run: nothing written)")
        sys.exit(ExitCode.FAILED if refused else ExitCode.OK)
    if fmt == "text":
        click.echo(_text_plan(p))
    try:
        with terminal_progress(fmt == "text") as progress:
            result = apply(p, progress)
    except PrepError as exc:
        if fmt == "json":
            click.echo(json.dumps({"ok": False, "plan": p.to_dict()["items"], "outputs": [], "preflight": None,
                                   "error": str(exc)}, indent=2))
        else:
            click.echo(f"prep: {exc}", err=True)
        sys.exit(ExitCode.FAILED)
    if fmt == "json":
        click.echo(json.dumps({"ok": result.ok, "plan": p.to_dict()["items"], "outputs": result.outputs,
                               "preflight": result.report.to_dict() if result.report else None}, indent=2))
    else:
        click.echo("")
        if result.report:
            click.echo(render(result.report, "text", color=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
        click.echo("\nprep: outputs pass preflight" if result.ok else "\nprep: not every problem could be fixed")
    sys.exit(ExitCode.OK if result.ok else ExitCode.FAILED)


def main() -> None:
    run_command(prep, "prep")


if __name__ == "__main__":
    main()
