"""The cartoon face moves as the FAPs say: measured from the pixels of offscreen renders."""

from __future__ import annotations

import dataclasses

import numpy as np
import pygame
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face import STYLES, CartoonFace, load_style
from ventriloquist.device.face.bench import speech_like_frames
from ventriloquist.device.face.geometry import EXAGGERATION_DEAD_ZONE_FAPU, exaggerate, neutral_points
from ventriloquist.device.fap import FAPU_DIVISOR, fapu_from_feature_points

SIZE = (480, 320)
MARKERS = dict(skin=(255, 255, 255), lip=(255, 0, 0), brow=(0, 200, 0), eye_white=(255, 255, 0), iris=(0, 0, 255),
               pupil=(120, 0, 120), background=(0, 0, 0), mouth=(0, 255, 255), teeth=(255, 0, 255),
               tongue=(255, 128, 0))
"""Distinct colours for the parts measured, on the classic geometry."""
OPEN_A = {3: 266, 4: -62, 5: -527}
EXPRESSIONS = {
    "neutral": {},
    "jaw_open": OPEN_A,
    "lips_pressed": {3: 45, 4: 9, 5: 75},
    "smile": {6: 80, 7: 80, 12: 200, 13: 200},
    "brows_raised": {31: 300, 32: 300, 35: 300, 36: 300},
    "eyes_closed": {19: 1024, 20: 1024},
}


@pytest.fixture(scope="module")
def face() -> CartoonFace:
    """The classic geometry drawn as measured (exaggeration 1), so FAPU distances can be checked in pixels."""
    return CartoonFace(dataclasses.replace(load_style("classic"), **MARKERS), SIZE, exaggeration=1.0)


@pytest.fixture(scope="module")
def px_per() -> dict[str, float]:
    """Pixels per 1024 FAPU of each kind on the classic face at SIZE."""
    fapu = fapu_from_feature_points(neutral_points(load_style("classic")))
    scale = CartoonFace("classic", SIZE).scale
    return {k: v * FAPU_DIVISOR * scale for k, v in fapu.as_dict().items()}


def mask(surface: pygame.Surface, color, tolerance: int = 60) -> np.ndarray:
    """(w, h) bool: pixels within `tolerance` (sum of channel differences) of `color`."""
    rgb = pygame.surfarray.array3d(surface).astype(int)
    return np.abs(rgb - np.array(color)).sum(axis=2) < tolerance


def lip_column(surface: pygame.Surface) -> tuple[int, int]:
    """(gap between the lips, total lip height) in pixels, down the mouth's middle column."""
    rows = np.flatnonzero(mask(surface, MARKERS["lip"])[SIZE[0] // 2])
    runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    return runs[-1][0] - runs[0][-1] - 1, len(rows)


def lip_corners(surface: pygame.Surface) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the leftmost and rightmost mouth pixels (anything not skin in a band round the lips)."""
    band = np.zeros(SIZE[::-1], bool).T
    band[180:300, 205:255] = True
    xs, ys = np.nonzero(band & ~mask(surface, MARKERS["skin"], 120))
    return np.array([xs.min(), ys[xs == xs.min()].mean()]), np.array([xs.max(), ys[xs == xs.max()].mean()])


@pytest.fixture(scope="module")
def renders(face) -> dict[str, pygame.Surface]:
    return {name: face.render_frame(faps) for name, faps in EXPRESSIONS.items()}


def test_open_mouth_gap_grows_by_the_lip_faps(renders, px_per):
    gap0, _ = lip_column(renders["neutral"])
    gap, _ = lip_column(renders["jaw_open"])
    expected = (527 + 62) / 1024 * px_per["MNS"]
    assert gap - gap0 == pytest.approx(expected, rel=0.25)
    inside = mask(renders["jaw_open"], MARKERS["teeth"]).sum() + mask(renders["jaw_open"], MARKERS["mouth"]).sum()
    assert inside > 200 and mask(renders["neutral"], MARKERS["teeth"]).sum() == 0


def test_jaw_drops_the_chin(face, px_per):
    def chin_row(surface):
        return np.flatnonzero((pygame.surfarray.array3d(surface).sum(axis=2) > 0).any(axis=0)).max()

    drop = chin_row(face.render_frame({3: 266})) - chin_row(face.render_frame({}))
    assert drop == pytest.approx(266 / 1024 * px_per["MNS"], abs=2.0)
    assert lip_column(face.render_frame({3: 266}))[0] == lip_column(face.render_frame({}))[0]  # jaw alone: lips shut


def test_exaggeration_opens_speech_wider_but_keeps_closed_lips_closed(face, px_per):
    """Above the dead zone the mouth opens `gain` times as far; a closure (p, b, m) stays as it is."""
    style = dataclasses.replace(load_style("classic"), **MARKERS)
    assert load_style("classic").exaggeration > 1  # the shipped cartoon reads across a room
    gain = 2.5
    loud = CartoonFace(style, SIZE, exaggeration=gain)
    gap0, _ = lip_column(face.render_frame({}))
    measured = lip_column(face.render_frame(OPEN_A))[0] - gap0
    exaggerated = lip_column(loud.render_frame(OPEN_A))[0] - gap0
    dead = EXAGGERATION_DEAD_ZONE_FAPU
    expected = (2 * dead + gain * (527 + 62 - 2 * dead)) / 1024 * px_per["MNS"]  # both midlips past the dead zone
    assert exaggerated == pytest.approx(expected, rel=0.25) and exaggerated > 1.8 * measured
    closure = EXPRESSIONS["lips_pressed"]
    assert lip_column(loud.render_frame(closure)) == lip_column(face.render_frame(closure))


def test_exaggerate_leaves_corners_and_small_motions_alone():
    faps = {3: 300.0, 5: -50.0, 12: -150.0, 19: 1024.0}
    assert exaggerate(faps, 2.0) == {3: 500.0, 5: -50.0, 12: -150.0, 19: 1024.0}
    assert exaggerate(faps, 1.0) is faps


def test_pressed_lips_stay_shut_and_thin(renders, px_per):
    gap0, height0 = lip_column(renders["neutral"])
    gap, height = lip_column(renders["lips_pressed"])
    assert gap <= gap0
    assert height0 - height == pytest.approx((9 + 75) / 1024 * px_per["MNS"], abs=2.0)


def test_smile_widens_and_lifts_the_corners(renders, px_per):
    (l0, r0), (l1, r1) = lip_corners(renders["neutral"]), lip_corners(renders["smile"])
    widen = 80 / 1024 * px_per["MW"]
    assert r1[0] - r0[0] == pytest.approx(widen, abs=2.0) and l0[0] - l1[0] == pytest.approx(widen, abs=2.0)
    lift = 200 / 1024 * px_per["MNS"]
    assert r0[1] - r1[1] == pytest.approx(lift, rel=0.35) and l0[1] - l1[1] == pytest.approx(lift, rel=0.35)


def test_left_means_the_faces_own_left(face):
    (l0, r0), (l1, r1) = lip_corners(face.render_frame({})), lip_corners(face.render_frame({6: 150}))
    assert r1[0] > r0[0] + 3 and l1[0] == l0[0]  # stretch_l moves the corner on the viewer's right
    white = mask(face.render_frame({19: 1024}), MARKERS["eye_white"])
    assert white[: SIZE[0] // 2].sum() > 50 and white[SIZE[0] // 2 :].sum() == 0


def test_brows_rise_by_the_ens_amount(renders, px_per):
    def brow_y(surface):
        return np.nonzero(mask(surface, MARKERS["brow"]))[1].mean()

    rise = brow_y(renders["neutral"]) - brow_y(renders["brows_raised"])
    assert rise == pytest.approx(300 / 1024 * px_per["ENS"], rel=0.2)


def test_eyes_close_and_gaze_turns(renders, face):
    white0 = mask(renders["neutral"], MARKERS["eye_white"]).sum()
    assert white0 > 100 and mask(renders["eyes_closed"], MARKERS["eye_white"]).sum() < 0.02 * white0

    def pupil_x(surface):
        return np.nonzero(mask(surface, MARKERS["pupil"]))[0].mean()

    turn = pupil_x(face.render_frame({23: 40000, 24: 40000})) - pupil_x(renders["neutral"])
    assert turn == pytest.approx(face.scale * face.geometry.pose({23: 40000}).gaze[0][0], abs=1.0)  # to face's left
    assert turn > 5


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("size", [(320, 240), (800, 480)])
def test_every_style_and_size_draws_a_face(style, size):
    face = CartoonFace(style, size)
    neutral, open_ = face.render_frame({}), face.render_frame(OPEN_A)
    assert neutral.get_size() == size
    bg = load_style(style).background
    assert (~mask(neutral, bg)).mean() > 0.2  # a face covers a good part of the frame
    teeth = load_style(style).teeth
    lower = slice(int(size[1] * 0.6), None)  # below the eyes: their whites look like teeth
    assert mask(neutral, teeth, 12)[:, lower].sum() == 0 and mask(open_, teeth, 12)[:, lower].sum() > 30


def test_head_roll_tilts_the_face(face):
    def lip_slope(surface):
        xs, ys = np.nonzero(mask(surface, MARKERS["lip"]))
        return np.polyfit(xs, ys, 1)[0]

    assert abs(lip_slope(face.render_frame({}))) < 0.01
    roll_rad = 15000 * 1e-5
    assert lip_slope(face.render_frame({50: 15000})) == pytest.approx(-np.tan(roll_rad), abs=0.03)  # anticlockwise


def test_bad_size_is_an_error():
    with pytest.raises(VentriloquistError, match="too small"):
        CartoonFace("classic", (20, 20))


def test_a_frame_does_not_depend_on_the_frames_before():
    """Background, ears, head, hair and eyes are cached and drawn again only where they changed, yet every frame
    comes out as a face drawn from scratch would: after speech with a blink, a head turn, puffed cheeks, a blink."""
    stream = speech_like_frames(3.4)
    speech = [dict(zip(stream.faps, row.tolist(), strict=True)) for row in stream.values[::9]]  # 38 frames
    sequence = speech + [OPEN_A, {50: 20000, 3: 300}, {}, {39: 300, 40: 300, 3: 400}, OPEN_A,
                         EXPRESSIONS["eyes_closed"], {3: 1500, 5: -900}, {3: 1500, 5: -900, 23: 30000}]
    for style in ("classic", "puppet"):
        face = CartoonFace(style, SIZE)
        for faps in sequence:
            fresh = pygame.surfarray.array3d(CartoonFace(style, SIZE).render_frame(faps))
            np.testing.assert_array_equal(pygame.surfarray.array3d(face.render_frame(faps)), fresh)


def test_cached_parts_are_drawn_again_where_something_else_changed_under_them():
    """Eyes low and wide next to the cheek outline, brows and nose on them: puffed cheeks or an open jaw move the
    outline under the cached eyes, and a blink changes the eyes under the cached brows and nose."""
    style = dataclasses.replace(load_style("classic"), eye_spacing=0.55, eye_half_width=0.2, eye_y=-0.02,
                                brow_y=0.1, nose_y=-0.1)
    face = CartoonFace(style, SIZE)
    for faps in ({}, {39: 800, 40: 800}, {3: 900}, {}, {19: 600, 20: 600}, {}, {19: 600, 20: 600, 31: 100}):
        fresh = pygame.surfarray.array3d(CartoonFace(style, SIZE).render_frame(faps))
        np.testing.assert_array_equal(pygame.surfarray.array3d(face.render_frame(faps)), fresh)
