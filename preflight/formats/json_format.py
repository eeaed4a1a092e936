"""JSON: one object for one report, or one object holding them all; JSON Lines: one a line."""

from __future__ import annotations

import json

from ..report import Report


def render_run(named: list[tuple[str, Report]], color: bool = False, help_url: str = "") -> str:
    if len(named) == 1:
        return json.dumps(named[0][1].to_dict(), indent=2, ensure_ascii=False)
    failed = sum(1 for _, r in named if not r.ok)
    return json.dumps({
        "ok": failed == 0,
        "summary": {"reports": len(named), "failed": failed},
        "reports": [{"name": name, **r.to_dict()} for name, r in named],
    }, indent=2, ensure_ascii=False)


def render_lines(named: list[tuple[str, Report]], color: bool = False, help_url: str = "") -> str:
    return "\n".join(json.dumps({"name": name, **r.to_dict()}, ensure_ascii=False) for name, r in named)
