"""Partial redraw of a polygon: its lower part, drawn clipped, gives the whole polygon's pixels there, and a moved
polygon changes only pixels near the edges that moved."""

from __future__ import annotations

import numpy as np
import pygame

from ventriloquist.device.face.draw import EDGE_REACH_PX, fill, fill_below, moved_edges, reaches, spline

SIZE = (220, 170)
BACKGROUND, COLOR = (40, 50, 60), (240, 200, 170)
LOBES = spline(np.array([(20, 20), (200, 20), (205, 120), (180, 150), (160, 60), (110, 90), (60, 60), (40, 150),
                         (15, 120)], float), closed=True)
"""A closed outline in pixels whose bottom is two lobes (like the hair's side locks), for anti-aliased edges."""


def _drawn(shape: np.ndarray, below_px: int | None = None) -> np.ndarray:
    """The shape filled whole, or with fill_below clipped to rows from below_px down."""
    surface = pygame.Surface(SIZE)
    surface.fill(BACKGROUND)
    if below_px is None:
        fill(surface, COLOR, shape)
    else:
        surface.set_clip(pygame.Rect(0, below_px, SIZE[0], SIZE[1] - below_px))
        fill_below(surface, COLOR, shape, below_px)
    return pygame.surfarray.array3d(surface)


def test_the_part_below_a_row_comes_out_as_the_whole_polygon_there():
    for shape in (LOBES, np.roll(LOBES, -20, axis=0)):  # the second starts in a lobe: its closing edge is kept
        whole = _drawn(shape)
        for top in (40, 100, 140):  # the cut through the body, then through both lobes
            rows = slice(top + int(EDGE_REACH_PX), None)  # pygame changes a clipped line along the clip's edge
            cut = _drawn(shape, top)
            np.testing.assert_array_equal(cut[:, rows], whole[:, rows])
            assert (cut[:, : top - 1] == BACKGROUND).all()  # nothing drawn above: the cut really is partial


def test_a_moved_polygon_changes_only_pixels_in_the_boxes_round_the_edges_that_moved():
    moved = LOBES.copy()
    low = moved[:, 1] > 130
    moved[low] += (1.5, 2.3)  # the lobes' tips move, as the jaw moves the bottom of the head
    boxes = moved_edges(moved, LOBES)
    assert 0 < boxes[:, 1].min() < 130 - EDGE_REACH_PX
    changed = np.argwhere((_drawn(moved) != _drawn(LOBES)).any(axis=2))
    assert len(changed) > 20
    assert all(reaches(boxes, pygame.Rect(int(x), int(y), 1, 1)) for x, y in changed)
    assert not reaches(boxes, pygame.Rect(100, 20, 20, 20))  # the top edge did not move
    assert len(moved_edges(LOBES.copy(), LOBES)) == 0
