"""The generation request as the user asked for it, and with the profile's defaults applied."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .profile import Profile


# The request's fields, in the order layers are merged and reports list them.
_FIELDS = ("orientation", "quality", "prompt", "keep_sound", "element_ids", "callback_url", "watermark", "element")


@dataclass(frozen=True)
class Request:
    """What the user asks for. ``None`` means "not given": the profile's default applies."""

    orientation: str | None = None
    quality: str | None = None
    prompt: str | None = None
    keep_sound: bool | None = None
    element_ids: tuple[str, ...] = ()
    callback_url: str | None = None
    watermark: bool | None = None  # model_params.watermark_info; None: not sent, the service decides
    element: str | None = None  # a stored element's name; ``submit`` resolves it to its id (journal)
    # Where the user wrote it: "command" (options, or the library's arguments), "job" (a job
    # file) or "config" (a configuration file). Fix hints speak its language: `--orientation
    # video`, `orientation = "video"` in the job file, or in the configuration.
    written_in: str = "command"
    # Where each field that is set came from, once layers are merged: ((field, where), ...).
    origins: tuple[tuple[str, str], ...] = ()

    def filled_from(self, *lower: "Request") -> "Request":
        """This request with each field it leaves unset taken from the first of ``lower`` that sets
        it (command line over job file over configuration); each field remembers where it came from."""
        values, origins = {}, {}
        for name in _FIELDS:
            for layer in (self, *lower):
                value = getattr(layer, name)
                if value is not None and value != ():
                    origins[name] = dict(layer.origins).get(name, layer.written_in)
                    break
            values[name] = value
        return Request(**values, written_in=self.written_in, origins=tuple(sorted(origins.items())))

    def resolve(self, profile: Profile) -> "ResolvedRequest":
        defaulted = []
        orientation = self.orientation
        if orientation is None:
            orientation = profile.value("request.default_orientation")
            defaulted.append("orientation")
        quality = self.quality
        if quality is None:
            quality = profile.value("request.default_quality")
            defaulted.append("quality")
        keep_sound = self.keep_sound
        if keep_sound is None:
            keep_sound = profile.value("request.default_keep_sound")
            defaulted.append("keep_sound")
        return ResolvedRequest(
            orientation=orientation,
            quality=quality,
            prompt=self.prompt,
            keep_sound=keep_sound,
            element_ids=tuple(self.element_ids),
            callback_url=self.callback_url,
            watermark=self.watermark,
            element=self.element,
            defaulted=tuple(defaulted),
            written_in=self.written_in,
            origins=self.origins,
        )


@dataclass(frozen=True)
class ResolvedRequest:
    orientation: str
    quality: str
    prompt: str | None
    keep_sound: bool
    element_ids: tuple[str, ...]
    callback_url: str | None
    watermark: bool | None = None
    element: str | None = None
    defaulted: tuple[str, ...] = field(default=())
    written_in: str = "command"  # as in Request; not part of the JSON report
    origins: tuple[tuple[str, str], ...] = ()

    def setting(self, name: str, value) -> str:
        """How the user sets request field ``name`` to ``value``: where that field was written,
        else where the request was."""
        where = dict(self.origins).get(name, self.written_in)
        if where in ("job", "config"):
            shown = str(value).lower() if isinstance(value, bool) else f'"{value}"'
            return f"{name} = {shown} in the {'job file' if where == 'job' else 'configuration'}"
        option = name.replace("_", "-")
        if isinstance(value, bool):
            return f"--{option}" if value else f"--no-{option}"
        return f"--{option} {value}"

    def to_dict(self) -> dict:
        return {
            "orientation": self.orientation,
            "quality": self.quality,
            "prompt": self.prompt,
            "keep_sound": self.keep_sound,
            "element_ids": list(self.element_ids),
            "callback_url": without_password(self.callback_url),
            "watermark": self.watermark,
            "element": self.element,
            "defaulted": list(self.defaulted),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ResolvedRequest":
        """The request back from a JSON report (as cached); a callback password stays masked."""
        return cls(d["orientation"], d["quality"], d.get("prompt"), bool(d["keep_sound"]),
                   tuple(d.get("element_ids", ())), d.get("callback_url"), d.get("watermark"), d.get("element"),
                   tuple(d.get("defaulted", ())))

    @property
    def elements(self) -> int:
        """How many elements the request names: ids and a stored element's name together."""
        return len(self.element_ids) + (self.element is not None)


@dataclass(frozen=True)
class ElementRequest:
    """A character element to create with kling-custom-element (API ref section 2a): a name, a
    description, and its media: one video (``video_refer``), or a frontal picture and reference
    pictures (``image_refer``)."""

    name: str | None = None
    description: str | None = None
    video: str | None = None
    image: str | None = None  # the frontal picture
    refs: tuple[str, ...] = ()

    @property
    def reference_type(self) -> str | None:
        """video_refer or image_refer by the media given; None when they make neither."""
        if self.video and not (self.image or self.refs):
            return "video_refer"
        if self.image and not self.video:
            return "image_refer"
        return None

    def media(self) -> list[tuple[str, str]]:
        """(path, role) of each medium, in report order."""
        return ([(self.video, "element_video")] if self.video else []) + \
            ([(self.image, "element_image")] if self.image else []) + [(r, "element_ref") for r in self.refs]

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "reference_type": self.reference_type,
                "video": self.video, "image": self.image, "refs": list(self.refs)}

    @classmethod
    def from_dict(cls, d: dict) -> "ElementRequest":
        return cls(d.get("name"), d.get("description"), d.get("video"), d.get("image"), tuple(d.get("refs", ())))


# A task or element id as the API writes them ("task-unified-1757156493-abc12345", "el-123"):
# letters, digits, '.', '_' and '-', starting with a letter or digit. Anything else is refused
# before it can reach a path, a URL or a log line.
PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def without_password(url: str | None) -> str | None:
    """``url`` with the password of a ``user:pass@host`` part masked: a report is a log too."""
    if not url or "@" not in url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = f"{parts.username}:***@{parts.netloc.rsplit('@', 1)[1]}"
    except ValueError:
        return url
    return urlunsplit(parts._replace(netloc=netloc))
