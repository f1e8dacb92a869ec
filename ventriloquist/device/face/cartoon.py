"""The 2D cartoon face: MPEG-4 feature points moved by FAPs, drawn with smooth anti-aliased pygame shapes.

`CartoonFace(style, size).draw(surface, faps)` draws one frame; FAP values are in FAPU and
missing FAPs are neutral. Geometry lives in face units (see geometry.py) and is mapped to
pixels by one affine transform per frame (scale, head roll, head yaw/pitch parallax).
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face.draw import (
    ARC_SAMPLES,
    CIRCLE_SAMPLES,
    EDGE_REACH_PX,
    arc,
    bounds,
    ellipse,
    fill,
    fill_below,
    moved_edges,
    outline_fills,
    outlined,
    reaches,
    spline,
    stroke,
    stroke_outline,
)
from ventriloquist.device.face.geometry import FaceGeometry, Pose, neutral_points
from ventriloquist.device.face.still import Still
from ventriloquist.device.face.style import DEFAULT_STYLE, FaceStyle, load_style

FACE_EXTENT = (2.1, 2.36)
"""Face units (width, height) that must fit on the screen: ears, hair top, an open jaw."""
FACE_CENTRE_Y = 0.07
"""Face-unit height drawn at the middle of the screen."""
MIN_SIZE_PX = 64
OUTLINE_PARALLAX = 0.3
"""The head outline moves this share of the features' yaw / pitch shift."""
LOWER_TEETH_HEIGHT_MNS0 = 0.25
TONGUE_ABOVE_TEETH_MNS0 = 0.06
CUT_MARGIN_ROWS = 3
"""Rows outside the mouth's scratch surface where its cut polygons' far edges are put (`_cut_to_rows`)."""
STILL_PARTS = {
    "eyes": ("3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.11", "3.12"),
    "brows": ("4.1", "4.2", "4.3", "4.4", "4.5", "4.6"),
    "nose": ("9.1", "9.2", "9.3", "9.15"),
}
"""The parts kept as pictures while they stay still (`Still`), with the feature points each is drawn from."""


def _mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


class CartoonFace:
    """A cartoon face of one style, drawn at `size` pixels (width, height); `exaggeration` overrides the style's."""

    def __init__(self, style: FaceStyle | str = DEFAULT_STYLE, size: tuple[int, int] = (480, 320),
                 exaggeration: float | None = None):
        self.style = load_style(style)
        gain = self.style.exaggeration if exaggeration is None else exaggeration
        self.geometry = FaceGeometry(neutral_points(self.style), gain)
        self.size = (0, 0)
        self._lip_line = _mix(self.style.lip, self.style.outline, 0.45)
        self._layout(size)

    def _layout(self, size: tuple[int, int]) -> None:
        w, h = int(size[0]), int(size[1])
        if w < MIN_SIZE_PX or h < MIN_SIZE_PX:
            raise VentriloquistError(f"face size {w}x{h} is too small (at least {MIN_SIZE_PX}x{MIN_SIZE_PX} pixels)")
        self.size = (w, h)
        self._back_key: bytes | None = None
        """What the cached back (`_draw_back`) was drawn for; None: nothing cached at this size."""
        self.scale = min(w / FACE_EXTENT[0], h / FACE_EXTENT[1])
        self.centre = (w / 2, h / 2 + FACE_CENTRE_Y * self.scale)
        self.line_px = max(1.0, self.style.line_width * self.scale)
        rx, ry = 0.11 * self.scale, 0.06 * self.scale
        self._blush = pygame.Surface((int(2 * rx) + 2, int(2 * ry) + 2), pygame.SRCALPHA)
        for k in range(8):  # soft edge: stacked ellipses of rising alpha
            t = k / 8
            rect = pygame.Rect(0, 0, 2 * rx * (1 - 0.5 * t), 2 * ry * (1 - 0.5 * t))
            rect.center = self._blush.get_rect().center
            pygame.draw.ellipse(self._blush, (*self.style.blush, self.style.blush_alpha // 8), rect)

    def render_frame(self, faps: dict[int, float]) -> pygame.Surface:
        """A new surface of `size` with one frame drawn on it."""
        surface = pygame.Surface(self.size)
        self.draw(surface, faps)
        return surface

    def feature_points_px(self) -> dict[str, tuple[float, float]]:
        """The neutral feature points in pixels of a `size` frame (x right, y down)."""
        self._set_transform(self.geometry.pose({}))
        return {k: tuple(self._px(p[None])[0]) for k, p in self.geometry.neutral.items()}

    def draw(self, surface: pygame.Surface, faps: dict[int, float]) -> None:
        """Draw one frame from FAP values (FAP number -> value in FAPU) onto `surface`."""
        if surface.get_size() != self.size:
            self._layout(surface.get_size())
        pose = self.geometry.pose(faps)
        self._set_transform(pose)
        moved = self._draw_back(surface, pose)
        drawn: list[pygame.Rect] = []

        def under(rect: pygame.Rect) -> bool:
            """Whether more than the head at rest lies under `rect`: an edge of the head that moved, a part drawn."""
            return reaches(moved, rect) or rect.collidelist(drawn) >= 0

        still, p = self._still, pose.points
        drawn.append(still["eyes"].draw(surface, self._still_key(pose, "eyes", *pose.gaze, pose.pupil_scale), under,
                                        lambda: bounds([self._draw_eye(surface, pose, side) for side in (0, 1)])))
        if self.style.blush_alpha:
            drawn += [self._blit_centred(surface, self._blush, self._px(p[cheek][None])[0]) for cheek in ("5.3", "5.4")]
        drawn.append(still["brows"].draw(surface, self._still_key(pose, "brows"), under,
                                         lambda: self._draw_brows(surface, p)))
        still["nose"].draw(surface, self._still_key(pose, "nose"), under, lambda: self._draw_nose(surface, p))
        self._draw_mouth(surface, pose)

    # -- transform ---------------------------------------------------------------------------
    def _set_transform(self, pose: Pose) -> None:
        c, sn = math.cos(pose.roll_rad), math.sin(pose.roll_rad)
        pivot = self.geometry.neutral["7.1"]
        rot = np.array([[c, -sn], [sn, c]])
        k, (cx, cy) = self.scale, self.centre
        self._matrices = []
        for share in (1.0, OUTLINE_PARALLAX):
            t = pivot - rot @ pivot + share * pose.shift
            m = np.array([[k * c, -k * sn, cx + k * t[0]], [-k * sn, -k * c, cy - k * t[1]]])
            self._matrices.append((m, m[:, :2].T, m[:, 2]))  # with its parts, sliced once per frame, not per shape

    def _px(self, pts: np.ndarray, outline: bool = False) -> np.ndarray:
        _, linear, offset = self._matrices[1 if outline else 0]
        return pts @ linear + offset

    @staticmethod
    def _blit_centred(surface: pygame.Surface, sprite: pygame.Surface, at: np.ndarray) -> pygame.Rect:
        return surface.blit(sprite, sprite.get_rect(center=(int(at[0]), int(at[1]))))

    # -- parts ---------------------------------------------------------------------------------
    def _draw_back(self, surface: pygame.Surface, pose: Pose) -> np.ndarray:
        """Background, ears, head and hair: a cached picture, drawn again only from the first row the head changed.

        They change only when the head turns (the cache is rebuilt then) and where the jaw or the cheeks
        move the head outline. Rows above the first edge that moved are copied from the picture; rows below
        get background and ears from a second picture, then the parts of the head and hair outlines that
        reach them (`fill_below`), so every pixel comes out as if the whole face were drawn. Returns the boxes
        round the head's edges that moved (`moved_edges`): elsewhere the head is as at rest.
        """
        p = pose.points
        key = b"".join(a.tobytes() for a in (self._matrices[1][0], p["10.1"], p["10.2"]))
        if key != self._back_key:
            self._build_back(pose)
            self._back_key = key
        head = self._head_fills(p)
        moved = np.concatenate([moved_edges(new, old) for (_, new), (_, old) in zip(head, self._rest_head,
                                                                                     strict=True)])
        width, height = self.size
        top = min(max(math.floor(moved[:, 1].min()), 0), height) if len(moved) else height
        if top < height:  # from a few rows higher: a line clipped by pygame comes out changed along the clip's edge
            start = max(top - int(EDGE_REACH_PX), 0)
            rows = pygame.Rect(0, start, width, height - start)
            surface.blit(self._under, rows, rows)
            clip = surface.get_clip()
            surface.set_clip(rows.clip(clip))
            for color, shape in head + self._hair_fills:
                fill_below(surface, color, shape, start)
            surface.set_clip(clip)
        surface.blit(self._back, (0, 0), (0, 0, width, top))
        return moved

    def _build_back(self, pose: Pose) -> None:
        """The cached pictures: background and ears (`_under`), then with the head at rest and the hair (`_back`)."""
        self._under = pygame.Surface(self.size)
        self._under.fill(self.style.background)
        s, p = self.style, pose.points
        if s.ears:
            for ear in ("10.1", "10.2"):
                shape = self._px(ellipse(p[ear], 0.11, 0.17), outline=True)
                outlined(self._under, s.skin, s.outline, shape, self.line_px)
                inner = self._px(ellipse(p[ear] - (0.015 * np.sign(p[ear][0]), 0), 0.045, 0.09)[4:12], outline=True)
                stroke(self._under, _mix(s.skin, s.outline, 0.4), inner, self.line_px * 0.8)
        self._rest_head = self._head_fills(self.geometry.neutral)
        self._hair_fills = self._hair()
        self._back = self._under.copy()
        self._still = {name: Still() for name in STILL_PARTS}
        """Pictures of the parts over the head (made again with the head, which lies under them)."""
        for color, shape in self._rest_head + self._hair_fills:
            fill(self._back, color, shape)

    def _head_fills(self, p: dict[str, np.ndarray]) -> list[tuple[object, np.ndarray]]:
        """(colour, polygon in pixels) of the head outline's fills for feature points `p`."""
        s, n = self.style, self.geometry.neutral
        hw = s.head_width
        chin_move = p["2.1"] - n["2.1"]
        right, left = p["2.14"], p["2.13"]
        head = np.array([
            (0.0, 1.0), (0.56 * hw, 0.9), (0.96 * hw, 0.5), tuple(p["5.1"]), tuple(left),
            tuple(np.array((0.42 * hw, s.chin_y + 0.09)) + 0.8 * chin_move), tuple(p["2.1"]),
            tuple(np.array((-0.42 * hw, s.chin_y + 0.09)) + 0.8 * chin_move), tuple(right), tuple(p["5.2"]),
            (-0.96 * hw, 0.5), (-0.56 * hw, 0.9),
        ])
        return outline_fills(s.skin, s.outline, self._px(spline(head, closed=True), outline=True), self.line_px)

    def _hair(self) -> list[tuple[object, np.ndarray]]:
        """(colour, polygon in pixels) of the hair's fills."""
        s, hw = self.style, self.style.head_width
        if s.hair_style == "cap":
            hair = np.array([(-1.01 * hw, 0.2), (-1.0 * hw, 0.6), (-0.62 * hw, 0.98), (0.0, 1.08),
                             (0.62 * hw, 0.98), (1.0 * hw, 0.6), (1.01 * hw, 0.2), (0.92 * hw, 0.22),
                             (0.88 * hw, 0.5), (0.6 * hw, 0.66), (0.1, 0.7), (-0.35 * hw, 0.6),
                             (-0.7 * hw, 0.48), (-0.92 * hw, 0.22)])
            return outline_fills(s.hair, s.outline, self._px(spline(hair, closed=True), outline=True), self.line_px)
        if s.hair_style == "tuft":
            tufts = [spline(np.array([(dx, 0.96), (dx * 1.5 + tip[0] * 0.3, 1.1), tip]))
                     for dx, tip in ((-0.1, (-0.24, 1.12)), (0.0, (0.02, 1.17)), (0.1, (0.24, 1.11)))]
            return [(s.hair, stroke_outline(self._px(t, outline=True), self.line_px * 2.2, taper=0.8)) for t in tufts]
        return []

    def _still_key(self, pose: Pose, part: str, *more: object) -> bytes:
        """What a part of STILL_PARTS is drawn from: the features' transform, its points, and `more`."""
        p = pose.points
        return np.concatenate([self._matrices[0][0].ravel(), *(p[k] for k in STILL_PARTS[part]), *more]).tobytes()

    def _draw_eye(self, surface: pygame.Surface, pose: Pose, side: int) -> pygame.Rect:
        """One eye (every shape's points mapped to pixels by one transform); the rectangle of the pixels it drew."""
        s, p = self.style, pose.points
        top, bottom, centre = p[f"3.{1 + side}"], p[f"3.{3 + side}"], p[f"3.{5 + side}"]
        outer, inner = p[f"3.{7 + side}"], p[f"3.{11 + side}"]
        gap_px = (top[1] - bottom[1]) * self.scale
        if gap_px < 1.0:
            return stroke(surface, s.outline, self._px(arc(inner, top, outer)), self.line_px * 1.5, taper=0.6)
        iris_r = s.iris_ratio * s.eye_opening / 2
        iris_c = centre + pose.gaze[side]
        pupil_r = iris_r * 0.45 * max(0.2, pose.pupil_scale[side])
        glint = iris_c + (-0.3 * iris_r, 0.35 * iris_r)
        reach = np.array([0.0, 1.6 * iris_r])
        n = CIRCLE_SAMPLES
        q = self._px(np.concatenate([
            arc(inner, top, outer), arc(outer, bottom, inner),
            [outer + reach, inner + reach, inner - reach, outer - reach],
            ellipse(iris_c, iris_r, iris_r), ellipse(iris_c, pupil_r, pupil_r),
            ellipse(glint, 0.22 * iris_r, 0.22 * iris_r),
        ]))
        a = ARC_SAMPLES
        upper, lower, e = q[:a], q[a : 2 * a], 2 * a + 4
        drawn = [fill(surface, s.eye_white, q[: 2 * a]), fill(surface, s.iris, q[e : e + n]),
                 fill(surface, s.pupil, q[e + n : e + 2 * n]), fill(surface, s.eye_white, q[e + 2 * n : e + 3 * n]),
                 fill(surface, s.skin, np.concatenate([upper, q[e - 4 : e - 2]])),
                 fill(surface, s.skin, np.concatenate([lower, q[e - 2 : e]])),
                 stroke(surface, s.outline, lower, self.line_px * 0.6, taper=0.9),
                 stroke(surface, s.outline, upper, self.line_px * 1.5, taper=0.6)]
        return bounds(drawn)

    def _draw_brows(self, surface: pygame.Surface, p: dict[str, np.ndarray]) -> pygame.Rect:
        s = self.style
        return bounds([stroke(surface, s.brow, self._px(spline(np.stack([p[inner], p[mid], p[outer]]))),
                              s.brow_thickness * self.scale, taper=0.75)
                       for inner, mid, outer in (("4.1", "4.3", "4.5"), ("4.2", "4.4", "4.6"))])

    def _draw_nose(self, surface: pygame.Surface, p: dict[str, np.ndarray]) -> pygame.Rect:
        up = np.array([0.0, 0.05])
        nose = spline(np.stack([p["9.2"] + up, p["9.2"], p["9.15"] + p["9.3"] - self.geometry.neutral["9.3"],
                                p["9.1"], p["9.1"] + up]))
        return stroke(surface, self.style.outline, self._px(nose), self.line_px * 0.9, taper=0.9)

    def _draw_mouth(self, surface: pygame.Surface, pose: Pose) -> None:
        s, p = self.style, pose.points
        in_up = spline(np.stack([p["2.5"], p["2.7"], p["2.2"], p["2.6"], p["2.4"]]))
        in_low = spline(np.stack([p["2.5"], p["2.9"], p["2.3"], p["2.8"], p["2.4"]]))
        out_up = spline(np.stack([p["8.4"], p["8.6"], p["8.1"], p["8.5"], p["8.3"]]))
        out_low = spline(np.stack([p["8.4"], p["8.8"], p["8.2"], p["8.7"], p["8.3"]]))
        gap_px = (p["2.2"][1] - p["2.3"][1]) * self.scale
        if gap_px > 0.3:
            draw_mouth_inside(surface, s, pose, in_up, in_low, self.geometry.mns0, self._px)
        fill(surface, s.lip, self._px(np.concatenate([out_up, in_up[::-1]])))
        fill(surface, s.lip, self._px(np.concatenate([out_low, in_low[::-1]])))
        for contour in (out_up, out_low):
            stroke(surface, self._lip_line, self._px(contour), self.line_px * 0.7, taper=0.9)
        seam = max(0.0, 1.0 - gap_px / self.line_px)
        if seam > 0:
            stroke(surface, s.mouth, self._px((in_up + in_low) / 2), self.line_px * 0.9 * seam, taper=0.8)


def draw_mouth_inside(surface: pygame.Surface, s: FaceStyle, pose: Pose, inner_upper: np.ndarray,
                      inner_lower: np.ndarray, mns0: float, to_px) -> None:
    """The open mouth between the inner lip contours: dark cavity, tongue, lower and upper teeth.

    Shared by the cartoon and the photo warp. Contours run from the face's right corner to its
    left one, in face units; `to_px` maps face units to pixels. The parts are drawn freely on a
    small scratch surface and cut to the lip opening with a colour key.
    """
    inside = to_px(np.concatenate([inner_upper, inner_lower[::-1]]))
    origin = np.floor(inside.min(axis=0)) - 2
    w, h = (np.ceil(inside.max(axis=0)) + 2 - origin).astype(int)
    scratch = pygame.Surface((w, h))
    scratch.fill(s.mouth)

    def local(pts: np.ndarray) -> np.ndarray:
        return to_px(pts) - origin

    p = pose.points
    half_w = abs(p["2.4"][0] - p["2.5"][0]) / 2
    mid_x = (p["2.4"][0] + p["2.5"][0]) / 2
    tongue_top = pose.lower_teeth_y + TONGUE_ABOVE_TEETH_MNS0 * mns0 + pose.tongue_dy
    tongue_ry = tongue_top - p["2.3"][1] + LOWER_TEETH_HEIGHT_MNS0 * mns0
    if tongue_ry > 0:
        fill(scratch, s.tongue, local(ellipse(np.array((mid_x, tongue_top - tongue_ry)), 0.7 * half_w, tongue_ry)))
    teeth_w = 0.8 * half_w
    for edge, height in ((pose.lower_teeth_y, -LOWER_TEETH_HEIGHT_MNS0 * mns0), (pose.upper_teeth_y, mns0)):
        box = np.array([(mid_x - teeth_w, edge), (mid_x + teeth_w, edge), (mid_x + teeth_w, edge + height),
                        (mid_x - teeth_w, edge + height)])
        fill(scratch, s.teeth, local(box))
    key = (255, 0, 255) if s.mouth != (255, 0, 255) else (0, 255, 0)
    far = 4.0 * mns0
    for contour, dy in ((inner_upper, far), (inner_lower, -far)):
        left, right = contour[-1], contour[0]
        cut = local(np.concatenate([[right - (far, 0)], contour,
                                    [left + (far, 0), left + (far, dy), right + (-far, dy)]]))
        pygame.draw.polygon(scratch, key, _cut_to_rows(cut, h).tolist())
    scratch.set_colorkey(key)
    surface.blit(scratch, origin.tolist())


def _cut_to_rows(cut: np.ndarray, rows: int) -> np.ndarray:
    """Mouth cut polygon `cut` (pixels; its last two points are the far ones) with its far edge moved to just
    outside a surface `rows` high, where that leaves every row of the surface filled as before.

    pygame fills a polygon row by row from its top vertex to its bottom one, on the surface or not, and the
    far edge lies some 4 MNS0 away. When the sides up to it are upright (no head roll: the same x at both
    ends) and it lies wholly above or below the surface, the sides cross the surface's rows at the same x,
    in the same order, either way.
    """
    if cut[-3, 0] != cut[-2, 0] or cut[-1, 0] != cut[0, 0]:
        return cut
    far_y = cut[-2:, 1]
    edge = -CUT_MARGIN_ROWS if far_y.max() < -CUT_MARGIN_ROWS else (
        rows + CUT_MARGIN_ROWS if far_y.min() > rows + CUT_MARGIN_ROWS else None)
    if edge is None:
        return cut
    cut = cut.copy()
    cut[-2:, 1] = edge
    return cut
