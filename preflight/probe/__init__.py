"""Media facts only: what a file is and what it measures. No judging here, no model imports."""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from dataclasses import dataclass

from .image_header import HeaderError, ImageHeader, read_image_header
from .sniff import SNIFF_BYTES, Sniffed, sniff
from .video import VideoFacts, VideoProbeError, probe_video

__all__ = ["FileFacts", "ImageHeader", "Sniffed", "VideoFacts", "probe_file"]

# Full decodes (to prove the pixel data is intact) are skipped above this many pixels; the
# header is still measured. JPEGs are decoded at a reduced DCT scale, so memory stays small.
DECODE_MAX_PIXELS = 100_000_000
_DECODE_TARGET_SIDE = 2048


# The least a real file can hold for its declared size. JPEG: at least one bit per 8x8 block
# (an all-flat picture takes several). PNG: deflate packs at most about 1032:1, and each row of
# a 1-bit picture is at least width/8 bytes. Below that, the header claims pixels the file does
# not hold: a decompression bomb or a damaged header.
_JPEG_MIN_BYTES_PER_PIXEL = 1 / 512
_DEFLATE_MAX_RATIO = 1032


def _implausibly_small(fmt: str, header, size: int | None) -> str | None:
    if not size or not header.width or not header.height:
        return None
    pixels = header.width * header.height
    if fmt == "jpeg":
        least = pixels * _JPEG_MIN_BYTES_PER_PIXEL
    elif fmt == "png":
        least = header.height * (1 + header.width * max(header.bit_depth or 1, 1) / 8) / _DEFLATE_MAX_RATIO
    else:
        return None
    if size >= least:
        return None
    return (f"declares {header.width}x{header.height} pixels ({pixels / 1e6:,.0f} MP) in only {size:,} bytes, "
            f"less than any real {fmt.upper()} that size holds (at least {least:,.0f}): a decompression bomb or a "
            "damaged header")


@dataclass
class FileFacts:
    path: str
    size: int | None = None
    sniffed: Sniffed | None = None
    # Why the file cannot be used at all, in words naming the problem (None: readable).
    problem: str | None = None
    image: ImageHeader | None = None
    video: VideoFacts | None = None
    # How far the pixel data was verified, for the report ("decoded", or why not).
    pixel_check: str | None = None
    # Image pixels a viewer cannot see (alpha 0), and those partly see-through, as shares of the
    # picture; None when not decoded or when the picture has no alpha channel.
    transparency: dict[str, float] | None = None

    @property
    def kind(self) -> str:
        return self.sniffed.kind if self.sniffed else "unknown"

    def to_dict(self) -> dict:
        """The facts as JSON-ready data (``preflight --facts``): what the checks read, with the
        size as a viewer shows it and every duration reading, the way ffprobe dumps a file."""
        out: dict = {"path": self.path, "size": self.size, "kind": self.kind,
                     "format": self.sniffed.format if self.sniffed else None,
                     "label": self.sniffed.label if self.sniffed else None,
                     "brand": self.sniffed.brand if self.sniffed else None,
                     "problem": self.problem, "pixel_check": self.pixel_check}
        if self.image is not None:
            shown = self.image.display_size
            out["image"] = {**dataclasses.asdict(self.image), "display_width": shown[0] if shown else None,
                            "display_height": shown[1] if shown else None, "transparency": self.transparency}
        if self.video is not None:
            v = self.video
            width, height = v.display_size
            readings = v.durations()
            out["video"] = {**dataclasses.asdict(v), "sample_aspect_ratio": f"{v.sample_aspect_ratio.numerator}:{v.sample_aspect_ratio.denominator}",
                            "display_width": width, "display_height": height, "duration_readings": readings,
                            "duration_judged": max(readings.values()) if readings else None}
        return out


def _open_problem(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    return exc.strerror or str(exc)


def _read_head(path: str) -> tuple[int, bytes]:
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a device, pipe or socket)")
    with open(path, "rb") as f:
        return st.st_size, f.read(SNIFF_BYTES)


def _verify_image_pixels(path: str, header: ImageHeader) -> tuple[str | None, dict[str, float] | None]:
    """Decode the image to prove its pixel data is intact: (problem or None, transparency)."""
    import warnings

    from .pictures import open_picture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's bomb warning: the caller bounded the size
        try:
            with open_picture(path) as im:
                if im.format == "JPEG":
                    # DCT scaling still reads every byte of entropy data, at a fraction of the memory.
                    im.draft("RGB", (_DECODE_TARGET_SIDE, _DECODE_TARGET_SIDE))
                im.load()
                return None, _transparency(im)
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error ...
            return f"pixel data does not decode: {exc}", None


def _transparency(im) -> dict[str, float] | None:
    """Shares of fully and partly transparent pixels, or None for a picture without alpha."""
    if "A" not in im.getbands() and "transparency" not in im.info:
        return None
    alpha = im.convert("RGBA").getchannel("A").histogram()
    total = sum(alpha) or 1
    return {"transparent": alpha[0] / total, "translucent": sum(alpha[1:255]) / total}


def probe_file(path: str, expect: str | None = None, verify_pixels: bool = True) -> FileFacts:
    """Measure one file. ``expect`` ("image" or "video") is the role the caller gives it.

    Never raises for a bad file: every problem ends up in ``FileFacts.problem``.
    """
    facts = FileFacts(path=path)
    try:
        facts.size, head = _read_head(path)
    except OSError as exc:
        facts.problem = _open_problem(exc)
        return facts
    if facts.size == 0:
        facts.problem = "file is empty (0 bytes)"
        return facts
    facts.sniffed = sniff(head)
    kind = facts.sniffed.kind

    if expect == "image" and kind != "image":
        what = facts.sniffed.label if kind != "unknown" else "not an image this tool recognises"
        facts.problem = f"is {_article(what)}, not an image" if kind != "unknown" else what
        return facts
    if expect == "video" and kind in ("image", "audio", "other"):
        facts.problem = f"is {_article(facts.sniffed.label)}, not a video"
        return facts
    if expect is None and kind in ("audio", "other"):
        facts.problem = f"is {_article(facts.sniffed.label)}, not an image or a video"
        return facts

    if kind == "image":
        try:
            facts.image = read_image_header(path, facts.sniffed.format, head, facts.size)
        except HeaderError as exc:
            facts.problem = str(exc)
            return facts
        except OSError as exc:
            facts.problem = _open_problem(exc)
            return facts
        facts.problem = facts.image.structure_problem or _implausibly_small(facts.sniffed.format, facts.image,
                                                                            facts.size)
        if facts.problem is None and verify_pixels and facts.image.width and facts.image.height:
            pixels = facts.image.width * facts.image.height
            if pixels > DECODE_MAX_PIXELS:
                facts.pixel_check = f"not decoded: {pixels / 1e6:,.0f} MP is above the {DECODE_MAX_PIXELS / 1e6:.0f} MP decode bound"
            else:
                facts.problem, facts.transparency = _verify_image_pixels(path, facts.image)
                facts.pixel_check = "decoded" if facts.problem is None else None
        return facts

    try:
        facts.video = probe_video(path, facts.size)
    except VideoProbeError as exc:
        facts.problem = (f"cannot be read as a video: {exc}" if kind == "video"
                         else f"not an image or video this tool recognises ({exc})")
        return facts
    if facts.sniffed.kind == "unknown":
        facts.sniffed = Sniffed("video", "unknown", f"video in an unrecognised container ({facts.video.container_format})")
    facts.problem = facts.video.truncated or facts.video.decode_problem
    return facts


def _article(label: str) -> str:
    first = label.split()[0] if label else ""
    if first.isupper() or first[:1].isdigit():  # an acronym: "an MP4", "a JPEG", "a 3GPP"
        vowel_sound = first[:1] in "AEFHILMNORSX"
    else:
        vowel_sound = first[:1].lower() in "aeiou"
    return ("an " if vowel_sound else "a ") + label
