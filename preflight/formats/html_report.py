"""One self-contained HTML page per run: for each job or file its verdicts, the request and the
cost, the prep command that fixes what can be fixed, and for each input the pictures with the
detected pose and a box per person drawn, and (videos) a timeline of what the model will use,
what prep would keep, cuts, people, body visibility and camera motion, with a legend and a time
scale. Inline CSS and SVG only: no script, no external file."""

from __future__ import annotations

import html
import shlex
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
.legend{font-size:12px;color:#444;margin:2px 0 10px} .legend span{margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
.request,.cost{color:#333} pre.fix{background:#f4f4f4;padding:8px;border-radius:4px;white-space:pre-wrap}
"""
# Lane colours, shared by the timeline and its legend.
_LEGEND = (("#bbb", "used by the model"), ("#2a7d2a", "prep keeps"), ("#c00", "cut"), ("#e80", "fade or dissolve"),
           ("#36c", "people counted"), ("#9c9", "body visible"), ("#a3a", "camera motion"))


def _esc(value) -> str:
    return html.escape(printable(str(value), lines=True), quote=True)


def _checks_table(report) -> str:
    """Problems first, in the open; checks that passed or were skipped folded away below them."""
    problems = [c for c in report.checks if c.status in (Status.FAIL, Status.WARN)]
    rest = [c for c in report.checks if c.status not in (Status.FAIL, Status.WARN)]
    out = _rows(problems) if problems else '<p class="no-problems">no check failed or warned</p>'
    return out + f"<details><summary>{len(rest)} passed or skipped</summary>{_rows(rest)}</details>"


def when(times) -> str:
    """Times as people write them: "2 s", "0-2 s", "1.5-3 s and 7 s"; never a Python list."""
    def one(t) -> str:
        if isinstance(t, (list, tuple)):
            return f"{t[0]:g}-{t[1]:g} s" if len(t) == 2 else ", ".join(f"{v:g} s" for v in t)
        return f"{t:g} s"
    items = [one(t) for t in times]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _rows(checks) -> str:
    rows = []
    for c in checks:
        where = f" <small>{_esc(Path(c.file).name)}</small>" if c.file else ""
        times = f" <small>at {_esc(when(c.times))}</small>" if c.times else ""
        rows.append(f'<tr class="check {c.status.value}" data-check="{_esc(c.id)}"><td class="status">'
                    f'{c.status.value.upper()}</td><td>{_esc(c.id)}{where}</td><td>{_esc(c.message)}{times}</td></tr>')
    return '<table class="checks">' + "".join(rows) + "</table>"


def _timeline(item: dict) -> str:
    duration = max(item.get("duration") or 0, 1e-3)

    def x(t: float) -> float:
        return round(min(max(t, 0), duration) / duration * _W, 1)

    lanes = ["use", "cuts", "people", "body", "camera", "problems"]
    height = _LANE * len(lanes) + 20
    parts = [f'<svg class="timeline" width="{_W + 90}" height="{height}" viewBox="-90 0 {_W + 90} {height}" '
             f'role="img" aria-label="timeline of {_esc(Path(item["path"]).name)}">']
    for i, lane in enumerate(lanes):
        parts.append(f'<text x="-85" y="{i * _LANE + 17}">{lane}</text>')
    for s in _ticks(duration):  # the time scale: a faint line each step, across every lane
        parts.append(f'<line class="tick" x1="{x(s)}" x2="{x(s)}" y1="0" y2="{height - 16}" stroke="#e4e4e4"/>'
                     f'<text x="{x(s) - 4}" y="{height - 4}">{s:g} s</text>')
    parts += _window_lane(item, x)
    cut_lane = _LANE
    for t in item.get("cuts", []):
        parts.append(f'<line class="cut" x1="{x(t)}" x2="{x(t)}" y1="{cut_lane + 2}" y2="{cut_lane + _LANE - 2}" '
                     f'stroke="#c00" stroke-width="3"><title>cut at {t:.2f} s</title></line>')
    for t in item.get("fades", []):
        parts.append(f'<rect class="fade" x="{x(t) - 3}" y="{cut_lane + 4}" width="6" height="{_LANE - 8}" fill="#e80">'
                     f'<title>fade at {t:.2f} s</title></rect>')
    for a, b in item.get("dissolves", []):
        parts.append(f'<rect class="dissolve" x="{x(a)}" y="{cut_lane + 4}" width="{max(x(b) - x(a), 2)}" '
                     f'height="{_LANE - 8}" fill="#e80" opacity="0.6"><title>dissolve {a:.2f}-{b:.2f} s</title></rect>')
    people = item.get("people", [])
    if people:
        top = 2 * _LANE
        pts = " ".join(f"{x(t)},{top + _LANE - 3 - min(n, 3) * (_LANE - 6) / 3:.1f}" for t, n in people)
        parts.append(f'<polyline class="people" points="{pts}" fill="none" stroke="#36c" stroke-width="2"/>')
        for t, n in people:
            parts.append(f'<circle class="people-sample" cx="{x(t)}" cy="{top + _LANE - 3 - min(n, 3) * (_LANE - 6) / 3:.1f}"'
                         f' r="3" fill="#36c"><title>{n} at {t:.2f} s</title></circle>')
    body = item.get("body", [])
    step = (body[1][0] - body[0][0]) if len(body) > 1 else 0.2
    for t, seen in body:
        parts.append(f'<rect class="body {"seen" if seen else "unseen"}" x="{x(t)}" y="{3 * _LANE + 4}" '
                     f'width="{max(x(t + step) - x(t), 1)}" height="{_LANE - 8}" fill="{"#9c9" if seen else "#ddd"}"/>')
    camera = [(t, r) for t, r in item.get("camera", []) if r is not None]
    if camera:
        peak = max(max(r for _, r in camera), 0.2)
        pts = " ".join(f"{x(t)},{4 * _LANE + _LANE - 3 - r / peak * (_LANE - 6):.1f}" for t, r in camera)
        parts.append(f'<polyline class="camera" points="{pts}" fill="none" stroke="#a3a" stroke-width="1.5"/>')
    for kind, colour in (("several_spans", "#36c"), ("camera_spans", "#a3a"), ("fast_spans", "#e80")):
        for a, b in item.get(kind, []):
            parts.append(f'<rect class="span {kind}" x="{x(a)}" y="{5 * _LANE + 4}" width="{max(x(b) - x(a), 2)}" '
                         f'height="{_LANE - 8}" fill="{colour}" opacity="0.7"><title>{kind.replace("_", " ")} '
                         f'{a:.2f}-{b:.2f} s</title></rect>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{colour}"></i>{_esc(label)}</span>' for colour, label in _LEGEND)
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _window_lane(item: dict, x) -> list[str]:
    """The top lane: what the model will most likely use (grey) over what prep keeps (green)."""
    parts = []
    if item.get("usable"):
        a, b = item["usable"]
        parts.append(f'<rect class="usable" x="{x(a)}" y="3" width="{max(x(b) - x(a), 2)}" height="{_LANE / 2 - 3}" '
                     f'fill="#bbb"><title>the model will most likely use {a:g}-{b:g} s'
                     f'{" (" + _esc(item["usable_why"]) + " at " + format(b, "g") + " s)" if item.get("usable_why") else ""}'
                     f'</title></rect>')
    if item.get("keep"):
        a, b = item["keep"]
        parts.append(f'<rect class="keep" x="{x(a)}" y="{_LANE / 2 + 1}" width="{max(x(b) - x(a), 2)}" '
                     f'height="{_LANE / 2 - 3}" fill="#2a7d2a"><title>prep keeps {a:g}-{b:g} s: '
                     f'{_esc(item.get("keep_why"))}</title></rect>')
    return parts


def _ticks(duration: float) -> list[float]:
    """About ten round steps across the clip: 0.5, 1, 2, 5, 10 ... seconds apart."""
    step = next(s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600) if duration / s <= 12)
    return [round(i * step, 3) for i in range(int(duration / step + 1e-9) + 1)]


def _input_section(item: dict) -> str:
    name = _esc(item["path"])
    out = [f'<div class="input {item["role"]}" data-path="{name}"><h3>{item["role"]}: {name}</h3>']
    if item.get("note"):
        out.append(f"<p>{_esc(item['note'])}</p>")
    elif item["role"] == "image":
        out.append(f'<figure><img class="frame pose-{"found" if item.get("pose") else "none"}" src="{item["src"]}" '
                   f'alt="{name} with the detected pose" data-boxes="{item.get("boxes", 0)}"><figcaption>'
                   f'{item.get("people")} people (a box for each found), body: {_esc(item.get("body"))}'
                   f'</figcaption></figure>')
    else:
        out.append(_timeline(item))
        out.append('<div class="frames">')
        for frame in item.get("frames", []):
            kind = " at-cut" if frame.get("caption") else ""
            out.append(f'<figure><img class="frame{kind} pose-{"found" if frame["pose"] else "none"}" '
                       f'src="{frame["src"]}" alt="frame at {frame["t"]} s" data-boxes="{frame.get("people", 0)}">'
                       f'<figcaption>{frame["t"]:.2f} s{" " + _esc(frame["caption"]) if frame.get("caption") else ""}'
                       f'{"" if frame["pose"] else " (no pose found)"}</figcaption></figure>')
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _request_line(report) -> str:
    req = report.request
    prompt = f', prompt "{_esc(req.prompt)}"' if req.prompt else ", no prompt"
    sound = "keep sound" if req.keep_sound else "no sound"
    named = [f"element {_esc(i)}" for i in req.element_ids] + ([f"element '{_esc(req.element)}'"] if req.element else [])
    if report.element is not None and report.element.name:
        named.append(f"new element '{_esc(report.element.name)}' ({_esc(report.element.reference_type or '?')})")
    elements = "".join(f", {n}" for n in named)
    return (f'<p class="request">Request: orientation {_esc(req.orientation)}, {_esc(req.quality)}, {sound}'
            f'{elements}{prompt}</p>')


def _cost_line(cost) -> str:
    bound = "at most " if cost.upper_bound else ""
    return f'<p class="cost">Cost estimate: {bound}{_esc(cost.amount())} for {_esc(cost.covers())}</p>'


def prep_command(unit, report) -> str:
    """The prep command line for this job or these files, ready to paste into a shell."""
    if getattr(unit, "job", None):
        return f"prep --job {shlex.quote(unit.job)} -o prepped"
    words = ["prep"]
    for entry in report.inputs:
        if entry.get("role") in ("image", "video"):
            words += [f"--{entry['role']}", shlex.quote(entry["path"])]
    words += ["--orientation", report.request.orientation]
    if not report.request.keep_sound:
        words.append("--no-keep-sound")
    return " ".join([*words, "-o", "prepped"])


def render_page(results) -> str:
    sections = []
    for r in results:
        verdict = '<span class="verdict ok">OK</span>' if r.report.ok else '<span class="verdict failed">FAILED</span>'
        body = [f'<section class="unit" data-name="{_esc(r.unit.name)}"><h2>{verdict} {_esc(r.unit.name)}</h2>',
                _checks_table(r.report)]
        # Videos first: their timelines say the most at a glance.
        for item in sorted((r.visual or {}).get("inputs", []), key=lambda i: i["role"] != "video"):
            body.append(_input_section(item))
        body.insert(1, _request_line(r.report))
        if r.report.cost:
            body.append(_cost_line(r.report.cost))
        if not r.report.ok:
            body.append(f'<p>prep fixes what can be fixed (trims, converts, scales), then checks its outputs:</p>'
                        f'<pre class="fix">{_esc(prep_command(r.unit, r.report))}</pre>')
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
