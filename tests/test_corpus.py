"""Probing real files nobody on this project made, against the corpus manifest's measured facts."""

from __future__ import annotations

import pytest

from preflight import Status, check_files
from preflight.probe import probe_file

pytestmark = pytest.mark.corpus


def test_video_facts_match_manifest(corpus):
    videos = [e for e in corpus.values() if e["kind"] == "video" and not e["file"].endswith(".gif")]
    assert videos
    for e in videos:
        facts = probe_file(e["path"], expect="video", verify_pixels=False)
        assert facts.problem is None, (e["file"], facts.problem)
        v = facts.video
        assert (v.coded_width, v.coded_height) == (e["width"], e["height"]), e["file"]
        assert v.rotation == round(e.get("rotation") or 0), e["file"]
        assert bool(v.audio) == e["has_audio"], e["file"]
        readings = v.durations().values()
        assert any(abs(r - e["duration_s"]) < 0.01 for r in readings), (e["file"], list(readings))


def test_image_facts_match_manifest(corpus):
    images = [e for e in corpus.values() if e["kind"] == "image" and e.get("width")]
    for e in images:
        facts = probe_file(e["path"], expect="image")
        if facts.image.display_size is None:  # HEIF: size not measured, format refused
            assert facts.sniffed.format == "heif"
            continue
        assert facts.problem is None, (e["file"], facts.problem)
        assert (facts.image.width, facts.image.height) == (e["width"], e["height"]), e["file"]


def test_whole_corpus_runs_without_internal_errors(corpus):
    report = check_files([e["path"] for e in corpus.values()], metadata_only=True)
    assert not [c for c in report.checks if "internal error" in c.message]
    # Content mislabelled by its name is caught: JPEG data named .png, MP4 data named .avi.
    assert report.get("image.format", corpus["musepose__ref.png"]["path"]).status is Status.WARN
    assert report.get("video.container", corpus["openpose__video.avi"]["path"]).status is Status.WARN
