"""One JSON object per run: the Report's fields as they are (see README for the schema)."""

from __future__ import annotations

import json

from ..report import Report


def render(report: Report, color: bool = False) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
