"""Where the key and the endpoints come from: options, then the environment, then a config file.

The config file (``~/.config/motion-preflight/config.toml`` on Linux, or ``SUBMIT_CONFIG``)
holds ``api_key``, ``api_base``, ``files_base`` and an ``[s3]`` table. Because it may hold the
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
    api_key: str | None
    key_source: str  # where the key came from, for messages that must not show it
    api_base: str
    files_base: str
    s3_bucket: str | None
    s3_endpoint: str | None
    s3_region: str | None
    s3_prefix: str


def settings(api_base: str | None = None, files_base: str | None = None, s3_bucket: str | None = None,
             s3_endpoint: str | None = None, api_key: str | None = None) -> Settings:
    env = os.environ
    file = read_config()
    s3 = file.get("s3", {}) if isinstance(file.get("s3"), dict) else {}
    sources = (("the api_key argument", api_key), ("EVOLINK_API_KEY", env.get("EVOLINK_API_KEY")),
               (f"api_key in {config_path()}", file.get("api_key")))
    key_source, key = next(((where, value) for where, value in sources if value), ("nowhere", None))
    if key is not None and not isinstance(key, str):
        raise SubmitError(f"{key_source} must be a string")
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
