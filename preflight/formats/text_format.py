"""The report for people, grouped by input, failures easy to spot. Three levels of detail:
"quiet" is the verdict line alone; "normal" (the default) the failures and warnings, a line
each, then the cost and the verdict; "verbose" every check, the cost's basis and the notes."""

from __future__ import annotations

from ..report import Report, Status

_STYLE = {
    Status.PASS: ("PASS", "32"),
    Status.WARN: ("WARN", "33"),
    Status.FAIL: ("FAIL", "31;1"),
    Status.SKIP: ("SKIP", "2"),
}
_SHOWN = {"normal": (Status.FAIL, Status.WARN), "verbose": tuple(Status)}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _verdict(report: Report, color: bool) -> str:
    counts = report.counts()
    verdict = _paint("OK", "32;1", color) if report.ok else _paint("FAILED", "31;1", color)
    return (f"{verdict}: {counts['fail']} failed, {counts['warn']} warning{'' if counts['warn'] == 1 else 's'}, "
            f"{counts['pass']} passed, {counts['skip']} skipped")


def render(report: Report, color: bool = False, detail: str = "normal") -> str:
    if detail == "quiet":
        return _verdict(report, color)
    lines = []
    req = report.request
    given = {name: "" if name not in req.defaulted else " (default)" for name in ("orientation", "quality")}
    asked = [f"orientation {req.orientation}{given['orientation']}", f"{req.quality}{given['quality']}"]
    if not report.judges_generation:  # an element's inputs alone
        e = report.element
        asked = [("element" + (f" {e.name!r}" if e.name else "")) + (f" ({e.reference_type})" if e.reference_type else "")]
    lines.append(f"preflight {report.tool_version} · {report.profile} · " + " · ".join(asked)
                 + (" · metadata only" if report.metadata_only else ""))
    shown = [c for c in report.checks if c.status in _SHOWN[detail]]
    width = max((len(c.id) for c in shown), default=10)
    group = None
    for c in shown:
        key = (c.subject, c.file)
        if key != group:
            group = key
            lines.append("")
            lines.append(_paint(f"{c.subject}  {c.file}" if c.file else c.subject, "1", color))
        label, code = _STYLE[c.status]
        lines.append(f"  {_paint(label, code, color)}  {c.id:<{width}}  {c.message}")
    if report.cost:
        cost = report.cost
        bound = "at most " if cost.upper_bound and (cost.credits, cost.usd) != (None, None) else ""
        lines.append("")
        lines.append(f"Cost estimate: {bound}{cost.amount()} for {cost.covers()}")
        if detail == "verbose":
            lines.append(f"  {cost.basis}: {cost.rounding}")
    if detail == "verbose":
        lines += [f"Note: {note}" for note in report.notes]
    lines.append("")
    lines.append(_verdict(report, color))
    return "\n".join(lines)


def render_run(named: list[tuple[str, Report]], color: bool = False, help_url: str = "", detail: str = "normal") -> str:
    if len(named) == 1 and not named[0][0].endswith(".job.toml"):
        return render(named[0][1], color=color, detail=detail)
    failed = [name for name, r in named if not r.ok]
    verdict = _paint("FAILED", "31;1", color) if failed else _paint("OK", "32;1", color)
    total = f"{verdict}: {len(named)} checked, {len(failed)} failed" + (": " + ", ".join(failed) if failed else "")
    if detail == "quiet" and len(named) > 1:
        return total
    parts = []
    for name, report in named:
        title = _paint(f"== {name}", "1", color)
        if detail == "normal" and len(named) > 1 and not any(c.status in _SHOWN["normal"] for c in report.checks):
            parts.append(f"{title}: {_verdict(report, color)}")  # nothing to read in a clean unit: one line
        else:
            parts.append(title + "\n" + render(report, color=color, detail=detail))
    if len(named) > 1:
        parts.append(total)
    return "\n\n".join(parts)
