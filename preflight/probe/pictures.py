"""Opening a picture with Pillow, HEIF/HEIC included.

Phones take HEIF (HEIC) photos, which Pillow cannot read on its own. pillow-heif, a Pillow plugin
over libheif, reads them with the image's own rotation applied (HEIF keeps it in the file's
structure, not in EXIF) and its colour profile in ``info["icc_profile"]``. The plugin is
registered the first time a HEIF file is opened, so no other path pays for importing it.
"""

from __future__ import annotations

from .sniff import SNIFF_BYTES, sniff

_registered = False


def is_heif(path: str) -> bool:
    with open(path, "rb") as f:
        return sniff(f.read(SNIFF_BYTES)).format == "heif"


def register_heif() -> None:
    global _registered
    if not _registered:
        from pillow_heif import register_heif_opener

        register_heif_opener(thumbnails=False)  # the main picture only: thumbnails are never used
        _registered = True


def open_picture(path: str):
    """``PIL.Image.open(path)``, able to read HEIF too; the caller closes it (``with``)."""
    from PIL import Image

    if not _registered and is_heif(path):
        register_heif()
    return Image.open(path)
