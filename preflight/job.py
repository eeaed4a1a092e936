"""Job files: one generation described in a small TOML file that lives beside its media.

    # dance.job.toml
    image = "media/me.jpg"          # relative to this file, or an http(s) URL
    video = "media/dance.mp4"
    orientation = "video"           # character_orientation: image | video
    quality = "720p"                # 720p | 1080p
    prompt = "A person dancing"
    keep_sound = true
    element_ids = ["el-123"]        # a video_refer element (orientation video)
    callback_url = "https://example.com/hook"

The JSON Schema is ``preflight/schemas/job.schema.json``; this loader checks the same rules by
hand so that reading a job needs no extra library, and a test keeps the two in step.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .request import Request

JOB_SUFFIX = ".job.toml"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "job.schema.json"
_FIELDS = {"image": str, "video": str, "orientation": str, "quality": str, "prompt": str, "keep_sound": bool,
           "element_ids": list, "callback_url": str}
_CHOICES = {"orientation": ("image", "video"), "quality": ("720p", "1080p")}


class JobError(Exception):
    """A job file that cannot be read or does not follow the format; the message names both."""


@dataclass(frozen=True)
class Job:
    path: str  # the job file
    image: str | None  # a resolved local path or a URL
    video: str | None
    request: Request

    @property
    def name(self) -> str:
        return self.path


def is_job_file(path: str | Path) -> bool:
    return str(path).endswith(JOB_SUFFIX)


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def load_job(path: str | Path) -> Job:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JobError(f"{path}: no such job file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JobError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise JobError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise JobError(f"{path}: unknown field(s) {', '.join(unknown)} (known: {', '.join(_FIELDS)})")
    for name, kind in _FIELDS.items():
        if name in data and not isinstance(data[name], kind):
            raise JobError(f"{path}: {name} must be a {kind.__name__}, not {type(data[name]).__name__}")
    for name, allowed in _CHOICES.items():
        if name in data and data[name] not in allowed:
            raise JobError(f"{path}: {name} must be one of {', '.join(allowed)}, not {data[name]!r}")
    if not all(isinstance(e, str) and e for e in data.get("element_ids", [])):
        raise JobError(f"{path}: element_ids must be a list of non-empty strings")
    if "image" not in data and "video" not in data:
        raise JobError(f"{path}: a job needs an image, a video or both")

    def media(name: str) -> str | None:
        value = data.get(name)
        if value is None or _is_url(value):
            return value
        return str((path.parent / value)) if not Path(value).is_absolute() else value

    request = Request(orientation=data.get("orientation"), quality=data.get("quality"), prompt=data.get("prompt"),
                      keep_sound=data.get("keep_sound"), element_ids=tuple(data.get("element_ids", ())),
                      callback_url=data.get("callback_url"))
    return Job(str(path), media("image"), media("video"), request)
