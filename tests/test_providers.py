"""Issue 18: one model, many hosts. Each host's profile (Kling AI's own API, fal) drives preflight
(one host, or a table of all), submit's backend for it (real HTTP to a local stand-in of each
host), and --provider auto, which falls back to the next host only when nothing was created."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
import uuid
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, run_cli
from preflight import check_providers
from preflight.profile import load_profile
from preflight.providers import host_profiles, markdown_table, sources_list
from submit.errors import ApiError
from submit.fake import FakeEvoLink, FakeFal, FakeKling
from submit.fal import FalClient
from submit.kling import KlingClient, kling_token
from submit_support import SECRET, env_for, run_submit, secret_guard, seen_files  # noqa: F401 - an autouse fixture
from test_submit import BUCKET, s3  # noqa: F401 - a fixture (moto's S3 server)

# Keys of the other hosts that must never be seen either.
KLING_ACCESS = f"ak-{uuid.uuid4().hex}"
KLING_SECRET = f"ks-{uuid.uuid4().hex}"
FAL_SECRET = f"fal-{uuid.uuid4().hex}"


@pytest.fixture
def pair(fx):
    return fx / "image/person_upper.png", fx / "video/person_steady.mp4"


def _never_seen(texts) -> None:
    """None of the other hosts' keys (nor a token made from them) in anything given."""
    for text in texts:
        for secret in (KLING_SECRET, FAL_SECRET):
            assert secret not in text
            assert base64.b64encode(secret.encode()).decode() not in text


def _hosts_env(folder: Path, *, evolink=None, fal=None, kling=None) -> dict:
    """submit's environment for the given local hosts (a host left out has no key)."""
    env = {"SUBMIT_JOURNAL": str(folder / "journal.sqlite3"), "SUBMIT_CONFIG": str(folder / "absent.toml"),
           "EVOLINK_API_KEY": "", "FAL_KEY": "", "KLING_ACCESS_KEY": "", "KLING_SECRET_KEY": "", "SUBMIT_S3_BUCKET": ""}
    if evolink is not None:
        env.update(env_for(evolink, folder))
    if fal is not None:
        env.update({"FAL_KEY": FAL_SECRET, "FAL_API_BASE": fal.url, "FAL_UPLOAD_BASE": fal.url})
    if kling is not None:
        env.update({"KLING_ACCESS_KEY": KLING_ACCESS, "KLING_SECRET_KEY": KLING_SECRET, "KLING_API_BASE": kling.url})
    return env


def _journal(folder: Path) -> list[dict]:
    with sqlite3.connect(folder / "journal.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM submissions ORDER BY id")]


# ---------------------------------------------------------------------- profiles

def test_each_host_has_a_profile_whose_host_values_cite_the_providers_spec():
    profiles = {p.host: p for p in host_profiles()}
    assert set(profiles) == {"evolink", "kling", "fal"}
    kling, fal = profiles["kling"], profiles["fal"]
    assert kling.value("request.model") == "kling-v3"  # or Kling serves v2.6
    assert kling.value("request.wire_quality") == {"720p": "std", "1080p": "pro"}
    assert kling.value("request.wire_keep_sound") == {"true": "yes", "false": "no"}
    assert kling.value("results.link_lifetime") == 30 * 86400
    assert fal.value("host.endpoints")["1080p"] == "fal-ai/kling-video/v3/pro/motion-control"
    for profile in (kling, fal):
        # Every value the host states itself names its section of spec/providers.md.
        own = [limit for key, limit in profile.limits.items() if key.startswith(("host.", "billing.usd"))]
        assert all("providers section" in limit.source or "AI SDK" in limit.source or "fal" in limit.source
                   for limit in own), [limit.key for limit in own]
    unconfirmed = {limit.key for limit in fal.limits.values() if not limit.confirmed}
    assert {"image.formats", "image.max_file_size", "video.max_file_size", "video.min_side",
            "billing.usd_per_second", "results.link_lifetime"} <= unconfirmed
    assert "video.max_duration" not in unconfirmed  # fal's page states 10 s / 30 s
    assert not kling.limit("billing.usd_per_second").confirmed
    assert all(limit.confirmed for key, limit in profiles["evolink"].limits.items() if key.startswith(("image.",
                                                                                                        "video.")))


def test_a_profile_written_before_hosts_still_loads_and_a_new_hosts_profile_must_say_how_to_reach_it(tmp_path):
    from preflight.profile import PROFILE_DIR, ProfileError

    text = (PROFILE_DIR / "kling-v3-motion-control.toml").read_text()
    # Without the host section, request.wire_quality and the [profile] host line: as profiles were.
    old = re.sub(r"\[host\.[a-z_]+\]\n(?:(?!\[).*\n)*", "", text)
    old = re.sub(r"\[request\.wire_quality\]\n(?:(?!\[).*\n)*", "", old).replace('host = "evolink"\n', "")
    assert "[host." not in old and "wire_quality" not in old
    (tmp_path / "old.toml").write_text(old)
    profile = load_profile(tmp_path / "old.toml")
    assert profile.creates_elements and profile.wire_quality("1080p") == "1080p"
    assert profile.key_names() == ["EVOLINK_API_KEY"]
    (tmp_path / "new.toml").write_text(old.replace('family = "kling-v3-motion-control"',
                                                   'family = "kling-v3-motion-control"\nhost = "acme"'))
    with pytest.raises(ProfileError) as caught:
        load_profile(tmp_path / "new.toml")
    assert "host 'acme' needs host.api_base, host.auth, host.key_env, request.wire_quality" in str(caught.value)


def test_a_failure_on_an_unconfirmed_limit_warns_and_says_so_but_a_confirmed_one_fails(fx):
    by_host = {v.host: v for v in check_providers(fx / "image/refused.webp", fx / "video/dur_10.2s.mp4",
                                                  orientation="image", metadata_only=True)}
    evolink_format = by_host["evolink"].report.get("image.format")
    fal_format = by_host["fal"].report.get("image.format")
    assert evolink_format.status.value == "fail" and not evolink_format.unconfirmed
    assert fal_format.status.value == "warn" and fal_format.unconfirmed == ["image.formats"]
    assert "UNCONFIRMED" in fal_format.message and "may accept" in fal_format.message
    # fal's maximum duration is stated; its minimum is not: the clip over the maximum still fails.
    for host in ("evolink", "kling", "fal"):
        assert by_host[host].report.get("video.duration").status.value == "fail", host
    assert not by_host["fal"].fits
    # A pass resting on an unconfirmed value names it too.
    size = by_host["fal"].report.get("video.file_size")
    assert size.status.value == "pass" and "video.max_file_size UNCONFIRMED" in size.message


# ---------------------------------------------------------------------- preflight --provider

def test_provider_all_prints_each_host_cheapest_first_with_price_and_fit(pair):
    image, video = pair
    done = run_cli("--image", image, "--video", video, "--orientation", "video", "--quality", "1080p",
                   "--metadata-only", "--provider", "all")
    assert done.code == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if re.match(r"^(evolink|fal|kling)\s", line)]
    # 1080p: fal $0.126/s (unconfirmed), EvoLink $0.1512/s, Kling no published pro price.
    assert [r[0] for r in rows] == ["fal", "evolink", "kling"]
    assert rows[0][1:5] == ["yes", "4", "s", "0.50"] and "(U)" in rows[0]
    assert rows[1][1:5] == ["yes", "4", "s", "0.60"] and rows[2][4] == "unknown"
    assert "cheapest that fits: fal" in done.stdout
    # The JSON carries the same per host, and the library gives the same verdicts.
    data = run_cli("--image", image, "--video", video, "--orientation", "video", "--quality", "1080p",
                   "--metadata-only", "--provider", "all", "--format", "json").json()
    assert [p["provider"] for p in data["providers"]] == ["fal", "evolink", "kling"]
    fal = data["providers"][0]
    assert fal["usd"] == pytest.approx(0.504) and fal["price_confirmed"] is False and fal["fits"]
    assert "image.format" in fal["unconfirmed_checks"] and fal["report"]["profile"] == "kling-v3-motion-control-fal"
    library = check_providers(image, video, orientation="video", quality="1080p", metadata_only=True)
    assert [(v.host, v.usd, v.fits) for v in library] == [(p["provider"], p["usd"], p["fits"])
                                                            for p in data["providers"]]


def test_provider_all_exits_1_when_no_host_fits_and_names_each_failure(fx):
    done = run_cli("--image", fx / "image/person_upper.png", "--video", fx / "video/dur_10.2s.mp4",
                   "--orientation", "image", "--metadata-only", "--provider", "all")
    assert done.code == 1
    assert "no provider fits these inputs" in done.stdout
    for host in ("evolink", "kling", "fal"):
        assert f"  {host}: video.duration: 10.200 s" in done.stdout


def test_a_provider_name_picks_that_hosts_profile_and_an_unknown_one_is_a_usage_error(fx):
    data = run_cli("--image", fx / "image/refused.webp", "--provider", "fal", "--metadata-only",
                   "--format", "json").json()
    assert data["profile"] == "kling-v3-motion-control-fal" and data["ok"]
    assert data["cost"]["usd"] is None  # no published 720p price on fal
    bad = run_cli("--image", fx / "image/person_upper.png", "--provider", "replicate")
    assert bad.code == 2 and "no provider 'replicate' (known: evolink, fal, kling" in bad.stderr
    both = run_cli("--image", fx / "image/person_upper.png", "--provider", "fal", "--profile", "x.toml")
    assert both.code == 2 and "not both" in both.stderr
    for host in ("nope", "all"):
        refused = run_submit("--provider", host, "--image", "a.png", "--video", "b.mp4", "--orientation", "video")
        assert refused.code == 2 and "--provider" in refused.stderr


# ---------------------------------------------------------------------- Kling AI

def test_kling_tokens_are_checked_by_the_fake_like_the_service():
    with FakeKling(access_key=KLING_ACCESS, secret_key=KLING_SECRET) as kling:
        url = f"{kling.url}/v1/videos/motion-control/123"

        def ask(token: str) -> dict:
            return httpx.get(url, headers={"Authorization": f"Bearer {token}"}).json()

        assert ask(kling_token(KLING_ACCESS, KLING_SECRET))["code"] == 1203  # authorised; no such task
        assert ask(kling_token(KLING_ACCESS, KLING_SECRET, now=time.time() - 3600))["code"] == 1004  # expired
        assert ask(kling_token(KLING_ACCESS, KLING_SECRET, now=time.time() + 600))["code"] == 1003  # not yet valid
        assert ask(kling_token(KLING_ACCESS, "another-secret"))["code"] == 1002
        assert ask(kling_token("another-access", KLING_SECRET))["code"] == 1002
        # The client's error for a refused key is the same typed error as EvoLink's.
        with KlingClient("wrong-secret", access_key=KLING_ACCESS, api_base=kling.url) as client:
            with pytest.raises(ApiError) as caught:
                client.get_task("123")
        assert caught.value.info.name == "unauthorized" and caught.value.info.caller_error
        assert caught.value.info.raw_code == 1002


def test_kling_body_errors_come_back_in_its_shape_and_map_to_the_same_names(pair):
    image, _ = pair
    with FakeKling(access_key=KLING_ACCESS, secret_key=KLING_SECRET) as kling, \
            KlingClient(KLING_SECRET, access_key=KLING_ACCESS, api_base=kling.url) as client:
        body = {"model_name": "kling-v3", "image_url": base64.b64encode(image.read_bytes()).decode(),
                "video_url": f"{kling.url}/files/none.mp4", "character_orientation": "video", "mode": "pro",
                "keep_original_sound": True}  # a boolean: Kling takes the strings "yes" and "no"
        with pytest.raises(ApiError) as caught:
            client.create_task(body, "key-1")
        assert caught.value.info.name == "invalid_parameters" and caught.value.info.http_status == 400
        assert "yes or no" in str(caught.value) and kling.counts["creates"] == 0
        kling.inject("POST /v1/videos/motion-control", "status", status=429, code=1102, times=-1)
        with pytest.raises(ApiError) as caught:
            client.create_task({**body, "keep_original_sound": "no"}, "key-2")
        # 1102 (resource pack used up) is not retried, whatever the 429 says.
        assert caught.value.info.name == "insufficient_quota"
        assert kling.received.count("POST /v1/videos/motion-control") == 2


def test_submit_to_kling_end_to_end_with_the_video_in_a_bucket(pair, s3, tmp_path):  # noqa: F811
    image, video = pair
    with FakeKling(access_key=KLING_ACCESS, secret_key=KLING_SECRET, polls_to_complete=2) as kling:
        env = {**_hosts_env(tmp_path, kling=kling), **s3["env"], "SUBMIT_S3_BUCKET": BUCKET,
               "SUBMIT_S3_ENDPOINT": s3["endpoint"]}
        done = run_submit("--provider", "kling", "--image", image, "--video", video, "--orientation", "video",
                          "--quality", "1080p", "--no-keep-sound", "--prompt", "waves", "--metadata-only", "--yes",
                          "--wait", "--poll-interval", "0.05", "--out", tmp_path / "out", "--format", "json", env=env)
        assert done.code == 0, done.stderr
        result = done.json()
        assert result["status"] == "completed" and Path(result["outputs"][0]).stat().st_size > 0
        [task] = kling.tasks.values()
        sent = task.body
        assert sent["model_name"] == "kling-v3" and sent["mode"] == "pro" and sent["keep_original_sound"] == "no"
        assert sent["character_orientation"] == "video" and sent["prompt"] == "waves"
        assert base64.b64decode(sent["image_url"]) == image.read_bytes()  # inline, no data: prefix
        assert sent["video_url"].startswith(s3["endpoint"])
        [row] = _journal(tmp_path)
        assert row["provider"] == "kling" and row["task_id"] == task.id
        assert sent["external_task_id"] == row["idempotency_key"]
        # Later commands find the host in the journal: no --provider needed.
        status = run_submit("status", task.id, "--format", "json", env=env)
        assert status.code == 0 and status.json()["status"] == "completed"
        # Without a bucket, a local video cannot reach Kling: refused before anything is sent.
        refused = run_submit("--provider", "kling", "--image", image, "--video", video, "--orientation", "video",
                             "--metadata-only", "--yes", "--again", env={**env, "SUBMIT_S3_BUCKET": ""})
        assert refused.code == 1 and "by URL only" in refused.stderr
        assert kling.counts["creates"] == 1
    _never_seen([done.stdout, done.stderr, status.stdout, refused.stderr, *seen_files(tmp_path)])


# ---------------------------------------------------------------------- fal

def test_submit_to_fal_end_to_end_through_its_storage_and_queue(pair, tmp_path):
    image, video = pair
    with FakeFal(api_key=FAL_SECRET, polls_to_complete=2) as fal:
        env = _hosts_env(tmp_path, fal=fal)
        done = run_submit("--provider", "fal", "--image", image, "--video", video, "--orientation", "video",
                          "--quality", "1080p", "--metadata-only", "--yes", "--wait", "--poll-interval", "0.05",
                          "--out", tmp_path / "out", "--format", "json", env=env)
        assert done.code == 0, done.stderr
        result = done.json()
        assert Path(result["outputs"][0]).read_bytes() == video.read_bytes()  # the fake returns the reference
        assert fal.counts["uploads"] == 2 and fal.counts["creates"] == 1
        assert "POST /fal-ai/kling-video/v3/pro/motion-control" in fal.received
        [task] = fal.tasks.values()
        assert task.body == {"image_url": task.body["image_url"], "video_url": task.body["video_url"],
                             "character_orientation": "video", "keep_original_sound": True}
        assert result["cost"]["usd"] == pytest.approx(0.504) and result["cost"]["price_confirmed"] is False
        [row] = _journal(tmp_path)
        assert row["provider"] == "fal" and row["api_base"].endswith("/v3/pro/motion-control")
        status = run_submit("status", task.id, "--format", "json", env=env)
        assert status.code == 0 and status.json()["status"] == "completed"
        # Fields fal does not take are a usage error before any upload.
        refused = run_submit("--provider", "fal", "--image", image, "--video", video, "--orientation", "video",
                             "--callback-url", "https://example.com/hook", "--metadata-only", "--yes", env=env)
        assert refused.code == 2 and "callback_url" in refused.stderr and fal.counts["uploads"] == 2
        # A lost answer is never sent again (fal has no idempotency key).
        fal.inject("POST /fal-ai", "lost")
        lost = run_submit("--provider", "fal", "--image", image, "--video", video, "--orientation", "video",
                          "--metadata-only", "--yes", "--again", env=env)
        assert lost.code == 4 and fal.counts["creates"] == 2
        row = _journal(tmp_path)[-1]
        assert row["state"] == "sent"
        recover = run_submit("recover", str(row["id"]), env=env)
        assert recover.code == 1 and "no idempotency key" in recover.stderr and fal.counts["creates"] == 2
    _never_seen([done.stdout, done.stderr, lost.stderr, recover.stderr, *seen_files(tmp_path)])


def test_a_hosts_keys_and_base_can_come_from_its_table_in_the_config_file(pair, tmp_path):
    image, video = pair
    with FakeFal(api_key=FAL_SECRET) as fal:
        config = tmp_path / "config.toml"
        config.write_text(f'[providers.fal]\nkey = "{FAL_SECRET}"\napi_base = "{fal.url}"\nupload_base = "{fal.url}"\n')
        config.chmod(0o600)
        env = {**_hosts_env(tmp_path), "SUBMIT_CONFIG": str(config)}
        done = run_submit("--provider", "fal", "--image", image, "--video", video, "--orientation", "video",
                          "--quality", "1080p", "--metadata-only", "--yes", env=env)
        assert done.code == 0, done.stderr
        assert fal.counts["creates"] == 1
        # Without the table (and no FAL_KEY) the command says which variables to set.
        config.write_text("")
        missing = run_submit("--provider", "fal", "--image", image, "--video", video, "--orientation", "video",
                             "--metadata-only", "--yes", "--again", env=env)
        assert missing.code == 2 and "set FAL_KEY" in missing.stderr and "[providers.fal]" in missing.stderr
    _never_seen([done.stdout, done.stderr, missing.stderr, *seen_files(tmp_path)])


def test_fal_validation_errors_read_as_words(pair):
    with FakeFal(api_key=FAL_SECRET) as fal, FalClient(FAL_SECRET, endpoint="fal-ai/kling-video/v3/pro/motion-control",
                                                       api_base=fal.url, upload_base=fal.url) as client:
        with pytest.raises(ApiError) as caught:
            client.create_task({"image_url": "me.jpg", "video_url": "https://x/v.mp4", "character_orientation": "video"})
        assert caught.value.info.name == "invalid_parameters" and "image_url: a URL is required" in str(caught.value)
        with pytest.raises(ApiError) as caught:
            client.create_task({"image_url": "https://x/a.png", "video_url": "https://x/v.mp4",
                                "character_orientation": "video", "cfg_scale": 0.5})
        assert "cfg_scale: extra fields not permitted" in str(caught.value)
        with FalClient("wrong", endpoint="fal-ai/kling-video/v3/pro/motion-control", api_base=fal.url) as bad:
            with pytest.raises(ApiError) as caught:
                bad.get_task("abc")
        assert caught.value.info.name == "unauthorized" and caught.value.info.caller_error
        assert fal.counts["creates"] == 0


# ---------------------------------------------------------------------- --provider auto

def _auto(image, video, env, *extra):
    return run_submit("--provider", "auto", "--image", image, "--video", video, "--orientation", "video",
                      "--quality", "1080p", "--metadata-only", "--yes", "--wait", "--poll-interval", "0.05",
                      "--format", "json", *extra, env=env, timeout=300)


def test_auto_lands_on_the_next_host_when_the_cheapest_dies_mid_run(pair, tmp_path):
    image, video = pair
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1) as evolink, FakeFal(api_key=FAL_SECRET) as fal, \
            FakeKling(access_key=KLING_ACCESS, secret_key=KLING_SECRET) as kling:
        # fal takes both uploads, then goes down before the task is created.
        fal.inject("PUT /_upload", "down", skip=1)
        done = _auto(image, video, _hosts_env(tmp_path, evolink=evolink, fal=fal, kling=kling),
                     "--out", tmp_path / "out")
        assert done.code == 0, done.stderr
        result = done.json()
        assert result["provider"] == "evolink" and result["status"] == "completed"
        assert [a["provider"] for a in result["attempts"]] == ["fal", "evolink"]
        assert "nothing created" in result["attempts"][0]["outcome"]
        # Exactly one task in all.
        assert (fal.counts["uploads"], fal.counts["creates"], kling.counts["creates"]) == (2, 0, 0)
        assert evolink.counts["creates"] == 1
        skipped = {p["provider"]: p["skipped"] for p in result["providers"]}
        assert skipped["kling"] and "by URL only" in skipped["kling"]  # no bucket for its video
        rows = _journal(tmp_path)
        assert [(r["provider"], r["state"]) for r in rows] == [("fal", "unsent"), ("evolink", "created")]
        # The same job again is a duplicate, wherever it landed.
        again = _auto(image, video, _hosts_env(tmp_path, evolink=evolink, fal=fal, kling=kling))
        assert again.code == 1 and again.json()["error"]["code"] == "already_submitted"
        assert evolink.counts["creates"] == 1
    _never_seen([done.stdout, done.stderr, *seen_files(tmp_path)])


def test_auto_falls_back_past_a_503_storm_but_never_after_a_lost_answer(pair, tmp_path):
    image, video = pair
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1) as evolink, FakeFal(api_key=FAL_SECRET) as fal:
        env = _hosts_env(tmp_path, evolink=evolink, fal=fal)
        fal.inject("POST /fal-ai", "outage", times=-1)
        stormed = _auto(image, video, env, "--out", tmp_path / "out")
        assert stormed.code == 0, stormed.stderr
        assert stormed.json()["provider"] == "evolink" and fal.counts["creates"] == 0
        assert fal.received.count("POST /fal-ai/kling-video/v3/pro/motion-control") == 5  # its retry budget
        fal.faults.clear()
        fal.inject("POST /fal-ai", "lost")
        lost = _auto(image, video, env, "--again")
        assert lost.code == 4
        assert "may have been created on fal, which has no idempotency key" in lost.json()["error"]["detail"]
        assert fal.counts["creates"] == 1 and evolink.counts["creates"] == 1  # no second host tried
        assert _journal(tmp_path)[-1]["provider"] == "fal"


def test_auto_tries_only_hosts_with_keys_and_says_why_the_others_were_left(pair, tmp_path):
    image, video = pair
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1) as evolink:
        done = run_submit("--provider", "auto", "--image", image, "--video", video, "--orientation", "video",
                          "--quality", "1080p", "--metadata-only", "--yes", env=_hosts_env(tmp_path, evolink=evolink))
        assert done.code == 0, done.stderr
        assert "not tried: fal: no key (set FAL_KEY)" in done.stdout
        assert "not tried: kling: no key (set KLING_ACCESS_KEY and KLING_SECRET_KEY)" in done.stdout
        assert re.search(r"created \S+ on evolink", done.stdout)
        budget = run_submit("--provider", "auto", "--image", image, "--video", video, "--orientation", "video",
                            "--quality", "1080p", "--metadata-only", "--yes", "--again", "--max-cost", "0.3",
                            env=_hosts_env(tmp_path, evolink=evolink))
        assert budget.code == 1 and "no host can take this job" in budget.stderr and evolink.counts["creates"] == 1
        element = run_submit("--provider", "auto", "--image", image, "--video", video, "--orientation", "video",
                             "--element", "Ann", env=_hosts_env(tmp_path, evolink=evolink))
        assert element.code == 2 and "name the --provider" in element.stderr


# ---------------------------------------------------------------------- docs

def test_the_docs_provider_table_is_the_one_the_profiles_make():
    page = (ROOT / "docs/providers.md").read_text()
    block = page.split("<!-- providers-table:start -->\n", 1)[1].split("<!-- providers-table:end -->", 1)[0]
    assert block.strip() == f"{markdown_table()}\n\n{sources_list()}".strip(), \
        "docs/providers.md is out of date: paste the output of `python -m preflight.providers`"
    # Every host profile is in it, with its prices as the profile has them.
    for profile in host_profiles():
        assert f"`{profile.id}`" in block
    assert "$0.126 (U)" in block and json.dumps(load_profile().value("host.api_base")).strip('"') in block
