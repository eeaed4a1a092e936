"""The one report model every output format renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .request import ElementRequest, ResolvedRequest


class Status(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class ExitCode:
    """Exit codes scripts can rely on."""

    OK = 0  # no check failed (warnings allowed unless --strict)
    FAILED = 1  # a check failed, or warned under --strict
    USAGE = 2  # the command line was wrong
    INTERNAL = 3  # a bug in this tool; the message says how to get a traceback
    INTERRUPTED = 130


@dataclass
class Check:
    id: str
    subject: str  # "image", "video", "request" (later: "pair")
    status: Status
    message: str
    measured: Any = None
    limit: Any = None
    file: str | None = None
    times: list[Any] = field(default_factory=list)
    # The profile entries behind this verdict that no primary source confirms (a failure on
    # them was turned into a warning).
    unconfirmed: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, check_id: str, subject: str, finding, file: str | None = None) -> "Check":
        """The report's record of a check's ``Finding``."""
        return cls(check_id, subject, finding.status, finding.message, finding.measured, finding.limit, file,
                   finding.times, list(finding.unconfirmed))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "status": self.status.value,
            "message": self.message,
        }
        if self.file is not None:
            out["file"] = self.file
        if self.measured is not None:
            out["measured"] = self.measured
        if self.limit is not None:
            out["limit"] = self.limit
        if self.times:
            out["times"] = self.times
        if self.unconfirmed:
            out["unconfirmed"] = self.unconfirmed
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Check":
        return cls(d["id"], d["subject"], Status(d["status"]), d["message"], d.get("measured"), d.get("limit"),
                   d.get("file"), list(d.get("times", [])), list(d.get("unconfirmed", [])))


@dataclass
class CostEstimate:
    quality: str
    billed_seconds: int
    credits: float | None  # None: the host bills in dollars
    usd: float | None  # None: the host publishes no price for this quality
    basis: str  # how the billed seconds were derived, in words
    rounding: str  # which rounding rule was applied, and why
    upper_bound: bool = False  # no video given: the orientation's maximum was assumed
    usd_alternatives: dict[str, float] = field(default_factory=dict)
    elements: int = 0  # custom elements created on the way, billed per call
    price_confirmed: bool = True  # False: the price per second is UNCONFIRMED (or unknown)

    def covers(self) -> str:
        """What the estimate pays for, in words: "5 s at 720p", "creating one element", or both."""
        parts = [f"{self.billed_seconds} s at {self.quality}"] if self.billed_seconds else []
        if self.elements:
            parts.append("creating one element" if self.elements == 1 else f"creating {self.elements} elements")
        return " and ".join(parts)

    def amount(self) -> str:
        """The price in words: credits with their dollar conversions, or dollars alone for a host
        that bills in dollars, marked when unconfirmed; "price unknown" when none is published."""
        if self.credits is not None:
            alternatives = ", ".join(f"USD {v:.2f} {k}" for k, v in self.usd_alternatives.items())
            return f"{self.credits:.2f} credits ({alternatives})" if alternatives else f"{self.credits:.2f} credits"
        if self.usd is None:
            return "price unknown (none published)"
        return f"USD {self.usd:.2f}" + ("" if self.price_confirmed else " (price UNCONFIRMED)")

    def to_dict(self) -> dict[str, Any]:
        extra = {"elements": self.elements} if self.elements else {}
        if not self.price_confirmed:
            extra["price_confirmed"] = False
        return {
            "quality": self.quality,
            "billed_seconds": self.billed_seconds,
            "credits": self.credits,
            "usd": self.usd,
            "usd_alternatives": self.usd_alternatives,
            "basis": self.basis,
            "rounding": self.rounding,
            "upper_bound": self.upper_bound,
            **extra,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CostEstimate":
        return cls(d["quality"], d["billed_seconds"], d["credits"], d["usd"], d["basis"], d["rounding"],
                   d.get("upper_bound", False), dict(d.get("usd_alternatives", {})), d.get("elements", 0),
                   d.get("price_confirmed", True))


@dataclass
class Report:
    profile: str
    tool_version: str
    metadata_only: bool
    request: ResolvedRequest  # with the profile's defaults applied
    inputs: list[dict[str, Any]]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cost: CostEstimate | None = None
    element: ElementRequest | None = None  # a custom element to create, when its inputs were checked
    # For other tools (prep chooses its window from these): the content analysis and the probe
    # facts by file path. Library only, not part of the JSON report.
    analysis: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    facts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def judges_generation(self) -> bool:
        """Whether the generation's request was judged (not only a custom element's inputs)."""
        return self.element is None or any(c.subject == "request" for c in self.checks)

    @property
    def ok(self) -> bool:
        return not any(c.status is Status.FAIL for c in self.checks)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for c in self.checks:
            counts[c.status.value] += 1
        return counts

    def get(self, check_id: str, file: str | None = None) -> Check | None:
        """The first check with this id (and file, when given)."""
        for c in self.checks:
            if c.id == check_id and (file is None or c.file == file):
                return c
        return None

    def exit_code(self, strict: bool = False) -> int:
        if not self.ok:
            return ExitCode.FAILED
        if strict and any(c.status is Status.WARN for c in self.checks):
            return ExitCode.FAILED
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tool": {"name": "preflight", "version": self.tool_version},
            "profile": self.profile,
            "metadata_only": self.metadata_only,
            "request": self.request.to_dict(),
            "inputs": self.inputs,
            "summary": self.counts(),
            "checks": [c.to_dict() for c in self.checks],
            "cost": self.cost.to_dict() if self.cost else None,
            "notes": self.notes,
            **({"element": self.element.to_dict()} if self.element else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Report":
        """The report back from its JSON (as cached); ``analysis`` and ``facts`` are not kept."""
        return cls(
            profile=d["profile"],
            tool_version=d["tool"]["version"],
            metadata_only=d["metadata_only"],
            request=ResolvedRequest.from_dict(d["request"]),
            inputs=d["inputs"],
            checks=[Check.from_dict(c) for c in d["checks"]],
            notes=list(d.get("notes", [])),
            cost=CostEstimate.from_dict(d["cost"]) if d.get("cost") else None,
            element=ElementRequest.from_dict(d["element"]) if d.get("element") else None,
        )
