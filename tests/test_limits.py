"""Every documented limit, tested on a real file at each side of it."""

from __future__ import annotations

import pytest

from preflight import Status, check

P, W, F = Status.PASS, Status.WARN, Status.FAIL

IMAGE_EDGES = [
    # fixture, check id, expected status
    ("side_299.png", "image.dimensions", F),
    ("side_300.png", "image.dimensions", P),
    ("header_65536.png", "image.dimensions", P),
    ("header_65537.png", "image.dimensions", F),
    ("aspect_2.5.png", "image.aspect_ratio", P),
    ("aspect_2.501.png", "image.aspect_ratio", F),
    ("aspect_1_2.5.png", "image.aspect_ratio", P),
    ("aspect_1_2.501.png", "image.aspect_ratio", F),
    ("size_10000000.png", "image.file_size", P),
    ("size_10000001.png", "image.file_size", F),
    ("ok_portrait.jpg", "image.format", P),
    ("ok_landscape.png", "image.format", P),
    ("png_named.jpg", "image.format", W),
    ("refused.webp", "image.format", F),
    ("refused.gif", "image.format", F),
    ("refused.bmp", "image.format", F),
    ("refused.tiff", "image.format", F),
    ("refused.heic", "image.format", F),
    ("cmyk.jpg", "image.encoding", W),
    ("gray16.png", "image.encoding", W),
    ("ok_portrait.jpg", "image.encoding", P),
]

VIDEO_EDGES = [
    # fixture, orientation, check id, expected status
    ("dur_2.99s.mp4", "image", "video.duration", F),
    ("dur_3.00s.mp4", "image", "video.duration", P),
    ("dur_10.0s.mp4", "image", "video.duration", P),
    ("dur_10.2s.mp4", "image", "video.duration", F),
    ("dur_10.2s.mp4", "video", "video.duration", P),
    ("dur_30.0s.mp4", "video", "video.duration", P),
    ("dur_30.2s.mp4", "video", "video.duration", F),
    ("dur_30.0s.mp4", "image", "video.duration", F),
    ("side_339.mp4", "image", "video.dimensions", F),
    ("side_340.mp4", "image", "video.dimensions", P),
    ("side_3850.mp4", "image", "video.dimensions", P),
    ("side_3851.mp4", "image", "video.dimensions", F),
    ("size_100000000.mp4", "image", "video.file_size", P),
    ("size_100000001.mp4", "image", "video.file_size", F),
    ("ok_landscape.mp4", "image", "video.container", P),
    ("ok.mov", "image", "video.container", P),
    ("refused.webm", "image", "video.container", F),
    ("refused.mkv", "image", "video.container", F),
    ("ok_landscape.mp4", "image", "video.codec", P),
    ("hevc.mp4", "image", "video.codec", W),
]


@pytest.mark.parametrize("name,check_id,expected", IMAGE_EDGES)
def test_image_limit(fx, name, check_id, expected):
    report = check(image=fx / "image" / name, metadata_only=True)
    found = report.get(check_id)
    assert found.status is expected, found.message
    assert report.ok is (expected is not F)


@pytest.mark.parametrize("name,orientation,check_id,expected", VIDEO_EDGES)
def test_video_limit(fx, name, orientation, check_id, expected):
    report = check(video=fx / "video" / name, orientation=orientation, metadata_only=True)
    found = report.get(check_id)
    assert found.status is expected, found.message


def test_failed_limits_report_measured_and_limit(fx):
    report = check(image=fx / "image" / "side_299.png", video=fx / "video" / "dur_10.2s.mp4", metadata_only=True)
    dims = report.get("image.dimensions")
    assert dims.measured == {"width": 299, "height": 600, "exif_orientation": None}
    assert dims.limit == {"min_side": 300, "max_side": 65536}
    duration = report.get("video.duration")
    assert duration.measured["seconds"] == pytest.approx(10.2, abs=0.001)
    assert duration.limit == {"min": 3.0, "max": 10.0, "orientation": "image"}
    assert "--orientation video" in duration.message  # tells the user the other way out


def test_size_messages_say_which_reading(fx):
    report = check(image=fx / "image" / "size_10000001.png", video=fx / "video" / "size_100000001.mp4",
                   metadata_only=True)
    assert "10,000,000 bytes, not 10 MiB" in report.get("image.file_size").message
    assert "100,000,000 bytes, not 100 MiB" in report.get("video.file_size").message
    assert report.get("image.file_size").measured == 10_000_001


def test_exif_rotation_is_applied_to_image_size(fx):
    report = check(image=fx / "image" / "exif_rotated.jpg", metadata_only=True)
    dims = report.get("image.dimensions")
    assert (dims.measured["width"], dims.measured["height"]) == (720, 1280)  # stored 1280x720
    assert dims.measured["exif_orientation"] == 6


def test_rotation_metadata_is_applied_to_video_size(fx):
    report = check(video=fx / "video" / "rotated_phone.mp4", metadata_only=True)
    dims = report.get("video.dimensions")
    assert (dims.measured["width"], dims.measured["height"]) == (1080, 1920)
    assert (dims.measured["coded_width"], dims.measured["coded_height"]) == (1920, 1080)
    assert abs(dims.measured["rotation"]) == 90


@pytest.mark.parametrize("name, seconds", [("cover_art_12s.mp4", 12.0), ("cover_art.mkv", 3.5)])
def test_cover_picture_is_not_taken_for_the_clip(fx, name, seconds):
    """The 1280x720 cover is a video stream too (MP4) or read back as one (Matroska attachment)."""
    report = check(video=fx / "video" / name, orientation="video", metadata_only=True)
    dims = report.get("video.dimensions").measured
    assert (dims["width"], dims["height"]) == (640, 360)
    assert report.get("video.duration").measured["seconds"] == pytest.approx(seconds, abs=0.05)
    assert report.get("video.codec").measured["codec"] == "h264"


def test_audio_warning_follows_keep_sound(fx):
    silent = fx / "video" / "ok_landscape.mp4"
    assert check(video=silent, metadata_only=True).get("video.audio").status is W  # keep_sound defaults to on
    assert check(video=silent, keep_sound=False, metadata_only=True).get("video.audio").status is P
    with_audio = check(video=fx / "video" / "ok_portrait_audio.mp4", metadata_only=True).get("video.audio")
    assert with_audio.status is P and "aac" in with_audio.message


def test_variable_frame_rate_video_is_measured(fx):
    report = check(video=fx / "video" / "vfr.mp4", metadata_only=True)
    assert report.get("video.readable").status is P
    assert report.get("video.duration").measured["seconds"] == pytest.approx(4.0, abs=0.05)


def test_giant_png_is_measured_without_decoding(fx):
    # 65536 x 65536 would need gigabytes decoded; the header is read and the decode is bounded.
    report = check(image=fx / "image" / "header_65536.png")
    assert report.get("image.dimensions").status is P
    assert report.get("image.readable").status is P
    assert "not decoded" in report.get("image.readable").message
