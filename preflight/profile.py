"""Constraint profiles: one TOML file per model, loaded into read-only lookups.

Checks ask the profile for a limit by its dotted key (``profile.limit("image.max_side")``);
no number the tool judges by is written in code.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import PreflightError
from .textfile import TextFileError, read_toml

PROFILE_DIR = Path(__file__).parent / "profiles"
DEFAULT_PROFILE = "kling-v3-motion-control"
# The keys a check read while it judged (``reading()``), so that a verdict decided by an
# unconfirmed value can say so and never fail on it.
_READS: ContextVar[set[str] | None] = ContextVar("profile_reads", default=None)


class ProfileError(PreflightError):
    """A profile file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class Limit:
    key: str
    value: Any
    source: str
    unit: str | None = None
    note: str | None = None
    # False when no primary source states the value (spec/providers.md marks it UNCONFIRMED):
    # a check that fails on it warns instead, saying so.
    confirmed: bool = True

    def fraction(self) -> Fraction:
        """The value as an exact fraction (aspect ratios are written as "5/2")."""
        return Fraction(str(self.value))


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    provider: str
    model: str
    path: Path
    limits: dict[str, Limit]
    help_url: str = ""  # where a user reads about the model and its limits (SARIF rules link it)
    host: str = ""  # the short name ``--provider`` takes: evolink, kling, fal
    family: str = ""  # the model every host in a family serves; --provider all compares them

    def limit(self, key: str) -> Limit:
        reads = _READS.get()
        if reads is not None:
            reads.add(key)
        try:
            return self.limits[key]
        except KeyError:
            raise ProfileError(f"profile {self.id!r} ({self.path}) has no entry {key!r}") from None

    def value(self, key: str) -> Any:
        return self.limit(key).value

    def has(self, key: str) -> bool:
        return key in self.limits

    def get(self, key: str, default: Any = None) -> Any:
        """The value of an optional entry, or ``default`` when the profile has none."""
        return self.value(key) if key in self.limits else default

    @property
    def creates_elements(self) -> bool:
        """Whether custom elements are made on this host (EvoLink's kling-custom-element)."""
        return bool(self.get("host.creates_elements", self.host in ("", "evolink")))

    def wire_quality(self, quality: str) -> str:
        """How the host writes a quality tier (EvoLink: as the request says it)."""
        return self.get("request.wire_quality", {}).get(quality, quality)

    def key_names(self) -> list[str]:
        """The environment variables that hold the host's keys."""
        return list(self.get("host.key_env", ["EVOLINK_API_KEY"]))

    def unconfirmed(self, keys) -> list[Limit]:
        """The entries among ``keys`` that no primary source confirms."""
        return [self.limits[k] for k in sorted(keys) if k in self.limits and not self.limits[k].confirmed]


@contextmanager
def reading():
    """Collect the profile keys read inside the block (into the set it yields)."""
    keys: set[str] = set()
    token = _READS.set(keys)
    try:
        yield keys
    finally:
        _READS.reset(token)


def _collect_limits(table: dict[str, Any], prefix: str, path: Path, out: dict[str, Limit]) -> None:
    for name, entry in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if not isinstance(entry, dict):
            raise ProfileError(f"{path}: {key} must be a table with 'value' and 'source'")
        if "value" in entry:
            if "source" not in entry:
                raise ProfileError(f"{path}: {key} has no 'source': every limit says where it comes from")
            unknown = set(entry) - {"value", "source", "unit", "note", "confirmed"}
            if unknown:
                raise ProfileError(f"{path}: {key} has unknown fields {sorted(unknown)}")
            confirmed = entry.get("confirmed", True)
            if not isinstance(confirmed, bool):
                raise ProfileError(f"{path}: {key}.confirmed must be true or false, not {confirmed!r}")
            out[key] = Limit(key, entry["value"], entry["source"], entry.get("unit"), entry.get("note"), confirmed)
        else:
            _collect_limits(entry, key, path, out)


# Every entry the three tools read, and the shape of its value. A profile is checked against
# this when it is loaded, so a missing or mistyped entry is a worded error naming the file and
# the key, not a failure deep inside a check. Kinds: int, number, str, bool, fraction ("2/5"),
# list[str], list[number], table[str|number|list|str-list] (a table of such values).
SCHEMA: dict[str, str] = {
    "image.formats": "list[str]", "image.extensions": "table[list]", "image.max_file_size": "int",
    "image.min_side": "int", "image.max_side": "int", "image.min_aspect": "fraction", "image.max_aspect": "fraction",
    "video.formats": "list[str]", "video.extensions": "table[list]", "video.max_file_size": "int",
    "video.min_side": "int", "video.max_side": "int", "video.min_duration": "number",
    "video.max_duration": "table[number]", "video.min_frame_rate": "number", "video.preferred_codecs": "list[str]",
    "request.model": "str", "request.qualities": "list[str]", "request.default_quality": "str",
    "request.orientations": "list[str]", "request.default_orientation": "str", "request.default_keep_sound": "bool",
    "request.prompt_max_chars": "int", "request.element_max_items": "int",
    "request.element_requires_orientation": "str", "request.callback_schemes": "list[str]",
    "request.callback_max_chars": "int", "request.callback_public_only": "bool",
    "billing.usd_per_second": "table[number]", "billing.price_seen": "str", "billing.rounding": "str",
    "billing.min_billed_seconds": "number", "results.link_lifetime": "number", "results.max_file_size": "int",
    "results.extensions": "list[str]", "network.max_reply_bytes": "int", "network.task_id_max_chars": "int",
    "content.subject_min_area": "number", "content.bystander_size": "number", "content.body_min_share": "table[number]",
    "content.camera_motion": "table[number]", "content.fast_limb_speed": "number", "content.partial_decoding": "bool",
    "content.severity": "table[str]",
}
# Entries only some hosts have: checked when present. Credits are EvoLink's unit; a host that
# bills in dollars has none.
OPTIONAL: dict[str, str] = {
    "billing.credits_per_second": "table[number]", "billing.credits_per_usd_alternatives": "list[number]",
    # How submit reaches the host. A profile without them is EvoLink's API (a profile written
    # before other hosts existed still loads); a profile naming another host must have them.
    "host.api_base": "str", "host.auth": "str", "host.key_env": "list[str]", "request.wire_quality": "table[str]",
    "host.files_base": "str", "host.endpoints": "table[str]", "host.upload_base": "str",
    "host.image_transport": "str", "host.video_transport": "str", "request.wire_keep_sound": "table[str]",
    "host.creates_elements": "bool",
}
# How a host is reached: the backends ``submit`` has (``submit.backends``).
AUTH_SCHEMES = ("bearer", "kling-jwt", "fal-key")
# What a profile whose [profile] names a host other than EvoLink must state.
HOST_REQUIRED = ("host.api_base", "host.auth", "host.key_env", "request.wire_quality")
# Entries of a table that must be there, and which vocabulary a table's keys must cover.
_TABLE_KEYS = {"content.body_min_share": ("warn", "fail"), "content.camera_motion": ("some", "strong")}
# A quality missing from billing.usd_per_second is a price nobody published: "unknown", not 0.
_COVERS = {"video.max_duration": "request.orientations", "request.wire_quality": "request.qualities"}
_MEMBER_OF = {"request.default_quality": "request.qualities", "request.default_orientation": "request.orientations",
              "request.element_requires_orientation": "request.orientations"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fits(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return _is_number(value)
    if kind in ("str", "bool"):
        return isinstance(value, str if kind == "str" else bool)
    if kind == "fraction":
        try:
            return Fraction(str(value)) > 0
        except (ValueError, ZeroDivisionError):
            return False
    if kind.startswith("list["):
        inner = kind[5:-1]
        return isinstance(value, list) and all(_fits(inner, v) for v in value)
    if kind.startswith("table["):
        inner = kind[6:-1]
        return isinstance(value, dict) and all(_fits("list[str]" if inner == "list" else inner, v)
                                               for v in value.values())
    raise ValueError(kind)


def validate(profile: Profile, where: str | None = None) -> None:
    """Every entry the tools read is there and of its kind, and the vocabularies agree; else
    ``ProfileError`` naming the file (or ``where`` the values came from) and the key."""
    origin = where or str(profile.path)
    for key, kind in SCHEMA.items():
        if key not in profile.limits:
            raise ProfileError(f"{origin}: the profile has no entry {key!r} (a {kind}; see docs/profiles.md)")
        value = profile.limits[key].value
        if not _fits(kind, value):
            raise ProfileError(f"{origin}: {key} must be a {kind}, not {value!r}")
    for key, kind in OPTIONAL.items():
        if key in profile.limits and not _fits(kind, profile.limits[key].value):
            raise ProfileError(f"{origin}: {key} must be a {kind}, not {profile.limits[key].value!r}")
    if profile.host not in ("", "evolink"):
        missing = [key for key in HOST_REQUIRED if key not in profile.limits]
        if missing:
            raise ProfileError(f"{origin}: a profile for host {profile.host!r} needs {', '.join(missing)} "
                               "(see docs/providers.md, Adding a host)")
    if "host.auth" in profile.limits and profile.limits["host.auth"].value not in AUTH_SCHEMES:
        raise ProfileError(f"{origin}: host.auth must be one of {', '.join(AUTH_SCHEMES)}")
    for key, needed in _TABLE_KEYS.items():
        missing = [k for k in needed if k not in profile.limits[key].value]
        if missing:
            raise ProfileError(f"{origin}: {key} needs the entries {', '.join(missing)}")
    for key, vocabulary in _COVERS.items():
        if key not in profile.limits:
            continue
        missing = [v for v in profile.limits[vocabulary].value if v not in profile.limits[key].value]
        if missing:
            raise ProfileError(f"{origin}: {key} has no value for {', '.join(missing)} (every one of {vocabulary})")
    for key, vocabulary in _MEMBER_OF.items():
        if profile.limits[key].value not in profile.limits[vocabulary].value:
            raise ProfileError(f"{origin}: {key} {profile.limits[key].value!r} is not one of {vocabulary}")
    bad = {k: v for k, v in profile.limits["content.severity"].value.items() if v not in ("fail", "warn")}
    if bad:
        raise ProfileError(f"{origin}: content.severity values are fail or warn, not {bad}")


def _profile_path(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    return candidate if candidate.suffix == ".toml" else PROFILE_DIR / f"{name_or_path}.toml"


def _read(candidate: Path, name_or_path: str | Path, seen: tuple[Path, ...] = ()) -> tuple[dict, dict[str, Limit]]:
    """A profile file's header and entries, with those of the profile it ``extends`` beneath."""
    try:
        data = read_toml(candidate)
    except FileNotFoundError:
        raise ProfileError(f"no profile {str(name_or_path)!r} (known: {', '.join(known_profiles())})") from None
    except (TextFileError, ValueError) as exc:
        raise ProfileError(str(exc)) from None
    header = data.pop("profile", None)
    if not isinstance(header, dict) or "id" not in header:
        raise ProfileError(f"{candidate}: missing [profile] table with an 'id'")
    limits: dict[str, Limit] = {}
    parent = header.get("extends")
    if parent is not None:
        # Another host of the same model: the entries it does not state are the parent's
        # (the content thresholds, the tool's own bounds), minus the sections it replaces whole.
        path = _profile_path(str(parent))
        if path.resolve() in seen or path.resolve() == candidate.resolve():
            raise ProfileError(f"{candidate}: 'extends' goes round in a circle ({parent})")
        parent_header, limits = _read(path, str(parent), (*seen, candidate.resolve()))
        replaced = header.get("replaces", [])
        if not (isinstance(replaced, list) and all(isinstance(r, str) for r in replaced)):
            raise ProfileError(f"{candidate}: 'replaces' must be a list of section names")
        limits = {k: v for k, v in limits.items() if k.split(".", 1)[0] not in replaced}
        header = {"family": parent_header.get("family", ""), **header}
    _collect_limits(data, "", candidate, limits)
    return header, limits


def known_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> Profile:
    """Load a profile by id (a file in ``preflight/profiles``) or by path to a TOML file."""
    candidate = _profile_path(name_or_path)
    header, limits = _read(candidate, name_or_path)
    profile = Profile(
        id=str(header["id"]),
        title=str(header.get("title", header["id"])),
        provider=str(header.get("provider", "")),
        model=str(header.get("model", header["id"])),
        path=candidate,
        limits=limits,
        help_url=str(header.get("help_url", "")),
        host=str(header.get("host", "")),
        family=str(header.get("family", "")),
    )
    validate(profile)
    return profile
