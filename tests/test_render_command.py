"""`ventriloquist render`: a cartoon style or a warped photo to an MP4 (real ffmpeg), PNG frames beside it,
and the FAPs are exactly bake's."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pygame
import pytest
import soundfile

from ventriloquist.device.cli import main
from ventriloquist.device.commands.demo import SAMPLE
from ventriloquist.device.face import CartoonFace

SECONDS = 2.0


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    """The first two seconds of the sample speech."""
    samples, rate_hz = soundfile.read(SAMPLE, dtype="float32")
    path = tmp_path_factory.mktemp("audio") / "speech.wav"
    soundfile.write(path, samples[: int(SECONDS * rate_hz)], rate_hz)
    return path


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A neutral cartoon face saved as a PNG, with its known feature points as JSON (as test_face_photo does)."""
    folder = tmp_path_factory.mktemp("photo")
    face = CartoonFace("classic", (400, 300))
    pygame.image.save(face.render_frame({}), str(folder / "face.png"))
    (folder / "face.json").write_text(json.dumps({"points": face.feature_points_px()}))
    return folder / "face.png", folder / "face.json"


def probe(path: Path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height,duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["streams"]


@pytest.mark.slow  # encodes a video
def test_style_render_with_png_frames(speech, tiny_bundle, tmp_path, capsys):
    out, pngs = tmp_path / "talk.mp4", tmp_path / "frames"
    assert main(["render", str(speech), "--out", str(out), "--style", "puppet", "--size", "320x240", "--fps", "25",
                 "--png-dir", str(pngs), "--bundle", str(tiny_bundle)]) == 0
    video, audio = sorted(probe(out), key=lambda s: s["codec_type"], reverse=True)
    assert (video["codec_type"], video["width"], video["height"]) == ("video", 320, 240)
    assert audio["codec_type"] == "audio" and abs(float(audio["duration"]) - SECONDS) < 0.05
    frames = sorted(pngs.glob("frame_*.png"))
    assert len(frames) == math.ceil(SECONDS * 25) and pygame.image.load(str(frames[0])).get_size() == (320, 240)
    assert f"wrote {out}" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["talk.mp4"]  # no partial file left


@pytest.mark.slow  # encodes a video
def test_photo_render_takes_the_photos_size(speech, photo, tiny_bundle, tmp_path):
    out = tmp_path / "photo.mp4"
    assert main(["render", str(speech), "--out", str(out), "--photo", str(photo[0]), "--points", str(photo[1]),
                 "--bundle", str(tiny_bundle)]) == 0
    video = next(s for s in probe(out) if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (400, 300)


def test_the_video_shows_the_baked_faps(speech, tiny_bundle, tmp_path):
    """render_file's frames at video times are bake's CSV track interpolated there (one code path)."""
    from ventriloquist.device.app import PipelineOptions, build_pipeline, render_file

    baked = tmp_path / "baked.csv"
    assert main(["bake", str(speech), "--out", str(baked), "--bundle", str(tiny_bundle)]) == 0
    table = np.loadtxt(baked, delimiter=",", skiprows=1)
    pipeline = build_pipeline(PipelineOptions(bundle=tiny_bundle))
    done = render_file(pipeline, speech, tmp_path / "v.mp4", CartoonFace(), fps=10, progress=False)
    expected = np.interp(done.frames.times_s, table[:, 0], table[:, 1])  # the first FAP column
    assert np.allclose(done.frames.values[:, 0], expected, atol=0.02)


@pytest.mark.parametrize(("extra", "message"), [
    (["--size", "321x240"], "must be even"),
    (["--size", "big"], "WIDTHxHEIGHT"),
], ids=["odd-size", "bad-size"])
def test_bad_options_are_one_line_errors(extra, message, speech, tiny_bundle, tmp_path, capsys):
    out = tmp_path / "x.mp4"
    assert main(["render", str(speech), "--out", str(out), "--bundle", str(tiny_bundle), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_the_output_must_be_an_mp4(speech, tiny_bundle, tmp_path, capsys):
    assert main(["render", str(speech), "--out", str(tmp_path / "x.avi"), "--bundle", str(tiny_bundle)]) == 2
    assert ".mp4" in capsys.readouterr().err
