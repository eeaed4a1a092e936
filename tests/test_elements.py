"""Issue 17: custom elements from start to finish, and every documented request field sent.

preflight checks an element's media (real clips made from real photographs: a face, nobody, a
change of character, two people, too long, too narrow); prep fixes an element video; submit
creates elements against the local EvoLink over real HTTP, keeps them in the journal by name,
and uses them in motion-control jobs, whose bodies carry every documented field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import prep
from preflight import ElementRequest, Request, check, check_element
from preflight.probe import probe_file
from preflight.profile import load_profile
from submit import Client, Journal, RetryPolicy
from submit.body import element_body, generation_body
from submit.client import find_element_id
from submit.errors import TaskFailed
from submit.fake import FakeEvoLink
from submit.fake.state import ELEMENT_RESULT_SHAPES
from submit_support import SECRET, env_for, run_submit, secret_guard  # noqa: F401 (secret_guard: an autouse fixture)

PROFILE = load_profile("kling-v3-motion-control")
SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "evolink-api.md"


def failures(report) -> set[str]:
    return {c.id for c in report.checks if c.status.value == "fail"}


@pytest.fixture
def fake():
    with FakeEvoLink(api_key=SECRET, polls_to_complete=2) as server:
        yield server


@pytest.fixture
def env(fake, tmp_path):
    return env_for(fake, tmp_path)


# ---------------------------------------------------------------------------- preflight

def test_a_good_element_video_passes_every_check(fx):
    report = check_element(video=fx / "video/element_face.mp4", name="Ann", description="An astronaut")
    assert report.ok, [c.message for c in report.checks if c.status.value != "pass"]
    assert {c.subject for c in report.checks} == {"element_video", "element"}
    face = report.get("element_video.face")
    assert face.status.value == "pass" and face.measured["share_clear"] >= 0.8
    assert report.cost.credits == 1 and report.cost.elements == 1 and report.cost.billed_seconds == 0
    assert report.to_dict()["element"]["reference_type"] == "video_refer"


@pytest.mark.parametrize("clip, expected", [
    ("element_9s.mp4", {"element_video.duration"}),
    ("element_character_change.mp4", {"element_video.cuts"}),
    ("element_no_face.mp4", {"element_video.person", "element_video.face"}),
    ("element_two_people.mp4", {"element_video.person"}),
    ("person_steady.mp4", {"element_video.width"}),  # 512 px wide
])
def test_element_video_problems_are_found(fx, clip, expected):
    assert failures(check_element(video=fx / "video" / clip, name="Ann", description="x")) == expected


def test_the_element_request_is_checked(fx):
    long_name = check_element(video=fx / "video/element_face.mp4", name="N" * 21, description="d" * 101,
                              metadata_only=True)
    assert failures(long_name) == {"element.name", "element.description"}
    both = check_element(video=fx / "video/element_face.mp4", image=fx / "image/person_upper.png",
                         refs=[fx / "image/element_ref_head.png"], name="A", description="B", metadata_only=True)
    assert "element.references" in failures(both)
    too_many = check_element(image=fx / "image/person_upper.png", refs=[fx / "image/element_ref_head.png"] * 4,
                             name="A", description="B", metadata_only=True)
    assert failures(too_many) == {"element.references"}


def test_an_image_refer_element_is_checked_and_warned_about(fx):
    report = check_element(image=fx / "image/person_upper.png",
                           refs=[fx / "image/element_ref_head.png", fx / "image/element_ref_mirrored.jpg"],
                           name="Ann", description="An astronaut")
    assert report.ok
    assert report.get("element_image.face").status.value == "pass"
    assert report.get("element_image.person").status.value == "pass"
    warned = report.get("element.references")
    assert warned.status.value == "warn" and "video_refer" in warned.message  # Motion Control will not take it
    small = check_element(image=fx / "image/side_299.png", refs=[fx / "image/aspect_2.501.png"], name="A",
                          description="B", metadata_only=True)
    assert {"element_image.dimensions", "element_ref.dimensions"} <= failures(small)


def test_preflight_command_checks_element_media_with_the_usual_formats_and_exit_codes(fx):
    bad = run_cli_json("--element-video", fx / "video/element_9s.mp4", "--element-name", "Ann",
                       "--element-description", "An astronaut", "--metadata-only")
    assert bad.code == 1
    assert {c["id"] for c in bad.json()["checks"] if c["status"] == "fail"} == {"element_video.duration"}
    assert bad.json()["element"]["name"] == "Ann" and bad.json()["cost"]["elements"] == 1
    good = run_cli_json("--element-video", fx / "video/element_face.mp4", "--metadata-only")
    assert good.code == 0
    usage = run_cli_json("--element-ref", fx / "image/element_ref_head.png")
    assert usage.code == 2 and "frontal" in usage.stderr


def run_cli_json(*args):
    from conftest import run_cli

    return run_cli(*map(str, args), "--format", "json", "--no-cache")


def test_an_element_made_on_the_way_is_checked_and_priced_with_the_generation(fx):
    report = check(image=fx / "image/person_upper.png", video=fx / "video/person_steady.mp4", orientation="video",
                   element=ElementRequest("Ann", "An astronaut", str(fx / "video/element_face.mp4")))
    alone = check(image=fx / "image/person_upper.png", video=fx / "video/person_steady.mp4", orientation="video")
    assert report.ok
    assert {"element_video.face", "element.name", "request.element_list", "pair.framing"} <= {c.id for c in report.checks}
    assert report.cost.credits == pytest.approx(alone.cost.credits + 1)
    assert report.cost.billed_seconds == alone.cost.billed_seconds and report.cost.elements == 1


# ---------------------------------------------------------------------------- prep

def test_prep_trims_and_scales_an_element_video_and_the_output_passes(fx, tmp_path):
    plan = prep.plan(element_video=fx / "video/element_9s.mp4", out_dir=tmp_path)
    assert [s.action for s in plan.items[0].steps] == ["trim"]
    result = prep.apply(plan)
    assert result.ok, [c.message for c in result.report.checks if c.status.value == "fail"]
    out = probe_file(result.outputs[0]["path"], expect="video").video
    assert max(out.durations().values()) == pytest.approx(8.0, abs=0.05)

    narrow = prep.apply(prep.plan(element_video=fx / "video/person_steady.mp4", out_dir=tmp_path / "narrow"))
    assert narrow.ok
    assert probe_file(narrow.outputs[0]["path"], expect="video").video.display_size == (720, 720)


def test_prep_will_not_invent_a_face(fx, tmp_path):
    plan = prep.plan(element_video=fx / "video/element_no_face.mp4", out_dir=tmp_path)
    assert plan.items[0].refused and "element_video.face" in plan.items[0].refused


# ---------------------------------------------------------------------------- the client and the fake

@pytest.mark.parametrize("shape", ELEMENT_RESULT_SHAPES)
def test_the_element_id_is_found_in_every_plausible_result_shape(fx, shape):
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1, element_result_shape=shape) as server, \
            Client(SECRET, api_base=server.url, files_base=server.url) as client:
        video = client.upload_file(fx / "video/element_face.mp4").file_url
        task = client.create_element("Ann", "An astronaut", video_url=video)
        assert task.billing_rule == "per_call" and task.credits_reserved == 10_000  # 1 credit in UC
        done, element_id = client.wait_for_element(task.id, interval=0.02)
        assert element_id == next(iter(server.elements)) and done.result_data is not None


def test_result_data_without_an_id_gives_none():
    for junk in (None, True, 1.5, {}, [], {"elements": []}, {"status": "ok"}, "  "):
        assert find_element_id(junk) is None
    assert find_element_id({"element": [{"elementId": 42}]}) == "42"


@pytest.mark.parametrize("params, words", [
    ({"element_name": "N" * 21}, "element_name"),
    ({"element_description": ""}, "element_description"),
    ({"reference_type": "audio_refer"}, "reference_type"),
    ({"element_video_list": {"refer_videos": []}}, "exactly one"),
])
def test_the_fake_refuses_element_bodies_the_reference_forbids(fake, params, words):
    body = {"model": "kling-custom-element", "model_params": {
        "element_name": "Ann", "element_description": "An astronaut", "reference_type": "video_refer",
        "element_video_list": {"refer_videos": [{"video_url": f"{fake.url}/files/x/v.mp4"}]}, **params}}
    import httpx

    reply = httpx.post(f"{fake.url}/v1/videos/generations", json=body, headers={"Authorization": f"Bearer {SECRET}"})
    assert reply.status_code == 400 and words in reply.json()["error"]["message"]


def test_the_fake_checks_the_element_media_it_fetches(fake, fx):
    with Client(SECRET, api_base=fake.url, files_base=fake.url, retry=RetryPolicy(base_delay=0.05)) as client:
        narrow = client.upload_file(fx / "video/person_steady.mp4").file_url
        task = client.create_element("Ann", "An astronaut", video_url=narrow)
        with pytest.raises(TaskFailed, match="element_video.width"):
            client.wait_for_element(task.id, interval=0.02)
    assert fake.credits == pytest.approx(10_000)  # a failed element is refunded


# ---------------------------------------------------------------------------- the command, end to end

def test_create_an_element_then_use_it_by_name_in_a_job_and_download(fake, fx, env, tmp_path):
    made = run_submit("element", "create", "--name", "Ann", "--description", "An astronaut, white suit",
                      "--video", fx / "video/element_face.mp4", "--yes", "--format", "json", env=env)
    assert made.code == 0, made.stderr
    element = made.json()["element"]
    assert element["element_id"] in fake.elements and element["reference_type"] == "video_refer"
    assert element["sources"]["element_video"].startswith("sha256:")
    assert made.json()["cost"]["credits"] == 1

    listed = run_submit("element", "list", "--format", "json", env=env).json()["elements"]
    assert [(e["name"], e["element_id"], e["state"]) for e in listed] == [("Ann", element["element_id"], "ready")]
    again = run_submit("element", "create", "--name", "Ann", "--description", "An astronaut, white suit",
                       "--video", fx / "video/element_face.mp4", "--yes", env=env)
    assert again.code == 0 and "nothing paid" in again.stdout and fake.counts["creates"] == 1

    job = tmp_path / "ann.job.toml"
    (tmp_path / "media").mkdir()
    for name, src in (("me.png", "image/person_upper.png"), ("dance.mp4", "video/person_steady.mp4")):
        (tmp_path / "media" / name).write_bytes((fx / src).read_bytes())
    job.write_text('image = "media/me.png"\nvideo = "media/dance.mp4"\norientation = "video"\nelement = "Ann"\n'
                   'watermark = false\n')
    run = run_submit("--job", job, "--wait", "--out", tmp_path / "out", "--yes", "--format", "json",
                     "--metadata-only", env=env)
    assert run.code == 0, run.stderr
    generation = [t for t in fake.tasks.values() if t.reference_type is None][0]
    assert generation.body["model_params"]["element_list"] == [{"element_id": element["element_id"]}]
    assert generation.body["model_params"]["watermark_info"] == {"enabled": False}
    assert Path(run.json()["outputs"][0]).stat().st_size > 0
    assert fake.counts["creates"] == 2  # one element, one generation


def test_an_element_is_made_on_the_way_and_paid_for_in_the_estimate(fake, fx, env):
    # --metadata-only: what is tested here is the element's price and order, not the content.
    args = ["--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4", "--orientation",
            "video", "--element", "Bob", "--element-video", fx / "video/element_face.mp4", "--metadata-only"]
    dry = run_submit(*args, "--dry-run", "--format", "json", env=env).json()
    assert dry["cost"]["elements"] == 1 and dry["element_body"]["model_params"]["reference_type"] == "video_refer"
    plain = run_submit(*args[:6], "--metadata-only", "--dry-run", "--format", "json", env=env).json()
    assert dry["cost"]["credits"] == pytest.approx(plain["cost"]["credits"] + 1)
    assert fake.counts["creates"] == 0 and fake.counts["uploads"] == 0

    # The generation alone costs at most $0.4803 (32.6592 credits at 68 a dollar); with the element
    # $0.4950: a $0.49 budget is refused only because the element is counted.
    assert plain["cost"]["credits"] / 68 < 0.49 < dry["cost"]["credits"] / 68
    run = run_submit(*args, "--yes", "--format", "json", "--max-cost", "0.49", env=env)
    assert run.code == 1 and "max-cost" in run.json()["error"]["detail"] and fake.counts["creates"] == 0
    run = run_submit(*args, "--yes", "--format", "json", env=env)
    assert run.code == 0, run.stderr
    made = [t for t in fake.tasks.values() if t.reference_type == "video_refer"]
    assert len(made) == 1 and run.json()["element"]["element_id"] == made[0].element_id
    generation = fake.tasks[run.json()["task_id"]]
    assert generation.body["model_params"]["element_list"] == [{"element_id": made[0].element_id}]


def test_orientation_image_or_an_image_refer_element_is_a_usage_error_before_any_upload(fake, fx, env):
    pictures = run_submit("element", "create", "--name", "Pics", "--description", "from pictures", "--image",
                          fx / "image/person_upper.png", "--ref", fx / "image/element_ref_head.png", "--yes", env=env)
    assert pictures.code == 0, pictures.stderr
    uploads, creates = fake.counts["uploads"], fake.counts["creates"]
    base = ["--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4", "--yes"]
    by_name = run_submit(*base, "--orientation", "video", "--element", "Pics", env=env)
    assert by_name.code == 2 and "image_refer" in by_name.stderr
    element_id = next(iter(fake.elements))
    by_id = run_submit(*base, "--orientation", "video", "--element-id", element_id, env=env)
    assert by_id.code == 2 and "image_refer" in by_id.stderr
    wrong = run_submit(*base, "--orientation", "image", "--element", "Pics", env=env)
    assert wrong.code == 2 and "orientation video" in wrong.stderr
    unknown = run_submit(*base, "--orientation", "video", "--element", "Nobody", env=env)
    assert unknown.code == 2 and "no element named 'Nobody'" in unknown.stderr
    assert (fake.counts["uploads"], fake.counts["creates"]) == (uploads, creates)


def test_element_create_refuses_what_preflight_fails_and_prep_fixes_it(fake, fx, env, tmp_path):
    refused = run_submit("element", "create", "--name", "Long", "--description", "nine seconds", "--video",
                         fx / "video/element_9s.mp4", "--yes", "--metadata-only", env=env)
    assert refused.code == 1 and "element_video.duration" in refused.stderr and fake.counts["uploads"] == 0
    fixed = run_submit("element", "create", "--name", "Long", "--description", "nine seconds", "--video",
                       fx / "video/element_9s.mp4", "--prep", "--out", tmp_path, "--yes", "--metadata-only", env=env)
    assert fixed.code == 0, fixed.stderr
    assert "prep: element video ->" in fixed.stdout and len(fake.elements) == 1
    nobody = run_submit("element", "create", "--name", "Cup", "--description", "no one", "--video",
                        fx / "video/element_no_face.mp4", "--prep", "--out", tmp_path, "--yes", env=env)
    assert nobody.code == 1 and "prep cannot fix the element video" in nobody.stderr and "face" in nobody.stderr


# ---------------------------------------------------------------------------- every field, every way in

FIELDS = {"orientation": "video", "quality": "1080p", "prompt": "A girl dancing gracefully", "keep_sound": False,
          "element_ids": ["826543210"], "callback_url": "https://1.1.1.1/hook", "watermark": True}
IMAGE_URL, VIDEO_URL = "https://example.com/character.jpg", "https://example.com/dance-reference.mp4"


def test_every_request_field_reaches_the_body_the_same_way_from_library_job_and_command(tmp_path):
    library = generation_body(PROFILE, Request(**{**FIELDS, "element_ids": tuple(FIELDS["element_ids"])})
                              .resolve(PROFILE), IMAGE_URL, VIDEO_URL)
    job = tmp_path / "all.job.toml"
    job.write_text("\n".join([f'image = "{IMAGE_URL}"', f'video = "{VIDEO_URL}"'] +
                             [f"{k} = {json.dumps(v)}" for k, v in FIELDS.items()]) + "\n")
    no_key = {"EVOLINK_API_KEY": "", "SUBMIT_CONFIG": str(tmp_path / "absent.toml"),
              "SUBMIT_JOURNAL": str(tmp_path / "j.sqlite3")}
    from_job = run_submit("--job", job, "--dry-run", "--format", "json", env=no_key)
    assert from_job.code == 0, from_job.stderr
    options = ["--image", IMAGE_URL, "--video", VIDEO_URL, "--orientation", "video", "--quality", "1080p",
               "--prompt", FIELDS["prompt"], "--no-keep-sound", "--element-id", "826543210", "--callback-url",
               FIELDS["callback_url"], "--watermark"]
    from_command = run_submit(*options, "--dry-run", "--format", "json", env=no_key)
    assert from_command.code == 0, from_command.stderr
    assert library == from_job.json()["body"] == from_command.json()["body"]
    assert library["model_params"] == {"character_orientation": "video", "keep_sound": False,
                                       "element_list": [{"element_id": "826543210"}],
                                       "watermark_info": {"enabled": True}}
    if SPEC.is_file():  # the API reference's field table: every documented field is sent
        documented = set(re.findall(r"^\| `(?:…)?([a-z_]+)` \|", SPEC.read_text().split("### 2a.")[0], re.M))
        sent = set(library) | set(library["model_params"])
        assert documented == sent, documented ^ sent


def test_the_reference_example_request_is_built_exactly():
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} is not here (the shared spec is beside the repository in CI)")
    text = SPEC.read_text()
    example = json.loads(re.search(r"Example request.*?```json\n(.*?)```", text, re.S).group(1))
    request = Request(orientation=example["model_params"]["character_orientation"], quality=example["quality"],
                      prompt=example["prompt"])
    body = generation_body(PROFILE, request.resolve(PROFILE), example["image_urls"][0], example["video_urls"][0])
    # keep_sound is always sent (at the documented default, true) so that a change of the
    # service's default can never mute a generation; everything else is the example itself.
    assert body["model_params"].pop("keep_sound") is True
    assert body == example


def test_the_element_body_is_the_documented_shape(tmp_path):
    video = ElementRequest("Ann", "An astronaut", "ann.mp4")
    assert element_body(PROFILE, video, {"ann.mp4": "https://h/ann.mp4"}) == {
        "model": "kling-custom-element",
        "model_params": {"element_name": "Ann", "element_description": "An astronaut", "reference_type": "video_refer",
                         "element_video_list": {"refer_videos": [{"video_url": "https://h/ann.mp4"}]}}}
    pictures = ElementRequest("Ann", "An astronaut", None, "f.png", ("r1.png", "r2.png"))
    urls = {p: f"https://h/{p}" for p in ("f.png", "r1.png", "r2.png")}
    assert element_body(PROFILE, pictures, urls)["model_params"]["element_image_list"] == {
        "frontal_image": "https://h/f.png", "refer_images": [{"image_url": "https://h/r1.png"},
                                                             {"image_url": "https://h/r2.png"}]}
    if SPEC.is_file():
        section = SPEC.read_text().split("### 2a.")[1].split("## 3.")[0]
        for name in ("element_name", "element_description", "reference_type", "element_image_list",
                     "frontal_image", "refer_images", "element_video_list", "refer_videos", "video_url"):
            assert name in section  # every name the body uses is the reference's


def test_the_journal_keeps_elements_apart_per_service(tmp_path):
    with Journal(tmp_path / "j.sqlite3") as journal:
        row = journal.start("https://api.evolink.ai", "k1", {"model": "kling-custom-element"}, None)
        journal.update(row, state="created", task_id="task-unified-1-abcdefgh")
        journal.add_element("https://api.evolink.ai", "Ann", "d", "video_refer", {"element_video": "sha256:0"}, row)
        journal.element_made("task-unified-1-abcdefgh", "991", {"element_id": "991"})
        assert journal.element_named("Ann", "https://api.evolink.ai").element_id == "991"
        assert journal.element_named("Ann", "https://other.example") is None
        # Local test servers change port from run to run: one service.
        assert journal.element_named("Ann", "http://127.0.0.1:9") is None
        assert journal.element_with_id("991").name == "Ann"


def test_the_html_report_names_the_elements_of_the_request(fx, tmp_path):
    from conftest import run_cli

    page = tmp_path / "report.html"
    done = run_cli("--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
                   "--orientation", "video", "--element-id", "el-123", "--element-video", fx / "video/element_face.mp4",
                   "--element-name", "Ann", "--element-description", "Ann", "--report", page)
    assert done.code in (0, 1), done.stderr
    line = re.search(r'<p class="request">(.*?)</p>', page.read_text()).group(1)
    assert "element el-123" in line and "new element 'Ann' (video_refer)" in line
