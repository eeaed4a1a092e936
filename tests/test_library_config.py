"""Issue 16: the library's ``check()`` honours a configuration the way the command does: the same
severities, thresholds and request defaults give the same report."""

from __future__ import annotations

import importlib
import re

from conftest import ROOT, run_cli
from preflight import Status, check


def test_check_with_a_config_gives_the_commands_report(fx, tmp_path):
    config = tmp_path / "preflight.toml"
    config.write_text('orientation = "video"\nmetadata_only = true\n\n[checks]\n"video.audio" = "off"\n'
                      '"image.dimensions" = "warn"\n\n[thresholds]\n"video.min_duration" = 5.0\n')
    image, video = fx / "image/side_299.png", fx / "video/person_steady.mp4"
    library = check(image=image, video=video, config=config)
    command = run_cli("--image", image, "--video", video, "--config", config, "--format", "json").json()
    assert [(c.id, c.status.value, c.message) for c in library.checks] == \
        [(c["id"], c["status"], c["message"]) for c in command["checks"]]
    found = {c.id: c for c in library.checks}
    assert library.request.orientation == "video" and library.metadata_only
    assert found["video.audio"].status is Status.SKIP and found["image.dimensions"].status is Status.WARN
    assert found["video.duration"].status is Status.FAIL  # 4 s under the configured 5 s minimum
    plain = {c.id: c for c in check(image=image, video=video, metadata_only=True).checks}
    assert plain["image.dimensions"].status is Status.FAIL and plain["video.duration"].status is Status.PASS


def test_the_public_surface_is_the_documented_one():
    """docs/library.md lists each package's public names; they are its ``__all__``, and each exists."""
    table = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", (ROOT / "docs/library.md").read_text(), re.M))
    assert set(table) == {"preflight", "prep", "submit"}
    for name, listed in table.items():
        package = importlib.import_module(name)
        assert sorted(re.findall(r"`(\w+)`", listed)) == sorted(package.__all__), name
        assert all(hasattr(package, public) for public in package.__all__), name
        assert (ROOT / name / "py.typed").is_file()
