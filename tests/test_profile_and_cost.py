"""Constraints are data: the profile holds every number, code holds none; the cost follows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from preflight import ProfileError, Status, check, load_profile
from preflight.cost import estimate
from preflight.request import Request

ROOT = Path(__file__).resolve().parent.parent


def test_every_entry_names_its_source():
    profile = load_profile()
    assert profile.id == "kling-v3-motion-control"
    for key, limit in profile.limits.items():
        assert limit.source.strip(), key


def test_spec_numbers_live_only_in_the_profile():
    # The documented limits must not be written again in the checks or the cost code.
    spec_numbers = ["300", "65536", "340", "3850", "2500", "2048", "10_000_000", "10000000", "100_000_000",
                    "100000000", "8.1648", "10.88368", "0.1134", "0.1512", "2.5"]
    for path in [*(ROOT / "preflight" / "checks").glob("*.py"), ROOT / "preflight" / "cost.py"]:
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
        for number in spec_numbers:
            assert not re.search(rf"(?<![\w.]){re.escape(number)}(?![\w.])", code), f"{number} in {path.name}"


def test_a_profile_file_changes_the_verdicts(fx, tmp_path):
    text = (ROOT / "preflight" / "profiles" / "kling-v3-motion-control.toml").read_text()
    relaxed = tmp_path / "relaxed.toml"
    relaxed.write_text(text.replace('id = "kling-v3-motion-control"', 'id = "relaxed"', 1)
                       .replace("[image.min_side]\nvalue = 300", "[image.min_side]\nvalue = 200"))
    image = fx / "image" / "side_299.png"
    assert check(image=image).get("image.dimensions").status is Status.FAIL
    report = check(image=image, profile=str(relaxed))
    assert report.profile == "relaxed"
    assert report.get("image.dimensions").status is Status.PASS


def test_malformed_profiles_are_refused(tmp_path):
    with pytest.raises(ProfileError, match="no profile"):
        load_profile("no-such-model")
    sourceless = tmp_path / "bad.toml"
    sourceless.write_text('[profile]\nid = "bad"\n[image.min_side]\nvalue = 1\n')
    with pytest.raises(ProfileError, match="no 'source'"):
        load_profile(sourceless)


@pytest.mark.parametrize("quality,orientation,seconds,billed", [
    ("720p", "image", 5.0, 5),
    ("720p", "image", 3.2, 4),     # rounded up, never down
    ("720p", "image", 12.0, 10),   # capped at the orientation's maximum
    ("1080p", "video", 12.0, 12),
    ("720p", "video", 2.0, 3),     # the 3 s minimum output
    ("1080p", "video", None, 30),  # no video: the upper bound
])
def test_cost_estimate(quality, orientation, seconds, billed):
    profile = load_profile()
    request = Request(orientation=orientation, quality=quality).resolve(profile)
    cost = estimate(profile, request, seconds)
    per_second = profile.value("billing.credits_per_second")[quality]
    assert cost.billed_seconds == billed
    assert cost.credits == pytest.approx(per_second * billed)
    assert cost.usd == pytest.approx(profile.value("billing.usd_per_second")[quality] * billed)
    assert cost.upper_bound is (seconds is None)
