"""One self-contained HTML page per run: for each job or file its verdicts, and for each input
the pictures with the detected pose drawn and (videos) a timeline of cuts, people count, body
visibility and camera motion. Inline CSS and SVG only: no script, no external file."""

from __future__ import annotations

import html
from pathlib import Path

from .. import __version__
from ..atomic import write_text_atomic
from ..report import Status
from .printable import printable

_W, _LANE = 800, 26
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px} h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ccc}
.verdict{font-weight:bold;padding:2px 8px;border-radius:4px;color:#fff}
.ok{background:#2a7d2a} .failed{background:#b22}
table.checks{border-collapse:collapse;margin:8px 0;width:100%}
table.checks td{padding:3px 8px;border-top:1px solid #eee;vertical-align:top}
tr.fail td.status{color:#b22;font-weight:bold} tr.warn td.status{color:#b60;font-weight:bold}
tr.pass td.status{color:#2a7d2a} tr.skip td{color:#888}
.frames{display:flex;flex-wrap:wrap;gap:8px} figure{margin:0} figcaption{font-size:12px;color:#555}
img.frame{border:1px solid #ccc;max-width:240px} details{margin:4px 0 12px} summary{cursor:pointer;color:#555}
svg.timeline{background:#fafafa;border:1px solid #ddd}
svg text{font-size:11px;fill:#444}
"""


def _esc(value) -> str:
    return html.escape(printable(str(value), lines=True), quote=True)


def _checks_table(report) -> str:
    """Problems first, in the open; checks that passed or were skipped folded away below them."""
    problems = [c for c in report.checks if c.status in (Status.FAIL, Status.WARN)]
    rest = [c for c in report.checks if c.status not in (Status.FAIL, Status.WARN)]
    out = _rows(problems) if problems else '<p class="no-problems">no check failed or warned</p>'
    return out + f"<details><summary>{len(rest)} passed or skipped</summary>{_rows(rest)}</details>"


def _rows(checks) -> str:
    rows = []
    for c in checks:
        where = f" <small>{_esc(Path(c.file).name)}</small>" if c.file else ""
        times = f" <small>at {_esc(c.times)}</small>" if c.times else ""
        rows.append(f'<tr class="check {c.status.value}" data-check="{_esc(c.id)}"><td class="status">'
                    f'{c.status.value.upper()}</td><td>{_esc(c.id)}{where}</td><td>{_esc(c.message)}{times}</td></tr>')
    return '<table class="checks">' + "".join(rows) + "</table>"


def _timeline(item: dict) -> str:
    duration = max(item.get("duration") or 0, 1e-3)

    def x(t: float) -> float:
        return round(min(max(t, 0), duration) / duration * _W, 1)

    lanes = ["cuts", "people", "body", "camera", "problems"]
    height = _LANE * len(lanes) + 20
    parts = [f'<svg class="timeline" width="{_W + 90}" height="{height}" viewBox="-90 0 {_W + 90} {height}" '
             f'role="img" aria-label="timeline of {_esc(Path(item["path"]).name)}">']
    for i, lane in enumerate(lanes):
        parts.append(f'<text x="-85" y="{i * _LANE + 17}">{lane}</text>')
    for t in item.get("cuts", []):
        parts.append(f'<line class="cut" x1="{x(t)}" x2="{x(t)}" y1="2" y2="{_LANE - 2}" stroke="#c00" stroke-width="3">'
                     f'<title>cut at {t:.2f} s</title></line>')
    for t in item.get("fades", []):
        parts.append(f'<rect class="fade" x="{x(t) - 3}" y="4" width="6" height="{_LANE - 8}" fill="#e80">'
                     f'<title>fade at {t:.2f} s</title></rect>')
    for a, b in item.get("dissolves", []):
        parts.append(f'<rect class="dissolve" x="{x(a)}" y="4" width="{max(x(b) - x(a), 2)}" height="{_LANE - 8}" '
                     f'fill="#e80" opacity="0.6"><title>dissolve {a:.2f}-{b:.2f} s</title></rect>')
    people = item.get("people", [])
    if people:
        top = _LANE
        pts = " ".join(f"{x(t)},{top + _LANE - 3 - min(n, 3) * (_LANE - 6) / 3:.1f}" for t, n in people)
        parts.append(f'<polyline class="people" points="{pts}" fill="none" stroke="#36c" stroke-width="2"/>')
        for t, n in people:
            parts.append(f'<circle class="people-sample" cx="{x(t)}" cy="{top + _LANE - 3 - min(n, 3) * (_LANE - 6) / 3:.1f}"'
                         f' r="3" fill="#36c"><title>{n} at {t:.2f} s</title></circle>')
    body = item.get("body", [])
    step = (body[1][0] - body[0][0]) if len(body) > 1 else 0.2
    for t, seen in body:
        parts.append(f'<rect class="body {"seen" if seen else "unseen"}" x="{x(t)}" y="{2 * _LANE + 4}" '
                     f'width="{max(x(t + step) - x(t), 1)}" height="{_LANE - 8}" fill="{"#2a7d2a" if seen else "#ddd"}"/>')
    camera = [(t, r) for t, r in item.get("camera", []) if r is not None]
    if camera:
        peak = max(max(r for _, r in camera), 0.2)
        pts = " ".join(f"{x(t)},{3 * _LANE + _LANE - 3 - r / peak * (_LANE - 6):.1f}" for t, r in camera)
        parts.append(f'<polyline class="camera" points="{pts}" fill="none" stroke="#a3a" stroke-width="1.5"/>')
    for kind, colour in (("several_spans", "#36c"), ("camera_spans", "#a3a"), ("fast_spans", "#e80")):
        for a, b in item.get(kind, []):
            parts.append(f'<rect class="span {kind}" x="{x(a)}" y="{4 * _LANE + 4}" width="{max(x(b) - x(a), 2)}" '
                         f'height="{_LANE - 8}" fill="{colour}" opacity="0.7"><title>{kind.replace("_", " ")} '
                         f'{a:.2f}-{b:.2f} s</title></rect>')
    for s in range(0, int(duration) + 1, max(1, int(duration // 10) or 1)):
        parts.append(f'<text x="{x(s)}" y="{height - 4}">{s}s</text>')
    parts.append("</svg>")
    return "".join(parts)


def _input_section(item: dict) -> str:
    name = _esc(item["path"])
    out = [f'<div class="input {item["role"]}" data-path="{name}"><h3>{item["role"]}: {name}</h3>']
    if item.get("note"):
        out.append(f"<p>{_esc(item['note'])}</p>")
    elif item["role"] == "image":
        out.append(f'<figure><img class="frame pose-{"found" if item.get("pose") else "none"}" src="{item["src"]}" '
                   f'alt="{name} with the detected pose"><figcaption>{item.get("people")} people, body: '
                   f'{_esc(item.get("body"))}</figcaption></figure>')
    else:
        out.append(_timeline(item))
        out.append('<div class="frames">')
        for frame in item.get("frames", []):
            out.append(f'<figure><img class="frame pose-{"found" if frame["pose"] else "none"}" src="{frame["src"]}" '
                       f'alt="frame at {frame["t"]} s"><figcaption>{frame["t"]:.2f} s'
                       f'{"" if frame["pose"] else " (no pose found)"}</figcaption></figure>')
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def render_page(results) -> str:
    sections = []
    for r in results:
        verdict = '<span class="verdict ok">OK</span>' if r.report.ok else '<span class="verdict failed">FAILED</span>'
        body = [f'<section class="unit" data-name="{_esc(r.unit.name)}"><h2>{verdict} {_esc(r.unit.name)}</h2>',
                _checks_table(r.report)]
        # Videos first: their timelines say the most at a glance.
        for item in sorted((r.visual or {}).get("inputs", []), key=lambda i: i["role"] != "video"):
            body.append(_input_section(item))
        if r.report.cost:
            body.append(f'<p class="cost">Cost estimate: {r.report.cost.credits:g} credits for '
                        f'{r.report.cost.billed_seconds} s at {_esc(r.report.cost.quality)}</p>')
        body.append("</section>")
        sections.append("".join(body))
    failed = sum(1 for r in results if not r.report.ok)
    counts = {s: sum(c.status is s for r in results for c in r.report.checks) for s in Status}
    summary = (f'<p class="summary">{len(results)} checked, {failed} failed; checks: '
               + ", ".join(f"{n} {s.value}" for s, n in counts.items()) + "</p>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>preflight report</title>"
            f"<style>{_CSS}</style></head><body><h1>preflight {__version__} report</h1>{summary}"
            + "".join(sections) + "</body></html>")


def write_report(results, path: str | Path) -> None:
    write_text_atomic(path, render_page(results))
