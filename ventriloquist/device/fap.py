"""MPEG-4 facial animation parameters: the 68-FAP table, FAPU from a neutral face, our subset.

FAP values are integer-like counts of FAP units (FAPU). A FAPU is a distance on the
speaker's neutral face divided by 1024 (angles: 1e-5 rad), so a FAP stream drives any
face model, whatever its size. Left/right are the face's own; +x = face's left, +y = up,
+z = towards the viewer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ventriloquist.device.errors import VentriloquistError

FAPU_DIVISOR = 1024.0
"""A FAPU is its neutral-face distance divided by this."""
ANGLE_UNIT_RAD = 1e-5
"""AU, the unit of rotation FAPs."""


@dataclass(frozen=True)
class Fap:
    """One row of the MPEG-4 FAP table."""

    number: int
    name: str
    unit: str
    """MNS, MW, ES, ENS, IRISD, AU, or 'na' for the two high-level FAPs."""
    bidirectional: bool
    """False: only values >= 0 are meaningful."""
    positive_direction: str
    group: int
    feature_point: str


_ROWS = (
    (1, "viseme", "na", "na", "na", 1, "na"),
    (2, "expression", "na", "na", "na", 1, "na"),
    (3, "open_jaw", "MNS", "U", "down", 2, "2.1"),
    (4, "lower_t_midlip", "MNS", "B", "down", 2, "2.2"),
    (5, "raise_b_midlip", "MNS", "B", "up", 2, "2.3"),
    (6, "stretch_l_cornerlip", "MW", "B", "left", 2, "2.4"),
    (7, "stretch_r_cornerlip", "MW", "B", "right", 2, "2.5"),
    (8, "lower_t_lip_lm", "MNS", "B", "down", 2, "2.6"),
    (9, "lower_t_lip_rm", "MNS", "B", "down", 2, "2.7"),
    (10, "raise_b_lip_lm", "MNS", "B", "up", 2, "2.8"),
    (11, "raise_b_lip_rm", "MNS", "B", "up", 2, "2.9"),
    (12, "raise_l_cornerlip", "MNS", "B", "up", 2, "2.4"),
    (13, "raise_r_cornerlip", "MNS", "B", "up", 2, "2.5"),
    (14, "thrust_jaw", "MNS", "U", "forward", 2, "2.1"),
    (15, "shift_jaw", "MW", "B", "right", 2, "2.1"),
    (16, "push_b_lip", "MNS", "B", "forward", 2, "2.3"),
    (17, "push_t_lip", "MNS", "B", "forward", 2, "2.2"),
    (18, "depress_chin", "MNS", "B", "up", 2, "2.10"),
    (19, "close_t_l_eyelid", "IRISD", "B", "down", 3, "3.1"),
    (20, "close_t_r_eyelid", "IRISD", "B", "down", 3, "3.2"),
    (21, "close_b_l_eyelid", "IRISD", "B", "up", 3, "3.3"),
    (22, "close_b_r_eyelid", "IRISD", "B", "up", 3, "3.4"),
    (23, "yaw_l_eyeball", "AU", "B", "left", 3, "3.5"),
    (24, "yaw_r_eyeball", "AU", "B", "left", 3, "3.6"),
    (25, "pitch_l_eyeball", "AU", "B", "down", 3, "3.5"),
    (26, "pitch_r_eyeball", "AU", "B", "down", 3, "3.6"),
    (27, "thrust_l_eyeball", "ES", "B", "forward", 3, "3.5"),
    (28, "thrust_r_eyeball", "ES", "B", "forward", 3, "3.6"),
    (29, "dilate_l_pupil", "IRISD", "B", "grow", 3, "3.5"),
    (30, "dilate_r_pupil", "IRISD", "B", "grow", 3, "3.6"),
    (31, "raise_l_i_eyebrow", "ENS", "B", "up", 4, "4.1"),
    (32, "raise_r_i_eyebrow", "ENS", "B", "up", 4, "4.2"),
    (33, "raise_l_m_eyebrow", "ENS", "B", "up", 4, "4.3"),
    (34, "raise_r_m_eyebrow", "ENS", "B", "up", 4, "4.4"),
    (35, "raise_l_o_eyebrow", "ENS", "B", "up", 4, "4.5"),
    (36, "raise_r_o_eyebrow", "ENS", "B", "up", 4, "4.6"),
    (37, "squeeze_l_eyebrow", "ES", "B", "right", 4, "4.1"),
    (38, "squeeze_r_eyebrow", "ES", "B", "left", 4, "4.2"),
    (39, "puff_l_cheek", "ES", "B", "left", 5, "5.1"),
    (40, "puff_r_cheek", "ES", "B", "right", 5, "5.2"),
    (41, "lift_l_cheek", "ENS", "U", "up", 5, "5.3"),
    (42, "lift_r_cheek", "ENS", "U", "up", 5, "5.4"),
    (43, "shift_tongue_tip", "MW", "B", "right", 6, "6.1"),
    (44, "raise_tongue_tip", "MNS", "B", "up", 6, "6.1"),
    (45, "thrust_tongue_tip", "MW", "B", "forward", 6, "6.1"),
    (46, "raise_tongue", "MNS", "B", "up", 6, "6.2"),
    (47, "tongue_roll", "AU", "U", "concave_up", 6, "6.3|6.4"),
    (48, "head_pitch", "AU", "B", "down", 7, "7.1"),
    (49, "head_yaw", "AU", "B", "left", 7, "7.1"),
    (50, "head_roll", "AU", "B", "right", 7, "7.1"),
    (51, "lower_t_midlip_o", "MNS", "B", "down", 8, "8.1"),
    (52, "raise_b_midlip_o", "MNS", "B", "up", 8, "8.2"),
    (53, "stretch_l_cornerlip_o", "MW", "B", "left", 8, "8.3"),
    (54, "stretch_r_cornerlip_o", "MW", "B", "right", 8, "8.4"),
    (55, "lower_t_lip_lm_o", "MNS", "B", "down", 8, "8.5"),
    (56, "lower_t_lip_rm_o", "MNS", "B", "down", 8, "8.6"),
    (57, "raise_b_lip_lm_o", "MNS", "B", "up", 8, "8.7"),
    (58, "raise_b_lip_rm_o", "MNS", "B", "up", 8, "8.8"),
    (59, "raise_l_cornerlip_o", "MNS", "B", "up", 8, "8.3"),
    (60, "raise_r_cornerlip_o", "MNS", "B", "up", 8, "8.4"),
    (61, "stretch_l_nose", "ENS", "B", "left", 9, "9.1"),
    (62, "stretch_r_nose", "ENS", "B", "right", 9, "9.2"),
    (63, "raise_nose", "ENS", "B", "up", 9, "9.3"),
    (64, "bend_nose", "ENS", "B", "right", 9, "9.3"),
    (65, "raise_l_ear", "ENS", "B", "up", 10, "10.1"),
    (66, "raise_r_ear", "ENS", "B", "up", 10, "10.2"),
    (67, "pull_l_ear", "ENS", "B", "left", 10, "10.3"),
    (68, "pull_r_ear", "ENS", "B", "right", 10, "10.4"),)

FAPS: dict[int, Fap] = {
    n: Fap(n, name, unit, kind == "B", direction, group, point)
    for n, name, unit, kind, direction, group, point in _ROWS
}
"""All 68 FAPs by number."""
FAP_BY_NAME: dict[str, Fap] = {f.name: f for f in FAPS.values()}

ANIMATION_SUBSET: tuple[int, ...] = (
    3, 4, 5, 6, 7, 12, 13, 16, 17,  # jaw, inner lips, lip corners, protrusion
    19, 20,  # upper eyelids
    31, 32, 35, 36,  # inner and outer eyebrows
    41, 42,  # cheeks
    51, 52,  # outer lip, middle
)
"""The FAPs the model predicts: the face-wide speech set (mouth, cheeks, brows, lids)."""

_FILL_RULES: tuple[tuple[int, int, float], ...] = (
    (8, 4, 0.9), (9, 4, 0.9), (10, 5, 0.9), (11, 5, 0.9),  # mid-lip points follow the middle
    (53, 6, 1.0), (54, 7, 1.0), (59, 12, 1.0), (60, 13, 1.0),  # outer corners = inner corners
    (55, 51, 0.9), (56, 51, 0.9), (57, 52, 0.9), (58, 52, 0.9),  # outer mid-lip points
    (33, 31, 0.5), (33, 35, 0.5), (34, 32, 0.5), (34, 36, 0.5),  # middle brow = mean of ends
)
"""(target FAP, source FAP, weight): FAPs filled by rule from the subset, for players that
expect full contours (§6 of the MPEG-4 reference: inner<->outer copy, mid-points ~0.9x)."""


def fap_number(name_or_number: str | int) -> int:
    """A FAP number from its number or its MPEG-4 name; unknown ones are an error."""
    if isinstance(name_or_number, int) or str(name_or_number).isdigit():
        number = int(name_or_number)
        if number not in FAPS:
            raise VentriloquistError(f"there is no MPEG-4 FAP number {number} (1..68)")
        return number
    if name_or_number not in FAP_BY_NAME:
        raise VentriloquistError(f"there is no MPEG-4 FAP named {name_or_number!r}")
    return FAP_BY_NAME[name_or_number].number


def fill_by_rule(values: np.ndarray, faps: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """Add the FAPs derivable from `faps` by the fill rules; returns (values, faps) widened."""
    targets = sorted({t for t, s, _ in _FILL_RULES if s in faps and t not in faps})
    extra = np.zeros((values.shape[0], len(targets)), np.float32)
    for t, s, w in _FILL_RULES:
        if t in targets and s in faps:  # a target with two sources may be given only one (a face drops zeros)
            extra[:, targets.index(t)] += w * values[:, faps.index(s)]
    return np.concatenate([values, extra], axis=1), faps + tuple(targets)


@dataclass(frozen=True)
class Fapu:
    """The five distance units of one neutral face, in the face's own length unit per FAPU."""

    irisd: float
    es: float
    ens: float
    mns: float
    mw: float

    def unit(self, name: str) -> float:
        """Length of one FAPU of kind `name` (AU is an angle: 1e-5 rad)."""
        if name == "AU":
            return ANGLE_UNIT_RAD
        try:
            return {"IRISD": self.irisd, "ES": self.es, "ENS": self.ens, "MNS": self.mns, "MW": self.mw}[name]
        except KeyError:
            raise VentriloquistError(f"unknown FAPU kind {name!r}") from None

    def of(self, fap: int) -> float:
        """Length (or angle) of one unit of FAP number `fap`."""
        return self.unit(FAPS[fap].unit)

    def as_dict(self) -> dict[str, float]:
        return {"IRISD": self.irisd, "ES": self.es, "ENS": self.ens, "MNS": self.mns, "MW": self.mw}


def fapu_from_feature_points(points: Mapping[str, tuple[float, ...]]) -> Fapu:
    """FAPU of a neutral face from its MPEG-4 feature points ('3.1' -> (x, y[, z])).

    IRISD0 = upper-lower eyelid gap (mean of both eyes), ES0 = pupil distance,
    ENS0 = pupil height above the nose bottom (9.15), MNS0 = nose bottom to inner upper
    lip (2.2), MW0 = outer lip corner distance; each divided by 1024.
    """
    need = ("3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "9.15", "2.2", "8.3", "8.4")
    missing = [p for p in need if p not in points]
    if missing:
        raise VentriloquistError(f"neutral face lacks feature point(s) {', '.join(missing)} needed for FAPU")
    p = {k: np.asarray(points[k], float) for k in need}
    irisd0 = (abs(p["3.1"][1] - p["3.3"][1]) + abs(p["3.2"][1] - p["3.4"][1])) / 2
    es0 = float(np.linalg.norm(p["3.5"][:2] - p["3.6"][:2]))
    ens0 = abs((p["3.5"][1] + p["3.6"][1]) / 2 - p["9.15"][1])
    mns0 = abs(p["9.15"][1] - p["2.2"][1])
    mw0 = float(np.linalg.norm(p["8.3"][:2] - p["8.4"][:2]))
    if min(irisd0, es0, ens0, mns0, mw0) <= 0:
        raise VentriloquistError("neutral face feature points are degenerate (a FAPU distance is zero)")
    return Fapu(*(float(d) / FAPU_DIVISOR for d in (irisd0, es0, ens0, mns0, mw0)))
