"""The ``preflight`` command. Exit codes: 0 ok, 1 a check failed (or warned under --strict),
2 usage error, 3 internal error, 130 interrupted."""

from __future__ import annotations

import os
import sys

import click

from . import __version__
from .formats import FORMATS
from .progress import analysis_progress, terminal_progress, worth_a_bar
from .command import profile_choice, run_command
from .report import ExitCode
from .profile import DEFAULT_PROFILE, ProfileError
from .request import Request

_EPILOG = """\b
Examples:
  preflight --image me.jpg --video dance.mp4 --orientation video
  preflight --video dance.mp4 --format json --metadata-only
  preflight clip1.mp4 clip2.mov photo.png      # each file on its own
  preflight jobs/*.job.toml --jobs 4 --format junit > preflight.xml
  preflight jobs/*.job.toml --report report.html
  preflight --element-video ann.mp4 --element-name Ann --element-description "Ann, red jacket"
  preflight --image me.jpg --video dance.mp4 --orientation video --provider all

\b
Configuration: [tool.preflight] in pyproject.toml or a preflight.toml, found from the
working directory upwards (see docs/pipelines.md); options given here win.

\b
Exit codes: 0 no check failed, 1 a check failed (or warned with --strict),
2 usage error, 3 internal error. With --provider all: 0 when at least one
host takes the inputs, 1 when none does.
"""


@click.command(epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("files", nargs=-1, metavar="[FILE|JOB.job.toml]...")
@click.option("--image", metavar="PATH", help="Character image (JPG or PNG).")
@click.option("--video", metavar="PATH", help="Reference motion video (MP4 or MOV).")
@click.option("--orientation", metavar="image|video",
              help="character_orientation. Default: image, the stricter 10 s limit.")
@click.option("--quality", metavar="720p|1080p", help="Output quality. Default: 720p.")
@click.option("--prompt", metavar="TEXT", help="Optional prompt (at most 2500 characters).")
@click.option("--keep-sound/--no-keep-sound", default=None, help="Keep the reference video's audio. Default: keep.")
@click.option("--element-id", "element_ids", multiple=True, metavar="ID",
              help="element_list entry (a video_refer element); requires --orientation video.")
@click.option("--element", "stored_element", metavar="NAME",
              help="A stored custom element by name (submit looks its id up); requires --orientation video.")
@click.option("--callback-url", metavar="URL", help="HTTPS URL the service calls when the task ends.")
@click.option("--watermark/--no-watermark", default=None,
              help="model_params.watermark_info. Default: not sent (the service decides).")
@click.option("--element-video", metavar="PATH", help="A custom element's source video (video_refer, at most 8 s).")
@click.option("--element-image", metavar="PATH", help="A custom element's frontal picture (image_refer).")
@click.option("--element-ref", "element_refs", multiple=True, metavar="PATH",
              help="A reference picture beside --element-image (1-3 of them).")
@click.option("--element-name", "new_element_name", metavar="TEXT", help="The new element's name (at most 20 characters).")
@click.option("--element-description", "new_element_description", metavar="TEXT", help="The new element's description (at most 100 characters).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Report format.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--facts", "facts_only", is_flag=True,
              help="Judge nothing: print each file's measured facts as JSON (the size as shown, rotation, frame "
                   "rate, every duration reading).")
@click.option("--clear-cache", is_flag=True, help="Remove every cached result (in --cache-dir or the default) and exit.")
@click.option("--verbose", "-v", "detail", flag_value="verbose",
              help="Text: every check, passes and skips too, the cost's basis and the notes.")
@click.option("--quiet", "-q", "detail", flag_value="quiet", help="Text: the verdict line alone.")
@click.option("--metadata-only", is_flag=True, default=None,
              help="Only the documented limits: no decoding, no content analysis.")
@click.option("--profile", "profile_name", default=None, metavar="NAME|PATH",
              help=f"Constraint profile: a bundled name or a TOML file. Default: {DEFAULT_PROFILE}.")
@click.option("--provider", "provider_name", default=None, metavar="NAME|all",
              help="Judge against one host's limits and price (evolink, kling, fal), or `all`: a table of every "
                   "host, whether the inputs fit and what it would charge, cheapest first.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Parallel workers for several jobs or files. Default: the core count.")
@click.option("--no-cache", is_flag=True, help="Check everything again instead of reusing results for unchanged files.")
@click.option("--cache-dir", metavar="DIR", help="Where results are cached (or PREFLIGHT_CACHE_DIR).")
@click.option("--config", "config_path", metavar="PATH", help="Configuration file (default: the nearest one found).")
@click.option("--report", "html_report", metavar="PATH.html",
              help="Also write a self-contained HTML page: timelines, frames with the pose drawn, verdicts.")
@click.option("--timeout", "unit_timeout", type=click.FloatRange(min=0), default=600, show_default=True,
              metavar="SECONDS", help="Give up on a job or file after this long (0: no bound); it fails as run.timeout.")
@click.option("--with-jobs", is_flag=True,
              help="Check a media file that a job file in its folder or above uses (one git tracks, inside a repository) as part of that job.")
@click.version_option(__version__, prog_name="preflight")
def preflight(files, image, video, orientation, quality, prompt, keep_sound, element_ids, stored_element, callback_url,
              watermark, element_video, element_image, element_refs, new_element_name, new_element_description, fmt,
              strict, facts_only, clear_cache, detail, metadata_only, profile_name, provider_name, jobs, no_cache,
              cache_dir, config_path, html_report, with_jobs, unit_timeout):
    """Check a character image and a reference video before paying for a generation.

    With --image and/or --video, the pair is checked together with the request options.
    With bare FILE arguments, each file is checked on its own (image or video by content);
    a JOB.job.toml argument checks the whole job it describes. --element-* check a custom
    element's media (docs/elements.md), alone or with the pair.
    """
    if clear_cache:
        return _clear_cache(cache_dir, config_path)
    element = _element(element_video, element_image, element_refs, new_element_name, new_element_description)
    if files and (image or video or element):
        raise click.UsageError("give either --image/--video (and --element-*) or bare FILE arguments, not both")
    if facts_only:
        return _print_facts([*files, *(p for p in (image, video) if p is not None)])
    if not files and image is None and video is None and element is None:
        raise click.UsageError("nothing to check: give --image, --video, --element-video, --element-image or FILE "
                               "arguments")
    if provider_name and profile_name:
        raise click.UsageError("give --provider or --profile, not both (a provider is a bundled profile)")
    if provider_name and provider_name != "all":
        profile_name = _provider_profile(provider_name)
    config, profile = _configuration(config_path, profile_name)
    if html_report and metadata_only:
        raise click.UsageError("--report shows the content analysis, which --metadata-only skips")
    metadata_only = config.metadata_only if metadata_only is None else metadata_only
    given = Request(  # what the command line says; it wins over job files and the configuration
        orientation=profile_choice(profile, "request.orientations", orientation, "--orientation"),
        quality=profile_choice(profile, "request.qualities", quality, "--quality"),
        prompt=prompt, keep_sound=keep_sound, element_ids=tuple(element_ids), callback_url=callback_url,
        watermark=watermark, element=stored_element)
    defaults = Request(written_in="config",
                       orientation=profile_choice(profile, "request.orientations", config.orientation, "orientation"),
                       quality=profile_choice(profile, "request.qualities", config.quality, "quality"))

    if provider_name == "all":
        if files or element or html_report:
            raise click.UsageError("--provider all compares hosts on one --image/--video pair (no bare files, "
                                   "--element-* or --report)")
        if fmt not in ("text", "json"):
            raise click.UsageError("--provider all prints a table (--format text) or JSON (--format json)")
        return _compare_providers(image, video, given.filled_from(defaults), metadata_only or False, fmt)

    from . import batch
    from .cache import Cache
    from .formats import render_results

    units = _units(files, image, video, given, defaults, config, profile, with_jobs, element)
    use_cache = config.cache and not no_cache
    cache = Cache(cache_dir or config.cache_dir) if use_cache else None
    with terminal_progress(fmt == "text") as progress:  # bars on a terminal only
        results = batch.run(units, profile=profile, config=config, metadata_only=metadata_only,
                            jobs=jobs or config.jobs, cache=cache, visual=bool(html_report),
                            progress=analysis_progress(progress), timeout=unit_timeout or None,
                            on_unit_done=lambda done, total: progress("units", "checked", done, total)
                            if worth_a_bar("jobs", total) else None)
    color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(render_results(results, fmt, color=color, help_url=profile.help_url, detail=detail or "normal"))
    if cache is not None and cache.problem:
        click.echo(f"warning: {cache.problem}", err=True)
    if html_report:
        _write_html(results, html_report)
    sys.exit(max(r.report.exit_code(strict) for r in results))


def _provider_profile(name: str) -> str:
    """The profile id of host ``name``, or a usage error naming the known hosts."""
    from .providers import profile_for_host

    try:
        return profile_for_host(name).id
    except ProfileError as exc:
        raise click.BadParameter(str(exc), param_hint="--provider") from None


def _compare_providers(image, video, request: Request, metadata_only: bool, fmt: str) -> None:
    """``--provider all``: every host's verdict and price, cheapest first; exit 0 when one fits."""
    import json

    from .providers import check_providers, render_table

    with terminal_progress(fmt == "text") as progress:
        verdicts = check_providers(image, video, request=request, metadata_only=metadata_only,
                                   progress=analysis_progress(progress))
    fitting = [v for v in verdicts if v.fits]
    if fmt == "json":
        click.echo(json.dumps({"ok": bool(fitting), "cheapest_fitting": fitting[0].host if fitting else None,
                               "providers": [v.to_dict() for v in verdicts]}, indent=2, default=str))
    else:
        click.echo(render_table(verdicts, color=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
    sys.exit(ExitCode.OK if fitting else ExitCode.FAILED)


def _configuration(config_path: str | None, profile_name: str | None):
    """The configuration found (or named) and the profile it, or --profile, chooses."""
    from .config import ConfigError, load_config

    try:
        config = load_config(config_path)
        return config, config.load_profile(profile_name)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    except ProfileError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None


def _print_facts(paths: list[str]) -> None:
    """``--facts``: one JSON object, ``{"files": [...]}``; exit 1 when a file cannot be read."""
    import json

    from .probe import probe_file

    if not paths:
        raise click.UsageError("--facts needs a FILE (or --image/--video)")
    facts = [probe_file(path) for path in paths]
    click.echo(json.dumps({"files": [f.to_dict() for f in facts]}, indent=2, default=str))  # JSON escapes any control character
    sys.exit(ExitCode.FAILED if any(f.problem for f in facts) else ExitCode.OK)


def _clear_cache(cache_dir: str | None, config_path: str | None) -> None:
    from .cache import Cache
    from .config import ConfigError, load_config

    try:
        root = cache_dir or load_config(config_path).cache_dir
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    cache = Cache(root)
    removed, freed = cache.clear()
    click.echo(f"{cache.root}: {removed} cached file{'' if removed == 1 else 's'} removed, {freed / 1e6:.1f} MB freed")
    sys.exit(ExitCode.OK)


def _write_html(results, path: str) -> None:
    from .atomic import write_problem
    from .formats.html_report import write_report

    try:
        write_report(results, path)
    except OSError as exc:
        click.echo(f"preflight: --report {path}: cannot be written ({write_problem(exc)})", err=True)
        sys.exit(ExitCode.USAGE)


def _element(video, image, refs, name, description):
    """The custom element the --element-* options describe, or None."""
    from .request import ElementRequest

    if not (video or image or refs):
        if name or description:
            raise click.UsageError("--element-name and --element-description go with --element-video, or with "
                                   "--element-image and --element-ref")
        return None
    if refs and not image:
        raise click.UsageError("--element-ref pictures go beside a frontal --element-image")
    return ElementRequest(name, description, video, image, tuple(refs))


def _units(files, image, video, given: Request, defaults: Request, config, profile, with_jobs: bool,
           element=None) -> list:
    """What gets one report each: the --image/--video pair (with a custom element's inputs), or
    each bare file or job file (a media file that a job file uses stands for that job with
    --with-jobs)."""
    from . import batch
    from .job import is_job_file

    request = given.filled_from(defaults)
    if not files:
        named = [p for p in (image, video) if p] + [p for p, _ in (element.media() if element else [])]
        return [batch.Unit(name=" + ".join(named), request=request, image=image, video=video, element=element)]
    named: list[str] = []
    known = batch.git_files() if with_jobs else None
    for f in files:
        using = (batch.jobs_using(f, known=known, allow_outside=config.allow_media_outside_job)
                 if with_jobs and not is_job_file(f) else [])
        named.extend(j for j in (using or [f]) if j not in named)
    return [batch.job_unit(f, defaults, given, allow_outside=config.allow_media_outside_job, profile=profile)
            if is_job_file(f) else batch.Unit(name=f, request=request, files=(f,)) for f in named]


def main() -> None:
    run_command(preflight, "preflight")


if __name__ == "__main__":
    main()
