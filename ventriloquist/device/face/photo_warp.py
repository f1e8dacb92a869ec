"""The paper's "video-realistic" face: a frontal photo warped per frame by the FAPs (piecewise-affine mesh).

The photo comes with its neutral MPEG-4 feature points as JSON (`ventriloquist photo-points` finds
them with the face tracker on a workstation), in image pixels (x right, y down): either
`{"points": {"2.2": [x, y], ...}}` or the bare mapping. It must hold the FAPU points (3.1-3.6,
9.15, 2.2, 8.3, 8.4), the lip points 2.2-2.5 and 8.1-8.4 and the chin 2.1; mid-lip points left
out are put halfway. The points plus a fixed ring and the frame border are triangulated once
(Delaunay); each frame moves the points as the cartoon's geometry does, maps every moved
triangle back to the photo by its affine transform (bilinear sampling), and fills the open
mouth with the cartoon's mouth inside. Head rotation FAPs are not drawn.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pygame
from scipy.spatial import Delaunay

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face.cartoon import draw_mouth_inside
from ventriloquist.device.face.draw import spline
from ventriloquist.device.face.geometry import FaceGeometry
from ventriloquist.device.face.style import DEFAULT_STYLE, FaceStyle, load_style

REQUIRED = ("3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "9.15", "2.1", "2.2", "2.4", "2.5",
            "8.1", "8.2", "8.3", "8.4")
HALFWAY = {"2.3": ("2.2", "2.2"), "2.6": ("2.2", "2.4"), "2.7": ("2.2", "2.5"), "2.8": ("2.3", "2.4"),
           "2.9": ("2.3", "2.5"), "8.5": ("8.1", "8.3"), "8.6": ("8.1", "8.4"), "8.7": ("8.2", "8.3"),
           "8.8": ("8.2", "8.4")}
"""Mid-lip points put halfway between two others when the JSON leaves them out (in this order)."""
LIP_SPLIT_PX = 0.5
"""Closed inner lips are split by this much up / down so the mesh has a (thin) mouth to open."""
UPPER_INNER = ("2.2", "2.6", "2.7")
LOWER_INNER = ("2.3", "2.8", "2.9")
RING_SCALE = 1.5
"""A fixed ring of anchor points this many times the feature points' half extent keeps the warp local."""
RING_POINTS = 20
LIP_SAMPLES = (("8.1", "2.2"), ("8.2", "2.3"), ("8.5", "2.6"), ("8.6", "2.7"), ("8.7", "2.8"), ("8.8", "2.9"))
"""Mid-lip pixels (halfway between outer and inner contour) whose median colour is the photo's lip colour."""
CAVITY_OF_LIP = 0.3
"""The open mouth's cavity is the photo's lip colour this dark."""
SUBPIXEL_BITS = 4
"""Bilinear weights in 1/16 pixel: four weights summing to 16 x 16 keep each channel's sum within 16 bits."""
SUBPIXEL = 1 << SUBPIXEL_BITS
CHANNEL_SHIFTS = np.array([0, 16, 32], np.int64)
HALF_OF_EACH_CHANNEL = int((1 << (2 * SUBPIXEL_BITS - 1) << CHANNEL_SHIFTS).sum())
"""Added before the shift down, so each channel's blend is rounded, not truncated."""
MOVED_PX = 0.25
"""A triangle whose corners all moved less than this is left as the photo is: the error is under a quarter pixel."""


def _saturation(rgb) -> float:
    """HSV saturation of a colour, 0 (grey) to 1."""
    top = max(rgb)
    return float((top - min(rgb)) / top) if top else 0.0


def load_points(path: str | Path) -> dict[str, tuple[float, float]]:
    """Neutral feature points of a photo (image pixels, y down) from JSON; missing mid-lip points filled."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:  # Recursion: nested too deeply
        raise VentriloquistError(f"cannot read feature points {path}: {e}") from None
    raw = data.get("points", data) if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        raise VentriloquistError(f"feature points {path}: expected {{\"points\": {{\"2.2\": [x, y], ...}}}}")
    return complete_points(raw, f"feature points {path}")


def complete_points(raw: dict, where: str) -> dict[str, tuple[float, float]]:
    """`raw` (name -> [x, y] pixels) checked, with the missing mid-lip points filled in."""
    points: dict[str, tuple[float, float]] = {}
    for name, xy in raw.items():
        if not (isinstance(xy, list | tuple) and len(xy) >= 2 and all(isinstance(v, int | float) for v in xy[:2])):
            raise VentriloquistError(f"{where}: point {name!r} must be [x, y] in pixels, got {xy!r}")
        points[str(name)] = (float(xy[0]), float(xy[1]))
    missing = [p for p in REQUIRED if p not in points]
    if missing:
        raise VentriloquistError(f"{where}: missing point(s) {', '.join(missing)}")
    for name, (a, b) in HALFWAY.items():
        points.setdefault(name, tuple((np.add(points[a], points[b]) / 2).tolist()))
    return points


class PhotoFace:
    """A photo face with the CartoonFace drawing API; `style` gives the mouth-inside colours."""

    def __init__(self, image_path: str | Path, points: str | Path | dict, style: FaceStyle | str = DEFAULT_STYLE,
                 size: tuple[int, int] | None = None):
        """`points`: the neutral points JSON's path, or the mapping itself (name -> (x, y) image pixels)."""
        self.style = load_style(style)
        try:
            photo = pygame.image.load(str(image_path))
        except (pygame.error, FileNotFoundError) as e:
            raise VentriloquistError(f"cannot read photo {image_path}: {e}") from None
        points = complete_points(points, "feature points") if isinstance(points, dict) else load_points(points)
        self.size = tuple(size) if size else photo.get_size()
        k = min(self.size[0] / photo.get_width(), self.size[1] / photo.get_height())
        offset = (np.array(self.size) - k * np.array(photo.get_size())) / 2
        self._base = pygame.Surface(self.size)
        self._base.fill(self.style.background)
        full = pygame.Surface(photo.get_size())  # 32-bit, whatever the file's format
        full.blit(photo, (0, 0))
        scaled = pygame.transform.smoothscale(full, (round(k * photo.get_width()), round(k * photo.get_height())))
        self._base.blit(scaled, offset.tolist())
        self._rgb = pygame.surfarray.array3d(self._base)
        """The photo at the display size, (width, height, 3) uint8, C order."""
        self._packed = (self._rgb.astype("<i8") << CHANNEL_SHIFTS).sum(axis=2).ravel()
        """The same, one int64 per pixel (index x * height + y) with r, g, b 16 bits apart: a bilinear blend
        of four pixels is then four integer multiply-adds for all three channels at once."""
        px = {n: np.array(p) * k + offset for n, p in points.items()}
        self.geometry = FaceGeometry({n: (p[0], -p[1]) for n, p in px.items()})
        self._names = list(px)
        split = {n: -LIP_SPLIT_PX for n in UPPER_INNER} | {n: LIP_SPLIT_PX for n in LOWER_INNER}
        self._split = np.array([(0.0, split.get(n, 0.0)) for n in self._names])
        feature = np.array([px[n] for n in self._names]) + self._split
        centre, half = (feature.max(0) + feature.min(0)) / 2, (feature.max(0) - feature.min(0)) / 2
        angles = np.linspace(0, 2 * np.pi, RING_POINTS, endpoint=False)
        ring = centre + RING_SCALE * half * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        w, h = self.size
        frame = np.array([(0, 0), (w / 2, 0), (w, 0), (w, h / 2), (w, h), (w / 2, h), (0, h), (0, h / 2)], float)
        self._src_pts = np.concatenate([feature, ring, frame])
        self.style = self._lit_like_the_photo(self.style, px)
        self._triangles = Delaunay(self._src_pts).simplices
        self._index = pygame.Surface(self.size, depth=8)
        self._index.set_palette([(i, i, i) for i in range(256)])

    def _lit_like_the_photo(self, style: FaceStyle, px: dict[str, np.ndarray]) -> FaceStyle:
        """The style's teeth and tongue shaded as the photo's lips are lit and as colourful as they are, and a
        cavity of the lips' colour: the cartoon's pure white teeth glow on a photo like a sticker, and its pink
        tongue in a black-and-white photo."""
        w, h = self.size
        xy = np.array([(px[a] + px[b]) / 2 for a, b in LIP_SAMPLES]).round().astype(int)
        lip = np.median(self._rgb[np.clip(xy[:, 0], 0, w - 1), np.clip(xy[:, 1], 0, h - 1)], axis=0)
        shade = min(1.0, (max(lip) / max(style.lip)) ** 0.5)  # half-way to the lips: teeth stay the brightest
        colour = min(1.0, _saturation(lip) / max(_saturation(style.lip), 1e-6))

        def scaled(rgb, gain: float, saturation: float = 1.0) -> tuple[int, int, int]:
            grey = float(np.mean(rgb))
            r, g, b = (int(round((grey + saturation * (c - grey)) * gain)) for c in rgb)
            return r, g, b

        return replace(style, teeth=scaled(style.teeth, shade, colour), tongue=scaled(style.tongue, shade, colour),
                       mouth=scaled(lip, CAVITY_OF_LIP))

    def render_frame(self, faps: dict[int, float]) -> pygame.Surface:
        """A new surface of `size` with one frame drawn on it."""
        surface = pygame.Surface(self.size)
        self.draw(surface, faps)
        return surface

    def draw(self, surface: pygame.Surface, faps: dict[int, float]) -> None:
        """Draw the photo warped by one FAP vector (FAP number -> value in FAPU) onto `surface`."""
        pose = self.geometry.pose(faps)
        moved = {n: (p[0], -p[1]) for n, p in pose.points.items()}
        n = self.geometry.neutral
        for eye, top, bottom, offset in (("3.5", "3.1", "3.3", pose.gaze[0]), ("3.6", "3.2", "3.4", pose.gaze[1])):
            share = (n[eye][1] - n[bottom][1]) / (n[top][1] - n[bottom][1])  # the pupil rides with the lids
            y = pose.points[bottom][1] + share * (pose.points[top][1] - pose.points[bottom][1])
            moved[eye] = (moved[eye][0] + offset[0], -(y + offset[1]))
        dst = self._src_pts.copy()
        dst[: len(self._names)] = np.array([moved[n] for n in self._names]) + self._split
        surface.blit(self._base, (0, 0))
        self._warp(surface, dst)
        p = pose.points
        gap = p["2.2"][1] - p["2.3"][1]
        if gap > 2 * LIP_SPLIT_PX:
            in_up = spline(np.stack([p["2.5"], p["2.7"], p["2.2"], p["2.6"], p["2.4"]]))
            in_low = spline(np.stack([p["2.5"], p["2.9"], p["2.3"], p["2.8"], p["2.4"]]))
            draw_mouth_inside(surface, self.style, pose, in_up, in_low, self.geometry.mns0,
                              lambda pts: pts * (1.0, -1.0))

    def _warp(self, surface: pygame.Surface, dst: np.ndarray) -> None:
        """Redraw every triangle with a moved corner: each output pixel samples the photo through its
        triangle's affine map (output -> photo). Vectorised over the pixels, with flat gathers and integer
        bilinear blends, so a 480x320 frame costs a few ms (`ventriloquist bench photo`)."""
        moving = np.any(np.abs(dst - self._src_pts) > MOVED_PX, axis=1)
        tris = self._triangles[np.any(moving[self._triangles], axis=1)]
        if len(tris) == 0:
            return
        corners = np.concatenate([dst[tris.ravel()], self._src_pts[tris.ravel()]])
        w, h = self.size
        x0, y0 = np.clip(np.floor(corners.min(0)).astype(int), 0, (w, h))
        x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + 1, 0, (w, h))
        if x1 <= x0 or y1 <= y0:
            return
        d, s = dst[tris], self._src_pts[tris]  # (t, 3, 2)
        x = np.concatenate([d - (x0, y0), np.ones((len(tris), 3, 1))], axis=2)  # rows (x, y, 1), region coords
        area = np.abs(np.linalg.det(x))
        ok = area > 1e-6
        maps = np.zeros((len(tris) + 1, 6), np.float32)  # row 0: no triangle
        maps[1:][ok] = SUBPIXEL * np.linalg.solve(x[ok], s[ok] - 0.5).reshape(-1, 6)  # [x y 1] @ map = source
        maps = np.ascontiguousarray(maps.T)  # (6, t + 1): each coefficient gathers into a contiguous row
        region = pygame.Rect(x0, y0, x1 - x0, y1 - y0)
        self._index.fill((0, 0, 0), region)
        for i in np.flatnonzero(ok)[np.argsort(area[ok], kind="stable")][-255:]:  # big last: a folded sliver
            # (a large jaw drop) is painted over by its neighbours instead of striping them
            pygame.draw.polygon(self._index, (i + 1, i + 1, i + 1), d[i].tolist())
        index = pygame.surfarray.array2d(self._index.subsurface(region)).ravel()  # (x - x0) * rh + (y - y0)
        inside = np.flatnonzero(index)
        if len(inside) == 0:
            return
        x_sx, x_sy, y_sx, y_sy, c_sx, c_sy = np.take(maps, np.take(index, inside), axis=1)  # (x, y, 1) -> sx, sy
        gx, gy = (v.astype(np.float32) + 0.5 for v in np.divmod(inside, y1 - y0))
        sx = np.clip(gx * x_sx + gy * y_sx + c_sx, 0, SUBPIXEL * (w - 1) - 1).astype(np.int64)
        sy = np.clip(gx * x_sy + gy * y_sy + c_sy, 0, SUBPIXEL * (h - 1) - 1).astype(np.int64)
        fx, fy = sx & (SUBPIXEL - 1), sy & (SUBPIXEL - 1)
        i = (sx >> SUBPIXEL_BITS) * h + (sy >> SUBPIXEL_BITS)
        p = self._packed
        top = np.take(p, i) * (SUBPIXEL - fx) + np.take(p, i + h) * fx
        bottom = np.take(p, i + 1) * (SUBPIXEL - fx) + np.take(p, i + h + 1) * fx
        blend = (top * (SUBPIXEL - fy) + bottom * fy + HALF_OF_EACH_CHANNEL).astype("<i8", copy=False)
        rgb = blend.view(np.uint8).reshape(-1, 8)[:, 1:6:2]  # each channel's high byte: its sum >> 8
        out = self._rgb[x0:x1, y0:y1].copy()
        out.reshape(-1, 3)[inside] = rgb
        pygame.surfarray.blit_array(surface.subsurface(region), out)
