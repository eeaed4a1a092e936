"""Content analysis on real pictures of people: generated cases with known answers, and the corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corpus_labels import people_categories
from preflight import Status, check

P, W, F, S = Status.PASS, Status.WARN, Status.FAIL, Status.SKIP
ROOT = Path(__file__).resolve().parent.parent
FRAME = 1 / 25  # the generated clips run at 25 fps


@pytest.fixture(scope="session")
def people(fx):
    if not (fx / "image" / "person_upper.png").exists():
        pytest.skip("person fixtures need scikit-image's bundled photos")
    return fx


def test_one_upright_person_in_image_passes(people):
    report = check(image=people / "image" / "person_upper.png")
    assert report.get("image.person").status is P
    assert report.get("image.body_visibility").measured == {"body": "upper"}
    assert report.get("image.upright").status is P
    assert report.get("image.subject_size").status is P


def test_two_people_in_image_fail(people):
    found = check(image=people / "image" / "people_pair.png").get("image.person")
    assert found.status is F and found.measured == 2


def test_upside_down_person_fails_upright(people):
    found = check(image=people / "image" / "person_upside_down.png").get("image.upright")
    assert found.status is F and found.measured["posture"] == "upside down"
    assert found.measured["torso_angle_deg"] > 135


def test_steady_person_clip_passes_every_content_check(people):
    report = check(video=people / "video" / "person_steady.mp4")
    for check_id in ("video.cuts", "video.people", "video.body_visibility", "video.upright", "video.camera_motion",
                     "video.subject_size", "video.usable_segment"):
        assert report.get(check_id).status is P, report.get(check_id).message
    assert report.ok


def test_hard_cut_is_found_at_its_time_and_limits_the_bill(people):
    report = check(video=people / "video" / "person_cut_2.0s.mp4", orientation="image")
    cuts = report.get("video.cuts")
    assert cuts.status is F
    assert len(cuts.measured["cuts"]) == 1 and abs(cuts.measured["cuts"][0] - 2.0) <= 2 * FRAME
    usable = report.get("video.usable_segment")
    assert usable.measured["end"] == pytest.approx(2.0, abs=2 * FRAME)
    # The clip is 4 s, but the model stops at the cut: 2 s, raised to the 3 s minimum.
    assert report.cost.billed_seconds == 3


def test_fade_through_black_is_a_transition(people):
    cuts = check(video=people / "video" / "person_fade_2.0s.mp4").get("video.cuts")
    assert cuts.status is F
    assert cuts.measured["cuts"] == []
    assert [abs(t - 2.0) <= 0.25 for t in cuts.measured["fades"]] == [True]


def test_dissolve_is_a_transition(people):
    cuts = check(video=people / "video" / "person_dissolve_1.5-2.5s.mp4").get("video.cuts")
    assert cuts.status is F and cuts.measured["cuts"] == []
    [(start, end)] = cuts.measured["dissolves"]
    assert start <= 1.6 and end >= 2.4 and end - start < 2.0


def test_two_people_in_video_fail_with_spans(people):
    found = check(video=people / "video" / "people_pair.mp4").get("video.people")
    assert found.status is F and found.measured["most_at_once"] == 2
    assert found.times and found.times[0][0] == 0


def test_strong_pan_is_camera_motion(people):
    found = check(video=people / "video" / "pan_strong.mp4").get("video.camera_motion")
    assert found.status is F and found.measured["class"] == "strong"


def test_clip_without_person_never_passes(fx):
    found = check(video=fx / "video" / "ok_landscape.mp4").get("video.people")
    assert found.status is F and found.measured["most_at_once"] == 0


def test_metadata_only_skips_content_with_reason(people):
    report = check(image=people / "image" / "person_upper.png", video=people / "video" / "person_steady.mp4",
                   metadata_only=True)
    for check_id in ("image.person", "video.cuts", "pair.framing"):
        assert report.get(check_id).status is S and "--metadata-only" in report.get(check_id).message


def test_cuts_and_people_fail_even_if_the_profile_says_warn(people, tmp_path):
    text = (ROOT / "preflight" / "profiles" / "kling-v3-motion-control.toml").read_text()
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(text.replace('"video.cuts" = "fail"', '"video.cuts" = "warn"')
                       .replace('"video.people" = "fail"', '"video.people" = "warn"')
                       .replace('"video.upright" = "warn"', '"video.upright" = "fail"'))
    assert check(video=people / "video" / "person_cut_2.0s.mp4", profile=str(lenient)).get("video.cuts").status is F
    assert check(video=people / "video" / "people_pair.mp4", profile=str(lenient)).get("video.people").status is F


# ----------------------------------------------------------------------------- the corpus

@pytest.mark.corpus
def test_known_cuts_are_found_at_their_frames(corpus):
    for name in ("pyscenedetect__goldeneye-vfr-drop3.mp4", "pyscenedetect__counter.mp4"):
        entry = corpus[name]
        found = check(video=entry["path"], orientation="video").get("video.cuts").measured["cuts"]
        frame = 1 / entry["fps"]
        assert len(found) == len(entry["cuts"]), (name, found)
        assert all(abs(a - b) <= 2 * frame for a, b in zip(found, entry["cuts"])), (name, found)


@pytest.mark.corpus
def test_single_person_dance_clip(corpus):
    report = check(video=corpus["musepose__dance.mp4"]["path"], orientation="video")
    assert report.get("video.people").measured["most_at_once"] == 1
    assert report.get("video.cuts").status is P
    assert report.get("video.body_visibility").measured["dominant"] == "full"
    assert report.get("video.camera_motion").measured["class"] == "none"


@pytest.mark.corpus
def test_sideways_person_is_not_upright(corpus):
    # The scene turned 90° in the pixels, no rotation flag: the whole clip is turned, and prep
    # can turn it back (issue 15).
    found = check(video=corpus["androidx-media__sample_portrait.mp4"]["path"]).get("video.upright")
    assert found.status is F and found.times and "for the whole clip" in found.message
    assert "prep turns it 90°" in found.message


@pytest.mark.corpus
def test_framing_mismatch_between_full_body_image_and_upper_body_video(corpus):
    report = check(image=corpus["mimicmotion__demo1.jpg"]["path"], video=corpus["mimicmotion__raw_2.mp4"]["path"],
                   orientation="video")
    framing = report.get("pair.framing")
    assert framing.status is W and framing.measured == {"image": "full", "video": "upper"}


@pytest.mark.corpus
def test_street_full_of_pedestrians_counts_several(corpus):
    """Too small and too many for the BlazePose detector; OpenCV's HOG detector sees them."""
    found = check(video=corpus["mmpose__demo.mp4"]["path"]).get("video.people")
    assert found.status is F and found.measured["most_at_once"] >= 2


def test_detectors_survive_pictures_smaller_than_their_windows():
    """OpenCV's HOG crashed the process on an 80x112 frame (a corpus FLV); the face cascades'
    window is 20 px."""
    from preflight.analysis.models import FaceCounter, PedestrianDetector

    pedestrians, faces = PedestrianDetector(), FaceCounter()
    try:
        for height, width in ((80, 112), (143, 79), (19, 300), (1, 1)):
            grey = np.full((height, width, 3), 128, np.uint8)
            assert pedestrians.detect(grey) == [] and faces.detect(grey) == []
    finally:
        faces.close()


def test_faces_count_only_where_both_face_detectors_agree(people):
    """Real faces in the astronaut pictures; a cat and a cup have none."""
    skimage = pytest.importorskip("skimage")
    from PIL import Image

    from preflight.analysis.load import load_image_rgb
    from preflight.analysis.models import FaceCounter

    faces = FaceCounter()
    try:
        counted = {name: len(faces.detect(load_image_rgb(str(people / "image" / name), 1280)))
                   for name in ("person_upper.png", "people_pair.png")}
        data = Path(skimage.__file__).parent / "data"
        for name in ("chelsea.png", "coffee.png"):
            counted[name] = len(faces.detect(np.asarray(Image.open(data / name).convert("RGB"))))
    finally:
        faces.close()
    assert counted == {"person_upper.png": 1, "people_pair.png": 2, "chelsea.png": 0, "coffee.png": 0}


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["mmpose__posetrack18_003418_000000.jpg", "mmpose__posetrack18_009473_000000.jpg"])
def test_seated_spectators_are_counted_by_their_faces(corpus, name):
    """A man lying on a mat in front of the stands, a couple dancing before seated spectators:
    the body detectors see one person, the spectators' faces give them away (in the ballroom
    only when BlazeFace sees them at the picture's own 1920 px)."""
    found = check(image=corpus[name]["path"]).get("image.person")
    assert found.status is F and found.measured >= 2


@pytest.mark.corpus
def test_a_face_only_one_face_detector_sees_is_not_a_person(corpus):
    """The cascades see a second face in this one-person photo; BlazeFace does not agree."""
    import cv2

    from preflight.analysis import IMAGE_MAX_SIDE
    from preflight.analysis.load import load_image_rgb
    from preflight.analysis.models import FaceCounter

    rgb = load_image_rgb(corpus["openpose__COCO_val2014_000000000294.jpg"]["path"], IMAGE_MAX_SIDE)
    faces = FaceCounter()
    try:
        proposed = faces._proposals(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        confirmed = faces.detect(rgb)
    finally:
        faces.close()
    assert len(proposed) == 2 and len(confirmed) == 1


@pytest.mark.corpus
def test_no_false_several_people_on_single_person_files(corpus):
    singles = [e for e in corpus.values()
               if people_categories(e["people"]) == {"one"} and not e["file"].endswith(".gif")]
    assert len(singles) >= 20
    wrong = []
    for e in singles:
        role = "video" if e["kind"] == "video" else "image"
        report = check(**{role: e["path"]}, orientation="video")
        found = report.get(f"{role}.people" if role == "video" else "image.person").measured
        n = found["most_at_once"] if role == "video" else found
        if n >= 2:
            wrong.append((e["file"], n))
    assert wrong == []


def test_a_batch_worker_keeps_its_models_and_its_verdicts_stay_the_same(people):
    """Kept between analyses (a batch worker), each model is built once and reused, the video's
    pose model reset between clips: the analyses come out as they do with fresh models."""
    from preflight.analysis import analyse_image_file, analyse_video
    from preflight.analysis import models

    picture, first, second = (people / "image/person_upper.png", people / "video/people_pair.mp4",
                              people / "video/person_steady.mp4")

    def video(path):
        content = analyse_video(str(path), 0, strong_camera=0.3, fast_limb_speed=5.0)
        return (content.people, content.body_shares, content.body, content.camera_rates, content.limb_speed_p90,
                content.subject_area, content.body_series)

    turned = people / "image/person_upside_down.png"
    fresh = (analyse_image_file(str(picture)), video(second), analyse_image_file(str(turned)))
    models.keep_models(True)
    try:
        analyse_video(str(first), 0, strong_camera=0.3, fast_limb_speed=5.0)  # tracks two people first
        idle = {kind: list(kept) for kind, kept in models._idle.items()}
        assert set(idle) == {"video pose", "person detector"}
        # The picture pose model is not restarted between pictures: it must keep nothing.
        kept = (analyse_image_file(str(picture)), video(second), analyse_image_file(str(turned)))
        assert models._idle["video pose"] == idle["video pose"]  # the same model, handed back
        assert models._idle["person detector"] == idle["person detector"]
        assert set(models._idle) == {"video pose", "person detector", "face counter", "picture pose"}
    finally:
        models.keep_models(False)
    assert models._idle is None
    assert kept == fresh


def test_a_video_pose_model_whose_graph_will_not_restart_is_rebuilt(people):
    """A kept video pose model restarts its graph at its next picture; should mediapipe refuse
    the restart, the model builds a new graph and reads that picture as a fresh one does."""
    from preflight.analysis.load import load_image_rgb
    from preflight.analysis.models import PoseEstimator

    picture = load_image_rgb(str(people / "image/person_upper.png"), 512)
    fresh = PoseEstimator(video=True)
    kept = PoseEstimator(video=True)
    try:
        expected = fresh.landmarks(picture)
        kept.landmarks(picture)
        broken = kept._pose

        def refuse():
            raise RuntimeError("graph will not start")

        broken.reset = refuse
        kept.reset()
        assert kept._pose is broken  # nothing restarts until the next picture
        read = kept.landmarks(picture)
        assert kept._pose is not broken
        assert expected is not None and read is not None
        assert np.allclose(read, expected, atol=1e-4)
    finally:
        fresh.close()
        kept.close()


def test_a_model_whose_use_failed_is_closed_not_kept():
    from preflight.analysis import models

    class Model:
        closed = resets = 0

        def close(self):
            self.closed += 1

        def reset(self):
            self.resets += 1

    models.keep_models(True)
    try:
        good = models.lent("test model", Model)
        with models.on_loan({"test model": good}):
            pass
        assert models.lent("test model", Model) is good and good.resets == 1 and not good.closed
        with pytest.raises(ValueError):
            with models.on_loan({"test model": good}):
                raise ValueError("the analysis broke")
        assert good.closed == 1 and models.lent("test model", Model) is not good
    finally:
        models.keep_models(False)
    plain = models.lent("test model", Model)  # not kept: closed after its use
    with models.on_loan({"test model": plain}):
        pass
    assert plain.closed == 1
