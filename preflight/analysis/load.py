"""Decoded, upright, bounded-size RGB pictures for the models."""

from __future__ import annotations

import warnings

import numpy as np


def load_image_rgb(path: str, max_side: int) -> np.ndarray:
    """The image turned as EXIF says, shrunk so its long side is at most ``max_side``; a
    transparent picture laid on white, as a viewer shows it (not the colours under the alpha)."""
    from PIL import Image, ImageOps

    from ..probe.pictures import open_picture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the caller bounded the pixel count already
        with open_picture(path) as im:
            im.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced DCT scale
            im = ImageOps.exif_transpose(im)
            if "A" in im.getbands() or "transparency" in im.info:
                im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
            im = im.convert("RGB")
            im.thumbnail((max_side, max_side))
            return np.asarray(im)
