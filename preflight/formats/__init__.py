"""Output formats: each renders the same reports, one per job or file, to a string.

``render(report, fmt)`` renders one report; ``render_results(results, fmt)`` a run of several
(``preflight.batch.Result``: a unit's name and its report). One report in JSON is the report
object itself; several are ``{"ok", "summary", "reports": [...]}``.
"""

from __future__ import annotations

from ..report import Report
from . import github_format, json_format, junit_format, sarif_format, text_format
from .printable import printable, printable_report

# Formats that render a whole run at once (they take [(name, report), ...]).
_RUN_FORMATS = {
    "text": text_format.render_run,
    "json": json_format.render_run,
    "jsonl": json_format.render_lines,
    "junit": junit_format.render_run,
    "github": github_format.render_run,
    "sarif": sarif_format.render_run,
}
FORMATS = tuple(_RUN_FORMATS)


def render(report: Report, fmt: str, color: bool = False, name: str | None = None, help_url: str = "",
           detail: str = "normal") -> str:
    return _render([(name or _default_name(report), report)], fmt, color, help_url, detail)


def render_results(results, fmt: str, color: bool = False, help_url: str = "", detail: str = "normal") -> str:
    """``help_url``: the profile's page for the model (SARIF links its rules to it). ``detail``:
    how much the text format shows ("quiet", "normal" or "verbose"); the formats for programs show all."""
    return _render([(r.unit.name, r.report) for r in results], fmt, color, help_url, detail)


def _render(named: list[tuple[str, Report]], fmt: str, color: bool, help_url: str, detail: str) -> str:
    # Names and messages made printable first: no format can then be broken by a file name.
    clean = [(printable(name), printable_report(report)) for name, report in named]
    if fmt == "text":
        return text_format.render_run(clean, color=color, detail=detail)
    return _RUN_FORMATS[fmt](clean, color=color, help_url=help_url)


def _default_name(report: Report) -> str:
    return " + ".join(i["path"] for i in report.inputs) or "request"
