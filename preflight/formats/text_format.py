"""The report for people: one line a check, grouped by input, failures easy to spot."""

from __future__ import annotations

from ..report import Report, Status

_STYLE = {
    Status.PASS: ("PASS", "32"),
    Status.WARN: ("WARN", "33"),
    Status.FAIL: ("FAIL", "31;1"),
    Status.SKIP: ("SKIP", "2"),
}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def render(report: Report, color: bool = False) -> str:
    lines = []
    req = report.request
    lines.append(
        f"preflight {report.tool_version} · {report.profile} · orientation {req.orientation} · "
        f"{req.quality}" + (" · metadata only" if report.metadata_only else "")
    )
    width = max((len(c.id) for c in report.checks), default=10)
    group = None
    for c in report.checks:
        key = (c.subject, c.file)
        if key != group:
            group = key
            lines.append("")
            lines.append(_paint(f"{c.subject}  {c.file}" if c.file else c.subject, "1", color))
        label, code = _STYLE[c.status]
        lines.append(f"  {_paint(label, code, color)}  {c.id:<{width}}  {c.message}")
    if report.cost:
        cost = report.cost
        bound = "at most " if cost.upper_bound else ""
        alternatives = ", ".join(f"USD {v:.2f} {k}" for k, v in cost.usd_alternatives.items())
        lines.append("")
        lines.append(
            f"Cost estimate: {bound}{cost.credits:.2f} credits ({alternatives}) "
            f"for {cost.billed_seconds} s at {cost.quality}"
        )
        lines.append(f"  {cost.basis}: {cost.rounding}")
    for note in report.notes:
        lines.append(f"Note: {note}")
    counts = report.counts()
    verdict = _paint("OK", "32;1", color) if report.ok else _paint("FAILED", "31;1", color)
    lines.append("")
    lines.append(
        f"{verdict}: {counts['fail']} failed, {counts['warn']} warning{'' if counts['warn'] == 1 else 's'}, "
        f"{counts['pass']} passed, {counts['skip']} skipped"
    )
    return "\n".join(lines)


def render_run(named: list[tuple[str, Report]], color: bool = False, help_url: str = "") -> str:
    if len(named) == 1 and not named[0][0].endswith(".job.toml"):
        return render(named[0][1], color=color)
    parts = [_paint(f"== {name}", "1", color) + "\n" + render(report, color=color) for name, report in named]
    if len(named) == 1:
        return parts[0]
    failed = [name for name, r in named if not r.ok]
    verdict = _paint("FAILED", "31;1", color) if failed else _paint("OK", "32;1", color)
    parts.append(f"{verdict}: {len(named)} checked, {len(failed)} failed" + (": " + ", ".join(failed) if failed else ""))
    return "\n\n".join(parts)
