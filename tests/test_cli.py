"""The command line: report shape, exit codes, modes, and what the metadata-only path imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import run_cli

REQUIRED_IDS = {
    "image": {"image.readable", "image.format", "image.file_size", "image.dimensions", "image.aspect_ratio"},
    "video": {"video.readable", "video.container", "video.file_size", "video.dimensions", "video.duration",
              "video.audio"},
    "request": {"request.quality", "request.orientation", "request.prompt", "request.element_list",
                "request.callback_url"},
}
CONTENT_IDS = {"image.person", "image.body_visibility", "image.upright", "image.subject_size", "video.cuts",
               "video.people", "video.body_visibility", "video.camera_motion", "video.fast_motion",
               "video.subject_size", "video.usable_segment", "pair.framing"}


def test_good_pair_passes_with_exit_0_and_json_shape(fx):
    result = run_cli("--image", fx / "image" / "person_upper.png", "--video", fx / "video" / "person_steady.mp4",
                     "--format", "json")
    assert result.code == 0, result.stdout
    assert result.stderr == ""  # no model chatter on stderr
    report = result.json()
    assert report["ok"] is True
    ids = {c["id"] for c in report["checks"]}
    for group in REQUIRED_IDS.values():
        assert group <= ids
    assert CONTENT_IDS <= ids
    for c in report["checks"]:
        assert c["subject"] in ("image", "video", "request", "pair")
        assert c["status"] in ("pass", "warn", "fail", "skip")
        assert isinstance(c["message"], str) and c["message"]
    numeric = next(c for c in report["checks"] if c["id"] == "video.file_size")
    assert isinstance(numeric["measured"], int) and numeric["limit"] == 100_000_000


def test_a_batch_in_one_worker_prints_no_model_chatter(fx, tmp_path):
    """A worker keeps its models between units and readies them for the next one; mediapipe
    restarts a graph on its own thread, and what its models print then must not reach stderr
    after the capture of native output has ended (two pictures, two clips, one worker)."""
    result = run_cli("--jobs", "1", "--cache-dir", tmp_path, "--format", "json",
                     fx / "image" / "person_upper.png", fx / "image" / "person_upside_down.png",
                     fx / "video" / "person_steady.mp4", fx / "video" / "people_pair.mp4")
    assert len(result.json()["reports"]) == 4
    assert result.stderr == ""


def test_failure_exits_1_and_strict_fails_on_warnings(fx):
    bad = run_cli("--video", fx / "video" / "dur_10.2s.mp4", "--no-keep-sound", "--metadata-only")
    assert bad.code == 1 and "FAIL" in bad.stdout
    warned_only = ["--image", fx / "image" / "png_named.jpg", "--metadata-only"]
    assert run_cli(*warned_only).code == 0
    assert run_cli(*warned_only, "--strict").code == 1


def test_usage_errors_exit_2(fx):
    assert run_cli().code == 2  # nothing to check
    assert run_cli("--video", fx / "video" / "ok.mov", "--quality", "4k").code == 2
    assert run_cli("--video", fx / "video" / "ok.mov", "--orientation", "sideways").code == 2
    assert run_cli("--video", fx / "video" / "ok.mov", "--format", "yaml").code == 2
    assert run_cli("--image", fx / "image" / "ok_portrait.jpg", fx / "video" / "ok.mov").code == 2
    assert run_cli("--video", fx / "video" / "ok.mov", "--profile", "no-such-model").code == 2


@pytest.mark.parametrize("tool", ["preflight", "prep"])
def test_a_usage_error_asked_for_in_json_is_a_json_object_on_stdout(fx, tool, tmp_path):
    bad_job = tmp_path / "bad.job.toml"
    bad_job.write_text('video = "clip.mp4"\norientation = "sideways"\n')
    second = ["--format=json", "--job", bad_job] if tool == "prep" else ["--format=json", "--quality", "sideways", bad_job]
    for args in (["--format", "json", "--video", fx / "video" / "ok.mov", "--orientation", "sideways"], second):
        done = subprocess.run([sys.executable, "-m", tool, *map(str, args)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "sideways" in done.stderr
        error = json.loads(done.stdout)["error"]
        assert error["code"] == "usage_error" and error["exit_code"] == 2 and "sideways" in error["message"]
    text = subprocess.run([sys.executable, "-m", tool, "--orientation", "sideways"], capture_output=True, text=True,
                          timeout=120)
    assert text.returncode == 2 and text.stdout == ""


def test_default_orientation_is_stated_in_text_report(fx):
    result = run_cli("--video", fx / "video" / "ok.mov")
    assert "orientation image (default)" in result.stdout.splitlines()[0]
    assert "Cost estimate" in result.stdout
    assert "defaulted to the stricter 10 s limit" in run_cli("--video", fx / "video" / "ok.mov", "-v").stdout


def test_bare_files_are_told_apart_by_content(fx):
    result = run_cli(fx / "image" / "png_named.jpg", fx / "video" / "png_named.mp4", fx / "video" / "ok.mov",
                     "--format", "json", "--metadata-only")
    reports = result.json()["reports"]  # each bare file is its own report
    roles = {i["path"].rsplit("/", 1)[-1]: i["role"] for r in reports for i in r["inputs"]}
    assert roles == {"png_named.jpg": "image", "png_named.mp4": "image", "ok.mov": "video"}
    per_file = {}
    for c in (c for r in reports for c in r["checks"]):
        if c.get("file"):
            per_file.setdefault(c["file"].rsplit("/", 1)[-1], set()).add(c["id"])
    assert REQUIRED_IDS["image"] <= per_file["png_named.mp4"]
    assert REQUIRED_IDS["video"] <= per_file["ok.mov"]


def test_json_matches_library_report(fx):
    from preflight import check

    args = dict(image=fx / "image" / "ok_portrait.jpg", video=fx / "video" / "ok.mov", orientation="video",
                quality="1080p", prompt="a dancer", metadata_only=True)
    library = check(**args).to_dict()
    cli = run_cli("--image", args["image"], "--video", args["video"], "--orientation", "video", "--quality", "1080p",
                  "--prompt", "a dancer", "--metadata-only", "--format", "json").json()
    assert cli == json.loads(json.dumps(library))


def test_metadata_only_imports_no_vision_libraries(fx):
    code = (
        "import sys, preflight\n"
        f"r = preflight.check(image={str(fx / 'image' / 'ok_portrait.jpg')!r}, "
        f"video={str(fx / 'video' / 'ok.mov')!r}, metadata_only=True)\n"
        "assert r.ok, r.to_dict()\n"
        "heavy = [m for m in ('cv2', 'mediapipe', 'numpy', 'PIL') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_analysis_imports_only_the_mediapipe_it_uses(fx):
    """A cold single-image check spent 0.5 s importing mediapipe's drawing utilities (and
    matplotlib) and its Tasks API; it needs neither. Code that then imports mediapipe as
    documented still finds all of it."""
    code = (
        "import sys, preflight\n"
        f"r = preflight.check(image={str(fx / 'image' / 'person_upper.png')!r})\n"
        "assert r.get('image.person').status.value == 'pass', r.to_dict()\n"
        "print(','.join(m for m in ('matplotlib', 'mediapipe.tasks') if m in sys.modules))\n"
        "import mediapipe as mp\n"
        "print(mp.__version__, mp.solutions.drawing_utils.draw_landmarks.__name__, mp.tasks.vision.PoseLandmarker.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    light, full = done.stdout.splitlines()
    assert light == "" and full == "0.10.21 draw_landmarks PoseLandmarker"


def test_cost_estimate_in_json(fx):
    report = run_cli("--video", fx / "video" / "dur_10.2s.mp4", "--orientation", "image", "--format", "json",
                     "--metadata-only").json()
    cost = report["cost"]
    assert cost["billed_seconds"] == 10 and cost["quality"] == "720p"
    assert cost["credits"] == round(8.1648 * 10, 4)
    assert "rounded up" in cost["basis"]


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("preflight, version ")
    help_text = run_cli("--help").stdout
    for option in ("--image", "--video", "--orientation", "--quality", "--prompt", "--keep-sound", "--element-id",
                   "--callback-url", "--format", "--strict", "--metadata-only"):
        assert option in help_text


def test_text_shows_what_needs_attention_and_more_on_request(fx):
    args = ["--image", fx / "image" / "people_pair.png", "--video", fx / "video" / "ok.mov", "--metadata-only"]
    normal, verbose, quiet = run_cli(*args), run_cli(*args, "-v"), run_cli(*args, "--quiet")
    assert normal.code == verbose.code == quiet.code
    assert "PASS" not in normal.stdout and "Note:" not in normal.stdout and "Cost estimate" in normal.stdout
    assert "  PASS  image.format" in verbose.stdout and "Note: orientation not given" in verbose.stdout
    assert quiet.stdout.strip().count("\n") == 0 and quiet.stdout.startswith(("OK:", "FAILED:"))
    verdict = normal.stdout.strip().splitlines()[-1]
    assert verbose.stdout.strip().splitlines()[-1] == verdict == quiet.stdout.strip()


def test_facts_dump_the_readings_the_checks_use(fx):
    done = run_cli("--facts", fx / "video" / "rotated_phone.mp4", fx / "image" / "exif_rotated.jpg", fx / "image" / "empty.jpg")
    assert done.code == 1  # one of the three cannot be read
    video, image, empty = done.json()["files"]
    assert (video["video"]["coded_width"], video["video"]["display_width"], video["video"]["rotation"]) == (1920, 1080, 90)
    assert video["video"]["duration_judged"] == max(video["video"]["duration_readings"].values())
    assert (image["image"]["width"], image["image"]["display_width"], image["image"]["exif_orientation"]) == (1280, 720, 6)
    assert empty["problem"] and "image" not in empty
    assert run_cli("--facts").code == 2


def test_the_cache_is_capped_and_can_be_cleared(fx, tmp_path):
    from preflight.cache import Cache

    cache_dir = tmp_path / "cache"
    assert run_cli(fx / "image" / "ok_portrait.jpg", "--metadata-only", "--cache-dir", cache_dir).code == 0
    cache = Cache(cache_dir)
    stored = list((cache_dir / "reports").glob("??/*.json"))
    assert stored and (cache_dir / "file-hashes.json").is_file()
    (cache_dir / "reports" / "mine.txt").write_text("not the cache's")  # a file it did not write stays
    size = sum(p.stat().st_size for p in stored)
    assert cache.prune(max_bytes=0) == size and not any(p.exists() for p in stored)
    assert run_cli(fx / "image" / "ok_portrait.jpg", "--metadata-only", "--cache-dir", cache_dir).code == 0
    cleared = run_cli("--clear-cache", "--cache-dir", cache_dir)
    assert cleared.code == 0 and "2 cached files removed" in cleared.stdout
    assert not list((cache_dir / "reports").glob("??/*.json")) and not (cache_dir / "file-hashes.json").exists()
    assert (cache_dir / "reports" / "mine.txt").is_file()


def test_fix_hints_name_the_place_the_setting_came_from(fx, tmp_path):
    """An option given on the command line is fixed there; one from the configuration, in it."""
    config = tmp_path / "preflight.toml"
    config.write_text('orientation = "image"\n')
    clip = fx / "video" / "dur_10.2s.mp4"
    from_config = run_cli("--video", clip, "--config", config, "--metadata-only", "--format", "json").json()
    duration = next(c for c in from_config["checks"] if c["id"] == "video.duration")["message"]
    assert 'orientation = "video" in the configuration' in duration and "--orientation" not in duration
    from_option = run_cli("--video", clip, "--config", config, "--orientation", "image", "--metadata-only",
                          "--format", "json").json()
    duration = next(c for c in from_option["checks"] if c["id"] == "video.duration")["message"]
    assert "use --orientation video" in duration
