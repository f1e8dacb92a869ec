"""`photo-points` and `render --photo` without --points: the face tracker places a real photo's neutral points.

The photos are video frames with the mouth closed (GRID s1, a train/ and an eval/ talking face), cut
with ffmpeg; the lips are found again, independently, as the reddest blob around the mouth.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pygame
import pytest
from conftest import leftovers, need_tracker, one_line_error, shared_path
from scipy import ndimage

from ventriloquist.device.cli import main
from ventriloquist.device.face.photo_warp import PhotoFace, load_points

FRAMES = {  # name: (video under ../shared/data, time in s of a closed-mouth frame)
    "grid": ("grid_s1/video/bbaf2n.mp4", 0.2),
    "menendez": ("talking_faces/train/menendez/hdtf_WDA_BobMenendez_000.mp4", 5.56),
    "german": ("talking_faces/eval/german/mimictalk_German_20s.mp4", 1.4),
}
OPEN = {3: 266, 4: -62, 5: -527}
"""open_jaw, lower_t_midlip, raise_b_midlip of an "a" (the bench's target)."""
CHANGED = 24
"""A pixel differs when a channel moved by more than this."""


def cut(video: str, t_s: float, out: Path, *filters: str, second: Path | None = None) -> Path:
    """One frame of ../shared/data/`video` at `t_s` as a PNG, through ffmpeg filters (a second input: hstack)."""
    source = shared_path("data", *video.split("/"))
    inputs = ["-ss", str(t_s), "-i", str(source)] + (["-i", str(second)] if second else [])
    graph = ["-filter_complex", ";".join(filters)] if filters else []
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, *graph, "-frames:v", "1", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("frames")
    return {name: cut(video, t_s, folder / f"{name}.png") for name, (video, t_s) in FRAMES.items()}


@pytest.fixture(scope="module")
def found(frames) -> dict[str, dict[str, np.ndarray]]:
    """Each frame's points, found by the tracker."""
    need_tracker()
    from ventriloquist.training.photo_points import find_photo_points

    return {name: {k: np.array(v) for k, v in find_photo_points(path).items()} for name, path in frames.items()}


def lips_box(photo: Path, centre: np.ndarray, span: float) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of the reddest blob within an eye span of `centre`: the lips, by colour alone."""
    rgb = pygame.surfarray.array3d(pygame.image.load(str(photo))).astype(float)
    x0, y0 = int(centre[0] - span), int(centre[1] - 0.6 * span)
    box = rgb[x0 : int(centre[0] + span), y0 : int(centre[1] + 0.6 * span)]
    red = (box[..., 0] - box[..., 1]) / (box.sum(axis=-1) + 1)
    blobs, _ = ndimage.label(red > np.percentile(red, 85))
    xs, ys = np.nonzero(blobs == np.argmax(np.bincount(blobs.ravel())[1:]) + 1)
    return xs.min() + x0, xs.max() + x0, ys.min() + y0, ys.max() + y0


@pytest.mark.parametrize("name", list(FRAMES))
def test_points_land_on_the_face(name, frames, found):
    p = found[name]
    span = np.linalg.norm(p["3.5"] - p["3.6"])
    x0, x1, y0, y1 = lips_box(frames[name], (p["8.3"] + p["8.4"]) / 2, span)
    margin = 0.08 * span
    for corner in ("8.3", "8.4"):
        assert x0 - margin <= p[corner][0] <= x1 + margin and y0 - margin <= p[corner][1] <= y1 + margin, corner
    assert y0 - margin <= p["8.1"][1] < p["2.2"][1] < p["8.2"][1] <= y1 + margin  # upper lip, seam, lower lip
    assert p["3.5"][0] > p["3.6"][0] and p["8.3"][0] > p["8.4"][0]  # the face's left is the picture's right
    assert max(p["3.5"][1], p["3.6"][1]) < p["9.15"][1] < p["8.1"][1] < p["2.1"][1]  # eyes, nose, mouth, chin
    eyes_mid, mouth_mid = (p["3.5"] + p["3.6"]) / 2, (p["8.3"] + p["8.4"]) / 2
    assert abs(eyes_mid[0] - mouth_mid[0]) < 0.15 * span and abs(p["2.1"][0] - mouth_mid[0]) < 0.15 * span
    assert np.array_equal(p["2.2"], p["2.3"])  # the neutral mouth is exactly closed


@pytest.mark.parametrize("name", list(FRAMES))
def test_an_open_mouth_changes_the_mouth_region_only(name, frames, found):
    p = found[name]
    face = PhotoFace(frames[name], {k: tuple(v) for k, v in p.items()})
    neutral = pygame.surfarray.array3d(face.render_frame({})).astype(int)
    original = pygame.surfarray.array3d(pygame.image.load(str(frames[name]))).astype(int)
    assert np.abs(neutral - original).max() <= 2
    changed = np.abs(pygame.surfarray.array3d(face.render_frame(OPEN)).astype(int) - neutral).max(axis=2) > CHANGED
    xs, ys = np.nonzero(changed)
    span = np.linalg.norm(p["3.5"] - p["3.6"])
    mouth = (p["8.3"] + p["8.4"]) / 2
    inner = changed[int(p["8.4"][0]) : int(p["8.3"][0]), int(p["8.1"][1]) : int(p["8.2"][1] + 0.3 * span)]
    assert inner.mean() > 0.2  # the lips parted
    assert ys.min() > max(p["3.5"][1], p["3.6"][1]) + 0.5 * span  # eyes, brows and forehead untouched
    assert np.abs(xs - mouth[0]).max() < 1.6 * span  # cheeks and background untouched


def test_photo_points_writes_the_points_json(frames, found, tmp_path, capsys):
    out = tmp_path / "me.json"
    assert main(["photo-points", str(frames["grid"]), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    points = load_points(out)
    assert {"2.13", "2.14", "3.5", "9.15"} <= set(points)
    assert np.allclose([points[k] for k in sorted(found["grid"])], [found["grid"][k] for k in sorted(found["grid"])])
    assert leftovers(tmp_path) == []
    assert main(["photo-points", str(frames["grid"]), "--out", str(frames["grid"])]) == 2
    one_line_error(capsys, "is the input")


@pytest.fixture(scope="module")
def bad(frames, tmp_path_factory) -> dict[str, Path]:
    """Real pictures a neutral face cannot come from."""
    folder = tmp_path_factory.mktemp("bad")
    grid, t_s = FRAMES["grid"]
    (folder / "notes.jpg").write_text("not a picture\n")
    return {
        "background": cut(grid, t_s, folder / "background.png", "crop=110:288:250:0"),
        "two": cut(grid, t_s, folder / "two.png", "[1]scale=-2:288[b];[0][b]hstack", second=frames["german"]),
        "tiny": cut(grid, t_s, folder / "tiny.png", "scale=72:-2"),
        "tilted": cut(grid, t_s, folder / "tilted.png", "rotate=25*PI/180"),
        "turned": cut("talking_faces/eval/vox_pcavs_P517600055/vox_pcavs_P517600055.mp4", 3.48, folder / "turned.png"),
        "open": cut("talking_faces/eval/may/mimictalk_May_5s.mp4", 0.1, folder / "open.png"),
        "unreadable": folder / "notes.jpg",
    }


@pytest.mark.parametrize(("case", "words"), [
    ("background", ("no face found",)),
    ("two", ("2 faces found", "one face")),
    ("tiny", ("too small", "at least 40")),
    ("tilted", ("too turned", "roll", "15°")),
    ("turned", ("too turned", "yaw", "20°")),
    ("open", ("mouth is open", "closed lips")),
    ("unreadable", ("cannot read photo", "notes.jpg")),
])
def test_unusable_photos_are_one_line_errors(case, words, bad, tmp_path, capsys):
    need_tracker()
    out = tmp_path / "points.json"
    assert main(["photo-points", str(bad[case]), "--out", str(out)]) == 2
    one_line_error(capsys, str(bad[case].name), *words)
    assert not out.exists() and leftovers(tmp_path) == []


def test_render_finds_the_points_itself_on_the_workstation(frames, found, talk, tiny_bundle, tmp_path):
    out = tmp_path / "me.mp4"
    assert main(["render", str(talk), "--out", str(out), "--photo", str(frames["grid"]), "--bundle",
                 str(tiny_bundle), "--png-dir", str(tmp_path / "png")]) == 0
    first = pygame.image.load(str(tmp_path / "png" / "frame_000000.png"))
    assert out.stat().st_size > 0 and first.get_size() == (360, 288)


def test_render_without_the_tracker_says_to_pass_points(talk, tiny_bundle, tmp_path, monkeypatch, capsys):
    """On the device there is no tracker venv: --points is the way."""
    from ventriloquist.training.corpus.tracker import TRACK_VENV_ENV

    monkeypatch.setenv(TRACK_VENV_ENV, str(tmp_path / "no-venv"))
    photo = tmp_path / "me.png"
    pygame.image.save(pygame.Surface((64, 64)), str(photo))
    assert main(["render", str(talk), "--out", str(tmp_path / "me.mp4"), "--photo", str(photo), "--bundle",
                 str(tiny_bundle)]) == 2
    one_line_error(capsys, "pass --points", "photo-points")
