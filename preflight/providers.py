"""One model, several hosts: each host's profile, the inputs judged against each, and the price
each would charge, cheapest first (``preflight --provider all``, ``check_providers()``).

A host is a bundled profile whose ``[profile]`` names a ``host`` and the model ``family`` it
serves; adding a host is adding such a file (docs/providers.md says how).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Callable

from .profile import DEFAULT_PROFILE, PROFILE_DIR, Profile, ProfileError, load_profile
from .report import Report, Status
from .request import Request


def host_profiles(family: str | None = None) -> list[Profile]:
    """Every bundled profile serving ``family`` (default: the default profile's model), one per
    host, in file-name order."""
    family = family or load_profile(DEFAULT_PROFILE).family
    # The default profile's host first, then the others by file name.
    paths = sorted(PROFILE_DIR.glob("*.toml"), key=lambda path: (path.stem != DEFAULT_PROFILE, path.name))
    found = [load_profile(path) for path in paths]
    return [p for p in found if p.family == family and p.host]


def host_names(family: str | None = None) -> list[str]:
    return [p.host for p in host_profiles(family)]


def profile_for_host(name: str, family: str | None = None) -> Profile:
    """The profile of host ``name`` (``evolink``, ``kling``, ``fal``); ``ProfileError`` naming
    the known hosts otherwise."""
    for profile in host_profiles(family):
        if profile.host == name:
            return profile
    raise ProfileError(f"no provider {name!r} (known: {', '.join(host_names(family))}, or all)")


@dataclass
class ProviderVerdict:
    """How one host would take the inputs: its report, and what it would charge."""

    profile: Profile
    report: Report

    @property
    def host(self) -> str:
        return self.profile.host

    @property
    def fits(self) -> bool:
        return self.report.ok

    @property
    def usd(self) -> float | None:
        return self.report.cost.usd if self.report.cost else None

    @property
    def price_confirmed(self) -> bool:
        return bool(self.report.cost and self.report.cost.usd is not None and self.report.cost.price_confirmed)

    def failures(self) -> list[str]:
        return [f"{c.id}: {c.message}" for c in self.report.checks if c.status is Status.FAIL]

    def unconfirmed(self) -> list[str]:
        """The checks whose verdict rests on a value the host does not confirm."""
        return sorted({c.id for c in self.report.checks if c.unconfirmed})

    def to_dict(self) -> dict:
        cost = self.report.cost
        return {
            "provider": self.host,
            "title": self.profile.title,
            "profile": self.profile.id,
            "fits": self.fits,
            "failed": [c.id for c in self.report.checks if c.status is Status.FAIL],
            "unconfirmed_checks": self.unconfirmed(),
            "billed_seconds": cost.billed_seconds if cost else None,
            "usd": self.usd,
            "price_confirmed": self.price_confirmed,
            "price_source": self.profile.limit("billing.usd_per_second").source,
            "result_lifetime_s": self.profile.value("results.link_lifetime"),
            "report": self.report.to_dict(),
        }


def cheapest_first(verdicts: list[ProviderVerdict]) -> list[ProviderVerdict]:
    """By price, a price nobody published last; ties keep the hosts' order."""
    return sorted(verdicts, key=lambda v: (v.usd is None, v.usd if v.usd is not None else 0.0))


def check_providers(
    image: str | PurePath | None = None,
    video: str | PurePath | None = None,
    *,
    request: Request | None = None,
    providers: str | list[str] = "all",
    metadata_only: bool = False,
    family: str | None = None,
    progress: Callable[[str, float, float], None] | None = None,
    **request_fields,
) -> list[ProviderVerdict]:
    """``check()`` against each host (``"all"``, or a list of host names), cheapest first.

    Each file is probed and analysed once; only the judging runs per host.
    """
    from .api import _request, _run

    names = host_names(family) if providers == "all" else ([providers] if isinstance(providers, str) else providers)
    profiles = [profile_for_host(name, family) for name in names]
    items = [(str(path), role) for path, role in ((image, "image"), (video, "video")) if path is not None]
    chosen = _request(request, request_fields)
    memo: dict = {}
    verdicts = [ProviderVerdict(p, _run(items, chosen, metadata_only, p, progress, memo=memo)) for p in profiles]
    return cheapest_first(verdicts)


def render_table(verdicts: list[ProviderVerdict], color: bool = False) -> str:
    """The text table: one row per host, cheapest first, then why each host that does not fit
    refuses, and which verdicts rest on unconfirmed values."""
    if not verdicts:
        return "no providers"
    first = verdicts[0].report.request
    rows = [("provider", "fits", "billed", f"USD ({first.quality})", "results kept", "unconfirmed checks")]
    for v in verdicts:
        cost = v.report.cost
        price = "unknown" if v.usd is None else f"{v.usd:.2f}" + ("" if v.price_confirmed else " (U)")
        rows.append((v.host, "yes" if v.fits else "NO", f"{cost.billed_seconds} s" if cost else "-", price,
                     _duration(v.profile.value("results.link_lifetime")), str(len(v.unconfirmed()))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"Kling 3.0 Motion Control on {len(verdicts)} hosts: orientation {first.orientation}, {first.quality}, "
             "cheapest first", ""]
    for n, row in enumerate(rows):
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
        lines.append(f"\033[1m{line}\033[0m" if color and n == 0 else line)
    for v in verdicts:
        for failure in v.failures():
            lines.append(f"  {v.host}: {failure}")
    lines.append("")
    lines.append("(U) = UNCONFIRMED price: no primary source states it (spec/providers.md); a check resting on an "
                 "unconfirmed limit warns instead of failing.")
    fitting = [v for v in verdicts if v.fits]
    lines.append(f"cheapest that fits: {fitting[0].host}" if fitting else "no provider fits these inputs")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    days, hours = seconds / 86400, seconds / 3600
    return f"{days:g} days" if days >= 2 else f"{hours:g} h"
