"""Issue 16: the profile drives all three tools. A second profile (another model: other limits,
other qualities) changes what preflight, prep and submit do, and a broken profile is a usage
error naming the file and the key, in each tool."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from preflight.profile import PROFILE_DIR
from submit_support import run_submit


def other_profile(folder: Path, **replace: str) -> Path:
    """The bundled profile with another model id, a 3.5 s limit for orientation image, and the
    qualities 480p and 720p; ``replace`` swaps further lines (old=new, by exact text)."""
    text = (PROFILE_DIR / "kling-v3-motion-control.toml").read_text()
    swaps = {
        'id = "kling-v3-motion-control"': 'id = "other-motion-model"',
        'value = "kling-v3-motion-control"': 'value = "other-motion-model"',
        "value = { image = 10.0, video = 30.0 }": "value = { image = 3.5, video = 30.0 }",
        'value = ["720p", "1080p"]': 'value = ["480p", "720p"]',
        'value = "720p"': 'value = "480p"',
        'value = { "720p" = 8.1648, "1080p" = 10.88368 }': 'value = { "480p" = 4.0, "720p" = 8.1648 }',
        'value = { "720p" = 0.1134, "1080p" = 0.1512 }': 'value = { "480p" = 0.0556, "720p" = 0.1134 }',
        'value = { "720p" = "720p", "1080p" = "1080p" }': 'value = { "480p" = "480p", "720p" = "720p" }',
        **replace,
    }
    for old, new in swaps.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = folder / "other.toml"
    path.write_text(text)
    return path


def test_preflight_judges_by_the_profile_given(fx, tmp_path):
    other = other_profile(tmp_path)
    clip = fx / "video/person_steady.mp4"  # 4.0 s
    default = run_cli("--video", clip, "--metadata-only", "--format", "json")
    mine = run_cli("--video", clip, "--metadata-only", "--quality", "480p", "--profile", other, "--format", "json")
    duration = {c["id"]: c for c in mine.json()["checks"]}["video.duration"]
    assert default.code == 0 and mine.code == 1 and "3.5 s limit" in duration["message"]
    assert mine.json()["profile"] == "other-motion-model" and mine.json()["request"]["quality"] == "480p"
    assert mine.json()["cost"]["quality"] == "480p"
    refused = run_cli("--video", clip, "--metadata-only", "--quality", "480p")
    assert refused.code == 2 and "480p" in refused.stderr and "720p, 1080p" in refused.stderr


def test_prep_trims_to_the_profiles_limit(fx, tmp_path):
    other = other_profile(tmp_path)
    done = subprocess.run([sys.executable, "-m", "prep", "--video", fx / "video/person_steady.mp4", "--metadata-only",
                           "--profile", other, "-o", tmp_path / "out", "--format", "json"], capture_output=True,
                          text=True, timeout=300)
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["ok"], done.stdout[-2000:] + done.stderr
    assert result["preflight"]["profile"] == "other-motion-model"
    assert [s["action"] for s in result["plan"][0]["steps"]][0] == "trim"
    from preflight.probe import probe_file

    kept = probe_file(result["outputs"][0]["path"], verify_pixels=False).video.durations()
    assert 3.0 <= max(kept.values()) <= 3.5


def test_submit_sends_the_profiles_model_and_words(fx, tmp_path):
    other = other_profile(tmp_path)
    args = ["--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4", "--orientation",
            "video", "--quality", "480p", "--metadata-only", "--dry-run", "--format", "json"]
    env = {"SUBMIT_JOURNAL": str(tmp_path / "j.sqlite3"), "SUBMIT_CONFIG": str(tmp_path / "absent.toml"),
           "EVOLINK_API_KEY": ""}
    mine = run_submit(*args, "--profile", other, env=env)
    assert mine.code == 0, mine.stderr
    assert mine.json()["body"]["model"] == "other-motion-model" and mine.json()["body"]["quality"] == "480p"
    default = run_submit(*args, env=env)
    assert default.code == 2 and "480p" in default.stderr


@pytest.mark.parametrize("tool", ["preflight", "prep", "submit"])
def test_a_broken_profile_is_a_usage_error_naming_file_and_key(fx, tmp_path, tool):
    broken = other_profile(tmp_path, **{"value = 2500": 'value = "many"'})  # request.prompt_max_chars
    args = ["--image", str(fx / "image/person_upper.png"), "--profile", str(broken)]
    module = {"preflight": "preflight", "prep": "prep", "submit": "submit.cli"}[tool]
    extra = ["--orientation", "image", "--dry-run"] if tool == "submit" else ["--metadata-only"]
    done = subprocess.run([sys.executable, "-m", module, *args, *extra], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "EVOLINK_API_KEY": "",
                               "SUBMIT_CONFIG": str(tmp_path / "absent.toml")})
    assert done.returncode == 2, done.stderr
    assert str(broken) in done.stderr and "request.prompt_max_chars" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_the_job_schema_speaks_the_bundled_profiles_words():
    from preflight.job import SCHEMA_PATH
    from preflight.profile import load_profile

    schema = json.loads(SCHEMA_PATH.read_text())["properties"]
    profile = load_profile()
    assert schema["orientation"]["enum"] == profile.value("request.orientations")
    assert schema["quality"]["enum"] == profile.value("request.qualities")
