"""Project configuration: ``[tool.preflight]`` in ``pyproject.toml`` or a ``preflight.toml``.

The nearest file from the working directory upwards wins (``preflight.toml`` before
``pyproject.toml`` in the same folder); options on the command line win over it.

    [tool.preflight]
    profile = "kling-v3-motion-control"    # a bundled id or a path (relative to this file)
    orientation = "video"
    quality = "720p"
    metadata_only = false
    jobs = 4                               # parallel workers; default: the core count
    cache = true
    cache_dir = ".preflight-cache"         # default: the user's cache folder
    allow_media_outside_job = false        # job files may name media outside their folder

    [tool.preflight.checks]                # per check id: "fail", "warn" or "off"
    "video.camera_motion" = "warn"
    "image.subject_size" = "off"

    [tool.preflight.thresholds]            # profile entries replaced (same keys as the profile)
    "content.subject_min_area" = 0.03
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks.base import NEVER_RELAXED
from .errors import PreflightError
from .profile import DEFAULT_PROFILE, Limit, Profile, ProfileError, load_profile, validate
from .report import Report, Status
from .textfile import TextFileError, read_toml

SEVERITIES = ("fail", "warn", "off")
_KEYS = {"profile", "orientation", "quality", "metadata_only", "jobs", "cache", "cache_dir", "checks", "thresholds",
         "allow_media_outside_job"}


# bool is an int to Python: "jobs = true" is refused by the check below, not by isinstance.
_TYPES: dict[str, type | tuple] = {"profile": str, "orientation": str, "quality": str, "metadata_only": bool,
                                   "jobs": int, "cache": bool, "cache_dir": str, "checks": dict, "thresholds": dict,
                                   "allow_media_outside_job": bool}


class ConfigError(PreflightError):
    """A configuration file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    path: str | None = None  # where it came from; None: no file
    profile: str = DEFAULT_PROFILE
    orientation: str | None = None
    quality: str | None = None
    metadata_only: bool = False
    jobs: int | None = None
    cache: bool = True
    cache_dir: str | None = None
    checks: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    allow_media_outside_job: bool = False

    def load_profile(self, name: str | None = None) -> Profile:
        """The profile with this configuration's thresholds in place of the profile's values."""
        profile = load_profile(name or self.profile)
        if not self.thresholds:
            return profile
        limits = dict(profile.limits)
        for key, value in self.thresholds.items():
            if key not in limits:
                raise ConfigError(f"{self.path}: thresholds.{key}: profile {profile.id!r} has no such entry")
            old = limits[key]
            if type(value) is not type(old.value) and not (isinstance(value, (int, float))
                                                         and isinstance(old.value, (int, float))):
                raise ConfigError(f"{self.path}: thresholds.{key} must be like {old.value!r}")
            limits[key] = Limit(key, value, f"{self.path} (was {old.value!r}: {old.source})", old.unit, old.note)
        replaced = dataclasses.replace(profile, limits=limits)
        try:
            validate(replaced, where=f"{self.path} [thresholds]")
        except ProfileError as exc:
            raise ConfigError(str(exc)) from None
        return replaced

    def fingerprint(self) -> dict:
        """What in this configuration changes a report (for the cache key)."""
        return {"checks": self.checks, "thresholds": self.thresholds}

    def apply(self, report: Report) -> Report:
        """Each check at the severity configured for it."""
        if not self.checks:
            return report
        for i, c in enumerate(report.checks):
            wanted = self.checks.get(c.id)
            if wanted is None:
                continue
            if wanted == "off":
                report.checks[i] = dataclasses.replace(c, status=Status.SKIP,
                                                       message=f"off in {Path(self.path).name}: {c.message}")
            elif wanted == "warn" and c.status is Status.FAIL:
                report.checks[i] = dataclasses.replace(c, status=Status.WARN,
                                                       message=f"{c.message} (a warning by {Path(self.path).name})")
            elif wanted == "fail" and c.status is Status.WARN:
                report.checks[i] = dataclasses.replace(c, status=Status.FAIL,
                                                       message=f"{c.message} (a failure by {Path(self.path).name})")
        return report


def find_config(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        own = folder / "preflight.toml"
        if own.is_file():
            return own
        project = folder / "pyproject.toml"
        if project.is_file() and "preflight" in _read(project).get("tool", {}):
            return project
    return None


def _read(path: Path) -> dict:
    try:
        return read_toml(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except TextFileError as exc:
        raise ConfigError(str(exc)) from None


def load_config(path: str | Path | None = None, *, search: bool = True) -> Config:
    """The configuration in ``path``, or the nearest one found, or the defaults."""
    found = Path(path) if path else (find_config() if search else None)
    if found is None:
        return Config()
    data = _read(found)
    table = data.get("tool", {}).get("preflight") if found.name == "pyproject.toml" else data.get("tool", {}).get(
        "preflight", data)
    if not isinstance(table, dict):
        raise ConfigError(f"{found}: [tool.preflight] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{found}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})")
    for key, kind in _TYPES.items():
        if key in table and not isinstance(table[key], kind):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ConfigError(f"{found}: {key} must be a {names}, not {type(table[key]).__name__}")
    checks = table.get("checks", {})
    for check_id, severity in checks.items():
        if severity not in SEVERITIES:
            raise ConfigError(f"{found}: checks.{check_id} must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        if check_id in NEVER_RELAXED and severity != "fail":
            raise ConfigError(f"{found}: checks.{check_id} cannot be {severity!r}: a generation with it is wasted")
    profile = table.get("profile", DEFAULT_PROFILE)
    if isinstance(profile, str) and profile.endswith(".toml") and not Path(profile).is_absolute():
        profile = str(found.parent / profile)
    cache_dir = table.get("cache_dir")
    if cache_dir and not Path(cache_dir).is_absolute():
        cache_dir = str(found.parent / cache_dir)
    jobs = table.get("jobs")
    if jobs is not None and (isinstance(jobs, bool) or jobs < 1):
        raise ConfigError(f"{found}: jobs must be a whole number of at least 1")
    config = Config(path=str(found), profile=profile, orientation=table.get("orientation"),
                    quality=table.get("quality"), metadata_only=bool(table.get("metadata_only", False)), jobs=jobs,
                    cache=bool(table.get("cache", True)), cache_dir=cache_dir, checks=dict(checks),
                    thresholds=dict(table.get("thresholds", {})),
                    allow_media_outside_job=bool(table.get("allow_media_outside_job", False)))
    try:
        profile = config.load_profile()  # unknown profile or threshold keys are found now, not mid-run
    except ProfileError as exc:
        raise ConfigError(f"{found}: {exc}") from None
    for key, vocabulary in (("orientation", "request.orientations"), ("quality", "request.qualities")):
        allowed = profile.value(vocabulary)
        if key in table and table[key] not in allowed:
            raise ConfigError(f"{found}: {key} must be one of {', '.join(allowed)} (profile {profile.id}), "
                              f"not {table[key]!r}")
    return config
