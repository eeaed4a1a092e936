"""Fuzzing the parsing entry points with hypothesis, for a bounded number of examples in CI
(``FUZZ_EXAMPLES``, default 150 each, a tenth of that for the slower decoding target; set it
high for a long local run).

Each target may only answer with its documented error type (or a report naming the problem),
never another exception. Inputs that once crashed a target are kept in tests/fuzz_regressions/
and replayed by ``test_regressions`` first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.config import ConfigError, load_config
from preflight.job import JobError, load_job
from preflight.probe import probe_file
from submit.client import Client, Task
from submit.errors import ApiError, TransportError, parse_error

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
REGRESSIONS = Path(__file__).parent / "fuzz_regressions"


def _seeds(fx: Path) -> dict[str, bytes]:
    return {name: (fx / name).read_bytes()[:200_000] for name in
            ("image/ok_portrait.jpg", "image/ok_landscape.png", "image/refused.gif", "image/refused.bmp",
             "image/refused.webp", "video/ok_landscape.mp4", "video/ok.mov")}


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for where, value in edits:
        if out:
            out[where % len(out)] = value
    return bytes(out[:cut] if cut is not None else out)


def probe_bytes(tmp: Path, data: bytes, suffix: str) -> None:
    path = tmp / f"input{suffix}"
    path.write_bytes(data)
    facts = probe_file(str(path), verify_pixels=True)
    # Never an exception: an unusable file is a problem in words.
    assert facts.problem is None or isinstance(facts.problem, str)


def test_regressions(tmp_path):
    """Every input that once crashed a target, replayed (the folder holds them by target)."""
    for path in sorted(REGRESSIONS.glob("probe-*")):
        probe_bytes(tmp_path, path.read_bytes(), path.suffix)
    for path in sorted(REGRESSIONS.glob("job-*.job.toml")):
        with pytest.raises(JobError):
            load_job(path)
    for path in sorted(REGRESSIONS.glob("config-*.toml")):
        with pytest.raises(ConfigError):
            load_config(path)


@FUZZ
@given(seed=st.sampled_from(range(7)), edits=st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 255)),
                                                     max_size=12),
       cut=st.one_of(st.none(), st.integers(0, 200_000)))
def test_probe_survives_mutated_media(fx, tmp_path_factory, seed, edits, cut):
    seeds = _seeds(fx)
    name = sorted(seeds)[seed]
    data = _mutate(seeds[name], edits, cut)
    probe_bytes(tmp_path_factory.mktemp("fuzz"), data, Path(name).suffix)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_probe_survives_random_bytes(tmp_path_factory, data):
    probe_bytes(tmp_path_factory.mktemp("fuzz"), data, ".mp4")


_toml_values = st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.floats(allow_nan=False),
                         st.lists(st.text(max_size=10), max_size=3))


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["image", "video", "orientation", "quality", "prompt", "keep_sound",
                                               "element_ids", "callback_url", "other"]), _toml_values, max_size=6),
       raw=st.text(max_size=200))
def test_job_loader_answers_with_job_errors_only(tmp_path_factory, fields, raw):
    folder = tmp_path_factory.mktemp("job")
    for text in (raw, "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items())):
        path = folder / "x.job.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass") if "\ud800" not in text else None
        if not path.exists():
            continue
        try:
            job = load_job(path)
        except JobError as exc:
            assert str(path) in str(exc)
        else:
            assert job.image or job.video


@FUZZ
@given(table=st.dictionaries(st.sampled_from(["profile", "orientation", "jobs", "cache", "checks", "thresholds",
                                              "metadata_only", "nonsense"]),
                             st.one_of(_toml_values, st.dictionaries(st.text(max_size=25), _toml_values, max_size=3)),
                             max_size=5))
def test_config_loader_answers_with_config_errors_only(tmp_path_factory, table):
    import tomllib

    path = tmp_path_factory.mktemp("config") / "preflight.toml"
    lines = []
    for key, value in table.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items()]
        else:
            lines.insert(0, f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    try:
        tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError:
        pass
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


def _containers(inner):
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     _containers, max_leaves=12)


@FUZZ
@given(body=_json, status=st.integers(200, 599), extra=st.dictionaries(
    st.sampled_from(["id", "status", "progress", "results", "error", "usage", "task_info", "created"]), _json))
def test_api_responses_are_read_or_refused_cleanly(body, status, extra):
    parse_error(body, status)
    if isinstance(body, dict):
        parse_error({"error": body}, status)
    merged = {**extra, "id": str(extra.get("id", "task-unified-1-x"))}
    task = Task.from_body(merged)
    assert isinstance(task.results, list) and isinstance(task.status, str)


@FUZZ
@given(raw=st.binary(max_size=300), status=st.integers(100, 599))
def test_client_reads_any_reply_without_crashing(raw, status):
    def reply(request):
        return httpx.Response(status, content=raw, headers={"content-type": "application/json"})

    with Client("k", api_base="http://fake", files_base="http://fake", transport=httpx.MockTransport(reply),
                sleep=lambda s: None) as client:
        try:
            client.credits()
        except (ApiError, TransportError):
            pass


class _Sampler:
    name, interval, max_side, pixel_format = "sampler", 0.2, 64, "rgb24"

    def __init__(self):
        self.times: list[float] = []

    def process(self, t, image, shared):
        self.times.append(t)

    def finish(self, duration):
        pass


@settings(max_examples=max(10, EXAMPLES // 10), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(["person_phone_gop_cut_6.5s.mp4", "person_hevc_open_gop_cut_6.5s.mp4"]),
       edits=st.lists(st.tuples(st.integers(2_000, 10**6), st.integers(0, 255)), min_size=1, max_size=40))
def test_partial_decoding_survives_damaged_streams(fx, tmp_path_factory, name, edits):
    """Damaged packets in a stream decoded in part: the decode loop returns consistent numbers
    or raises an ordinary exception (which the report words as "content analysis failed");
    it never crashes or hangs the process (the run would die here)."""
    from preflight.analysis.cuts import CutDetector
    from preflight.analysis.frames import run_decode

    source = fx / "video" / name
    if not source.exists():
        pytest.skip("person fixtures need scikit-image's bundled photos")
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(_mutate(source.read_bytes(), edits, None))
    cuts, sampler = CutDetector(), _Sampler()
    try:
        stats = run_decode(str(path), [cuts, sampler])
    except Exception:  # noqa: BLE001 - an ordinary exception is the contract; a crash is not
        return
    assert stats.frame_times == sorted(stats.frame_times)
    assert sampler.times == sorted(sampler.times)
    if stats.frames_total:
        assert stats.frames_decoded <= stats.frames_total
    assert all(0 <= t <= stats.duration for t in cuts.result.cuts)
