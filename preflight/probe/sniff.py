"""Tell what a file is from its first bytes, never from its name."""

from __future__ import annotations

from dataclasses import dataclass

SNIFF_BYTES = 512

# ISO base media file format major brands: which product family a file belongs to.
_IMAGE_BRANDS = {b"heic": "heif", b"heix": "heif", b"heim": "heif", b"heis": "heif",
                 b"hevc": "heif", b"hevx": "heif", b"mif1": "heif", b"msf1": "heif",
                 b"avif": "avif", b"avis": "avif"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A "}
# Boxes that may open a QuickTime file written before ftyp existed.
_QUICKTIME_FIRST_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "image", "video", "audio", "other" or "unknown"
    format: str  # short id: jpeg, png, mp4, mov, matroska, ...
    label: str  # for people: "JPEG", "QuickTime MOV", ...
    brand: str | None = None  # ISO BMFF major brand, when there is one


UNKNOWN = Sniffed("unknown", "unknown", "unrecognised data")


def _iso_bmff(head: bytes) -> Sniffed | None:
    box_type = head[4:8]
    if box_type == b"ftyp":
        brand = head[8:12]
        brand_text = brand.decode("latin-1")
        if brand in _IMAGE_BRANDS:
            fmt = _IMAGE_BRANDS[brand]
            return Sniffed("image", fmt, fmt.upper(), brand_text)
        if brand in _AUDIO_BRANDS:
            return Sniffed("audio", "m4a", "MPEG-4 audio (M4A)", brand_text)
        if brand == b"qt  ":
            return Sniffed("video", "mov", "QuickTime MOV", brand_text)
        if brand.startswith(b"3g"):
            return Sniffed("video", "3gp", "3GPP (" + brand_text.strip() + ")", brand_text)
        if brand in (b"crx ",):
            return Sniffed("image", "raw", "Canon CR3 raw", brand_text)
        return Sniffed("video", "mp4", "MP4", brand_text)
    if box_type in _QUICKTIME_FIRST_BOXES:
        size = int.from_bytes(head[:4], "big")
        if size >= 8 or size in (0, 1):  # 0: box runs to end of file; 1: 64-bit size follows
            return Sniffed("video", "mov", "QuickTime MOV (no ftyp)")
    return None


def sniff(head: bytes) -> Sniffed:
    """Identify a file from its first bytes (``SNIFF_BYTES`` are enough)."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "jpeg", "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "png", "PNG")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image", "gif", "GIF")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "webp", "WebP")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed("video", "avi", "AVI")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio", "wav", "WAV audio")
    if head[:2] == b"BM" and len(head) >= 26:
        return Sniffed("image", "bmp", "BMP")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Sniffed("image", "tiff", "TIFF")
    if head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n" or head[:2] == b"\xff\x0a":
        return Sniffed("image", "jxl", "JPEG XL")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        if b"webm" in head[:64]:
            return Sniffed("video", "webm", "WebM")
        return Sniffed("video", "matroska", "Matroska (MKV)")
    if head[:3] == b"FLV":
        return Sniffed("video", "flv", "Flash Video (FLV)")
    if head[:4] == b"OggS":
        return Sniffed("video", "ogg", "Ogg")
    if len(head) >= 8:
        found = _iso_bmff(head)
        if found:
            return found
    if head[:1] == b"\x47" and len(head) > 376 and head[188:189] == b"\x47" and head[376:377] == b"\x47":
        return Sniffed("video", "mpegts", "MPEG transport stream")
    if head[:4] == b"\x00\x00\x01\xba":
        return Sniffed("video", "mpegps", "MPEG program stream")
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return Sniffed("audio", "mp3", "MP3 audio")
    if head[:4] == b"%PDF":
        return Sniffed("other", "pdf", "PDF document")
    if head[:4] == b"PK\x03\x04":
        return Sniffed("other", "zip", "ZIP archive")
    stripped = head.lstrip()
    if stripped[:1] in (b"<", b"{", b"[") or (head and all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64])):
        return Sniffed("other", "text", "text file")
    return UNKNOWN
