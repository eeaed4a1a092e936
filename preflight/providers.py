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


# ---------------------------------------------------------------------- docs/providers.md

def markdown_table(family: str | None = None) -> str:
    """The provider table of docs/providers.md, made from the profiles (a test keeps the page
    equal to it): each host's limits, field names, prices and result lifetime, "(U)" marking a
    value no primary source confirms."""
    profiles = host_profiles(family)

    def shown(profile: Profile, key: str, text: str) -> str:
        return text + (" (U)" if not profile.limit(key).confirmed else "")

    def mb(profile: Profile, key: str) -> str:
        return shown(profile, key, f"{profile.value(key) / 1e6:g} MB")

    def sides(profile: Profile, role: str) -> str:
        lo, hi = profile.value(f"{role}.min_side"), profile.value(f"{role}.max_side")
        return shown(profile, f"{role}.min_side", f"{lo}-{hi} px")

    def price(profile: Profile, quality: str) -> str:
        value = profile.value("billing.usd_per_second").get(quality)
        return "?" if value is None else shown(profile, "billing.usd_per_second", f"${value:g}")

    def days(profile: Profile) -> str:
        return shown(profile, "results.link_lifetime", _duration(profile.value("results.link_lifetime")))

    qualities = profiles[0].value("request.qualities") if profiles else []
    head = ["", *(f"**{p.host}** ({p.provider})" for p in profiles)]
    rows = [
        ("profile", [f"`{p.id}`" for p in profiles]),
        ("image formats", [shown(p, "image.formats", ", ".join(p.value("image.formats"))) for p in profiles]),
        ("image size", [mb(p, "image.max_file_size") for p in profiles]),
        ("image sides", [sides(p, "image") for p in profiles]),
        ("video formats", [shown(p, "video.formats", ", ".join(p.value("video.formats"))) for p in profiles]),
        ("video size", [mb(p, "video.max_file_size") for p in profiles]),
        ("video sides", [sides(p, "video") for p in profiles]),
        ("duration (orientation image / video)", [_durations(p, shown) for p in profiles]),
        ("prompt", [shown(p, "request.prompt_max_chars", f"{p.value('request.prompt_max_chars')} chars")
                    for p in profiles]),
        ("quality sent as", [_quality_words(p) for p in profiles]),
        ("keep sound sent as", [_sound_words(p) for p in profiles]),
        ("element ids", [f"at most {n}" if (n := p.value("request.element_max_items")) else "none"
                         for p in profiles]),
        *((f"price {q}, USD/s", [price(p, q) for p in profiles]) for q in qualities),
        ("prices as of", [p.value("billing.price_seen") for p in profiles]),
        ("results kept", [days(p) for p in profiles]),
        ("auth", [f"{p.value('host.auth')} ({', '.join(p.value('host.key_env'))})" for p in profiles]),
        ("API base", [f"`{p.value('host.api_base')}`" for p in profiles]),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([name, *(c.replace("|", "/") for c in cells)]) + " |" for name, cells in rows]
    return "\n".join(lines)


def _durations(profile: Profile, shown) -> str:
    low = shown(profile, "video.min_duration", f"{profile.value('video.min_duration'):g}")
    high = profile.value("video.max_duration")
    return shown(profile, "video.max_duration", f"{low}-{high['image']:g} / {low}-{high['video']:g} s")


def _quality_words(profile: Profile) -> str:
    wire = profile.limit("request.wire_quality")
    mark = "" if wire.confirmed else " (U)"
    if profile.has("host.endpoints"):
        return "endpoint: " + ", ".join(f"{q} `{e}`" for q, e in profile.value("host.endpoints").items()) + mark
    field = {"kling": "mode"}.get(profile.host, "quality")
    return f"`{field}`: " + ", ".join(f"{q} = `{w}`" for q, w in wire.value.items()) + mark


def _sound_words(profile: Profile) -> str:
    if profile.has("request.wire_keep_sound"):
        words = profile.value("request.wire_keep_sound")
        return f"`keep_original_sound`: \"{words['true']}\"/\"{words['false']}\""
    return "`keep_sound`: true/false" if profile.host == "evolink" else "`keep_original_sound`: true/false"


def sources_list(family: str | None = None) -> str:
    """Where each host's prices and limits come from (the profiles' sources), for the page."""
    lines = []
    for p in host_profiles(family):
        lines.append(f"- **{p.host}**: price: {p.limit('billing.usd_per_second').source}; results: "
                     f"{p.limit('results.link_lifetime').source}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
    print()
    print(sources_list())
