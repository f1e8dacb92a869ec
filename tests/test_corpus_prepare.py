"""Corpus preparation end to end on real GRID clips, EMA files and bad inputs made with ffmpeg."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, grid_subset, need_tracker, shared_path

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import ANIMATION_SUBSET

GRID_CLIPS = ("bbaf2n", "pbac2p", "lbbe2p")
"""'bin blue at f two now', 'place blue at c two please', 'lay blue by e two please'."""
FPS = 25.0
LATE_AUDIO_MS = 150
"""One clip's soundtrack is delayed this much, as a re-encode or a phone can leave it."""


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A small corpus: 3 GRID s1 clips, one clip whose face vanishes, bad inputs, and the EMA folder."""
    grid = shared_path("data", "grid_s1")
    ema = shared_path("data", "ema")
    need_tracker()
    from ventriloquist.training.corpus.prepare import PrepareSettings, prepare

    tmp = tmp_path_factory.mktemp("corpus")
    s1 = grid_subset(tmp, GRID_CLIPS)
    bad = tmp / "bad"
    bad.mkdir()
    (bad / "corrupt.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 20000, np.uint8).tobytes())
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "1", "-an", str(bad / "silent_film.mp4"))
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=300",
            "-t", "1", str(bad / "no_face.mp4"))  # fmt: skip
    vanish = tmp / "vanish"
    vanish.mkdir()
    _ffmpeg("-i", str(grid / "video" / "bbaf2n.mp4"), "-f", "lavfi", "-i", "color=c=black:s=360x288:r=25:d=1",
            "-filter_complex", "[0:v]trim=0:2,setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];"
            "[a][b]concat=n=2:v=1[v]", "-map", "[v]", "-map", "0:a", str(vanish / "half.mp4"))  # fmt: skip
    shifted = tmp / "shifted"
    shifted.mkdir()
    _ffmpeg("-i", str(grid / "video" / "pbac2p.mp4"), "-af", f"adelay={LATE_AUDIO_MS}:all=1", "-c:v", "copy",
            str(shifted / "late_audio.mp4"))  # fmt: skip
    _ffmpeg("-i", str(grid / "video" / "lbbe2p.mp4"), "-vf", "select='not(eq(mod(n\\,4)\\,1))'", "-fps_mode", "vfr",
            "-c:a", "copy", str(shifted / "dropped_frames.mp4"))  # fmt: skip
    settings = PrepareSettings(out=tmp / "out", jobs=2)
    sources = [f"grid:{s1}", str(bad), str(vanish / "half.mp4"), f"ema:{ema}", str(shifted)]
    first = prepare(sources, settings)
    return {"root": tmp / "out", "first": first, "sources": sources, "settings": settings}


def _entries(corpus):
    from ventriloquist.training.corpus.manifest import load_manifest

    return {e.id: e for e in load_manifest(corpus["root"])}


@pytest.mark.slow
def test_bilabial_words_close_the_mouth(corpus):
    """Lip opening dips at the start of every aligned word that begins with /b p m/ (vs the speech median)."""
    from ventriloquist.training.corpus.landmarks_to_fap import mouth_opening
    from ventriloquist.training.corpus.report import bilabial_words

    entries = _entries(corpus)
    checked = 0
    for clip in GRID_CLIPS:
        entry = entries[f"grid/s1/{clip}"]
        values, mask, times_s, faps = entry.load_faps()
        inner = mouth_opening(values, faps)
        outer = -(values[:, faps.index(51)] + values[:, faps.index(52)])
        span = (times_s >= entry.words[0][0]) & (times_s <= entry.words[-1][1]) & mask
        for start, _, word in bilabial_words(entry.words):
            near = (times_s >= start - 0.06) & (times_s <= start + 0.1) & mask
            assert inner[near].min() < 0.5 * np.median(inner[span]), (clip, word)
            assert outer[near].min() < np.median(outer[span]), (clip, word)  # outer contour: thick lips press
            checked += 1
    assert checked >= 6


@pytest.mark.slow
def test_fapu_is_anthropometrically_plausible(corpus):
    info = json.loads((corpus["root"] / "corpus.json").read_text())
    fapu = info["speakers"]["s1"]["fapu"]
    assert 1.5 < fapu["MW"] / fapu["MNS"] < 3.0  # mouth width vs nose-to-upper-lip (adults: ~2.2)
    assert 1.0 < fapu["ES"] / fapu["MW"] < 1.6  # pupil distance vs mouth width (~1.2)
    assert 0.07 < fapu["IRISD"] / fapu["ES"] < 0.25  # eyelid gap vs pupil distance
    assert 0.5 < fapu["ENS"] / fapu["ES"] < 1.0  # pupil-to-nose-bottom vs pupil distance
    values, _, _, _ = _entries(corpus)["grid/s1/bbaf2n"].load_faps()
    with np.load(corpus["root"] / "faps/grid/s1/bbaf2n.npz") as z:
        assert np.allclose(z["fapu"], [fapu[k] for k in ("IRISD", "ES", "ENS", "MNS", "MW")])
    jaw = values[:, ANIMATION_SUBSET.index(3)]
    assert 80 < jaw.max() < 1080  # open_jaw peaks within speech range (Greta: 0..300, slider 0..1080)


@pytest.mark.slow
def test_entries_follow_the_corpus_format(corpus):
    entry = _entries(corpus)["grid/s1/pbac2p"]
    assert (entry.source, entry.split in ("train", "heldout"), entry.fps, entry.n_frames) == ("grid", True, FPS, 75)
    assert "Cooke" in entry.licence and [w for *_, w in entry.words] == "place blue at c two please".split()
    samples, rate_hz = entry.load_audio()
    assert rate_hz == 16000 and samples.dtype == np.float32 and abs(len(samples) / rate_hz - 3.0) < 0.1
    values, mask, times_s, faps = entry.load_faps()
    assert faps == ANIMATION_SUBSET and values.shape == (75, len(ANIMATION_SUBSET)) and mask.all()
    assert np.allclose(times_s, np.arange(75) / FPS) and np.isfinite(values).all()


@pytest.mark.slow
def test_lost_face_frames_are_missing_not_invented(corpus):
    entry = _entries(corpus)["video/vanish/half"]
    values, mask, times_s, _ = entry.load_faps()
    assert mask[times_s < 1.8].all() and not mask[times_s > 2.2].any()
    assert np.isnan(values[~mask]).all() and np.isfinite(values[mask]).all()
    assert 0.6 < entry.face_found < 0.8


@pytest.mark.slow
def test_bad_inputs_are_reported_and_skipped(corpus):
    skipped = corpus["first"].skipped
    assert "unreadable" in skipped["video/bad/corrupt"]
    assert skipped["video/bad/silent_film"] == "no audio track"
    assert skipped["video/bad/no_face"] == "no face found in any frame"
    assert not {"video/bad/corrupt", "video/bad/silent_film", "video/bad/no_face"} & set(_entries(corpus))
    report = (corpus["root"] / "skipped.jsonl").read_text()
    assert report.count("\n") == 3


@pytest.mark.slow
def test_rerun_skips_finished_clips(corpus):
    from ventriloquist.training.corpus.prepare import prepare

    manifest = corpus["root"] / "manifest.jsonl"
    before = manifest.read_text()
    faps_file = corpus["root"] / "faps/grid/s1/bbaf2n.npz"
    stamp = faps_file.stat().st_mtime_ns
    again = prepare(corpus["sources"], corpus["settings"])
    assert again.added == [] and again.already == len(_entries(corpus))
    assert manifest.read_text() == before and faps_file.stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_a_resumed_source_keeps_the_options_its_clips_were_made_with(corpus, capsys):
    """Its finished clips would be skipped, so other options would only change what corpus.json says of them."""
    from ventriloquist.device.cli import main

    root = corpus["root"]
    before = {name: (root / name).read_bytes() for name in ("manifest.jsonl", "corpus.json")}
    vanish = corpus["sources"][2]
    assert main(["corpus", "prepare", vanish, "--out", str(root), "--licence", "CC0-1.0", "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ventriloquist: error:") and "\n" not in err
    assert vanish in err and "no options" in err and "--licence CC0-1.0" in err
    assert {name: (root / name).read_bytes() for name in before} == before


def test_ema_tracks_are_finite_and_in_mm(corpus):
    entries = [e for e in _entries(corpus).values() if e.source in ("mocha", "haskins", "xrmb")]
    assert {e.source for e in entries} == {"mocha", "haskins", "xrmb"}
    for entry in entries:
        tracks = entry.load_ema()
        assert entry.split == "eval" and entry.faps is None and tracks["rate_hz"] > 90
        for name, low, high in (("lip_aperture", 3, 70), ("lip_protrusion", -10, 30), ("jaw_opening", 0, 40)):
            track = tracks[name]
            assert np.isfinite(track).mean() > 0.95, (entry.id, name)
            assert low < np.nanmin(track) and np.nanmax(track) < high, (entry.id, name)
            assert np.nanstd(track) > 0.3, (entry.id, name)  # the articulators move
        samples, rate_hz = entry.load_audio()
        assert rate_hz == 16000 and len(samples) / rate_hz > 1.5


def test_report_and_png(corpus, tmp_path):
    from ventriloquist.training.corpus.report import plot_clip, write_report

    rows = write_report(corpus["root"]).read_text().splitlines()
    header = rows[0].split("\t")
    assert "face_found_pct" in header and "5:raise_b_midlip" in header
    assert any(r.startswith("video/bad/no_face\tskipped") for r in rows)
    png = plot_clip(corpus["root"], "grid/s1/pbac2p", tmp_path / "clip.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000


def test_cli_reports_a_bad_source_in_one_line(tmp_path, capsys):
    from ventriloquist.device.cli import main

    assert main(["corpus", "prepare", str(tmp_path / "nothing-here"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ventriloquist: error:") and "nothing-here" in err and "\n" not in err


def test_a_sync_bundle_that_cannot_be_trusted_stops_the_run_before_the_corpus_is_made(tmp_path, capsys):
    from ventriloquist.device.cli import main

    (tmp_path / "clips").mkdir()
    args = ["corpus", "prepare", str(tmp_path / "clips"), "--out", str(tmp_path / "out"),
            "--sync-bundle", str(tmp_path / "no-bundle")]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ventriloquist: error:") and "no-bundle" in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_missing_tracker_venv_says_how_to_build_it(monkeypatch, tmp_path):
    from ventriloquist.training.corpus.tracker import TRACK_VENV_ENV, track_python

    monkeypatch.setenv(TRACK_VENV_ENV, str(tmp_path / "no-venv"))
    with pytest.raises(VentriloquistError, match="make setup"):
        track_python()


def test_tracker_worker_imports_only_its_own_stack(tmp_path):
    """The worker tracks a real clip in .venv-track without scipy, tqdm, TensorFlow or the device package."""
    video = shared_path("data", "grid_s1", "video", "bbaf2n.mp4")
    need_tracker()
    from ventriloquist.training.corpus.tracker import track_python

    job = json.dumps({"video": str(video), "out": str(tmp_path / "marks.npz")})
    code = (
        "import io, sys, ventriloquist.training.corpus.tracker as t\n"
        f"t.worker_main(io.StringIO({job!r} + '\\n'), sys.stderr)\n"
        "print(sorted({'.'.join(m.split('.')[:2]) if m.startswith('ventriloquist.') else m.split('.')[0]\n"
        "              for m in sys.modules}))"
    )
    done = subprocess.run([str(track_python()), "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    loaded = set(done.stdout.strip().strip("[]").replace("'", "").split(", "))
    assert {"cv2", "mediapipe", "numpy"} <= loaded
    assert not loaded & {"scipy", "tqdm", "tensorflow", "ventriloquist.device"}
    with np.load(tmp_path / "marks.npz") as z:
        assert z["landmarks"].shape == (75, 478, 3) and z["found"].all() and z["fps"] == FPS


def test_split_is_fixed_by_sentence():
    from ventriloquist.training.corpus.videos import split_of

    grid = shared_path("data", "grid_s1", "align")
    sentences = sorted(p.stem for p in Path(grid).glob("*.align"))
    splits = [split_of(s, "sentence") for s in sentences]
    assert splits == [split_of(s, "sentence") for s in sentences]
    assert 0.05 < splits.count("heldout") / len(splits) < 0.15
    assert split_of("bbaf2n", "eval") == "eval"


def test_engines_map_every_task_and_name_what_is_missing():
    import importlib.util

    from ventriloquist.training.corpus.engines import run_tasks

    assert sorted(run_tasks("local", abs, [-3, 1, -2], 2)) == [1, 2, 3]
    with pytest.raises(VentriloquistError, match="unknown engine"):
        run_tasks("slurm", abs, [1], 1)
    for engine, module in (("dask", "dask"), ("ray", "ray")):
        if importlib.util.find_spec(module) is None:
            with pytest.raises(VentriloquistError, match=f"pip install '{module}"):
                list(run_tasks(engine, abs, [1], 1))


def test_a_late_soundtrack_is_found_and_corrected(corpus):
    entries = _entries(corpus)
    late = entries["video/shifted/late_audio"]
    assert late.extra["av_sync_credible"]
    assert late.extra["av_offset_s"] == pytest.approx(LATE_AUDIO_MS / 1000, abs=0.03)
    _, _, times_s, _ = late.load_faps()
    assert times_s[0] == pytest.approx(late.extra["av_offset_s"])  # the mouth track moved onto the audio clock
    in_sync = [entries[f"grid/s1/{clip}"].extra for clip in GRID_CLIPS]
    assert all(row["av_offset_s"] == 0.0 for row in in_sync)


def test_a_bundle_can_stand_in_for_the_speech_band_to_find_an_offset(corpus, tmp_path):
    """The same tracked clips, synced by the shipped bundle's predicted lips: the late soundtrack is found just as
    well, the in-sync GRID clips stay where they are, each row says what synced it, and eval clips keep the
    speech band."""
    import shutil

    from ventriloquist.device.bundle import SHIPPED_BUNDLE, load_bundle
    from ventriloquist.training.corpus.manifest import MANIFEST, load_manifest
    from ventriloquist.training.corpus.prepare import PrepareSettings, prepare
    from ventriloquist.training.export import _prepared_with, _reproduce

    out = tmp_path / "synced"
    shutil.copytree(corpus["root"], out)  # landmarks and audio are reused; FAP tracks and offsets are made anew
    (out / MANIFEST).unlink()
    shutil.rmtree(out / "faps")
    grid, shifted = corpus["sources"][0], corpus["sources"][-1]
    prepare([grid, f"video@train:{shifted}"], PrepareSettings(out=out, jobs=1, sync_bundle=SHIPPED_BUNDLE))
    entries = {e.id: e for e in load_manifest(out)}
    late = entries["video/shifted/late_audio"].extra
    assert late["av_sync_credible"] and late["av_offset_s"] == pytest.approx(LATE_AUDIO_MS / 1000, abs=0.03)
    assert late["av_sync_by"] == f"bundle {load_bundle(SHIPPED_BUNDLE).name}"
    assert all(entries[f"grid/s1/{clip}"].extra["av_offset_s"] == 0.0 for clip in GRID_CLIPS)
    synced = f"video@train:{shifted}"  # what a model card's reproduce lines say of this corpus's sources:
    options = _prepared_with([str(out)])["source_options"][str(out)]  # the fixture's run and this one apart
    assert options[synced]["sync_bundle"] == load_bundle(SHIPPED_BUNDLE).name
    assert options[corpus["sources"][1]]["sync_bundle"] is None
    p = {"preset": "voices", "sources": {str(out): [corpus["sources"][1], grid, synced]},
         "source_options": {str(out): options}}
    lines = _reproduce(p, "ventriloquist-x")
    assert lines[0] == f"# SYNC_BUNDLE: the bundle {load_bundle(SHIPPED_BUNDLE).name}"
    assert lines[1] == f"ventriloquist corpus prepare {corpus['sources'][1]} --out CORPUS1"
    assert lines[2] == f"ventriloquist corpus prepare {grid} {synced} --out CORPUS1 --sync-bundle SYNC_BUNDLE"
    assert lines[3] == ("ventriloquist train CORPUS1 --out RUN --preset voices --seed 0 --name ventriloquist-x "
                        "--export BUNDLE")
    (out / MANIFEST).unlink()
    prepare([f"video@eval:{shifted}"], PrepareSettings(out=out, jobs=1, sync_bundle=SHIPPED_BUNDLE))
    assert {e.extra["av_sync_by"] for e in load_manifest(out)} == {"speech band"}


def test_frame_times_are_the_videos_own_timestamps(corpus):
    """A variable-rate video (every 4th frame dropped, container rate 18.7 fps) keeps each frame's time."""
    entry = _entries(corpus)["video/shifted/dropped_frames"]
    _, _, times_s, _ = entry.load_faps()
    times_s = times_s - entry.extra["av_offset_s"]
    pts = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time",
                          "-of", "csv=p=0", entry.extra["video"]], capture_output=True, text=True, check=True)
    expected = [float(line.split(",")[0]) for line in pts.stdout.split()]
    assert entry.fps == pytest.approx(56 / 3, abs=0.1)
    np.testing.assert_allclose(times_s, expected, atol=1e-3)
    assert set(np.round(np.diff(times_s), 2)) == {0.04, 0.08}
