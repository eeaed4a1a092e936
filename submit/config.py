"""Where the key and the endpoints come from: options, then the environment, then a config file.

The config file (``~/.config/motion-preflight/config.toml`` on Linux, or ``SUBMIT_CONFIG``)
holds ``api_key``, ``api_base``, ``files_base`` and an ``[s3]`` table for EvoLink, and a table
per other host (``[providers.kling]`` with ``access_key`` and ``secret_key``, ``[providers.fal]``
with ``key``; each may set ``api_base``). Each host's keys come from the environment variables
its profile names (``host.key_env``) first. Because it may hold the
key, it is refused when anyone but its owner can read it, as ssh does with private keys.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from preflight.textfile import TextFileError, read_toml

from .client import DEFAULT_API_BASE, DEFAULT_FILES_BASE
from .errors import SubmitError


def config_path() -> Path:
    if os.environ.get("SUBMIT_CONFIG"):
        return Path(os.environ["SUBMIT_CONFIG"])
    from platformdirs import user_config_path

    return user_config_path("motion-preflight", appauthor=False) / "config.toml"


def read_config(path: Path | None = None) -> dict:
    path = path or config_path()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SubmitError(f"{path}: cannot be used ({exc})") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SubmitError(f"{path} can be read by other users (mode {stat.filemode(mode)}); it may hold the API "
                          f"key, so it is not used: chmod 600 {path}")
    try:
        return read_toml(path)
    except FileNotFoundError:
        return {}
    except TextFileError as exc:
        raise SubmitError(str(exc)) from None


@dataclass(frozen=True)
class Settings:
    api_key: str | None  # EvoLink's key, Kling's secret key, fal's key
    key_source: str  # where the key came from, for messages that must not show it
    api_base: str
    files_base: str
    s3_bucket: str | None
    s3_endpoint: str | None
    s3_region: str | None
    s3_prefix: str
    host: str = "evolink"
    access_key: str | None = None  # Kling's access key (the JWT's issuer)
    access_source: str = "nowhere"

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key) and (self.host != "kling" or bool(self.access_key))


def _first(sources) -> tuple[str, str | None]:
    where, value = next(((where, value) for where, value in sources if value), ("nowhere", None))
    if value is not None and not isinstance(value, str):
        raise SubmitError(f"{where} must be a string")
    return where, value


def settings(api_base: str | None = None, files_base: str | None = None, s3_bucket: str | None = None,
             s3_endpoint: str | None = None, api_key: str | None = None, profile=None,
             access_key: str | None = None) -> Settings:
    """Where to send and with which key. ``profile`` chooses the host (EvoLink without one);
    ``api_key`` and ``access_key`` win over everything (the local fake servers' keys)."""
    env = os.environ
    file = read_config()
    host = profile.host if profile is not None and profile.host else "evolink"
    if host != "evolink":
        return _host_settings(profile, env, file, api_base, files_base, s3_bucket, s3_endpoint, api_key, access_key)
    s3 = file.get("s3", {}) if isinstance(file.get("s3"), dict) else {}
    key_source, key = _first((("the api_key argument", api_key), ("EVOLINK_API_KEY", env.get("EVOLINK_API_KEY")),
                              (f"api_key in {config_path()}", file.get("api_key"))))
    return Settings(
        api_key=key,
        key_source=key_source,
        api_base=api_base or env.get("EVOLINK_API_BASE") or file.get("api_base") or DEFAULT_API_BASE,
        files_base=files_base or env.get("EVOLINK_FILES_BASE") or file.get("files_base") or DEFAULT_FILES_BASE,
        s3_bucket=s3_bucket or env.get("SUBMIT_S3_BUCKET") or s3.get("bucket"),
        s3_endpoint=s3_endpoint or env.get("SUBMIT_S3_ENDPOINT") or s3.get("endpoint_url"),
        s3_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or s3.get("region"),
        s3_prefix=s3.get("prefix", "motion-preflight/"),
    )


def _host_settings(profile, env, file, api_base, files_base, s3_bucket, s3_endpoint, api_key, access_key) -> Settings:
    """Another host's settings: its keys from the variables its profile names (``host.key_env``),
    then its ``[providers.<host>]`` table (each variable's name without the host, lowercased:
    KLING_SECRET_KEY is ``secret_key``); its base from ``<HOST>_API_BASE``, the table, the profile."""
    host = profile.host
    providers = file.get("providers", {}) if isinstance(file.get("providers"), dict) else {}
    table = providers.get(host, {}) if isinstance(providers.get(host), dict) else {}
    s3 = file.get("s3", {}) if isinstance(file.get("s3"), dict) else {}
    prefix = host.upper() + "_"

    def from_env_or_file(name: str, given: str | None) -> tuple[str, str | None]:
        short = name[len(prefix):].lower() if name.startswith(prefix) else name.lower()
        return _first((("the key argument", given), (name, env.get(name)),
                       (f"{short} in [providers.{host}] of {config_path()}", table.get(short))))

    names = profile.value("host.key_env")
    key_source, key = from_env_or_file(names[-1], api_key)  # the secret is named last (KLING_SECRET_KEY, FAL_KEY)
    access_source, access = from_env_or_file(names[0], access_key) if len(names) > 1 else ("nowhere", None)
    base = api_base or env.get(f"{prefix}API_BASE") or table.get("api_base") or profile.value("host.api_base")
    files = (files_base or env.get(f"{prefix}UPLOAD_BASE") or table.get("upload_base")
             or (profile.value("host.upload_base") if profile.has("host.upload_base") else base))
    return Settings(api_key=key, key_source=key_source, api_base=base, files_base=files,
                    s3_bucket=s3_bucket or env.get("SUBMIT_S3_BUCKET") or s3.get("bucket"),
                    s3_endpoint=s3_endpoint or env.get("SUBMIT_S3_ENDPOINT") or s3.get("endpoint_url"),
                    s3_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or s3.get("region"),
                    s3_prefix=s3.get("prefix", "motion-preflight/"), host=host, access_key=access,
                    access_source=access_source)
