"""GitHub Actions workflow commands: an annotation per failed or warned check, shown on the file.

    ::error file=media/clip.mp4,title=video.duration::12.4 s is above the 10 s limit
"""

from __future__ import annotations

from ..report import Report, Status


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_run(named: list[tuple[str, Report]], color: bool = False, help_url: str = "") -> str:
    lines = []
    for name, report in named:
        for c in report.checks:
            if c.status not in (Status.FAIL, Status.WARN):
                continue
            level = "error" if c.status is Status.FAIL else "warning"
            where = c.file or name
            lines.append(f"::{level} file={_property(where)},title={_property(c.id)}::{_data(c.message)}")
    failed = sum(1 for _, r in named if not r.ok)
    lines.append(f"preflight: {len(named)} checked, {failed} failed")
    return "\n".join(lines)
