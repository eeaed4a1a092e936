"""Measure an image from its header, without decoding a pixel.

A file that claims 65536 x 65536 pixels is measured in microseconds and with no memory to
speak of; only the structure (markers, chunks, end-of-image) is walked. Decoding, where it is
wanted, happens elsewhere and only below a pixel bound.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from dataclasses import dataclass

from ..errors import PreflightError

# JPEG start-of-frame markers that carry the picture size (not DHT C4, JPG C8 or DAC CC).
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PNG_COLOR = {0: "gray", 2: "rgb", 3: "palette", 4: "gray+alpha", 6: "rgba"}
_JPEG_COMPONENTS = {1: "gray", 3: "ycbcr", 4: "cmyk"}
# Walking a PNG stops after this many chunks: a real image has a handful to a few thousand.
_PNG_MAX_CHUNKS = 200_000


class HeaderError(PreflightError):
    """The header is unreadable: the file cannot be measured."""


@dataclass
class ImageHeader:
    width: int | None = None
    height: int | None = None
    exif_orientation: int | None = None  # 1..8, None when absent
    bit_depth: int | None = None
    color: str | None = None  # gray, rgb, rgba, palette, ycbcr, cmyk, ...
    animated: bool = False
    progressive: bool = False
    # Set when the structure is damaged although the size could be read (e.g. truncated).
    structure_problem: str | None = None

    @property
    def rotated_quarter(self) -> bool:
        """EXIF orientations 5 to 8 turn the picture by 90 degrees: width and height swap."""
        return self.exif_orientation in (5, 6, 7, 8)

    @property
    def display_size(self) -> tuple[int, int] | None:
        if self.width is None or self.height is None:
            return None
        if self.rotated_quarter:
            return self.height, self.width
        return self.width, self.height


def exif_orientation(tiff: bytes) -> int | None:
    """The Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block."""
    if len(tiff) < 8:
        return None
    order = tiff[:2]
    if order == b"II":
        endian = "<"
    elif order == b"MM":
        endian = ">"
    else:
        return None
    if struct.unpack(endian + "H", tiff[2:4])[0] != 42:
        return None
    ifd = struct.unpack(endian + "I", tiff[4:8])[0]
    if ifd + 2 > len(tiff):
        return None
    count = struct.unpack(endian + "H", tiff[ifd:ifd + 2])[0]
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(tiff):
            return None
        tag, typ = struct.unpack(endian + "HH", tiff[entry:entry + 4])
        if tag == 0x0112 and typ == 3:
            value = struct.unpack(endian + "H", tiff[entry + 8:entry + 10])[0]
            return value if 1 <= value <= 8 else None
    return None


def _read_jpeg(data: mmap.mmap | bytes) -> ImageHeader:
    size = len(data)
    header = ImageHeader()
    pos = 2
    while True:
        if pos + 4 > size:
            header.structure_problem = f"file ends inside the JPEG header (at byte {pos:,} of {size:,})"
            break
        if data[pos] != 0xFF:
            header.structure_problem = f"JPEG marker expected at byte {pos:,}: the header is damaged"
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
            continue
        if marker == 0xD9:
            header.structure_problem = "JPEG ends before any image data"
            break
        length = (data[pos + 2] << 8) | data[pos + 3]
        end = pos + 2 + length
        if length < 2 or end > size:
            header.structure_problem = f"JPEG segment at byte {pos:,} runs past the end of the file"
            break
        segment = data[pos + 4:end]
        if marker == 0xE1 and segment[:6] == b"Exif\x00\x00" and header.exif_orientation is None:
            header.exif_orientation = exif_orientation(bytes(segment[6:]))
        elif marker in _JPEG_SOF and len(segment) >= 6:
            header.bit_depth = segment[0]
            header.height = (segment[1] << 8) | segment[2]
            header.width = (segment[3] << 8) | segment[4]
            header.color = _JPEG_COMPONENTS.get(segment[5], f"{segment[5]} components")
            header.progressive = marker in (0xC2, 0xC6, 0xCA, 0xCE)
        elif marker == 0xDA:  # start of scan: entropy-coded data follows up to EOI
            if data.find(b"\xff\xd9", end) < 0:
                header.structure_problem = "JPEG has no end-of-image marker: the file is truncated"
            break
        pos = end
    if header.width is None or header.height is None or header.width == 0 or header.height == 0:
        raise HeaderError(header.structure_problem or "JPEG has no frame header with a picture size")
    return header


def _read_png(f, size: int) -> ImageHeader:
    header = ImageHeader()
    f.seek(8)
    ihdr = f.read(8 + 13 + 4)
    if len(ihdr) < 25 or ihdr[4:8] != b"IHDR" or struct.unpack(">I", ihdr[:4])[0] != 13:
        raise HeaderError("PNG does not start with an IHDR chunk")
    if zlib.crc32(ihdr[4:21]) != struct.unpack(">I", ihdr[21:25])[0]:
        raise HeaderError("PNG header (IHDR) checksum does not match: the header is damaged")
    header.width, header.height, header.bit_depth, color_type = struct.unpack(">IIBB", ihdr[8:18])
    header.color = _PNG_COLOR.get(color_type, f"colour type {color_type}")
    if header.width == 0 or header.height == 0:
        raise HeaderError("PNG header declares a zero width or height")
    pos = 8 + 25
    seen_idat = False
    for _ in range(_PNG_MAX_CHUNKS):
        if pos + 12 > size:
            header.structure_problem = "PNG has no IEND chunk: the file is truncated"
            break
        f.seek(pos)
        chunk_head = f.read(8)
        length = struct.unpack(">I", chunk_head[:4])[0]
        kind = chunk_head[4:8]
        end = pos + 12 + length
        if end > size:
            header.structure_problem = f"PNG chunk {kind!r} at byte {pos:,} runs past the end of the file: truncated"
            break
        if kind == b"IEND":
            if not seen_idat:
                header.structure_problem = "PNG holds no image data (no IDAT chunk)"
            break
        if kind == b"IDAT":
            seen_idat = True
        elif kind == b"acTL":
            header.animated = True
        elif kind == b"eXIf" and length <= 1 << 20:
            header.exif_orientation = exif_orientation(f.read(length))
        pos = end
    return header


def _read_gif(head: bytes) -> ImageHeader:
    width, height = struct.unpack("<HH", head[6:10])
    return ImageHeader(width=width, height=height, bit_depth=8, color="palette")


def _read_bmp(head: bytes) -> ImageHeader:
    dib = struct.unpack("<I", head[14:18])[0]
    if dib == 12:
        width, height = struct.unpack("<HH", head[18:22])
    else:
        width, height = struct.unpack("<ii", head[18:26])
    return ImageHeader(width=abs(width), height=abs(height))


def _read_webp(head: bytes) -> ImageHeader:
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30:
        width = struct.unpack("<H", head[26:28])[0] & 0x3FFF
        height = struct.unpack("<H", head[28:30])[0] & 0x3FFF
        return ImageHeader(width=width, height=height)
    if chunk == b"VP8L" and len(head) >= 25:
        b0, b1, b2, b3 = head[21:25]
        width = 1 + (((b1 & 0x3F) << 8) | b0)
        height = 1 + (((b3 & 0x0F) << 10) | (b2 << 2) | ((b1 & 0xC0) >> 6))
        return ImageHeader(width=width, height=height)
    if chunk == b"VP8X" and len(head) >= 30:
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        return ImageHeader(width=width, height=height, animated=bool(head[20] & 0x02))
    raise HeaderError("WebP header is not one of VP8, VP8L or VP8X")


def _read_with_pillow(path: str) -> ImageHeader:
    """Formats this module does not parse itself (TIFF, HEIF): Pillow reads headers lazily."""
    import warnings

    from PIL import Image

    from .pictures import open_picture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with open_picture(path) as im:
                return ImageHeader(width=im.width, height=im.height, animated=getattr(im, "is_animated", False))
        except Image.DecompressionBombError:
            return ImageHeader()
        except Image.UnidentifiedImageError:
            raise HeaderError("no picture in it could be read") from None
        except Exception as exc:  # Pillow raises many types for unreadable headers
            raise HeaderError(str(exc)) from None


def read_image_header(path: str, fmt: str, head: bytes, size: int) -> ImageHeader:
    """Read the header of an image whose format was sniffed as ``fmt``.

    Raises HeaderError when the size cannot be read. Returns an ImageHeader with
    ``width``/``height`` None for formats whose size is not measured (AVIF).
    """
    try:
        if fmt == "jpeg":
            with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _read_jpeg(data)
        if fmt == "png":
            with open(path, "rb") as f:
                return _read_png(f, size)
        if fmt == "gif" and len(head) >= 10:
            return _read_gif(head)
        if fmt == "bmp" and len(head) >= 26:
            return _read_bmp(head)
        if fmt == "webp":
            return _read_webp(head)
        if fmt in ("tiff", "heif"):
            return _read_with_pillow(path)
    except struct.error:
        raise HeaderError(f"{fmt.upper()} header is cut short") from None
    return ImageHeader()
