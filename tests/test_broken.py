"""Missing, empty, truncated, corrupt and non-media files: a failed *.readable check, never a traceback."""

from __future__ import annotations

import os

import pytest

from conftest import run_cli, sha256
from preflight import Status, check

BROKEN_IMAGES = {
    "empty.jpg": "empty",
    "not_an_image.jpg": "text file",
    "truncated_50.jpg": "truncated",
    "truncated_50.png": "truncated",
    "damaged_header.png": "checksum",
}
BROKEN_VIDEOS = {
    "empty.mp4": "empty",
    "not_a_video.mp4": "text file",
    "png_named.mp4": "PNG",
    "audio_only.mp4": "no video stream",
    "truncated_50.mp4": "truncated",
    "truncated_moov_lost.mp4": "cannot be read as a video",
}


@pytest.mark.parametrize("name,words", BROKEN_IMAGES.items())
def test_broken_image_fails_readable_naming_file_and_problem(fx, name, words):
    path = fx / "image" / name
    result = run_cli("--image", path, "--format", "json")
    assert result.code == 1
    readable = next(c for c in result.json()["checks"] if c["id"] == "image.readable")
    assert readable["status"] == "fail"
    assert str(path) in readable["message"] and words in readable["message"]


@pytest.mark.parametrize("name,words", BROKEN_VIDEOS.items())
def test_broken_video_fails_readable_naming_file_and_problem(fx, name, words):
    path = fx / "video" / name
    result = run_cli("--video", path, "--format", "json")
    assert result.code == 1
    readable = next(c for c in result.json()["checks"] if c["id"] == "video.readable")
    assert readable["status"] == "fail"
    assert str(path) in readable["message"] and words in readable["message"]


def test_missing_file_is_a_failed_check_not_a_usage_error(tmp_path):
    missing = tmp_path / "nope.mp4"
    result = run_cli("--video", missing)
    assert result.code == 1
    assert f"{missing}: file not found" in result.stdout


def test_directory_and_unreadable_file(tmp_path):
    report = check(image=tmp_path)
    assert "is a directory" in report.get("image.readable").message
    locked = tmp_path / "locked.jpg"
    locked.write_bytes(b"\xff\xd8\xff")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read any file (root)")
        assert "permission denied" in check(image=locked).get("image.readable").message
    finally:
        locked.chmod(0o644)


def test_every_id_is_present_even_when_unreadable(fx):
    report = check(image=fx / "image" / "empty.jpg", video=fx / "video" / "empty.mp4", metadata_only=True)
    ids = {c.id for c in report.checks}
    for required in ["image.readable", "image.format", "image.file_size", "image.dimensions", "image.aspect_ratio",
                     "video.readable", "video.container", "video.file_size", "video.dimensions",
                     "video.duration", "video.audio"]:
        assert required in ids
    # What could not be measured is skipped with a reason, never passed.
    assert report.get("image.dimensions").status is Status.SKIP
    assert report.get("video.duration").status is Status.SKIP
    assert report.get("image.file_size").status is Status.PASS  # 0 bytes is measured


def test_inputs_are_never_modified(fx):
    files = [fx / "image" / "truncated_50.jpg", fx / "image" / "ok_portrait.jpg", fx / "video" / "ok.mov",
             fx / "video" / "truncated_50.mp4"]
    before = {f: (sha256(f), os.stat(f).st_mtime_ns) for f in files}
    run_cli(*files)
    check(image=files[1], video=files[2])
    assert before == {f: (sha256(f), os.stat(f).st_mtime_ns) for f in files}
