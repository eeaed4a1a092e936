"""JUnit XML, which CI systems show as test results: a suite per job or file, a case per check.

Failed checks are ``<failure>``, skipped ones ``<skipped>``; a warning passes and carries its
message in ``<system-out>`` (JUnit has no warning state).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..report import Report, Status


def render_run(named: list[tuple[str, Report]], color: bool = False, help_url: str = "") -> str:
    root = ET.Element("testsuites", name="preflight")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for name, report in named:
        counts = report.counts()
        suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(report.checks)),
                              failures=str(counts["fail"]), errors="0", skipped=str(counts["skip"]))
        totals["tests"] += len(report.checks)
        totals["failures"] += counts["fail"]
        totals["skipped"] += counts["skip"]
        for c in report.checks:
            attrs = {"classname": f"{name}.{c.subject}", "name": c.id}
            if c.file:
                attrs["file"] = c.file
            case = ET.SubElement(suite, "testcase", **attrs)
            if c.status is Status.FAIL:
                ET.SubElement(case, "failure", message=c.message, type=c.id).text = c.message
            elif c.status is Status.SKIP:
                ET.SubElement(case, "skipped", message=c.message)
            elif c.status is Status.WARN:
                ET.SubElement(case, "system-out").text = f"warning: {c.message}"
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
