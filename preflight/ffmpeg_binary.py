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


def local_file(path) -> str:
    """How FFmpeg (the executable, or PyAV) must be given a local file's name.

    FFmpeg reads ``take1:final.mp4`` as protocol ``take1`` and ``pipe:0.mp4`` as standard input,
    and a name starting with ``-`` as an option; ``file:`` and an absolute path mean the file,
    whatever its name.
    """
    return "file:" + os.path.abspath(os.fspath(path))
