"""Where the ffmpeg executable is: $PREFLIGHT_FFMPEG, else the system's, else imageio-ffmpeg's.

The fallback means `pip install` alone is enough: imageio-ffmpeg ships a static build in its wheel.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    configured = os.environ.get("PREFLIGHT_FFMPEG")
    if configured:
        return configured
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()
