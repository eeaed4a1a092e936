"""Issue 14: a hostile API, a hostile job repository and odd media. Each test stands up real
local servers (the bundled fake with hostile fault modes, or a stdlib one) or makes real files,
and runs the real commands. Outcomes go into docs/faults.md's "hostile" section."""

from __future__ import annotations

import base64
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import fault_table
from conftest import run_cli
from fault_table import ROWS
from preflight.profile import load_profile
from submit import Client, RetryPolicy
from submit.fake import FakeEvoLink
from submit.hosting import check_url
from submit.secrets import forms
from submit_support import SECRET, SEEN, env_for, run_submit

PROFILE = load_profile("kling-v3-motion-control")


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    fault_table.write()


def row(what: str, code: int, did: str) -> None:
    ROWS["hostile"].append(f"| {fault_table.cell(what)} | {code} | {fault_table.cell(did)} |")


@pytest.fixture
def fake():
    with FakeEvoLink(api_key=SECRET, polls_to_complete=1) as server:
        yield server


@pytest.fixture
def env(fake, tmp_path):
    return env_for(fake, tmp_path)


def pair(fx: Path) -> list:
    return ["--image", fx / "image/person_upper.png", "--video", fx / "video/person_steady.mp4", "--orientation",
            "image", "--yes", "--metadata-only", "--poll-interval", "0.05"]


def journal_rows(env: dict) -> list[dict]:
    path = env["SUBMIT_JOURNAL"]
    if not Path(path).exists():
        return []
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM submissions ORDER BY id")]
    finally:
        db.close()


class _Server:
    """A stdlib HTTP server on loopback whose handler a test writes."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def measured_submit(args: list, env: dict, tmp_path: Path, timeout: float = 60) -> tuple[int, dict, float, float]:
    """Run ``submit`` in a child that reports its own peak memory: (exit, JSON out, wall s, peak MB).

    The peak is the child's VmHWM: getrusage's ru_maxrss would carry this test process's peak
    into the child across fork and exec."""
    report = tmp_path / "rusage.txt"
    code = ("import atexit, re, runpy, sys\n"
            "def peak():\n"
            "    status = open('/proc/self/status').read()\n"
            f"    open({str(report)!r}, 'w').write(re.search(r'VmHWM:\\s+(\\d+)', status).group(1))\n"
            "atexit.register(peak)\n"
            "sys.argv = ['submit'] + sys.argv[1:]\n"
            "runpy.run_module('submit.cli', run_name='__main__')\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code, *map(str, args), "--format", "json"], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=timeout)
    wall = time.monotonic() - started
    SEEN.extend([done.stdout, done.stderr])
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), wall, int(report.read_text()) / 1024


# ------------------------------------------------------------------------ 1. no server picks a path
@pytest.mark.parametrize("task_id", ["../../escaped", "/some/dir/", "task-unified-1\nx", "a" * 200])
def test_a_task_id_that_is_not_a_token_is_refused_and_kept(fake, env, fx, tmp_path, task_id):
    fake.inject(route="task", kind="task_id", value=task_id)
    out = tmp_path / "deep" / "out"
    run = run_submit(*pair(fx), "--wait", "--out", out, "--format", "json", env=env)
    assert run.code == 4 and run.json()["error"]["code"] == "malformed_response"
    assert "not a plain id" in run.json()["error"]["detail"]
    assert not (tmp_path / "escaped").exists() and not list(tmp_path.rglob("*.mp4"))
    rows = journal_rows(env)
    # The paid task is not lost: the row keeps the answer, and `submit recover` can ask again.
    assert rows[0]["state"] == "sent" and rows[0]["task_id"] is None and "not a plain id" in rows[0]["error"]
    row(f"task id {task_id[:40]!r} from the service", run.code, "refused as malformed_response; nothing written; "
        "journal row kept as sent")


def test_result_names_are_the_tools_own_and_never_replace_a_file(fake, env, fx, tmp_path):
    served = (fx / "video/person_steady.mp4").read_bytes()

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the base class's name
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Disposition", 'attachment; filename="../../.bashrc"')
            self.send_header("Content-Length", str(len(served)))
            self.end_headers()
            self.wfile.write(served)

        def log_message(self, *args):
            pass

    server = _Server(Evil)
    try:
        fake.inject(route="task", kind="result_url", value=f"{server.url}/dl/x.bashrc")
        out = tmp_path / "out"
        out.mkdir()
        created = run_submit(*pair(fx), "--format", "json", env=env).json()["task_id"]
        mine = out / f"{created}.mp4"
        mine.write_bytes(b"the user's own file")
        run = run_submit("wait", created, "--out", out, "--format", "json", env=env)
    finally:
        server.close()
    assert run.code == 0, run.stdout + run.stderr
    saved = [Path(p) for p in run.json()["outputs"]]
    assert saved == [out / f"{created} (2).mp4"] and saved[0].read_bytes() == served
    assert mine.read_bytes() == b"the user's own file"
    assert sorted(p.name for p in tmp_path.rglob("*bashrc*")) == []
    row("result URL ending x.bashrc, Content-Disposition ../../.bashrc, a file of that name already there", 0,
        "saved as '<task id> (2).mp4' in --out; the existing file untouched")


@pytest.mark.parametrize("command", [["status"], ["wait"], ["download"]])
@pytest.mark.parametrize("task_id", ["../../x", "/etc/passwd", "a b"])
def test_task_id_arguments_are_plain_tokens(fake, env, command, task_id):
    run = run_submit(*command, task_id, env=env)
    assert run.code == 2 and "not a plain id" in run.stderr
    assert fake.received == []
    if command == ["download"] and task_id == "../../x":
        row(f"submit {command[0]} {task_id}", 2, "usage error: not a plain id; nothing sent")


# ------------------------------------------------------------------------ 2. the key never shows
@pytest.mark.parametrize("label,key", [("trailing CR", SECRET + "\r"), ("trailing CRLF", SECRET + "\r\n"),
                                       ("trailing LF", SECRET + "\n"), ("non-ASCII", SECRET[:-1] + "é"),
                                       ("a space", SECRET[:9] + " " + SECRET[9:])])
def test_a_key_that_cannot_be_a_token_fails_before_any_request(fake, env, fx, label, key, tmp_path):
    for fmt in ("text", "json"):
        run = run_submit(*pair(fx), "--format", fmt, env={**env, "EVOLINK_API_KEY": key})
        assert run.code == 2 and "EVOLINK_API_KEY" in run.stderr and "printable ASCII" in run.stderr
        for form in forms(key):
            assert form not in run.stdout + run.stderr
    assert fake.received == [] and journal_rows(env) == []
    row(f"API key with {label}", 2, "usage error naming EVOLINK_API_KEY and the character; nothing sent; "
        "no form of the key printed")


def test_a_server_echoing_the_key_is_masked_everywhere(fake, env, fx):
    fake.inject(route="POST /v1/videos/generations", kind="echo_key", status=400, times=-1)
    run = run_submit(*pair(fx), "--format", "json", env=env)
    text = run.stdout + run.stderr + json.dumps(journal_rows(env))
    assert run.code == 2 and "***" in run.json()["error"]["message"]
    for form in forms(SECRET):
        assert form not in text
    assert base64.b64encode(f"Bearer {SECRET}".encode()).decode() not in text
    row("the service quotes the bearer key in its error", 2, "every form of the key masked as *** in output and "
        "journal")


# ------------------------------------------------------------------------ 3. bounded in bytes and time
def test_an_endless_result_download_ends_at_the_deadline_or_the_cap(fake, env, fx, tmp_path):
    fake.inject(route="GET /results", kind="endless", times=-1)
    out = tmp_path / "out"
    code, result, wall, peak = measured_submit([*pair(fx), "--wait", "--out", out, "--timeout", "5"], env, tmp_path)
    assert code in (4, 5) and result["error"]["code"] in ("deadline_exceeded", "result_too_large")
    assert wall < 5 + 4 and peak < 400
    assert not [p for p in out.iterdir() if not p.name.startswith(".")]  # no result claimed
    assert sum(p.stat().st_size for p in out.iterdir()) <= PROFILE.value("results.max_file_size")
    row("result download with no length that never ends, --timeout 5", code,
        f"{result['error']['code']} after {wall:.1f} s, peak {peak:.0f} MB; nothing saved as a result")


def test_a_reply_dripped_a_byte_a_second_ends_at_the_deadline(fake, env, fx, tmp_path):
    fake.inject(route="POST /v1/videos/generations", kind="drip", delay=1.0, times=-1)
    code, result, wall, peak = measured_submit([*pair(fx), "--timeout", "5"], env, tmp_path)
    assert code == 5 and result["error"]["code"] == "deadline_exceeded"
    assert wall < 5 + 4
    rows = journal_rows(env)
    assert rows[0]["state"] in ("sending", "sent")  # it may have been created: recover can tell
    row("create reply dripped one byte a second (headers too), --timeout 5", code,
        f"deadline_exceeded after {wall:.1f} s, peak {peak:.0f} MB; journal row left for `submit recover`")


def test_a_url_probe_never_reads_an_endless_body(tmp_path):
    class Endless(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_HEAD(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.end_headers()

        def do_GET(self):  # noqa: N802 - ignores the Range it is sent
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Connection", "close")
            self.end_headers()
            stop = time.monotonic() + 30
            try:
                while time.monotonic() < stop:
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    import tracemalloc

    server = _Server(Endless)
    tracemalloc.start()
    try:
        with Client(SECRET, retry=RetryPolicy(attempts=1), deadline=5) as client:
            started = time.monotonic()
            result = check_url(client, f"{server.url}/v.mp4", "video", PROFILE)
            elapsed = time.monotonic() - started
        grown = tracemalloc.get_traced_memory()[1] / 1e6  # the peak of what Python allocated meanwhile
    finally:
        tracemalloc.stop()
        server.close()
    assert result.ok and "does not say its size" in result.warnings[0]
    assert elapsed < 2 and grown < 50
    row("user video URL: HEAD without a size, then a ranged GET answered with an endless body", 0,
        f"headers read, body never read ({elapsed:.2f} s, +{grown:.0f} MB); size reported as unknown")


def test_an_oversized_json_reply_is_refused(fake, fx):
    # A reply announcing more than network.max_reply_bytes is refused before it is read.
    with Client(SECRET, api_base=fake.url, files_base=fake.url, retry=RetryPolicy(attempts=1),
                max_reply_bytes=100) as client:
        with pytest.raises(Exception) as caught:
            client.credits()
    assert caught.value.info.name == "reply_too_large"


# ------------------------------------------------------------------------ 4. job files opened like media
def _hostile_jobs(folder: Path) -> dict[str, str]:
    (folder / "zero.job.toml").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.job.toml")
    with open(folder / "huge.job.toml", "wb") as fh:
        fh.truncate(600_000_000)  # sparse: 600 MB to stat, nothing on disk
    (folder / "deep.job.toml").write_text('image = "a.png"\nx = ' + "[" * 100_000 + "]" * 100_000 + "\n")
    (folder / "nul.job.toml").write_text('image = "a\\u0000b.png"\n')
    (folder / "outside.job.toml").write_text('image = "../../../etc/passwd"\n')
    (folder / "absolute.job.toml").write_text('image = "/etc/passwd"\n')
    return {"zero.job.toml": "character device", "fifo.job.toml": "FIFO", "huge.job.toml": "600,000,000 bytes",
            "deep.job.toml": "nested too deeply", "nul.job.toml": "NUL", "outside.job.toml": "outside the job's folder",
            "absolute.job.toml": "outside the job's folder"}


def test_hostile_job_files_fail_as_job_file_in_bounded_time(tmp_path):
    expected = _hostile_jobs(tmp_path)
    started = time.monotonic()
    run = run_cli(*(tmp_path / name for name in expected), "--metadata-only", "--format", "json", "--timeout", "20")
    elapsed = time.monotonic() - started
    assert run.code == 1 and elapsed < 20
    import tracemalloc

    from preflight.job import JobError, load_job

    tracemalloc.start()
    try:
        for name in expected:
            with pytest.raises(JobError):
                load_job(tmp_path / name)
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    assert peak_mb < 5  # the 600 MB file and /dev/zero are refused, not read
    for report in run.json()["reports"]:
        name = Path(report["name"]).name
        assert [c["id"] for c in report["checks"]] == ["job.file"], name
        assert expected[name] in report["checks"][0]["message"], report["checks"][0]["message"]
        row(f"job file: {name}", 1, f"job.file: {report['checks'][0]['message'].split(': ', 1)[1]}")


def test_submit_and_prep_refuse_a_hostile_job_in_words(tmp_path, env, fake):
    _hostile_jobs(tmp_path)
    for name in ("fifo.job.toml", "outside.job.toml"):
        sent = run_submit("--job", tmp_path / name, "--dry-run", env=env, timeout=30)
        assert sent.code == 2 and name in sent.stderr
        prepped = subprocess.run([sys.executable, "-m", "prep", "--job", str(tmp_path / name)], capture_output=True,
                                 text=True, timeout=30)
        assert prepped.returncode == 2 and name in prepped.stderr and "Traceback" not in prepped.stderr


def test_media_outside_the_job_folder_when_the_configuration_allows(tmp_path, fx):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "shared.job.toml").write_text(f'image = "{fx / "image/person_upper.png"}"\n')
    refused = run_cli(jobs / "shared.job.toml", "--metadata-only", "--format", "json")
    assert refused.json()["checks"][0]["id"] == "job.file"
    (tmp_path / "preflight.toml").write_text("allow_media_outside_job = true\n")
    allowed = run_cli(jobs / "shared.job.toml", "--metadata-only", "--format", "json",
                      "--config", tmp_path / "preflight.toml")
    assert allowed.code == 0, allowed.stdout


# ------------------------------------------------------------------------ 5. no planted file redirects output
def test_a_planted_symlink_at_the_old_temporary_name_is_never_followed(fx, tmp_path):
    out = tmp_path / "shared"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    proc = subprocess.Popen([sys.executable, "-m", "prep", "--image", fx / "image/side_299.png", "--metadata-only",
                             "-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The name the writer used to pick (".<stem>.part-<pid><suffix>"), planted before it writes.
    (out / f".side_299.prep.part-{proc.pid}.png").symlink_to(victim)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert victim.read_text() == "precious"
    assert (out / "side_299.prep.png").is_file() and not (out / "side_299.prep.png").is_symlink()
    row("symlink planted at the temporary name prep used to pick", 0, "written in a private mkdtemp folder; the "
        "link never followed")


def test_a_planted_part_file_link_is_refused(fake, env, fx, tmp_path):
    created = run_submit(*pair(fx), "--format", "json", env=env).json()["task_id"]
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / f".{created}.mp4.part").symlink_to(victim)
    run = run_submit("wait", created, "--out", out, "--format", "json", env=env)
    assert run.code == 4 and "symbolic link" in run.json()["error"]["detail"]
    assert victim.read_text() == "precious"
    row("symlink planted at the download's .part name", 4, "refused in words; the link's target untouched")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the ffmpeg child")
def test_a_killed_prep_leaves_no_ffmpeg_and_the_next_run_clears_its_part(fx, tmp_path):
    from make_fixtures import _video

    clip = tmp_path / "long.mp4"  # 720p: an encode that lasts long enough to be caught
    _video(clip, 1280, 720, 8, 30)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "prep", "--video", clip, "--metadata-only", "-o", out, "--start", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ffmpeg, deadline = [], time.monotonic() + 60
    while not ffmpeg and time.monotonic() < deadline and proc.poll() is None:
        ffmpeg = _children(proc.pid)
        time.sleep(0.01)
    if not ffmpeg:
        pytest.skip("prep finished before its ffmpeg could be seen")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone_by = time.monotonic() + 5
    while Path(f"/proc/{ffmpeg[0]}").exists() and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert not Path(f"/proc/{ffmpeg[0]}").exists() or "Z" in Path(f"/proc/{ffmpeg[0]}/stat").read_text().split()[2]
    stale = [p for p in out.iterdir() if p.name.startswith(".part-")]
    assert stale  # what the killed run left
    again = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".part-")]
    row("prep SIGKILLed while ffmpeg encodes", -9, "ffmpeg killed with it (PR_SET_PDEATHSIG); the next run removed "
        "the dead run's temporary folder")


# ------------------------------------------------------------------------ 6. prep keeps what the viewer sees
def _stream(path: Path) -> tuple[int, int, str, int]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.width, stream.height, str(stream.sample_aspect_ratio or 1), stream.frames


def test_non_square_pixels_come_out_square_at_the_displayed_shape(fx, tmp_path):
    from make_fixtures import _video

    clip = tmp_path / "anamorphic.mp4"
    _video(clip, 1440, 1080, 3.5, 10, extra_out=("-vf", "setsar=4/3"))
    done = subprocess.run([sys.executable, "-m", "prep", "--video", clip, "--metadata-only", "-o", tmp_path / "o",
                           "--format", "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    width, height, sar, _ = _stream(tmp_path / "o" / "anamorphic.prep.mp4")
    assert (width, height, sar) == (1920, 1080, "1")
    row("1440x1080 with 4:3 pixels", 0, "prep: 1920x1080 with square pixels (was squeezed to 4:3)")


@pytest.mark.parametrize("label,rate,frames", [("200 frames at 10000 fps", 10000, 200), ("one frame", 25, 1)])
def test_extend_builds_one_bounded_graph(tmp_path, label, rate, frames):
    from preflight.ffmpeg_binary import ffmpeg_exe

    clip = tmp_path / "short.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s=640x360:r={rate}", "-frames:v",
                    str(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True)
    for mode in ("loop", "boomerang"):
        out = tmp_path / mode
        planned = subprocess.run([sys.executable, "-m", "prep", "--video", clip, "--extend", mode, "--metadata-only",
                                  "-o", out, "--dry-run", "--format", "json"], capture_output=True, text=True,
                                 timeout=60)
        args = json.loads(planned.stdout)["plan"][0]["ffmpeg_args"]
        assert args.count("-i") == 1 and any("loop=" in a for a in args)
        done = subprocess.run([sys.executable, "-m", "prep", "--video", clip, "--extend", mode, "--metadata-only",
                               "-o", out, "--format", "json"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr
        assert json.loads(done.stdout)["preflight"]["ok"]
        assert not [p for p in out.iterdir() if p.name.startswith(".")]
    row(f"--extend on a clip of {label}", 0, "one input, one loop filter; output 3.5 s passes preflight")


# ------------------------------------------------------------------------ 7. odd names
def test_odd_names_keep_every_format_well_formed(fx, tmp_path):
    import xml.etree.ElementTree as ET

    names = ["take1:final.mp4", "pipe:0.mp4", "esc\x1b[31m\x07.mp4", os.fsdecode(b"bad\xff\xfe.mp4")]
    for name in names:
        (tmp_path / name).write_bytes((fx / "video/person_steady.mp4").read_bytes())
    for fmt in ("json", "jsonl", "sarif", "junit", "text", "github"):
        done = subprocess.run([sys.executable, "-m", "preflight", "--metadata-only", "--format", fmt, *names],
                              cwd=tmp_path, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        text = done.stdout.decode("utf-8")  # strict: no byte that is not UTF-8
        assert "\x1b" not in text and "\x07" not in text
        if fmt in ("json", "sarif"):
            json.loads(text)
        elif fmt == "jsonl":
            [json.loads(line) for line in text.splitlines()]
        elif fmt == "junit":
            ET.fromstring(text)
        if fmt not in ("sarif", "github"):  # those two list failures and warnings only; these files pass
            assert "bad\\xff\\xfe.mp4" in text.replace("\\\\", "\\")  # JSON writes the backslash twice
    row("files named take1:final.mp4, pipe:0.mp4, with ESC/BEL, with bytes not UTF-8", 0,
        "read as files; JSON, JSONL, SARIF and JUnit well-formed, names escaped as \\xNN")


# ------------------------------------------------------------------------ 8. no internal error for bad input
def test_prep_into_a_folder_that_cannot_be_made_is_worded(fx, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = subprocess.run([sys.executable, "-m", "prep", "--image", fx / "image/side_299.png", "--metadata-only",
                           "-o", blocker / "out"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "cannot be written" in done.stderr and "internal error" not in done.stderr
    row("prep -o under a regular file", 1, "worded: cannot be written; nothing left behind")


def test_a_report_or_cache_that_cannot_be_written_is_worded(fx, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    report = run_cli("--image", fx / "image/person_upper.png", "--report", blocker / "r.html")
    assert report.code == 2 and "cannot be written (a part of its path is a file" in report.stderr
    cached = run_cli("--image", fx / "image/person_upper.png", "--metadata-only", "--cache-dir", blocker / "c")
    assert cached.code == 0 and "results not cached" in cached.stderr
    row("preflight --report or --cache-dir under a regular file", 2, "report: worded, exit 2; cache: a warning, "
        "the run goes on")


def test_an_element_id_that_is_not_a_token_fails(fx):
    run = run_cli("--image", fx / "image/person_upper.png", "--orientation", "video", "--element-id", "../../x",
                  "--metadata-only", "--format", "json")
    check = next(c for c in run.json()["checks"] if c["id"] == "request.element_list")
    assert run.code == 1 and check["status"] == "fail" and "not a plain id" in check["message"]


def test_a_full_disk_while_writing_an_image_is_worded(fx, tmp_path):
    def small_files():  # EFBIG past 1 kB: the same OSError path as ENOSPC, without a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "prep", "--image", fx / "image/side_299.png", "--metadata-only",
                           "-o", out, "--force"], capture_output=True, text=True, timeout=120, preexec_fn=small_files)
    assert done.returncode == 1 and "cannot be written" in done.stderr, done.stderr
    assert not list(out.iterdir())
    row("disk full (file size limit) while prep writes an image", 1, "worded: cannot be written; no partial file")


def test_a_second_task_with_an_id_the_journal_holds(fake, env, fx):
    first = run_submit(*pair(fx), "--format", "json", env=env).json()["task_id"]
    fake.inject(route="task", kind="task_id", value=first)
    run = run_submit(*pair(fx), "--again", "--prompt", "another", "--format", "json", env=env)
    assert run.code == 4 and run.json()["error"]["code"] == "duplicate_task_id"
    rows = journal_rows(env)
    assert rows[0]["task_id"] == first and rows[1]["task_id"] is None and "duplicate_task_id" in rows[1]["error"]
    row("the service answers a new create with a task id the journal already holds", 4,
        "duplicate_task_id, worded; both rows kept true")


# ------------------------------------------------------------------------ 9. what a viewer sees
def test_a_fully_transparent_picture_is_no_person(fx, tmp_path):
    from PIL import Image

    picture = Image.open(fx / "image/person_upper.png").convert("RGBA")
    picture.putalpha(0)
    picture.save(tmp_path / "clear.png")
    run = run_cli("--image", tmp_path / "clear.png", "--format", "json")
    verdict = {c["id"]: c["status"] for c in run.json()["checks"]}
    assert run.code == 1 and verdict["image.transparency"] == "fail" and verdict["image.person"] == "fail"
    half = Image.open(fx / "image/person_upper.png").convert("RGBA")
    half.putalpha(Image.linear_gradient("L").resize(half.size))
    half.save(tmp_path / "half.png")
    warned = {c["id"]: c for c in run_cli("--image", tmp_path / "half.png", "--metadata-only", "--format",
                                          "json").json()["checks"]}
    assert warned["image.transparency"]["status"] == "skip"  # not decoded with --metadata-only
    decoded = {c["id"]: c for c in run_cli("--image", tmp_path / "half.png", "--format", "json").json()["checks"]}
    assert decoded["image.transparency"]["status"] == "warn" and "transparent PNG" in \
        decoded["image.transparency"]["message"]
    row("PNG with alpha 0 everywhere over a person", 1, "image.transparency fails; people judged on white: none")


# ------------------------------------------------------------------------ 10. callback URLs
@pytest.mark.parametrize("url,words", [("https://user:pass@example.com/hook", "user name or password"),
                                       ("https://exa mple.com/hook", "not a valid host name"),
                                       ("https://127.0.0.1/hook", "is a loopback address;"),
                                       ("https://240.0.0.1/hook", "address;")])
def test_callback_urls_with_credentials_or_bad_hosts_fail_in_plain_words(url, words):
    run = run_cli("--image", "missing.png", "--callback-url", url, "--metadata-only", "--format", "json")
    check = next(c for c in run.json()["checks"] if c["id"] == "request.callback_url")
    assert check["status"] == "fail" and words in check["message"]
    assert "a not a" not in check["message"] and "address address" not in check["message"]
    assert "pass" not in json.dumps(run.json()["request"]).replace("user:***", "")


# ------------------------------------------------------------------------ 11. not paid for twice
def test_the_same_submission_twice_is_refused_unless_again(fake, env, fx):
    first = run_submit(*pair(fx), "--format", "json", env=env)
    second = run_submit(*pair(fx), "--format", "json", env=env)
    assert first.code == 0 and second.code == 1 and second.json()["error"]["code"] == "already_submitted"
    assert first.json()["task_id"] in second.json()["error"]["message"] and fake.counts["creates"] == 1
    again = run_submit(*pair(fx), "--again", "--format", "json", env=env)
    assert again.code == 0 and fake.counts["creates"] == 2
    third = run_submit(*pair(fx), "--format", "json", env=env)  # the --again one is in flight too
    assert third.code == 1 and again.json()["task_id"] in third.json()["error"]["message"]
    row("the same files and request submitted again while the first is in flight", 1,
        "already_submitted, naming the task; --again pays for another")


def test_concurrent_identical_submits_create_one_task(fake, env, fx):
    fake.inject(route="POST /v1/videos/generations", kind="slow", delay=1.0, times=-1)
    args = [sys.executable, "-m", "submit.cli", *map(str, pair(fx)), "--format", "json"]
    procs = [subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    codes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        SEEN.extend([out, err])
        codes.append(proc.returncode)
    assert sorted(codes) == [0, 1, 1] and fake.counts["creates"] == 1
    row("three identical submits at once", 0, "one task created; the other two refused as already_submitted")


# ------------------------------------------------------------------------ 12. errors classed right
def test_an_error_said_with_http_200_keeps_its_code(fake, env, fx):
    fake.inject(route="POST /v1/videos/generations", kind="error_200", code="insufficient_quota", times=-1)
    run = run_submit(*pair(fx), "--format", "json", env=env)
    assert run.code == 2 and run.json()["error"]["code"] == "insufficient_quota"  # the caller's account, not an outage
    assert journal_rows(env)[0]["state"] == "refused"
    row("HTTP 200 with an error body", 2, "its code (insufficient_quota) kept, exit 2 as for a 402; journal row refused")


@pytest.mark.parametrize("link", ["file:///etc/passwd", "ftp://example.com/x.mp4", "http://example.com/x.mp4"])
def test_a_result_link_that_is_not_https_is_refused_at_once(fake, env, fx, tmp_path, link):
    fake.inject(route="task", kind="result_url", value=link)
    started = time.monotonic()
    run = run_submit(*pair(fx), "--wait", "--out", tmp_path / "o", "--format", "json", env=env)
    assert run.code == 4 and run.json()["error"]["code"] == "unsafe_result_link"
    assert time.monotonic() - started < 10 and fake.counts["downloads"] == 0
    row(f"result link {link}", 4, "unsafe_result_link at once, no retries")


def test_a_result_link_redirected_to_an_unsafe_place_is_not_followed(fake, env, fx, tmp_path):
    class Redirect(BaseHTTPRequestHandler):
        asked: list[str] = []

        def do_GET(self):  # noqa: N802
            Redirect.asked.append(self.path)
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = _Server(Redirect)
    try:
        fake.inject(route="task", kind="result_url", value=f"{server.url}/r.mp4")
        run = run_submit(*pair(fx), "--wait", "--out", tmp_path / "o", "--format", "json", env=env)
    finally:
        server.close()
    assert run.code == 4 and run.json()["error"]["code"] == "unsafe_result_link" and Redirect.asked == ["/r.mp4"]
    row("result link redirecting to file:///etc/passwd", 4, "unsafe_result_link before the redirect is followed")


def test_nothing_sent_leaves_the_row_unsent(fx, tmp_path):
    with FakeEvoLink(api_key=SECRET) as server:
        url = server.url  # closed again when the block ends
    env = {"EVOLINK_API_KEY": SECRET, "EVOLINK_API_BASE": url, "EVOLINK_FILES_BASE": url,
           "SUBMIT_JOURNAL": str(tmp_path / "journal.sqlite3"), "SUBMIT_CONFIG": str(tmp_path / "absent.toml"),
           "SUBMIT_S3_BUCKET": ""}
    with FakeEvoLink(api_key=SECRET) as files:  # uploads work; the API host is down
        run = run_submit(*pair(fx), "--format", "json", env={**env, "EVOLINK_FILES_BASE": files.url})
    assert run.code == 4 and "Nothing reached the service" in run.json()["error"]["detail"]
    assert journal_rows(env)[0]["state"] == "unsent"
    row("API host refuses connections (files host up)", 4, "connection_error; journal row unsent, not sent")

