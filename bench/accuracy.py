"""Content analysis against labels: the shared corpus and generated cases with known answers.

    python bench/accuracy.py [--corpus ../shared/corpus] [--no-scenedetect] [--phone-gop]

Prints, per file and in total, what each analysis found against the label, and for hard cuts
the precision, recall and F1 of this project beside PySceneDetect's detect-content and
detect-adaptive on the same files in the same run (a cut matches within 2 frames).

Most corpus clips are short or carry long GOPs, so preflight decodes them in full. `--phone-gop`
also runs every labelled video re-encoded the way phones write video (a keyframe every second,
no B-frames, no scene-cut keyframes), where preflight decodes only the start of most GOPs, and
prints the totals of both sets.

Every figure is printed three times: for all files, for the tuning half and for the held-out
half. The halves were fixed before any threshold was tuned against them, by a rule on the name
alone (``held_out()``: the last hex digit of the SHA-256 of the file name is 8-f), so a change
tuned on the first half is judged on files it never saw.

PySceneDetect is a benchmark-only dependency: `make bench` installs it with --no-deps, because
its wheel requires opencv-python, which would overwrite the cv2 of opencv-contrib-python.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))

from corpus_labels import category, people_categories  # noqa: E402
from preflight.analysis.models import native_stderr_captured  # noqa: E402
from preflight.atomic import atomic_output  # noqa: E402
from preflight.ffmpeg_binary import ffmpeg_exe  # noqa: E402
from preflight.profile import load_profile  # noqa: E402

OUT = ROOT / "bench" / "out"


def concat_cuts_clip() -> tuple[Path, list[float]]:
    """Four different synthetic scenes, 1.6 s each at 25 fps: hard cuts at 1.6, 3.2 and 4.8 s."""
    path = OUT / "concat_cuts.mp4"
    sources = ["testsrc2", "smptehdbars", "mandelbrot", "rgbtestsrc"]
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        args = []
        for s in sources:
            args += ["-f", "lavfi", "-t", "1.6", "-i", f"{s}=size=640x360:rate=25"]
        graph = "".join(f"[{i}:v]format=yuv420p,setsar=1[v{i}];" for i in range(4)) + \
            "".join(f"[v{i}]" for i in range(4)) + "concat=n=4:v=1[v]"
        with atomic_output(path) as part:
            subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args, "-filter_complex", graph,
                            "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", str(part)], check=True)
    return path, [1.6, 3.2, 4.8]


def transitions_clip(phone: bool) -> tuple[Path, list[float], list[float]]:
    """Six synthetic scenes at 30 fps: hard cuts at 3.3, 6.6 and 14.5 s, a 1 s dissolve centred
    on 9.4 s and a 1 s fade through black centred on 11.7 s. Encoded like a phone (keyframe each
    second, cuts off the keyframes) or with x264's defaults (scene-cut keyframes, long GOPs)."""
    path = OUT / ("transitions_phone.mp4" if phone else "transitions_x264.mp4")
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        args = []
        for source in ("testsrc2", "mandelbrot", "life=s=640x360:mold=10:r=30:ratio=0.5:death_color=#C83232",
                       "smptehdbars", "cellauto=s=640x360:rule=110", "rgbtestsrc"):
            spec = source if "=" in source.split(":")[0] else f"{source}=size=640x360:rate=30"
            args += ["-f", "lavfi", "-t", "3.3", "-i", spec]
        prep = "".join(f"[{i}:v]format=yuv420p,setsar=1,fps=30,scale=640:360,settb=1/30[s{i}];" for i in range(6))
        # xfade wants both inputs on one time base; concat hands on microseconds.
        graph = prep + ("[s0][s1][s2]concat=n=3:v=1,settb=1/30[a];"
                        "[a][s3]xfade=transition=fade:duration=1:offset=8.9,settb=1/30[b];"
                        "[b][s4]xfade=transition=fadeblack:duration=1:offset=11.2,settb=1/30[c];"
                        "[c][s5]concat=n=2:v=1[v]")
        encoding = phone_gop(30) if phone else []
        with atomic_output(path) as part:  # a failed run must not leave a file that looks made
            subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args, "-filter_complex",
                            graph, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", *encoding, str(part)],
                           check=True)
    return path, [3.3, 6.6, 14.5], [9.4, 11.7]


def editing_clips() -> list[tuple[Path, list[float], list[float]]]:
    """Two clips made from scikit-image's photographs, labelled when they were written (before
    the tool first saw them), encoded like a phone (keyframe each second, 30 fps, 512x512):

    - dissolves of 0.5, 1.5 and 2.0 s (centred on 2.75, 5.75 and 9.0 s) between stills and into
      a slowly zooming shot: an editor's dissolves are seldom exactly the analysis window's span;
    - a whip pan across a wide picture of three photographs (still, 1.5 s of pan, still): the
      colours change as much as in a dissolve, but it is one shot, neither a cut nor a transition;
    - written after the dissolve search was reworked on the first two and run once as it was:
      a panning shot dissolving (1.2 s, centred on 3.4 s) into a zooming one, which then darkens
      over a second (the exposure adjusting, no transition), a hard cut at 7.8 s, and a 0.7 s
      dissolve between two stills centred on 10.15 s.

    Returns (path, cuts, gradual transitions) for each; none when the photographs are missing."""
    import make_fixtures

    photos = make_fixtures._photos()
    if photos is None:
        return []
    OUT.mkdir(parents=True, exist_ok=True)

    def encode(path: Path, *args: str) -> None:
        with atomic_output(path) as part:
            subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args, "-c:v", "libx264",
                            "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", *phone_gop(30), str(part)],
                           check=True)

    dissolves, pan = OUT / "dissolves_long.mp4", OUT / "pan_whip_colours.mp4"
    still = "scale=512:512,setsar=1,fps=30,format=yuv420p,settb=1/30"
    if not dissolves.exists():
        inputs = []
        for name, seconds in (("astronaut", 3), ("cameraman", 4), ("coffee", 5), ("chelsea", 4)):
            inputs += ["-loop", "1", "-t", str(seconds), "-i", str(photos[name])]
        graph = (f"[0:v]{still}[a];[1:v]{still}[b];[2:v]{still}[c];"
                 f"[3:v]scale=512:512,setsar=1,zoompan=z='1+0.002*on':d=1:s=512x512:fps=30,format=yuv420p,settb=1/30[d];"
                 "[a][b]xfade=transition=fade:duration=0.5:offset=2.5,settb=1/30[ab];"
                 "[ab][c]xfade=transition=fade:duration=1.5:offset=5.0,settb=1/30[abc];"
                 "[abc][d]xfade=transition=fade:duration=2.0:offset=8.0[v]")
        encode(dissolves, *inputs, "-filter_complex", graph, "-map", "[v]")
    if not pan.exists():
        wide = OUT / "_wide_photos.png"
        if not wide.exists():
            from PIL import Image

            canvas = Image.new("RGB", (1536, 512))
            for i, name in enumerate(("coffee", "astronaut", "chelsea")):
                canvas.paste(Image.open(photos[name]).convert("RGB").resize((512, 512)), (i * 512, 0))
            with atomic_output(wide) as part:
                canvas.save(part, format="PNG")
        crop = "crop=512:512:x='if(lt(t,2),0,if(lt(t,3.5),(t-2)/1.5*1024,1024))':y=0"
        encode(pan, "-loop", "1", "-t", "5.5", "-framerate", "30", "-i", str(wide), "-vf", f"{crop},setsar=1")
    edits = OUT / "edits_moving.mp4"
    if not edits.exists():
        data = photos["astronaut"].parent
        inputs = []
        for name, seconds in (("rocket.jpg", 4), ("motorcycle_left.png", 5), ("hubble_deep_field.jpg", 3),
                              ("retina.jpg", 3)):
            inputs += ["-loop", "1", "-t", str(seconds), "-framerate", "30", "-i", str(data / name)]
        darken = "eq=brightness='if(between(t,2,3),-(t-2)*0.25,if(gt(t,3),-0.25,0))':eval=frame"
        graph = (f"[0:v]scale=768:768,crop=512:512:x='t*25':y=128,{still}[a];"
                 f"[1:v]scale=512:512,setsar=1,zoompan=z='1+0.001*on':d=1:s=512x512:fps=30,{darken},"
                 "format=yuv420p,settb=1/30[b];"
                 f"[2:v]{still}[c];[3:v]{still}[d];"
                 "[a][b]xfade=transition=fade:duration=1.2:offset=2.8,settb=1/30[ab];"
                 "[c][d]xfade=transition=fade:duration=0.7:offset=2.0,settb=1/30[cd];"
                 "[ab][cd]concat=n=2:v=1[v]")
        encode(edits, *inputs, "-filter_complex", graph, "-map", "[v]")
    return [(dissolves, [], [2.75, 5.75, 9.0]), (pan, [], []), (edits, [7.8], [3.4, 10.15])]


def phone_gop(fps: float) -> list[str]:
    """x264 options for a phone's stream: a keyframe every second, none at scene changes, no
    B-frames."""
    every = str(round(fps))
    return ["-g", every, "-keyint_min", every, "-sc_threshold", "0", "-bf", "0"]


def phone_copy(entry: dict) -> dict | None:
    """The entry's video re-encoded like a phone (``phone_gop``), timestamps kept; None when
    ffmpeg cannot re-encode it."""
    path = OUT / "phone" / (Path(entry["path"]).stem + ".mp4")
    if not path.exists():
        try:
            with atomic_output(path) as part:
                subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", entry["path"],
                                "-map", "0:v:0", "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "veryfast",
                                "-crf", "18", "-pix_fmt", "yuv420p", *phone_gop(entry.get("fps") or 30), "-an",
                                str(part)], capture_output=True, check=True)
        except subprocess.CalledProcessError:
            return None
    return dict(entry, path=str(path), name="phone:" + entry["name"], source="phone-gop")


def labelled_files(corpus: Path | None) -> list[dict]:
    """Corpus entries plus generated cases, each with the same label fields."""
    import make_fixtures

    entries = []
    if corpus and (corpus / "manifest.json").is_file():
        for e in json.loads((corpus / "manifest.json").read_text()):
            e = dict(e, path=str(corpus / e["file"]), name=Path(e["file"]).name, source="corpus")
            entries.append(e)
    fx = make_fixtures.build(OUT / "fixtures")
    generated = [
        ("person_steady.mp4", dict(cuts=[], fade_transitions=[], people=1, body="upper", camera_motion="none")),
        ("person_cut_2.0s.mp4", dict(cuts=[2.0], fade_transitions=[], people=1, body="upper", camera_motion="none")),
        ("person_fade_2.0s.mp4", dict(cuts=[], fade_transitions=[2.0], people=1, body="upper", camera_motion="none")),
        ("person_dissolve_1.5-2.5s.mp4", dict(cuts=[], fade_transitions=[2.0], people=1, body="upper",
                                              camera_motion="none")),
        ("people_pair.mp4", dict(cuts=[], fade_transitions=[], people=2, body="upper", camera_motion="none")),
        ("pan_strong.mp4", dict(cuts=[], fade_transitions=[], camera_motion="strong")),
    ]
    for name, labels in generated:
        entries.append(dict(labels, kind="video", path=str(fx / "video" / name), name=name, source="generated", fps=25))
    for name, labels in [("person_upper.png", dict(people=1, body="upper", upright=True)),
                         ("people_pair.png", dict(people=2, body="upper", upright=True)),
                         ("person_upside_down.png", dict(people=1, body="upper", upright=False))]:
        entries.append(dict(labels, kind="image", path=str(fx / "image" / name), name=name, source="generated"))
    clip, cuts = concat_cuts_clip()
    entries.append(dict(kind="video", path=str(clip), name=clip.name, source="generated", fps=25, cuts=cuts,
                        fade_transitions=[]))
    for phone in (True, False):
        clip, cuts, gradual = transitions_clip(phone)
        entries.append(dict(kind="video", path=str(clip), name=clip.name, source="generated", fps=30, cuts=cuts,
                            fade_transitions=gradual))
    for clip, cuts, gradual in editing_clips():
        entries.append(dict(kind="video", path=str(clip), name=clip.name, source="generated", fps=30, cuts=cuts,
                            fade_transitions=gradual))
    return entries


def match(found: list[float], truth: list[float], tolerance: float) -> tuple[int, int, int]:
    """True positives, false positives, false negatives; each truth matched at most once."""
    remaining = list(truth)
    tp = 0
    for t in found:
        near = [x for x in remaining if abs(x - t) <= tolerance]
        if near:
            remaining.remove(min(near, key=lambda x: abs(x - t)))
            tp += 1
    return tp, len(found) - tp, len(remaining)


def prf(tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (tp {tp}, fp {fp}, fn {fn})"


def scenedetect_cuts(path: str) -> dict[str, list[float]]:
    from scenedetect import AdaptiveDetector, ContentDetector, SceneManager, open_video

    found = {}
    for name, detector in (("detect-content", ContentDetector), ("detect-adaptive", AdaptiveDetector)):
        video = open_video(path, backend="pyav")
        manager = SceneManager()
        manager.add_detector(detector())
        manager.detect_scenes(video)
        found[name] = [round(scene[0].seconds, 3) for scene in manager.get_scene_list()[1:]]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--no-scenedetect", action="store_true")
    parser.add_argument("--phone-gop", action="store_true",
                        help="also run every labelled video re-encoded with one keyframe a second")
    args = parser.parse_args()
    use_sd = not args.no_scenedetect
    if use_sd:
        try:
            import scenedetect  # noqa: F401
        except ImportError:
            sys.exit("PySceneDetect is not installed: run `make bench`, or pass --no-scenedetect")
    entries = labelled_files(args.corpus)
    sets = [("as given", entries, True)]
    if args.phone_gop:
        copies = [phone_copy(e) for e in entries if e["kind"] == "video"]
        copies = [c for c in copies if c]
        sets.append(("re-encoded like a phone (keyframe each second, no B-frames), decoded in part", copies, True))
        # The same files decoded in full: what partial decoding itself changes, apart from the re-encoding.
        sets.append(("re-encoded like a phone, every frame decoded", copies, False))
    summaries = [(title, evaluate(files, use_sd, *skip)) for title, files, *skip in sets]
    for title, summary in summaries:
        print(f"\n== {title} ==\n{summary}")


def held_out(name: str) -> bool:
    """The held-out half: fixed by the name alone, before tuning (see the module docstring)."""
    # A phone re-encode belongs to the half of the file it was made from.
    return hashlib.sha256(name.removeprefix("phone:").encode()).hexdigest()[-1] in "89abcdef"


class Tally:
    """Outcomes per file, summed for any subset of the files."""

    KEYS = ("people", "body", "upright", "camera", "fast")

    def __init__(self):
        self.cuts: dict[str, dict[str, list[int]]] = {}  # file -> detector -> [tp, fp, fn]
        self.fades: dict[str, list[int]] = {}
        self.scores: dict[str, dict[str, tuple[bool, str]]] = {}  # file -> key -> (right, what was found)

    def text(self, names: list[str], use_sd: bool) -> str:
        lines = ["Hard cuts (match within 2 frames):"]
        for k in ("preflight", "detect-content", "detect-adaptive"):
            if k == "preflight" or use_sd:
                sums = [sum(self.cuts.get(n, {}).get(k, [0, 0, 0])[i] for n in names) for i in range(3)]
                lines.append(f"  {k:<16} {prf(*sums)}")
        fades = [sum(self.fades.get(n, [0, 0, 0])[i] for n in names) for i in range(3)]
        lines.append(f"Gradual transitions, preflight (match within 0.5 s): {prf(*fades)}")
        for key in self.KEYS:
            outcomes = [(n, self.scores[n][key]) for n in names if key in self.scores.get(n, {})]
            right = sum(ok for _, (ok, _) in outcomes)
            wrong = [f"{n[:50]} ({what})" for n, (ok, what) in outcomes if not ok]
            lines.append(f"{key:<8} {right}/{len(outcomes)} right" + (f"; wrong: {'; '.join(wrong)}" if wrong else ""))
        return "\n".join(lines)


def evaluate(entries: list[dict], use_sd: bool, skip: bool) -> str:
    """Runs every entry, prints a line per finding, returns the totals as text: for all files,
    the tuning half and the held-out half."""
    from preflight import analysis
    from preflight.checks.content import camera_class
    from preflight.probe import probe_file

    profile = load_profile()
    camera = profile.value("content.camera_motion")
    fast_speed = profile.value("content.fast_limb_speed")
    record = Tally()
    decoded = [0, 0]

    def tally(key: str, ok: bool, name: str, detail: str) -> str:
        record.scores.setdefault(name, {})[key] = (ok, detail)
        return "ok" if ok else "WRONG"
    print(f"{'file':<52} {'what':<8} found vs label")
    started = time.perf_counter()
    for e in entries:
        name = e["name"]
        if e["kind"] == "image":
            with native_stderr_captured():
                content = analysis.analyse_image_file(e["path"])
            label = e["people"]
            verdict = tally("people", category(content.people) in people_categories(label), name,
                            f"{content.people} vs {label}")
            print(f"{name[:50]:<52} people   {content.people} vs {label!s:.20}: {verdict}")
            if e.get("body") not in (None, "none"):
                verdict = tally("body", content.body == e["body"], name, f"{content.body} vs {e['body']}")
                print(f"{'':<52} body     {content.body} vs {e['body']}: {verdict}")
            if isinstance(e.get("upright"), bool):
                got = content.posture == "upright"
                print(f"{'':<52} upright  {content.posture} vs {e['upright']}: "
                      f"{tally('upright', got == e['upright'], name, str(content.posture))}")
            continue
        facts = probe_file(e["path"], verify_pixels=False)
        rotation = facts.video.rotation if facts.video else 0
        with native_stderr_captured():
            content = analysis.analyse_video(e["path"], rotation, strong_camera=camera["strong"],
                                             fast_limb_speed=fast_speed, skip=skip)
        stats = content.stats
        total_frames = stats.frames_total or stats.frames_decoded
        decoded[0] += stats.frames_decoded + stats.frames_refilled
        decoded[1] += total_frames
        fps = e.get("fps") or (facts.video.frame_rate if facts.video else 25) or 25
        tolerance = 2 / fps
        truth_cuts = e.get("cuts") or []
        results = {"preflight": content.cuts.cuts}
        if use_sd:
            results.update(scenedetect_cuts(e["path"]))
        line = []
        for k, found in results.items():
            record.cuts.setdefault(name, {})[k] = list(match(found, truth_cuts, tolerance))
            line.append(f"{k} {found}")
        print(f"{name[:50]:<52} cuts     label {truth_cuts} | " + " | ".join(line)
              + f" | decoded {stats.frames_decoded}+{stats.frames_refilled} of {total_frames} frames")
        truth_fades = e.get("fade_transitions") or []
        record.fades[name] = list(match(content.cuts.transitions, truth_fades, 0.5))
        if truth_fades or content.cuts.transitions:
            print(f"{'':<52} gradual  {content.cuts.transitions} vs {truth_fades}")
        if e.get("people") is not None:
            truth = people_categories(e["people"])
            print(f"{'':<52} people   {content.people} vs {e['people']!s:.24}: "
                  f"{tally('people', category(content.people) in truth, name, str(content.people))}")
        if e.get("body") not in (None, "none"):
            print(f"{'':<52} body     {content.body} vs {e['body']}: "
                  f"{tally('body', content.body == e['body'], name, content.body)}")
        if e.get("camera_motion"):
            kind, median, p90, _ = camera_class(content, profile)
            print(f"{'':<52} camera   {kind} (median {median if median is None else round(median, 3)}) vs "
                  f"{e['camera_motion']}: {tally('camera', kind == e['camera_motion'], name, kind)}")
        if isinstance(e.get("fast_motion"), bool) and content.body != "none":
            got = bool(content.fast_spans)
            print(f"{'':<52} fast     {got} (p90 {content.limb_speed_p90}) vs {e['fast_motion']}: "
                  f"{tally('fast', got == e['fast_motion'], name, str(got))}")
    names = [e["name"] for e in entries]
    tuning = [n for n in names if not held_out(n)]
    held = [n for n in names if held_out(n)]
    return "\n".join([
        f"ran in {time.perf_counter() - started:.0f} s over {len(entries)} files; "
        f"frames decoded (both passes) {decoded[0]} of {decoded[1]} in the videos",
        f"-- all {len(names)} files", record.text(names, use_sd),
        f"-- tuning half ({len(tuning)} files)", record.text(tuning, use_sd),
        f"-- held-out half ({len(held)} files: {', '.join(h[:40] for h in held)})", record.text(held, use_sd)])


if __name__ == "__main__":
    main()
