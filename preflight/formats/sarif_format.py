"""SARIF 2.1.0, for code-scanning dashboards: a rule per check id, a result per failed or
warned check, located at the file it concerns (or the job file)."""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from ..report import Report, Status

_LEVEL = {Status.FAIL: "error", Status.WARN: "warning"}


def _uri(path: str) -> str:
    if path.lower().startswith(("http://", "https://")):
        return path
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.resolve().as_uri()


def render_run(named: list[tuple[str, Report]], color: bool = False, help_url: str = "") -> str:
    """``help_url``: the profile's page for the model, linked from every rule."""
    rules: dict[str, dict] = {}
    results = []
    for name, report in named:
        for c in report.checks:
            rule = {"id": c.id, "name": c.id.replace(".", "_"),
                    "shortDescription": {"text": f"{c.subject}: {c.id.split('.', 1)[-1].replace('_', ' ')}"}}
            if help_url:
                rule["helpUri"] = help_url
            rules.setdefault(c.id, rule)
            if c.status not in _LEVEL:
                continue
            result = {"ruleId": c.id, "level": _LEVEL[c.status], "message": {"text": c.message}}
            where = c.file or (name if Path(name).exists() else None)
            if where:
                result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": _uri(where)}}}]
            results.append(result)
    ids = list(rules)
    for result in results:
        result["ruleIndex"] = ids.index(result["ruleId"])
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "preflight", "version": __version__, "semanticVersion": __version__,
                                "rules": list(rules.values())}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
