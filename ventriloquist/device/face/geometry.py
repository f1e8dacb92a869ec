"""Where every feature point of the cartoon face is, for one FAP vector: neutral points + FAPs x FAPU.

Face units: the head is about 2 units tall, origin at its centre, +x = the face's own left
(the viewer's right), +y = up, as in MPEG-4. The neutral points come from the style's
proportions; the FAPU are measured on them with `ventriloquist.device.fap.fapu_from_feature_points`, and
each FAP moves its feature point by value x FAPU along its MPEG-4 direction. The jaw does not
carry the lips: the lip FAPs alone set the lip opening (the chin only moves out of their way).
A face may exaggerate the mouth (`exaggeration`), so speech reads at a glance on a small screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ventriloquist.device.face.style import FaceStyle
from ventriloquist.device.fap import ANGLE_UNIT_RAD, FAPS, FAPU_DIVISOR, Fapu, fapu_from_feature_points, fill_by_rule

DIRECTIONS: dict[str, tuple[float, float]] = {"up": (0, 1), "down": (0, -1), "left": (1, 0), "right": (-1, 0)}
"""Face-plane unit vectors of the MPEG-4 positive directions (depth ones are not drawn)."""
INNER_OUTER_PAIRS = ((4, 51), (5, 52), (6, 53), (7, 54), (8, 55), (9, 56), (10, 57), (11, 58))
"""Inner/outer lip FAPs that stand in for each other when one is missing (Xface convention)."""
CORNER_COPIES = ((12, 59), (13, 60))
"""Inner lip corner heights copied to the outer corners when those are missing."""
MIN_LIP_FRACTION = 0.35
"""A pressed lip keeps at least this share of its neutral thickness."""
MIN_CHIN_GAP_MNS0 = 0.8
"""The chin stays at least this many MNS0 below the outer lower lip."""
TEETH_HIDDEN_MNS0 = 0.1
"""How far (in MNS0) the teeth edges reach behind the lips at rest."""
EYEBALL_RADIUS_ES0 = 0.21
"""Eyeball radius in ES0: how far the iris travels for a gaze angle."""
HEAD_DEPTH_MNS0 = 1.25
"""MNS0 the features shift per radian of head yaw / pitch (a flat parallax)."""
PUPIL_RATIO = 0.45
"""Pupil diameter over iris diameter (= IRISD0) at rest."""
EXAGGERATED_FAPS = frozenset((3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 51, 52, 53, 54, 55, 56, 57, 58))
"""Jaw, lip opening, stretch and protrusion: what a viewer reads speech from. Lip-corner raising is left
as it is, so an exaggerated face does not turn into a grimace."""
EXAGGERATION_DEAD_ZONE_FAPU = 100.0
"""Motions up to this size are kept as they are, so lips that close (p, b, m) still close."""


def exaggerate(faps: dict[int, float], gain: float) -> dict[int, float]:
    """Mouth FAPs beyond the dead zone scaled by `gain` (1 = as measured); the rest untouched."""
    if gain == 1.0:
        return faps
    dead = EXAGGERATION_DEAD_ZONE_FAPU
    return {k: math.copysign(dead + gain * (abs(v) - dead), v) if k in EXAGGERATED_FAPS and abs(v) > dead else v
            for k, v in faps.items()}


@dataclass(frozen=True)
class Pose:
    """One frame of the face: every feature point (face units) plus the derived scalars."""

    points: dict[str, np.ndarray]
    """Feature point name ('2.2', ...) -> (x, y)."""
    gaze: tuple[np.ndarray, np.ndarray]
    """Iris centre offsets (left eye, right eye)."""
    pupil_scale: tuple[float, float]
    upper_teeth_y: float
    """Lower edge of the upper teeth."""
    lower_teeth_y: float
    """Upper edge of the lower teeth (moves with the jaw)."""
    tongue_dy: float
    roll_rad: float
    shift: np.ndarray
    """Whole-face shift from head yaw / pitch."""


def neutral_points(s: FaceStyle) -> dict[str, tuple[float, float]]:
    """The neutral MPEG-4 feature points of a cartoon face with style `s` (face units)."""
    ex, ey, h = s.eye_spacing, s.eye_y, s.eye_opening / 2
    my, mw, inner_w = s.mouth_y, s.mouth_half_width, s.mouth_half_width * 0.94
    p: dict[str, tuple[float, float]] = {}
    for side, n in ((1, 0), (-1, 1)):  # face's left (+x) has the odd-numbered points
        p[f"3.{1 + n}"] = (side * ex, ey + h)  # upper / lower eyelid
        p[f"3.{3 + n}"] = (side * ex, ey - h)
        p[f"3.{5 + n}"] = (side * ex, ey)  # pupil
        p[f"3.{7 + n}"] = (side * (ex + s.eye_half_width), ey + 0.01)  # outer corner
        p[f"3.{11 + n}"] = (side * (ex - s.eye_half_width), ey - 0.005)  # inner corner
        p[f"4.{1 + n}"] = (side * (ex - s.brow_half_length), s.brow_y - 0.02)  # brow inner / mid / outer
        p[f"4.{3 + n}"] = (side * ex, s.brow_y)
        p[f"4.{5 + n}"] = (side * (ex + s.brow_half_length), s.brow_y - 0.04)
        p[f"5.{1 + n}"] = (side * s.head_width * 0.95, -0.18)  # cheek outline
        p[f"5.{3 + n}"] = (side * (ex + 0.1), -0.12)  # cheekbone (blush)
        p[f"9.{1 + n}"] = (side * s.nose_half_width, s.nose_y + 0.03)  # nostril
        p[f"10.{1 + n}"] = (side * (s.head_width + 0.06), 0.08)  # ear
        p[f"2.{4 + n}"] = (side * inner_w, my)  # inner lip corners, mid-points
        p[f"2.{6 + n}"] = (side * inner_w / 2, my)
        p[f"2.{8 + n}"] = (side * inner_w / 2, my)
        p[f"8.{3 + n}"] = (side * mw, my)  # outer lip corners, mid-points
        p[f"8.{5 + n}"] = (side * mw * 0.42, my + s.upper_lip + s.cupid_bow)
        p[f"8.{7 + n}"] = (side * mw * 0.5, my - s.lower_lip * 0.9)
        p[f"2.{13 + n}"] = (side * s.head_width * 0.8, -0.56)  # jaw-bone corner
    p.update({
        "2.1": (0.0, s.chin_y), "2.2": (0.0, my), "2.3": (0.0, my), "2.10": (0.0, (my + s.chin_y) / 2 - 0.05),
        "8.1": (0.0, my + s.upper_lip), "8.2": (0.0, my - s.lower_lip),
        "9.3": (0.0, s.nose_y + 0.05), "9.15": (0.0, s.nose_y), "7.1": (0.0, s.chin_y - 0.35),
    })
    return p


def complete_faps(faps: dict[int, float]) -> dict[int, float]:
    """`faps` plus the FAPs a player derives: inner<->outer lip copies and device.fap.fill_by_rule."""
    given = {k: float(v) for k, v in faps.items() if v}
    if given:
        keys = tuple(given)
        values, keys = fill_by_rule(np.array([list(given.values())], np.float32), keys)
        given = dict(zip(keys, values[0].tolist(), strict=True))
    for a, b in INNER_OUTER_PAIRS:
        if a in given and b not in given:
            given[b] = given[a]
        elif b in given and a not in given:
            given[a] = given[b]
    for a, b in CORNER_COPIES:
        if a in given and b not in given:
            given[b] = given[a]
    return given


class FaceGeometry:
    """Neutral feature points + their FAPU; `pose(faps)` moves the points for one frame.

    `neutral` maps point names to (x, y) with +x = the face's left and +y = up, in any length
    unit (face units for the cartoon, pixels for a photo). It must hold the FAPU points, the
    lip points 2.2-2.9 and 8.1-8.8 and the chin 2.1; others are optional. `exaggeration` is the mouth's
    gain (see `exaggerate`): 1 for a photo as measured, more for a cartoon seen across a room.
    """

    def __init__(self, neutral: dict[str, tuple[float, float]], exaggeration: float = 1.0):
        self.neutral = {k: np.array(v[:2], float) for k, v in neutral.items()}
        self.exaggeration = exaggeration
        self.fapu: Fapu = fapu_from_feature_points(neutral)
        self.mns0 = self.fapu.mns * FAPU_DIVISOR
        self.moves: dict[int, tuple[str, np.ndarray]] = {
            f.number: (f.feature_point, np.array(DIRECTIONS[f.positive_direction], float) * self.fapu.of(f.number))
            for f in FAPS.values()
            if f.positive_direction in DIRECTIONS and f.feature_point in self.neutral and f.unit != "AU"
        }
        """FAP number -> (feature point, displacement per unit value)."""

    def pose(self, faps: dict[int, float]) -> Pose:
        """The face for one FAP vector (FAP number -> value in FAPU; missing = neutral)."""
        v = exaggerate(complete_faps(faps), self.exaggeration)
        pts = {k: p.copy() for k, p in self.neutral.items()}
        for fap, value in v.items():
            if fap in self.moves:
                name, step = self.moves[fap]
                pts[name] += value * step
        self._keep_lips_sane(pts)
        for eye_top, eye_bottom in (("3.1", "3.3"), ("3.2", "3.4")):
            pts[eye_top][1] = max(pts[eye_top][1], pts[eye_bottom][1])
        chin_drop = max(0.0, self.neutral["2.1"][1] - pts["2.1"][1])
        chin_floor = pts["8.2"][1] - MIN_CHIN_GAP_MNS0 * self.mns0
        if pts["2.1"][1] > chin_floor:
            chin_drop += pts["2.1"][1] - chin_floor
            pts["2.1"][1] = chin_floor
        jaw_dx = pts["2.1"][0] - self.neutral["2.1"][0]
        for name, share in (("2.13", 0.5), ("2.14", 0.5), ("2.10", 0.8)):
            if name in pts:
                pts[name] += (jaw_dx * share, -chin_drop * share)
        irisd0 = self.fapu.irisd * FAPU_DIVISOR
        rest_y = self.neutral["2.2"][1] - TEETH_HIDDEN_MNS0 * self.mns0
        return Pose(
            points=pts,
            gaze=(self._gaze(v.get(23, 0.0), v.get(25, 0.0)), self._gaze(v.get(24, 0.0), v.get(26, 0.0))),
            pupil_scale=(1 + v.get(29, 0.0) * self.fapu.irisd / (PUPIL_RATIO * irisd0),
                         1 + v.get(30, 0.0) * self.fapu.irisd / (PUPIL_RATIO * irisd0)),
            upper_teeth_y=rest_y,
            lower_teeth_y=rest_y - chin_drop,
            tongue_dy=v.get(44, 0.0) * self.fapu.mns,
            roll_rad=v.get(50, 0.0) * ANGLE_UNIT_RAD,
            shift=HEAD_DEPTH_MNS0 * self.mns0 * np.array([math.sin(v.get(49, 0.0) * ANGLE_UNIT_RAD),
                                                          -math.sin(v.get(48, 0.0) * ANGLE_UNIT_RAD)]),
        )

    def _keep_lips_sane(self, pts: dict[str, np.ndarray]) -> None:
        """Pressed lips meet instead of crossing; lips keep some thickness; corners stay outside."""
        for upper, lower, outer_up, outer_low in (("2.2", "2.3", "8.1", "8.2"), ("2.6", "2.8", "8.5", "8.7"),
                                                  ("2.7", "2.9", "8.6", "8.8")):
            if pts[upper][1] < pts[lower][1]:
                pts[upper][1] = pts[lower][1] = (pts[upper][1] + pts[lower][1]) / 2
            min_up = MIN_LIP_FRACTION * (self.neutral[outer_up][1] - self.neutral[upper][1])
            min_low = MIN_LIP_FRACTION * (self.neutral[lower][1] - self.neutral[outer_low][1])
            pts[outer_up][1] = max(pts[outer_up][1], pts[upper][1] + min_up)
            pts[outer_low][1] = min(pts[outer_low][1], pts[lower][1] - min_low)
        for inner, outer, side in (("2.4", "8.3", 1), ("2.5", "8.4", -1)):
            if side * (pts[outer][0] - pts[inner][0]) < 0:
                pts[outer][0] = pts[inner][0]

    def _gaze(self, yaw_au: float, pitch_au: float) -> np.ndarray:
        radius = EYEBALL_RADIUS_ES0 * self.fapu.es * FAPU_DIVISOR
        return radius * np.array([math.sin(yaw_au * ANGLE_UNIT_RAD), -math.sin(pitch_au * ANGLE_UNIT_RAD)])
