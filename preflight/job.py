"""Job files: one generation described in a small TOML file that lives beside its media.

    # dance.job.toml
    image = "media/me.jpg"          # relative to this file, or an http(s) URL
    video = "media/dance.mp4"
    orientation = "video"           # character_orientation: image | video
    quality = "720p"                # 720p | 1080p
    prompt = "A person dancing"
    keep_sound = true
    element_ids = ["el-123"]        # a video_refer element (orientation video)
    element = "Ann"                 # or a stored element by name (submit element create)
    watermark = false               # model_params.watermark_info; left out, the service decides
    callback_url = "https://example.com/hook"

The JSON Schema is ``preflight/schemas/job.schema.json``; this loader checks the same rules by
hand so that reading a job needs no extra library, and a test keeps the two in step.

Media paths must stay inside the job file's folder (after symlinks are followed): a job file in
a repository should not make a gate read the machine's own files. A configuration may allow
paths anywhere (``allow_media_outside_job = true``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import PreflightError
from .request import Request
from .textfile import TextFileError, read_toml

JOB_SUFFIX = ".job.toml"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "job.schema.json"
_FIELDS = {"image": str, "video": str, "orientation": str, "quality": str, "prompt": str, "keep_sound": bool,
           "element_ids": list, "element": str, "watermark": bool, "callback_url": str}
# The request fields whose values are a profile's vocabulary (request.orientations, request.qualities).
_VOCABULARIES = {"orientation": "request.orientations", "quality": "request.qualities"}


class JobError(PreflightError):
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


def load_job(path: str | Path, *, allow_outside: bool = False, profile=None) -> Job:
    """The job in ``path``; ``allow_outside`` lets its media live outside the job's folder.
    Orientation and quality must be words of ``profile`` (the default profile when None)."""
    try:
        path = Path(path)
        data = read_toml(path)
    except FileNotFoundError:
        raise JobError(f"{path}: no such job file") from None
    except (TextFileError, ValueError) as exc:
        raise JobError(str(exc)) from None
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise JobError(f"{path}: unknown field(s) {', '.join(unknown)} (known: {', '.join(_FIELDS)})")
    for name, kind in _FIELDS.items():
        if name in data and not isinstance(data[name], kind):
            raise JobError(f"{path}: {name} must be a {kind.__name__}, not {type(data[name]).__name__}")
    if profile is None:
        from .profile import load_profile

        profile = load_profile()
    for name, key in _VOCABULARIES.items():
        allowed = profile.value(key)
        if name in data and data[name] not in allowed:
            raise JobError(f"{path}: {name} must be one of {', '.join(allowed)}, not {data[name]!r}")
    if not all(isinstance(e, str) and e for e in data.get("element_ids", [])):
        raise JobError(f"{path}: element_ids must be a list of non-empty strings")
    if "element" in data and not data["element"].strip():
        raise JobError(f"{path}: element must name a stored element, not be empty")
    if "image" not in data and "video" not in data:
        raise JobError(f"{path}: a job needs an image, a video or both")

    def media(name: str) -> str | None:
        value = data.get(name)
        if value is None or _is_url(value):
            return value
        if not value or "\0" in value:
            raise JobError(f"{path}: {name} {value!r} is not a usable file name (empty, or a NUL character in it)")
        resolved = path.parent / value
        if not allow_outside:
            try:
                folder, target = path.parent.resolve(), resolved.resolve()
            except (OSError, RuntimeError):  # a symlink loop, on Python before 3.13
                raise JobError(f"{path}: {name} {value!r} cannot be followed (a symbolic link loop)") from None
            if Path(value).is_absolute() or folder not in (target, *target.parents):
                raise JobError(f"{path}: {name} {value!r} is outside the job's folder; a job names media beside it "
                               "or below it (a configuration may allow others: allow_media_outside_job = true)")
        return str(resolved) if not Path(value).is_absolute() else value

    request = Request(orientation=data.get("orientation"), quality=data.get("quality"), prompt=data.get("prompt"),
                      keep_sound=data.get("keep_sound"), element_ids=tuple(data.get("element_ids", ())),
                      callback_url=data.get("callback_url"), watermark=data.get("watermark"),
                      element=data.get("element"), written_in="job")
    return Job(str(path), media("image"), media("video"), request)
