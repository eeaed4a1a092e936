"""Decoding only part of a clip: phone-style GOPs are decoded at their start, the gaps screened,
and the GOPs where a cut may hide decoded again in full. Checked against decoding everything."""

from __future__ import annotations

import subprocess

import pytest

from preflight import Status, check
from preflight.analysis.cuts import CutDetector
from preflight.analysis.frames import run_decode
from preflight.analysis.packets import read_index

FRAME = 1 / 30  # these clips run at 30 fps
CUT = 6.5


@pytest.fixture(scope="session")
def clips(fx):
    folder = fx / "video"
    if not (folder / "person_phone_gop_cut_6.5s.mp4").exists():
        pytest.skip("person fixtures need scikit-image's bundled photos")
    return folder


def cuts_of(path, skip: bool):
    detector = CutDetector()
    stats = run_decode(str(path), [detector], skip=skip)
    return detector.result, stats


@pytest.mark.parametrize("name", ["person_phone_gop_cut_6.5s.mp4", "person_open_gop_cut_6.5s.mp4",
                                  "person_hevc_open_gop_cut_6.5s.mp4", "person_scenecut_6.5s.mp4"])
def test_partial_decoding_finds_the_same_cut_as_decoding_everything(clips, name):
    sparse, stats = cuts_of(clips / name, skip=True)
    full, full_stats = cuts_of(clips / name, skip=False)
    assert full.cuts and abs(full.cuts[0] - CUT) <= 2 * FRAME
    assert sparse.cuts == full.cuts
    assert sparse.fades == full.fades and sparse.dissolves == full.dissolves
    # Only the start of most GOPs was decoded, plus what was decoded again around the cut.
    assert stats.gops_skipped >= 6
    assert stats.frames_decoded + stats.frames_refilled < 0.6 * full_stats.frames_decoded
    assert stats.frames_total == full_stats.frames_decoded == 360


def test_on_one_decoder_thread_the_decoder_is_reset_between_bursts_and_finds_the_same_cut(clips, monkeypatch):
    """The largest pictures decode on one thread, and there the decoder is drained and reset
    after each burst (it lets go of what the skipped frames left behind): the cut is the same."""
    import preflight.analysis.frames as frames

    full, _ = cuts_of(clips / "person_phone_gop_cut_6.5s.mp4", skip=False)
    monkeypatch.setattr(frames, "DECODER_THREAD_MEMORY", 0)  # every picture "too large" for a second thread
    assert frames.decoder_threads(512 * 512 * 3 // 2) == 1
    one_thread, stats = cuts_of(clips / "person_phone_gop_cut_6.5s.mp4", skip=True)
    assert one_thread.cuts == full.cuts and stats.gops_skipped >= 6


def test_a_long_gop_clip_with_b_frames_decodes_its_reference_frames_only(clips):
    """x264's defaults: one GOP, B-frames. The frames nothing refers to are left undecoded, and
    the cut is found all the same."""
    path = clips / "person_long_gop_cut_6.5s.mp4"
    index = read_index(str(path))
    assert index.reordered and len(index.gops) <= 2 and len(index.times) == 360
    sparse, stats = cuts_of(path, skip=True)
    full, full_stats = cuts_of(path, skip=False)
    assert len(full.cuts) == 1 and abs(full.cuts[0] - CUT) <= 2 * FRAME
    assert len(sparse.cuts) == 1 and abs(sparse.cuts[0] - full.cuts[0]) <= 2 * FRAME
    assert full_stats.frames_decoded == 360 and stats.frames_decoded < 0.8 * 360


def test_a_cut_off_the_keyframes_shows_as_an_oversized_predicted_frame(clips):
    index = read_index(str(clips / "person_phone_gop_cut_6.5s.mp4"))
    assert [round(g.start, 3) for g in index.gops] == [float(s) for s in range(12)]
    assert not index.early_keyframes()
    spikes = index.size_spikes()
    assert len(spikes) == 1 and abs(spikes[0] - CUT) <= 2 * FRAME


def test_a_scene_cut_keyframe_comes_early(clips):
    index = read_index(str(clips / "person_scenecut_6.5s.mp4"))
    assert [round(t, 3) for t in index.early_keyframes()] == [CUT]


def test_open_gop_leading_pictures_are_not_handed_on(clips):
    """With B-frames and open GOPs, frames shown just before a keyframe are decoded after it
    and refer to the skipped rest of the GOP before: they must not reach the analysers."""
    seen: list[float] = []

    class Recorder:
        name, interval, max_side, pixel_format = "recorder", 0.0, 64, "gray"

        def process(self, t, image, shared):
            seen.append(t)

        def finish(self, duration):
            pass

    stats = run_decode(str(clips / "person_open_gop_cut_6.5s.mp4"), [Recorder()])
    assert stats.gops_skipped >= 6
    assert seen == sorted(seen)
    index = read_index(str(clips / "person_open_gop_cut_6.5s.mp4"))
    for t in seen:
        # Every frame handed on lies at the start of a GOP: its first 0.2 s, or a reference
        # frame those B-frames needed (x264 puts up to three B-frames before it). A leading
        # picture would lie at the end of the GOP before.
        gop = index.gops[index.gop_at(t)]
        assert t - gop.start <= 0.2 + 4 * FRAME + 1e-3, t


def test_full_preflight_of_a_phone_gop_clip(clips):
    report = check(video=clips / "person_phone_gop_cut_6.5s.mp4", orientation="image")
    cuts = report.get("video.cuts")
    assert cuts.status is Status.FAIL and abs(cuts.measured["cuts"][0] - CUT) <= 2 * FRAME
    assert report.get("video.people").status is Status.PASS
    assert report.get("video.usable_segment").measured["end"] == pytest.approx(CUT, abs=2 * FRAME)
    assert report.get("video.duration").measured["seconds"] == pytest.approx(12.0, abs=0.05)


def test_partial_decoding_can_be_switched_off_in_the_configuration(clips):
    from preflight.config import Config

    clip = clips / "person_phone_gop_cut_6.5s.mp4"
    default = check(video=clip).get("video.cuts").measured
    everything = Config(path="preflight.toml", thresholds={"content.partial_decoding": False}).load_profile()
    full = check(video=clip, profile=everything).get("video.cuts").measured
    assert default["frames_in_stream"] == full["frames_in_stream"] == 360
    assert default["frames_decoded"] < 0.6 * 360
    assert full["frames_decoded"] == 360
    assert default["cuts"] == full["cuts"]


def _index_of(sizes: list[int], keys_every: int = 30, fps: int = 30):
    import numpy as np

    from preflight.analysis.packets import Gop, PacketIndex

    n = len(sizes)
    keys = np.array([i % keys_every == 0 for i in range(n)])
    index = PacketIndex(0, 1 / fps, np.arange(n) / fps, np.array(sizes), keys)
    starts = list(range(0, n, keys_every))
    index.gops = [Gop(s / fps, min(s + keys_every, n) / fps, s) for s in starts]
    return index


def test_one_oversized_frame_is_a_spike_a_rhythm_of_them_is_not():
    sizes = [20_000 if i % 30 == 0 else 800 for i in range(300)]  # 10 s, a keyframe a second
    sizes[195] = 12_000
    assert _index_of(sizes).size_spikes() == [6.5]
    # Big frames every 0.24 s (the keyframes of a source re-encoded with longer GOPs): no shots.
    rhythm = [20_000 if i % 30 == 0 else 9_000 if i % 7 == 0 else 800 for i in range(300)]
    assert _index_of(rhythm).size_spikes() == []


def test_decoder_threads_follow_the_cores_within_the_frame_memory_budget():
    import av

    from preflight.analysis.frames import DECODER_THREAD_MEMORY, FRAMES_PER_THREAD, decoder_threads, frame_bytes

    def threads(pixel_format: str, width: int, height: int, cores: int) -> int:
        return decoder_threads(frame_bytes(av.VideoFormat(pixel_format, width, height)), cores=cores)

    assert threads("yuv420p", 640, 360, cores=4) == 4  # small frames: a thread per core
    assert threads("yuv420p", 1920, 1080, cores=16) == 2  # not 16, FFmpeg's own choice there
    assert threads("yuv420p", 3840, 2160, cores=16) == 1  # never none
    assert threads("yuv420p10le", 1920, 1080, cores=16) == 1  # two bytes a sample
    assert threads("yuv444p", 1920, 1080, cores=16) == 1  # chroma at full size
    assert decoder_threads(frame_bytes(None), cores=3) == 3  # size unknown: the cores decide
    for width, height in ((1280, 720), (1920, 1080), (2560, 1440)):
        used = threads("yuv420p", width, height, cores=64) * FRAMES_PER_THREAD * width * height * 3 // 2
        assert used <= DECODER_THREAD_MEMORY


class _Recorder:
    """An analyser that notes the time of every frame it gets, and in which order all
    recorders got theirs (``log``)."""

    def __init__(self, name: str, interval: float, log: list, lane: str | None = None):
        self.name, self.interval, self.max_side, self.pixel_format = name, interval, 64, "gray"
        if lane:
            self.lane = lane
        self.log, self.times = log, []

    def process(self, t, image, shared):
        self.times.append(t)
        self.log.append(self.name)

    def finish(self, duration):
        pass


@pytest.fixture(scope="session")
def long_gop_20s(tmp_path_factory):
    """20 s of x264's defaults (long GOPs, B-frames), small: decoded in full."""
    from preflight.ffmpeg_binary import ffmpeg_exe

    path = tmp_path_factory.mktemp("long") / "long_gop_20s.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x180:rate=30:duration=20", "-c:v", "libx264", "-preset", "veryfast",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_a_long_clip_decoded_in_full_is_sampled_in_windows_like_bursts(long_gop_20s):
    """Over 16 s, the sampling analysers get a pair of frames (0.2 s apart) every 1/16 of the
    clip, as a phone-style encoding's bursts would give them; every decoded frame still reaches
    the cut detector."""
    log: list = []
    every, pose = _Recorder("every", 0.0, log), _Recorder("pose", 0.2, log)
    stats = run_decode(str(long_gop_20s), [every, pose])
    assert len(every.times) == stats.frames_decoded and stats.frames_decoded >= 0.5 * 600
    spacing = 20 / 16
    windows = sorted({int(t // spacing + 1e-6) for t in pose.times})
    assert windows == list(range(16))
    for k in windows:
        inside = [t for t in pose.times if int(t // spacing + 1e-6) == k]
        assert len(inside) == 2, (k, inside)
        assert inside[0] - k * spacing < 0.1  # the first frame of the window
        assert 0.2 - 1e-3 <= inside[1] - inside[0] <= 0.3  # its pair, one sampling step on
    # Switched off with partial decoding: every 0.2 s, as before.
    full_log: list = []
    pose_everywhere = _Recorder("pose", 0.2, full_log)
    run_decode(str(long_gop_20s), [pose_everywhere], skip=False)
    assert len(pose_everywhere.times) >= 99


def test_with_the_largest_frames_the_models_run_after_the_decoder_has_closed(clips, monkeypatch):
    """Frames of MODELS_AFTER_DECODING_FRAME_BYTES or more: the sampled frames are converted as
    they are decoded and the sampling analysers get them once decoding is over, the same frames
    at the same times as when they run alongside."""
    import preflight.analysis.frames as frames

    path = clips / "person_phone_gop_cut_6.5s.mp4"
    alongside_log: list = []
    alongside = [_Recorder("every", 0.0, alongside_log), _Recorder("pose", 0.2, alongside_log),
                 _Recorder("people", 1.0, alongside_log, lane="people")]
    run_decode(str(path), alongside)
    assert not frames.models_after_decoding(str(path))

    monkeypatch.setattr(frames, "MODELS_AFTER_DECODING_FRAME_BYTES", 1)
    assert frames.models_after_decoding(str(path))
    after_log: list = []
    after = [_Recorder("every", 0.0, after_log), _Recorder("pose", 0.2, after_log),
             _Recorder("people", 1.0, after_log, lane="people")]
    run_decode(str(path), after)
    first_sample = min(after_log.index("pose"), after_log.index("people"))
    # Every frame of both passes went to the cut detector before the first model sample.
    assert set(after_log[:first_sample]) == {"every"} and "every" not in after_log[first_sample:]
    assert [r.times for r in after] == [r.times for r in alongside]

    # Past MODELS_AFTER_DECODING_HELD_BYTES a lane stops holding: its frames go as they come.
    monkeypatch.setattr(frames, "MODELS_AFTER_DECODING_HELD_BYTES", 3 * 64 * 64)
    over_log: list = []
    over = [_Recorder("every", 0.0, over_log), _Recorder("pose", 0.2, over_log),
            _Recorder("people", 1.0, over_log, lane="people")]
    run_decode(str(path), over)
    last_frame = len(over_log) - 1 - over_log[::-1].index("every")
    assert over_log.index("pose") < last_frame  # a model sample before the cut detector's last frame
    assert [r.times for r in over] == [r.times for r in alongside]


def test_models_loaded_when_used_are_built_together_once_and_not_just_to_be_closed():
    from preflight.analysis.models import load_when_used

    built: list[str] = []

    class Model:
        def __init__(self, name):
            built.append(name)
            self.name, self.closed = name, False

        def close(self):
            self.closed = True

    first, second = load_when_used(lambda: Model("first"), lambda: Model("second"))
    first.close()
    second.close()
    assert built == []  # never used: nothing built, nothing to close
    assert second.name == "second" and built == ["first", "second"]  # one use builds the batch
    assert first.name == "first" and built == ["first", "second"]  # once
    first.close()
    assert first.closed and not second.closed

    def broken():
        raise RuntimeError("model file unreadable")

    (model,) = load_when_used(broken)
    for _ in range(2):  # the error of the one build, each time it is asked for
        with pytest.raises(RuntimeError, match="unreadable"):
            model.name
