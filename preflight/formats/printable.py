"""File names as every output format can carry them.

A name on Linux is bytes: it may hold control characters (a newline, an escape sequence that
repaints a terminal) and bytes that are not UTF-8, which Python carries as lone surrogates.
Written as they are, the first break JUnit XML (XML 1.0 forbids them) and line-based output,
and the second make JSON, SARIF and XML that strict parsers refuse. Every string a report
shows passes through ``printable`` first: such characters are written as ``\\xNN`` (a byte
that is not UTF-8, or a control character) or ``\\uNNNN`` (any other lone surrogate), so the
output stays well-formed and the name stays recognisable.
"""

from __future__ import annotations

import dataclasses
import re

from ..report import Report

# C0 controls, DEL, C1 controls and lone surrogates; in messages a newline and a tab may stay.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_KEEP_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode carries it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str | None, *, lines: bool = False) -> str | None:
    """``text`` with control characters and undecodable bytes written as escapes (newlines and
    tabs kept when ``lines``)."""
    if text is None:
        return None
    return (_UNSAFE_KEEP_LINES if lines else _UNSAFE).sub(_escape, text)


def _clean(value):
    if isinstance(value, str):
        return printable(value, lines=True)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clean(v) for v in value)
    return value


def printable_report(report: Report) -> Report:
    """A copy of ``report`` whose every shown string is ``printable``."""
    checks = [dataclasses.replace(c, message=printable(c.message, lines=True), file=printable(c.file),
                                  measured=_clean(c.measured), limit=_clean(c.limit)) for c in report.checks]
    return dataclasses.replace(report, checks=checks, notes=[printable(n, lines=True) for n in report.notes],
                               inputs=_clean(report.inputs), request=type(report.request).from_dict(_clean(report.request.to_dict())))
