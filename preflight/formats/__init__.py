"""Output formats: each renders the same Report to a string."""

from __future__ import annotations

from ..report import Report
from . import json_format, text_format

FORMATS = {
    "text": text_format.render,
    "json": json_format.render,
}


def render(report: Report, fmt: str, color: bool = False) -> str:
    return FORMATS[fmt](report, color=color)
