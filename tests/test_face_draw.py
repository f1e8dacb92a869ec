"""Partial redraw of a polygon: its lower part, drawn clipped, gives the whole polygon's pixels there."""

from __future__ import annotations

import math

import numpy as np
import pygame

from ventriloquist.device.face.draw import EDGE_REACH_PX, fill, first_changed_row, lower_part, spline

SIZE = (220, 170)
BACKGROUND, COLOR = (40, 50, 60), (240, 200, 170)
LOBES = spline(np.array([(20, 20), (200, 20), (205, 120), (180, 150), (160, 60), (110, 90), (60, 60), (40, 150),
                         (15, 120)], float), closed=True)
"""A closed outline in pixels whose bottom is two lobes (like the hair's side locks), for anti-aliased edges."""


def _drawn(shape: np.ndarray, clip_top: int = 0) -> np.ndarray:
    surface = pygame.Surface(SIZE)
    surface.fill(BACKGROUND)
    surface.set_clip(pygame.Rect(0, clip_top, SIZE[0], SIZE[1] - clip_top))
    fill(surface, COLOR, shape)
    return pygame.surfarray.array3d(surface)


def test_a_lower_part_drawn_clipped_gives_the_whole_polygons_rows():
    whole = _drawn(LOBES)
    for top in (40, 100, 140):  # the cut through the body, then through both lobes
        part = lower_part(LOBES, top)
        assert 3 <= len(part) < len(LOBES)
        rows = slice(top + int(EDGE_REACH_PX), None)  # pygame changes a clipped line along the clip's edge
        np.testing.assert_array_equal(_drawn(part, top)[:, rows], whole[:, rows])
    assert len(lower_part(LOBES, 0)) == len(LOBES)


def test_rows_above_the_first_changed_row_stay_as_they_were():
    moved = LOBES.copy()
    low = moved[:, 1] > 130
    moved[low] += (1.5, 2.3)  # the lobes' tips move, as the jaw moves the bottom of the head
    row = first_changed_row(moved, LOBES)
    assert 0 < row < 130 - EDGE_REACH_PX
    before, after = _drawn(LOBES), _drawn(moved)
    np.testing.assert_array_equal(after[:, :row], before[:, :row])
    assert not np.array_equal(after, before)
    assert first_changed_row(LOBES.copy(), LOBES) == math.inf
