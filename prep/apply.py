"""Carry out a Plan: ffmpeg for video, Pillow for images; every output written to a temporary
file beside its destination and renamed into place, so no half-written file is ever left."""

from __future__ import annotations

import ctypes
import io
import signal
import subprocess
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preflight import ElementRequest, Report, check
from preflight.atomic import atomic_output, write_problem
from preflight.ffmpeg_binary import ffmpeg_exe, local_file
from preflight.probe.pictures import open_picture
from preflight.progress import Update as Progress
from preflight.progress import analysis_progress

from .errors import PrepError
from .plan import MediaPlan, Plan

# JPEG qualities tried, best first, when an image must come in under the size limit.
_JPEG_QUALITIES = (95, 90, 85, 80, 70, 60)
_FFMPEG_ERROR_LINES = 8


@dataclass
class PrepResult:
    plan: Plan
    outputs: list[dict[str, Any]] = field(default_factory=list)  # {"role", "path", "changed"}
    report: Report | None = None  # preflight on the outputs

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.ok and not any(i.refused for i in self.plan.items)


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the ffmpeg child, before exec: be killed when prep dies, however prep dies (SIGKILL
    included), so no orphan goes on writing a file nothing will rename or remove."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _follow(child: subprocess.Popen, item: MediaPlan, progress: Progress) -> str:
    """Read ffmpeg's ``-progress`` lines as it encodes, reporting the seconds written; its stderr
    (a few lines at ``-loglevel error``) is read beside them so neither pipe fills."""
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.append(child.stderr.read()), daemon=True)
    reader.start()
    label = f"encoding {Path(item.output).name}"
    for line in child.stdout:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.isdigit():
            progress(f"encode:{item.output}", label, min(int(value) / 1e6, item.output_seconds), item.output_seconds)
    child.wait()
    reader.join()
    return "".join(errors)


def _spawn(argv: list[str], read_stdout: bool = False) -> subprocess.Popen:
    """Start a child whose stderr is kept. While it is forked, Python runs at-fork callbacks
    (logging's lock, for one), and a KeyboardInterrupt raised by a signal handler inside one is
    printed as "Exception ignored" and dropped, so the run would go on. Ctrl-C and SIGTERM are
    therefore held for that moment and acted on once the child exists."""
    held: list[int] = []
    previous = {}
    if threading.current_thread() is threading.main_thread():  # only the main thread may set handlers
        for signum in (signal.SIGINT, signal.SIGTERM):
            if callable(signal.getsignal(signum)):  # a Python handler would raise; the defaults need no care
                previous[signum] = signal.signal(signum, lambda number, frame: held.append(number))
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE if read_stdout else subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True,
                                 errors="replace", preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if held:
        child.kill()
        child.wait()
        raise KeyboardInterrupt
    return child


def _run_ffmpeg(item: MediaPlan, tmp: Path, progress: Progress | None = None) -> None:
    placeholder = local_file(item.output)
    args = [local_file(tmp) if a == placeholder else a for a in item.ffmpeg_args]
    if progress is not None and item.output_seconds:
        args = ["-progress", "pipe:1", "-nostats", *args]  # key=value lines on stdout as it encodes
    with _spawn([ffmpeg_exe(), *args], progress is not None) as child:
        try:
            if progress is not None and item.output_seconds:
                stderr = _follow(child, item, progress)
            else:
                _, stderr = child.communicate()
        except BaseException:  # interrupted: the child goes too, before its temporary folder is removed
            child.kill()
            raise
    if child.returncode != 0 or not tmp.exists():
        tail = "\n".join(stderr.strip().splitlines()[-_FFMPEG_ERROR_LINES:]) or f"exit code {child.returncode}"
        raise PrepError(f"{item.source}: ffmpeg failed:\n{tail}")


def _in_srgb(im, icc: bytes):
    """The picture's colours carried from its embedded profile into sRGB. The output carries no
    profile, and services and the model read pixel values as sRGB: a phone's Display P3 photo
    whose profile were simply dropped would come out dull, a CMYK one wrong."""
    from PIL import ImageCms

    alpha = im.getchannel("A") if im.mode == "RGBA" else None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(im.convert("RGB") if alpha is not None else im, source,
                                              ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im  # a profile littleCMS cannot use: the pixels as they are, as most viewers show them
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _jpeg(im, quality: int) -> bytes:
    """The picture as an optimized JPEG. With optimize, libjpeg must hold the whole output in one
    buffer, which Pillow sizes at one or two bytes a pixel: fine grain or noise needs up to
    three, and the save failed with "broken data stream". The buffer is sized for the worst case
    while this picture is written."""
    from PIL import ImageFile

    buf = io.BytesIO()
    usual = ImageFile.MAXBLOCK
    ImageFile.MAXBLOCK = max(usual, im.width * im.height * 3 + (1 << 16))
    try:
        im.save(buf, "JPEG", quality=quality, subsampling=0 if quality >= 90 else 2, optimize=True)
    finally:
        ImageFile.MAXBLOCK = usual
    return buf.getvalue()


def _image(item: MediaPlan, tmp: Path) -> None:
    from PIL import Image, ImageOps, ImageStat

    ops = item.image_ops
    if ops.get("copy"):
        tmp.write_bytes(Path(item.source).read_bytes())
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_picture(item.source) as im:
            im.seek(0)  # animated: the first frame
            icc = im.info.get("icc_profile")
            im = ImageOps.exif_transpose(im)
            keep_alpha = ops["format"] == "png" and ("A" in im.getbands() or "transparency" in im.info)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                im = im.point(lambda v: v / 256).convert("L")
            if icc and im.mode in ("RGB", "RGBA", "CMYK"):
                im = _in_srgb(im, icc)
            im = im.convert("RGBA" if keep_alpha else "RGB")
            im.info.pop("icc_profile", None)  # the pixels are sRGB now; Pillow would write the old profile again
    if "turn" in ops:
        im = im.rotate(90 * ops["turn"], expand=True)  # Pillow turns counter-clockwise
    if "resize" in ops:
        im = im.resize(tuple(ops["resize"]), Image.LANCZOS)
    if "crop" in ops:
        im = im.crop(tuple(ops["crop"]))
    if "pad" in ops:
        left, top, right, bottom = ops["pad"]
        fill = tuple(int(c) for c in ImageStat.Stat(im.convert("RGB")).mean)  # the picture's own average colour
        canvas = Image.new(im.mode, (right, bottom), fill + ((255,) if im.mode == "RGBA" else ()))
        canvas.paste(im, (left, top))
        im = canvas
    if ops["format"] == "png":
        buf = io.BytesIO()
        im.save(buf, "PNG", optimize=True)
        data = buf.getvalue()
    else:
        data = b""
        for quality in _JPEG_QUALITIES:
            data = _jpeg(im, quality)
            if len(data) <= ops["max_bytes"]:
                break
        if len(data) > ops["max_bytes"]:
            raise PrepError(f"{item.source}: even at JPEG quality {_JPEG_QUALITIES[-1]} the image is "
                            f"{len(data):,} bytes, over {ops['max_bytes']:,}")
    tmp.write_bytes(data)


def apply(plan: Plan, progress: Progress | None = None) -> PrepResult:
    """Write every planned output, then check them with preflight. Inputs are never touched.
    ``progress(key, label, done, total)``, when given, hears how encoding and the re-check go
    (``preflight.progress.terminal_progress`` draws it)."""
    todo = [i for i in plan.items if i.output and i.changes]
    for item in todo:
        out = Path(item.output)
        if out.exists() and not plan.force:
            raise PrepError(f"{out} already exists; pass --force to replace it")
        if out.resolve() == Path(item.source).resolve():
            raise PrepError(f"{out} is the input itself; choose another output folder")
    for item in todo:
        try:
            with atomic_output(Path(item.output)) as tmp:
                if item.role in ("video", "element_video"):
                    _run_ffmpeg(item, tmp, progress)
                else:
                    _image(item, tmp)
        except OSError as exc:  # a folder that cannot be written, a full disk, a file size limit
            raise PrepError(f"{item.output}: cannot be written ({write_problem(exc)}); nothing was left behind "
                            "and the input is untouched") from None
    result = PrepResult(plan)
    paths: dict[str, str] = {}
    for item in plan.items:
        if item.refused:
            continue
        path = item.output if item.output and item.changes else item.source
        paths[item.role] = path
        result.outputs.append({"role": item.role, "path": path, "changed": path != item.source})
    if paths:
        checking = analysis_progress(progress, "re-checking") if progress is not None else None
        element = ElementRequest(video=paths["element_video"]) if "element_video" in paths else None
        result.report = check(image=paths.get("image"), video=paths.get("video"), orientation=plan.orientation, element=element,
                              keep_sound=plan.keep_sound, profile=plan.profile, metadata_only=plan.metadata_only,
                              progress=checking)
    return result
