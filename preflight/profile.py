"""Constraint profiles: one TOML file per model, loaded into read-only lookups.

Checks ask the profile for a limit by its dotted key (``profile.limit("image.max_side")``);
no number the tool judges by is written in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import PreflightError
from .textfile import TextFileError, read_toml

PROFILE_DIR = Path(__file__).parent / "profiles"
DEFAULT_PROFILE = "kling-v3-motion-control"


class ProfileError(PreflightError):
    """A profile file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class Limit:
    key: str
    value: Any
    source: str
    unit: str | None = None
    note: str | None = None

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

    def limit(self, key: str) -> Limit:
        try:
            return self.limits[key]
        except KeyError:
            raise ProfileError(f"profile {self.id!r} ({self.path}) has no entry {key!r}") from None

    def value(self, key: str) -> Any:
        return self.limit(key).value


def _collect_limits(table: dict[str, Any], prefix: str, path: Path, out: dict[str, Limit]) -> None:
    for name, entry in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if not isinstance(entry, dict):
            raise ProfileError(f"{path}: {key} must be a table with 'value' and 'source'")
        if "value" in entry:
            if "source" not in entry:
                raise ProfileError(f"{path}: {key} has no 'source': every limit says where it comes from")
            unknown = set(entry) - {"value", "source", "unit", "note"}
            if unknown:
                raise ProfileError(f"{path}: {key} has unknown fields {sorted(unknown)}")
            out[key] = Limit(key, entry["value"], entry["source"], entry.get("unit"), entry.get("note"))
        else:
            _collect_limits(entry, key, path, out)


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> Profile:
    """Load a profile by id (a file in ``preflight/profiles``) or by path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix != ".toml":
        candidate = PROFILE_DIR / f"{name_or_path}.toml"
    try:
        data = read_toml(candidate)
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.toml")))
        raise ProfileError(f"no profile {str(name_or_path)!r} (known: {known})") from None
    except (TextFileError, ValueError) as exc:
        raise ProfileError(str(exc)) from None
    header = data.pop("profile", None)
    if not isinstance(header, dict) or "id" not in header:
        raise ProfileError(f"{candidate}: missing [profile] table with an 'id'")
    limits: dict[str, Limit] = {}
    _collect_limits(data, "", candidate, limits)
    return Profile(
        id=header["id"],
        title=header.get("title", header["id"]),
        provider=header.get("provider", ""),
        model=header.get("model", header["id"]),
        path=candidate,
        limits=limits,
    )
