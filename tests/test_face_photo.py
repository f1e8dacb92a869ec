"""The photo warp: a synthetic "photo" (the cartoon's neutral face) opens its mouth with the FAPs."""

from __future__ import annotations

import json

import numpy as np
import pygame
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face import CartoonFace, load_style
from ventriloquist.device.face.photo_warp import PhotoFace

SIZE = (480, 320)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A neutral cartoon face saved as a PNG, with its known feature points as JSON."""
    folder = tmp_path_factory.mktemp("photo")
    face = CartoonFace("classic", SIZE)
    pygame.image.save(face.render_frame({}), str(folder / "face.png"))
    (folder / "face.json").write_text(json.dumps({"points": face.feature_points_px()}))
    return folder / "face.png", folder / "face.json"


def mouth_pixels(surface: pygame.Surface) -> int:
    """Pixels of the mouth-inside colours (cavity, teeth, tongue) below the eyes."""
    s = load_style("classic")
    rgb = pygame.surfarray.array3d(surface).astype(int)[:, int(SIZE[1] * 0.6) :]
    return int(sum((np.abs(rgb - c).sum(axis=2) < 12).sum() for c in (s.mouth, s.teeth, s.tongue)))


def test_neutral_faps_leave_the_photo_as_it_is(photo):
    original = pygame.surfarray.array3d(pygame.image.load(str(photo[0]))).astype(int)
    warped = pygame.surfarray.array3d(PhotoFace(*photo).render_frame({})).astype(int)
    assert np.abs(warped - original).max() <= 2


def test_mouth_gap_grows_with_the_open_faps(photo):
    face = PhotoFace(*photo)
    counts = [mouth_pixels(face.render_frame({3: k * 266, 4: k * -62, 5: k * -527})) for k in (0.0, 0.5, 1.0)]
    assert counts[0] + 100 < counts[1] < counts[2] - 100  # (the closed mouth has a seam line of cavity colour)
    column = pygame.surfarray.array3d(face.render_frame({3: 266, 4: -62, 5: -527}))[SIZE[0] // 2]
    lip = np.array(load_style("classic").lip)
    rows = np.flatnonzero(np.abs(column.astype(int) - lip).sum(axis=1) < 60)
    assert np.diff(rows).max() > 15  # the two lips are far apart: the warp moved the lower lip down


def test_blink_hides_the_eye_whites(photo):
    face = PhotoFace(*photo)
    white = np.array(load_style("classic").eye_white)

    def whites(surface):
        rgb = pygame.surfarray.array3d(surface).astype(int)[:, : SIZE[1] // 2]
        return (np.abs(rgb - white).sum(axis=2) < 12).sum()

    assert whites(face.render_frame({19: 1024, 20: 1024})) < 0.3 * whites(face.render_frame({}))


def test_bad_points_name_what_is_wrong(photo, tmp_path):
    points = json.loads(photo[1].read_text())["points"]
    del points["2.1"]
    (tmp_path / "p.json").write_text(json.dumps(points))
    with pytest.raises(VentriloquistError, match="missing point.*2.1"):
        PhotoFace(photo[0], tmp_path / "p.json")
    (tmp_path / "q.json").write_text(json.dumps({"points": {"2.2": "here"}}))
    with pytest.raises(VentriloquistError, match="'2.2'"):
        PhotoFace(photo[0], tmp_path / "q.json")
    with pytest.raises(VentriloquistError, match="cannot read photo"):
        PhotoFace(tmp_path / "none.png", photo[1])


def test_photo_bench_reports_speed_and_cost():
    from ventriloquist.device.face.bench import bench_photo

    figures = {f["name"]: f for f in bench_photo(seconds=0.2)}
    assert set(figures) == {"photo_render_fps", "photo_render_cpu_percent"}
    assert figures["photo_render_fps"]["value"] > 0 and figures["photo_render_fps"]["size"] == "480x320"
    assert 0 < figures["photo_render_cpu_percent"]["value"] <= 200


def test_the_open_mouth_is_lit_like_the_photo(photo, tmp_path):
    """Teeth keep the style's colour on a well-lit photo and are shaded on a dim one, with a darker cavity."""
    dim = pygame.image.load(str(photo[0]))
    dim.fill((100, 100, 100), special_flags=pygame.BLEND_MULT)
    pygame.image.save(dim, str(tmp_path / "dim.png"))
    bright, dark = PhotoFace(*photo).style, PhotoFace(tmp_path / "dim.png", photo[1]).style
    assert bright.teeth == load_style("classic").teeth
    assert max(dark.teeth) < max(bright.teeth) - 40 and max(dark.mouth) < max(bright.mouth)


def test_a_black_and_white_photo_gets_a_grey_mouth_inside(photo, tmp_path):
    """The style's pink tongue would be the only colour in a greyscale photo; a colour photo keeps it."""
    rgb = pygame.surfarray.array3d(pygame.image.load(str(photo[0]))).astype(float)
    grey = np.repeat((rgb @ [0.299, 0.587, 0.114])[..., None], 3, axis=2).round().astype(np.uint8)
    pygame.image.save(pygame.surfarray.make_surface(grey), str(tmp_path / "grey.png"))
    colour, bw = PhotoFace(*photo).style, PhotoFace(tmp_path / "grey.png", photo[1]).style
    assert colour.tongue == load_style("classic").tongue
    for part in (bw.tongue, bw.teeth, bw.mouth):
        assert max(part) - min(part) <= 1, part
    assert abs(sum(bw.tongue) / 3 - sum(colour.tongue) / 3) < 40  # as bright, only without colour


def test_a_large_jaw_drop_leaves_no_stripes(photo):
    """Triangles that fold over under a large jaw drop lie under their neighbours, not across them as lines
    of stray pixels (which stand out from their 3x3 neighbourhood): 22 more than neutral here, 60 when
    drawn in mesh order."""
    from scipy import ndimage

    def stray(surface):
        grey = pygame.surfarray.array3d(surface).astype(int).sum(axis=2)
        return int((np.abs(grey - ndimage.median_filter(grey, size=3)) > 150).sum())

    face = PhotoFace(*photo)
    face.geometry.exaggeration = 4.0
    assert stray(face.render_frame({3: 500, 4: -150, 5: -900, 6: 80, 7: 80})) < stray(face.render_frame({})) + 40


def test_run_shows_the_photo_face_live_from_the_command_line_or_the_config(photo, tmp_path, monkeypatch):
    import argparse

    from ventriloquist.device.app import live_sinks
    from ventriloquist.device.commands import run as run_cmd
    from ventriloquist.device.config import load_config
    from ventriloquist.device.face.bench import speech_like_frames

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    given = run_cmd.live_settings(parser.parse_args(["--photo", str(photo[0]), "--points", str(photo[1]),
                                                     "--windowed"]))
    config = tmp_path / "config.toml"
    config.write_text(f'[face]\nfullscreen = false\nwidth_px = {SIZE[0]}\nheight_px = {SIZE[1]}\n'
                      f'photo = "{photo[0]}"\npoints = "{photo[1]}"\n')
    configured = run_cmd.live_settings(parser.parse_args([]), load_config(config))
    for settings in (given, configured):
        assert settings.face is not None and (settings.face.photo, settings.face.points) == tuple(map(str, photo))
        (sink,) = live_sinks(settings, ())
        try:
            assert isinstance(sink.face, PhotoFace)
            frames = speech_like_frames(0.5)
            sink.open(0.0)
            sink.write(frames)
            shown = pygame.surfarray.array3d(sink.display.screen)
            expected = sink.face.render_frame(dict(zip(frames.faps, frames.values[-1].tolist(), strict=True)))
            assert np.array_equal(shown, pygame.surfarray.array3d(expected))
        finally:
            sink.close()
