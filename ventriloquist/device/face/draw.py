"""Smooth curves and anti-aliased shapes for pygame: Catmull-Rom splines, filled AA polygons, tapered strokes.

pygame fills polygons on whole pixels; every shape here also gets an anti-aliased edge
(`pygame.draw.aalines` on the float outline), which is what makes a 480x320 face look smooth
without supersampling.
"""

from __future__ import annotations

import functools

import numpy as np
import pygame

SAMPLES_PER_SEGMENT = 8
"""Points per spline segment: enough for smooth lips at 800x480, cheap at 480x320."""
CIRCLE_SAMPLES = 28
ARC_SAMPLES = 16
EDGE_REACH_PX = 4.0
"""Rows an edge's pixels may reach past its end points: whole-pixel rounding, anti-aliasing, and the end pixels
pygame.draw.aalines adds or leaves out by the next edge's slope (3 rows seen; one more for safety)."""
_T = np.linspace(0.0, 1.0, SAMPLES_PER_SEGMENT, endpoint=False)
_BASIS = 0.5 * np.stack([-_T**3 + 2 * _T**2 - _T, 3 * _T**3 - 5 * _T**2 + 2, -3 * _T**3 + 4 * _T**2 + _T,
                         _T**3 - _T**2], axis=1)
"""(samples, 4): uniform Catmull-Rom weights of P0..P3 for t in [0, 1)."""
_ANGLES = np.linspace(0, 2 * np.pi, CIRCLE_SAMPLES, endpoint=False)
UNIT_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)
_TURN_RIGHT = np.array([1.0, -1.0])
"""(ty, tx) * this = (ty, -tx): a tangent turned a quarter clockwise."""


def spline(points: np.ndarray, closed: bool = False) -> np.ndarray:
    """A smooth curve through `points` (m, 2): uniform Catmull-Rom, sampled densely."""
    p = np.asarray(points, float)
    return _spline_matrix(len(p), closed) @ p


@functools.cache
def _spline_matrix(m: int, closed: bool) -> np.ndarray:
    """(samples, m): the curve as weights of the m points (a face draws a dozen curves a frame: one product each).

    Closed: the points wrap round. Open: a mirrored point is added before the first and after the last one
    (2 P0 - P1, 2 Pm - Pm-1), and the curve ends on the last point.
    """
    pad = np.eye(m)[np.r_[-1, 0:m, 0, 1]] if closed else np.concatenate([2 * np.eye(m)[:1] - np.eye(m)[1:2], np.eye(m),
                                                                         2 * np.eye(m)[-1:] - np.eye(m)[-2:-1]])
    n_seg = len(pad) - 3
    weights = np.stack([_BASIS @ pad[i : i + 4] for i in range(n_seg)]).reshape(-1, m)
    return weights if closed else np.concatenate([weights, np.eye(m)[-1:]])


def arc(a: np.ndarray, mid: np.ndarray, b: np.ndarray, samples: int = ARC_SAMPLES) -> np.ndarray:
    """A smooth quadratic curve from `a` to `b` passing through `mid` halfway."""
    start, middle, end = _arc_weights(samples)
    control = 2 * np.asarray(mid, float) - (np.asarray(a, float) + b) / 2
    return start * a + middle * control + end * b


@functools.cache
def _arc_weights(samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(1 - t)^2, 2 t (1 - t), t^2 as columns, for `samples` values of t from 0 to 1."""
    t = np.linspace(0.0, 1.0, samples)[:, None]
    return (1 - t) ** 2, 2 * t * (1 - t), t**2


def ellipse(center: np.ndarray, rx: float, ry: float) -> np.ndarray:
    """Outline points of an axis-aligned ellipse."""
    return np.asarray(center, float) + UNIT_CIRCLE * (rx, ry)


def _normals(pts: np.ndarray, closed: bool) -> np.ndarray:
    if closed:
        tangent = np.concatenate([pts[1:], pts[:1]]) - np.concatenate([pts[-1:], pts[:-1]])
    else:
        tangent = np.empty_like(pts)
        tangent[1:-1] = pts[2:] - pts[:-2]
        tangent[0], tangent[-1] = pts[1] - pts[0], pts[-1] - pts[-2]
    length = np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
    return tangent[:, ::-1] * _TURN_RIGHT / length


def offset_closed(pts: np.ndarray, distance: float) -> np.ndarray:
    """A closed outline moved `distance` outwards (negative: inwards) along its normals."""
    x, y = pts[:, 0], pts[:, 1]
    area2 = float(np.dot(x[:-1], y[1:]) - np.dot(y[:-1], x[1:]) + x[-1] * y[0] - y[-1] * x[0])
    sign = -1.0 if area2 < 0 else 1.0
    return pts + sign * distance * _normals(pts, closed=True)


def fill(surface: pygame.Surface, color, pts: np.ndarray) -> pygame.Rect:
    """A filled polygon with an anti-aliased edge (pixel coordinates); the rectangle of the pixels it drew."""
    if len(pts) < 3:
        return pygame.Rect(0, 0, 0, 0)
    outline = pts.tolist()
    return pygame.draw.polygon(surface, color, outline).union(pygame.draw.aalines(surface, color, True, outline))


def outlined(surface: pygame.Surface, color, line_color, pts: np.ndarray, width_px: float) -> None:
    """A filled closed shape with an anti-aliased outline `width_px` wide, centred on `pts`."""
    for fill_color, shape in outline_fills(color, line_color, pts, width_px):
        fill(surface, fill_color, shape)


def outline_fills(color, line_color, pts: np.ndarray, width_px: float) -> list[tuple[object, np.ndarray]]:
    """(colour, polygon) of each fill that `outlined` draws, in order."""
    if width_px >= 0.5:
        return [(line_color, offset_closed(pts, width_px / 2)), (color, offset_closed(pts, -width_px / 2))]
    return [(color, pts)]


def fill_below(surface: pygame.Surface, color, pts: np.ndarray, top_px: int) -> None:
    """`fill` of closed polygon `pts` that is right in rows from top_px + EDGE_REACH_PX down (clip it to them).

    pygame fills a row from the edges that cross it (and the lowest vertex, kept here) and draws each
    anti-aliased edge on its own, in order, so only the edges that reach those rows are drawn: the fill
    loops over every row and edge of a polygon, clipped or not. Runs of kept edges are joined by chords
    between vertices above top_px - EDGE_REACH_PX, which the clip cuts away. (pygame changes a clipped
    anti-aliased line along the clip's edge, hence the rows of margin.)
    """
    inside = pts[:, 1] >= top_px - EDGE_REACH_PX
    fill(surface, color, pts[inside | _shifted(inside, 1) | _shifted(inside, -1)])


def _shifted(flags: np.ndarray, by: int) -> np.ndarray:
    """np.roll along the first axis, without its general-purpose overhead."""
    return np.concatenate([flags[-by:], flags[:-by]])


def bounds(rects: list[pygame.Rect]) -> pygame.Rect:
    """The rectangle round the non-empty ones of `rects` (what the draw calls here return); empty if none."""
    drawn = [r for r in rects if r]
    return drawn[0].unionall(drawn[1:]) if drawn else pygame.Rect(0, 0, 0, 0)


def moved_edges(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """(k, 4) boxes x0, y0, x1, y1 round every edge of closed polygon `new` that moved from `old` (same vertex
    count), in both places, widened by EDGE_REACH_PX: outside them `new` comes out as `old` did."""
    moved = np.any(new != old, axis=1)
    edges = moved | _shifted(moved, -1)  # edge i runs from vertex i to vertex i + 1
    ends = [pts[edges] for pts in (new, old)] + [_shifted(pts, -1)[edges] for pts in (new, old)]
    return np.hstack([np.minimum.reduce(ends) - EDGE_REACH_PX, np.maximum.reduce(ends) + EDGE_REACH_PX])


def reaches(boxes: np.ndarray, rect: pygame.Rect) -> bool:
    """Whether any of the boxes (`moved_edges`) reaches a pixel of `rect`."""
    x0, y0, x1, y1 = boxes.T
    return bool(np.any((x0 < rect.right) & (x1 >= rect.left) & (y0 < rect.bottom) & (y1 >= rect.top)))


@functools.cache
def _ends(n: int) -> np.ndarray:
    """0 in the middle of an n-point stroke rising to 1 at its ends."""
    return (2 * np.linspace(0.0, 1.0, n) - 1) ** 4


def stroke(surface: pygame.Surface, color, pts: np.ndarray, width_px: float, taper: float = 0.7) -> pygame.Rect:
    """A brush stroke along the open curve `pts`, `width_px` wide in the middle, thinner at the ends (`fill`).

    `taper` 0 keeps the width to the ends; 1 brings the ends to a point.
    """
    return fill(surface, color, stroke_outline(pts, width_px, taper))


def stroke_outline(pts: np.ndarray, width_px: float, taper: float = 0.7) -> np.ndarray:
    """The polygon `stroke` fills (no points when too thin to see)."""
    if width_px <= 0.05 or len(pts) < 2:
        return pts[:0]
    half = 0.5 * width_px * (1 - taper * _ends(len(pts)))[:, None]
    side = _normals(pts, closed=False) * half
    return np.concatenate([pts + side, (pts - side)[::-1]])
