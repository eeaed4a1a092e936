"""Issue 5, point 10: preflight, prep, host, create, poll, download against the local servers,
then probe the downloaded result, all in one test."""

from __future__ import annotations

import pytest

import prep
from preflight import check
from preflight.probe import probe_file
from preflight.profile import load_profile
from submit import Client, Journal, RetryPolicy
from submit import flow
from submit.body import generation_body
from submit.fake import FakeEvoLink
from submit.hosting import EvoLinkFilesHost, S3Host
from submit_support import SECRET, seen_files
from test_submit import BUCKET, s3  # noqa: F401 - the moto fixture

PROFILE = load_profile("kling-v3-motion-control")


def test_preflight_prep_host_create_poll_download_probe(fx, tmp_path, s3):  # noqa: F811
    image, video = fx / "image/side_299.png", fx / "video/dur_10.2s.mp4"
    before = check(image=image, video=video, orientation="image", metadata_only=True)
    assert {c.id for c in before.checks if c.status.value == "fail"} == {"image.dimensions", "video.duration"}

    fixed = prep.apply(prep.plan(image=image, video=video, orientation="image", out_dir=tmp_path / "prepped",
                                 metadata_only=True))
    assert fixed.ok
    outputs = {o["role"]: o["path"] for o in fixed.outputs}
    report = flow.gate(outputs["image"], outputs["video"], prep_request(), PROFILE, metadata_only=True)
    assert report.ok

    with FakeEvoLink(api_key=SECRET, polls_to_complete=3) as server, \
            Client(SECRET, api_base=server.url, files_base=server.url, retry=RetryPolicy(base_delay=0.05)) as client, \
            Journal(tmp_path / "journal.sqlite3") as journal:
        hosted = flow.host_inputs(outputs, {
            "image": EvoLinkFilesHost(client),
            "video": S3Host(BUCKET, endpoint_url=s3["endpoint"], region="us-east-1", lifetime=3600),
        })
        assert hosted["image"].host == "evolink-files" and hosted["video"].host == "s3"
        body = generation_body(PROFILE, prep_request().resolve(PROFILE), hosted["image"].url, hosted["video"].url)
        created = flow.create(client, journal, body, report.cost.to_dict())
        assert created.reserved["credits"] <= report.cost.credits  # the estimate never undershoots
        statuses = []
        task = client.wait(created.task.id, interval=0.02, on_update=lambda t: statuses.append(t.status))
        files = flow.download(client, journal, task, tmp_path / "results", PROFILE)
        entry = journal.get(created.row)

    assert statuses == ["processing", "processing", "completed"]
    assert entry.status == "completed" and entry.outputs == [str(files[0].path)]
    result = probe_file(str(files[0].path), expect="video")
    assert result.problem is None
    assert max(result.video.durations().values()) == pytest.approx(10.0, abs=0.05)
    assert result.video.codec == "h264" and result.video.pix_fmt == "yuv420p"
    assert result.video.display_size == probe_file(outputs["video"], expect="video").video.display_size
    assert all(SECRET not in text for text in seen_files(tmp_path))


def prep_request():
    from preflight import Request

    return Request(orientation="image", prompt="a person standing")
