"""submit against the local fake EvoLink and a real S3-compatible server (moto), over real HTTP.

Nothing here mocks the client's own functions: the client talks HTTP to servers that behave as
the documentation says, with faults injected on the server side.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from preflight.profile import load_profile
from preflight.request import Request
from submit import Client, Journal, RetryPolicy
from submit import flow
from submit.body import generation_body
from submit.errors import TASK_CODES, ApiError, HostingError, SubmitError, TaskFailed, TransportError, WaitTimeout
from submit.fake import FakeEvoLink
from submit.hosting import S3Host, check_url
from submit_support import SECRET, SEEN, env_for, run_submit, secret_guard  # noqa: F401 (secret_guard: an autouse fixture)

PROFILE = load_profile("kling-v3-motion-control")
FAST = RetryPolicy(attempts=4, base_delay=0.05, max_delay=0.2)
BUCKET = "motion-media"


@pytest.fixture
def fake():
    with FakeEvoLink(api_key=SECRET, polls_to_complete=2) as server:
        yield server


@pytest.fixture
def client(fake):
    with Client(SECRET, api_base=fake.url, files_base=fake.url, retry=FAST) as c:
        yield c


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "journal.sqlite3") as j:
        yield j


@pytest.fixture
def env(fake, tmp_path):
    return env_for(fake, tmp_path)


@pytest.fixture(scope="session")
def s3():
    """moto's S3 in server mode: a real S3-compatible HTTP endpoint with one bucket."""
    pytest.importorskip("moto.server")
    import boto3
    from moto.server import ThreadedMotoServer

    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in creds}
    os.environ.update(creds)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield {"endpoint": endpoint, "env": creds}
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def hosted_body(client: Client, fx: Path, video: str = "video/person_steady.mp4", orientation: str = "image",
                **request) -> dict:
    image_url = client.upload_file(fx / "image/person_upper.png").file_url
    video_url = client.upload_file(fx / video).file_url
    return generation_body(PROFILE, Request(orientation=orientation, **request).resolve(PROFILE), image_url, video_url)


# ---------------------------------------------------------------------------- library: the happy path
def test_create_poll_download_through_the_states(client, fake, fx, tmp_path):
    body = hosted_body(client, fx)
    task = client.create_task(body)
    assert task.id.startswith("task-unified-") and task.status == "pending"
    # 4.0 s of 720p: 4 s x 8.1648 credits, reported in UC as in the documented example.
    assert task.credits_reserved == pytest.approx(4 * 8.1648 * 10_000)
    seen = []
    done = client.wait(task.id, interval=0.01, on_update=lambda t: seen.append(t.status))
    assert seen == ["processing", "completed"] and done.results
    files = client.download(done, tmp_path / "out")
    assert files[0].path.read_bytes() == (fx / "video/person_steady.mp4").read_bytes()
    assert not list((tmp_path / "out").glob(".*part"))


def test_reserved_credits_read_in_either_unit():
    assert flow.interpret_reserved(408240, 40.824) == {"raw": 408240, "credits": 40.824, "unit": "uc"}
    assert flow.interpret_reserved(40.824, 40.824)["unit"] == "credits"


# ---------------------------------------------------------------------------- retries
def test_429_with_retry_after_is_waited_for_and_one_task_is_created(client, fake, fx):
    body = hosted_body(client, fx)
    fake.inject(route="POST /v1/videos/generations", kind="status", status=429, retry_after="1")
    started = time.monotonic()
    task = client.create_task(body)
    assert time.monotonic() - started >= 1.0  # Retry-After honoured, not the 0.05 s backoff
    assert task.id in fake.tasks and fake.counts["creates"] == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(client, fake, status):
    fake.inject(route="GET /v1/credits", kind="status", status=status, times=2)
    assert client.credits()["user"]["remaining_credits"] == pytest.approx(10_000)


def test_html_error_page_and_malformed_json_are_clear(client, fake):
    fake.inject(route="GET /v1/credits", kind="html", status=502, times=9)
    with pytest.raises(ApiError) as caught:
        client.credits()
    assert caught.value.info.http_status == 502 and "not JSON" in str(caught.value)
    fake.clear_faults()
    fake.inject(route="GET /v1/credits", kind="malformed", status=200)
    with pytest.raises(TransportError, match="not the API's JSON"):
        client.credits()


@pytest.mark.parametrize("status,name", [(400, "invalid_request"), (401, "unauthorized"), (402, "insufficient_quota"),
                                         (403, "permission_denied"), (404, "task_not_found")])
def test_4xx_is_never_retried(client, fake, status, name):
    fake.inject(route="GET /v1/credits", kind="status", status=status, times=5)
    with pytest.raises(ApiError) as caught:
        client.credits()
    assert caught.value.info.name == name and not caught.value.info.retryable
    assert len(fake.faults) == 1 and fake.faults[0].times == 4  # one send, no retry


def test_integer_error_codes_are_understood(fx):
    with FakeEvoLink(api_key=SECRET, code_style="int") as server, \
            Client(SECRET, api_base=server.url, files_base=server.url, retry=FAST) as c:
        server.inject(route="GET /v1/credits", kind="status", status=429, times=9)
        with pytest.raises(ApiError) as caught:
            c.credits()
    assert caught.value.info.raw_code == 429 and caught.value.info.name == "rate_limit_exceeded"


def test_a_dropped_connection_is_retried(client, fake):
    fake.inject(route="GET /v1/credits", kind="drop", times=2)
    assert client.credits()["token"]["remaining_credits"] == pytest.approx(10_000)


def test_lost_answer_to_a_post_is_resent_with_the_same_key_and_paid_once(client, fake, fx):
    body = hosted_body(client, fx)
    fake.inject(route="POST /v1/videos/generations", kind="drop_after")
    task = client.create_task(body)
    assert task.replayed and fake.counts["creates"] == 1 and fake.counts["posts"] == 2
    assert fake.credits == pytest.approx(10_000 - 4 * 8.1648)


def test_connection_refused_is_a_clear_error(tmp_path):
    with FakeEvoLink(api_key=SECRET) as server:
        url = server.url
    with Client(SECRET, api_base=url, retry=RetryPolicy(attempts=2, base_delay=0.01)) as c:
        with pytest.raises(TransportError, match="no answer after 2 tries"):
            c.credits()


def test_a_slow_answer_times_out_and_is_retried(fake):
    fake.inject(route="GET /v1/credits", kind="slow", delay=1.5)
    with Client(SECRET, api_base=fake.url, retry=FAST, timeout=0.5) as c:
        assert c.credits()["user"]["remaining_credits"] == pytest.approx(10_000)


# ---------------------------------------------------------------------------- tasks that fail or hang
@pytest.mark.parametrize("code", sorted(TASK_CODES))
def test_failed_task_reports_its_business_code(client, fake, fx, code):
    body = hosted_body(client, fx)
    fake.inject(route="task", kind="fail", code=code)
    task = client.create_task(body)
    with pytest.raises(TaskFailed) as caught:
        client.wait(task.id, interval=0.01)
    info = caught.value.info
    assert info.name == code and info.retryable == TASK_CODES[code].retryable
    assert TASK_CODES[code].meaning in str(caught.value)
    assert fake.credits == pytest.approx(10_000)  # refunded


def test_wait_is_bounded(client, fake, fx):
    fake.inject(route="task", kind="stuck")
    task = client.create_task(hosted_body(client, fx))
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=f"submit wait {task.id}"):
        client.wait(task.id, interval=0.05, timeout=0.5)
    assert time.monotonic() - started < 3


def test_the_service_fetches_and_checks_the_inputs(client, fake, fx):
    # A 10.2 s clip is over the 10 s limit of orientation image: the task fails as the service's would.
    task = client.create_task(hosted_body(client, fx, video="video/dur_10.2s.mp4"))
    with pytest.raises(TaskFailed) as caught:
        client.wait(task.id, interval=0.01)
    assert caught.value.info.name == "invalid_parameters" and "duration" in str(caught.value)


# ---------------------------------------------------------------------------- downloads
def test_download_cut_in_the_middle_is_resumed(client, fake, fx, tmp_path):
    task = client.wait(client.create_task(hosted_body(client, fx)).id, interval=0.01)
    fake.inject(route="GET /results", kind="cut")
    files = client.download(task, tmp_path / "out")
    assert files[0].path.read_bytes() == (fx / "video/person_steady.mp4").read_bytes()


def test_download_resumes_a_part_file_left_by_an_earlier_run(client, fake, fx, tmp_path):
    task = client.wait(client.create_task(hosted_body(client, fx)).id, interval=0.01)
    source = (fx / "video/person_steady.mp4").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    (out / f".{task.id}.mp4.part").write_bytes(source[:1000])
    files = client.download(task, out)
    assert files[0].resumed_from == 1000 and files[0].path.read_bytes() == source


def test_expired_result_link_is_reported(client, fake, fx, tmp_path, journal):
    task = client.wait(client.create_task(hosted_body(client, fx)).id, interval=0.01)
    fake.advance(25 * 3600)
    with pytest.raises(ApiError) as caught:
        client.download(task, tmp_path / "out")
    assert caught.value.info.name == "result_link_expired" and "24 hours" in str(caught.value)
    assert not (tmp_path / "out" / f"{task.id}.mp4").exists()
    old = type(task)(id=task.id, status="completed", created=int(time.time()) - 23 * 3600)
    assert "expire in about" in flow.link_expiry_warning(old, journal, 86400)


# ---------------------------------------------------------------------------- hosting
def test_files_api_refusing_video_is_reported_clearly(fx):
    with FakeEvoLink(api_key=SECRET, files_accept_video=False) as server, \
            Client(SECRET, api_base=server.url, files_base=server.url, retry=FAST) as c:
        assert c.upload_file(fx / "image/person_upper.png").mime_type == "image/png"
        with pytest.raises(HostingError, match="files API refused it: Unsupported file type"):
            c.upload_file(fx / "video/person_steady.mp4")


def test_video_hosted_on_s3_is_fetched_by_the_service(client, fake, fx, s3):
    hosted = S3Host(BUCKET, endpoint_url=s3["endpoint"], region="us-east-1", lifetime=3600).host(
        fx / "video/person_steady.mp4")
    assert hosted.url.startswith(s3["endpoint"]) and "X-Amz-Signature" in hosted.url
    image_url = client.upload_file(fx / "image/person_upper.png").file_url
    body = generation_body(PROFILE, Request(orientation="image").resolve(PROFILE), image_url, hosted.url)
    task = client.wait(client.create_task(body).id, interval=0.01)
    assert task.status == "completed"


def test_user_urls_are_checked_before_anything_is_created(client, fake, fx, s3):
    import boto3

    s3c = boto3.client("s3", endpoint_url=s3["endpoint"], region_name="us-east-1")
    s3c.put_object(Bucket=BUCKET, Key="page.html", Body=b"<html></html>", ContentType="text/html")
    s3c.put_object(Bucket=BUCKET, Key="ok.mp4", Body=(fx / "video/person_steady.mp4").read_bytes(),
                   ContentType="video/mp4")

    def url(key):
        return s3c.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600)

    good = check_url(client, url("ok.mp4"), "video", PROFILE)
    assert good.ok and good.size == (fx / "video/person_steady.mp4").stat().st_size
    html = check_url(client, url("page.html"), "video", PROFILE)
    assert not html.ok and "text/html" in html.problems[0]
    missing = check_url(client, url("absent.mp4"), "video", PROFILE)
    assert not missing.ok and "HTTP 404" in missing.problems[0]
    assert fake.counts["posts"] == 0


# ---------------------------------------------------------------------------- journal
def test_journal_keeps_the_id_when_the_answer_is_lost_and_recover_finds_it(fake, fx, journal):
    with Client(SECRET, api_base=fake.url, files_base=fake.url, retry=RetryPolicy(attempts=1)) as c:
        body = hosted_body(c, fx)
        fake.inject(route="POST /v1/videos/generations", kind="drop_after")
        with pytest.raises(SubmitError, match="submit recover 1"):
            flow.create(c, journal, body)
        entry = journal.get(1)
        assert entry.state == "sent" and entry.task_id is None and entry.idempotency_key
        created = flow.recover(c, journal, 1)
    assert created.task.replayed and list(fake.tasks) == [created.task.id]
    assert journal.get(1).task_id == created.task.id and fake.counts["creates"] == 1


def test_a_killed_submit_loses_no_task(fake, fx, env, tmp_path):
    """SIGKILL while the POST is in flight: the journal row written before the send lets
    `submit recover` find the task the service created, without creating a second."""
    fake.inject(route="POST /v1/videos/generations", kind="slow", delay=2.0)
    proc = subprocess.Popen([sys.executable, "-m", "submit.cli", "--image", fx / "image/person_upper.png",
                             "--video", fx / "video/person_steady.mp4", "--orientation", "image", "--yes",
                             "--metadata-only"], env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while "POST /v1/videos/generations" not in fake.received and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # the POST has arrived; its answer is 2 s away
    with Journal(env["SUBMIT_JOURNAL"]) as journal:
        entry = journal.get(1)
    assert entry.state == "sending" and entry.task_id is None
    out, err = proc.communicate()
    SEEN.extend([out, err])
    while fake.counts["creates"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake.counts["creates"] == 1
    listed = run_submit("list", env=env)
    assert "answer lost: `submit recover 1`" in listed.stdout
    recovered = run_submit("recover", "1", "--format", "json", env=env)
    assert recovered.code == 0 and recovered.json()["task_id"] == next(iter(fake.tasks))
    assert fake.counts["creates"] == 1


# ---------------------------------------------------------------------------- the command
def test_cli_submit_wait_download_json(fake, fx, env, tmp_path):
    run = run_submit("--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
                     "--orientation", "image", "--prompt", "waving", "--wait", "--yes", "--metadata-only",
                     "--poll-interval", "0.05", "--out", tmp_path / "results", "--format", "json", env=env)
    assert run.code == 0, run.stdout + run.stderr
    result = run.json()
    assert result["status"] == "completed" and result["error"] is None
    assert Path(result["outputs"][0]).is_file() and result["reserved"]["unit"] == "uc"
    assert fake.tasks[result["task_id"]].body["prompt"] == "waving"
    listed = run_submit("list", "--format", "json", env=env).json()["tasks"]
    assert listed[0]["task_id"] == result["task_id"] and listed[0]["outputs"] == result["outputs"]
    status = run_submit("status", result["task_id"], "--format", "json", env=env).json()
    assert status["status"] == "completed" and status["results"]
    again = run_submit("download", result["task_id"], "--out", tmp_path / "again", env=env)
    assert again.code == 0 and (tmp_path / "again" / f"{result['task_id']}.mp4").is_file()


def test_cli_dry_run_sends_nothing(fake, fx, env):
    run = run_submit("--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
                     "--orientation", "video", "--element-id", "el-1", "--dry-run", "--metadata-only",
                     "--format", "json", env=env)
    assert run.code == 0
    out = run.json()
    assert out["body"]["model"] == "kling-v3-motion-control"
    assert out["body"]["model_params"] == {"character_orientation": "video", "keep_sound": True,
                                           "element_list": [{"element_id": "el-1"}]}
    assert out["hosting"]["video"]["host"] == "evolink-files"
    assert fake.counts == {"posts": 0, "creates": 0, "polls": 0, "uploads": 0, "downloads": 0}


def test_cli_refuses_what_preflight_fails_unless_forced(fake, fx, env):
    args = ["--image", fx / "image/side_299.png", "--video", fx / "video/person_steady.mp4", "--orientation", "image",
            "--yes", "--metadata-only"]
    refused = run_submit(*args, env=env)
    assert refused.code == 1 and "image.dimensions" in refused.stderr and "--force" in refused.stderr
    assert fake.counts["uploads"] == 0
    forced = run_submit(*args, "--force", "--format", "json", env=env)
    assert forced.code == 0 and forced.json()["task_id"] in fake.tasks


def test_cli_budget_and_confirmation(fake, fx, env):
    args = ["--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
            "--orientation", "image", "--metadata-only"]
    over = run_submit(*args, "--yes", "--max-cost", "0.10", env=env)
    assert over.code == 1 and "above --max-cost" in over.stderr
    unconfirmed = run_submit(*args, env=env, stdin="")
    assert unconfirmed.code == 1 and "pass --yes" in unconfirmed.stderr
    assert fake.counts["posts"] == 0


def test_cli_reports_task_failure_with_code_and_advice(fake, fx, env, tmp_path):
    fake.inject(route="task", kind="fail", code="content_policy_violation")
    run = run_submit("--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
                     "--orientation", "image", "--yes", "--metadata-only", "--wait", "--poll-interval", "0.05",
                     "--format", "json", "--out", tmp_path / "r", env=env)
    assert run.code == 1
    error = run.json()["error"]
    assert error["code"] == "content_policy_violation" and error["retryable"] is False and error["advice"]


def test_cli_wait_timeout_exit_code(fake, fx, env):
    fake.inject(route="task", kind="stuck")
    run = run_submit("--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
                     "--orientation", "image", "--yes", "--metadata-only", "--wait", "--poll-interval", "0.05",
                     "--timeout", "0.5", env=env)
    assert run.code == 5 and "submit wait task-unified-" in run.stderr


def test_cli_video_on_s3(fake, fx, env, s3, tmp_path):
    run = run_submit("--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
                     "--orientation", "image", "--yes", "--metadata-only", "--s3-bucket", BUCKET,
                     "--s3-endpoint", s3["endpoint"], "--format", "json", env={**env, **s3["env"]})
    assert run.code == 0, run.stderr
    assert run.json()["hosted"]["video"]["host"] == "s3"
    assert fake.tasks[run.json()["task_id"]].body["video_urls"][0].startswith(s3["endpoint"])


def test_cli_without_key_or_with_bad_key(fake, fx, env):
    args = ["--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4",
            "--orientation", "image", "--yes", "--metadata-only"]
    nokey = run_submit(*args, env={**env, "EVOLINK_API_KEY": ""})
    assert nokey.code == 2 and "EVOLINK_API_KEY" in nokey.stderr
    wrong = run_submit(*args, "--format", "json", env={**env, "EVOLINK_API_KEY": SECRET + "x"})
    assert wrong.code == 2 and wrong.json()["error"]["code"] == "unauthorized"  # the caller's mistake, not an outage


def test_exit_codes_tell_the_callers_mistake_from_an_outage(fake, env):
    """An unknown task id is the caller's mistake (2); the service failing is 4. A script can act
    on the difference: fix the input, or try again later."""
    unknown = run_submit("status", "task-unified-0-nosuch", "--format", "json", env=env)
    assert unknown.code == 2 and unknown.json()["error"]["http_status"] == 404
    fake.inject(route="GET /v1/tasks/task-unified-0-nosuch", kind="status", status=503, times=-1)
    down = run_submit("--timeout", "20", "status", "task-unified-0-nosuch", "--format", "json", env=env)
    assert down.code == 4 and down.json()["error"]["http_status"] == 503
    usage = run_submit("--format", "json", "status", "../x", env=env)
    assert usage.code == 2 and usage.json()["error"]["code"] == "usage_error" and "../x" in usage.json()["error"]["message"]


def test_config_file_readable_by_others_is_refused(fake, fx, env, tmp_path_factory):
    # Outside tmp_path: this is the one file that may hold the key, and the guard greps tmp_path.
    config = tmp_path_factory.mktemp("config") / "config.toml"
    config.write_text(f'api_key = "{SECRET}"\n')
    config.chmod(0o644)
    run = run_submit("credits", env={**env, "EVOLINK_API_KEY": "", "SUBMIT_CONFIG": str(config)})
    assert run.code != 0 and "chmod 600" in run.stderr
    config.chmod(0o600)
    run = run_submit("credits", "--format", "json", env={**env, "EVOLINK_API_KEY": "", "SUBMIT_CONFIG": str(config)})
    assert run.code == 0 and run.json()["credits"]["user"]["remaining_credits"] == pytest.approx(10_000)


def test_fake_server_runs_as_a_module():
    proc = subprocess.Popen([sys.executable, "-m", "submit.fake", "--port", "0", "--key", "k"],
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        url = line.split("listening on ")[1].split()[0]
        assert httpx.get(f"{url}/v1/credits", headers={"Authorization": "Bearer k"}).json()["success"] is True
        assert httpx.get(f"{url}/v1/credits").status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_prep_then_submit(fake, fx, env, tmp_path):
    run = run_submit("--image", fx / "image/side_299.png", "--video", fx / "video/dur_10.2s.mp4", "--orientation",
                     "image", "--prep", "--metadata-only", "--yes", "--out", tmp_path / "out", "--format", "json",
                     env=env)
    assert run.code == 0, run.stderr
    task = fake.tasks[run.json()["task_id"]]
    assert task.status == "pending" and task.result_path is not None  # the fake's intake accepted both
    assert sorted(p.name for p in (tmp_path / "out" / "prepped").iterdir()) == ["dur_10.2s.prep.mp4",
                                                                                 "side_299.prep.png"]


def test_uploads_report_their_progress_over_real_http(client, fake, fx, s3, tmp_path):
    """Both hosts tell how many bytes have gone, ending at the file's size; the bytes arrive whole."""
    from submit.hosting import EvoLinkFilesHost

    video = fx / "video/person_steady.mp4"
    heard: dict[str, list[tuple[str, float, float]]] = {}

    def progress(key, label, sent, total):
        heard.setdefault(key, []).append((label, sent, total))

    hosts = {"video": EvoLinkFilesHost(client),
             "image": S3Host(BUCKET, endpoint_url=s3["endpoint"], region="us-east-1")}
    hosted = flow.host_inputs({"video": str(video), "image": str(fx / "image/person_upper.png")}, hosts, progress)
    for path in (video, fx / "image/person_upper.png"):
        calls = heard[f"upload:{path}"]
        size = path.stat().st_size
        assert calls[0][0] == f"uploading {path.name}" and calls[-1][1:] == (size, size)
        assert [sent for _, sent, _ in calls] == sorted(sent for _, sent, _ in calls)
    assert httpx.get(hosted["video"].url).content == video.read_bytes()


def test_the_gate_shows_its_analysis_on_a_terminal(fx, env, tmp_path):
    from conftest import on_a_terminal
    from preflight.ffmpeg_binary import ffmpeg_exe

    clip = tmp_path / "take.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-loop", "1", "-t", "8", "-r", "25", "-i",
                    str(fx / "image/person_upper.png"), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
                    "yuv420p", str(clip)], check=True)
    argv = [sys.executable, "-m", "submit.cli", "--image", str(fx / "image/person_upper.png"), "--video", str(clip),
            "--orientation", "image", "--no-keep-sound", "--dry-run"]
    code, shown, stdout = on_a_terminal(argv, tmp_path, env={**os.environ, **env})
    assert code == 0, shown[-2000:]
    assert "analysing take.mp4" in shown and "analysing" not in stdout
