"""FAPs -> ARKit-named blendshape weights (0..1), so tools built for ARKit face tracking follow our face.

Each weight is a clipped linear reading of one or two FAPs divided by a "full" deflection in FAPU
(from the speech ranges in shared/reference/mpeg4_fap.md §5). Left/Right are the face's own sides,
as in both ARKit and MPEG-4. Rounding splits into mouthFunnel (rounded and open, /o/) and
mouthPucker (rounded and nearly closed, /u/).
"""

from __future__ import annotations

import numpy as np

from ventriloquist.device.values import FapFrames

FULL_FAPU = {
    "jaw": 400.0,  # open_jaw, MNS: a wide-open /a/ reaches ~300
    "lip_opening": 700.0,  # -(lower_t_midlip + raise_b_midlip), MNS
    "lip_press": 100.0,  # raise_b_midlip above neutral (bilabial press), MNS
    "upper_lip_raise": 100.0,  # -lower_t_midlip, MNS
    "stretch": 100.0,  # stretch_*_cornerlip, MW
    "corner": 150.0,  # raise_*_cornerlip, MNS
    "protrusion": 150.0,  # mean of push_t_lip and push_b_lip, MNS
    "narrowing": 60.0,  # -mean stretch (corners drawn in), MW
    "brow": 300.0,  # raise_*_eyebrow, ENS
    "lid": 1024.0,  # close_t_*_eyelid, IRISD: 1024 = closed
    "lid_wide": 300.0,
    "cheek": 300.0,  # lift_*_cheek, ENS
}
"""FAPU at which each reading counts as a weight of 1."""

ARKIT_NAMES: tuple[str, ...] = (
    "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthPressLeft", "mouthPressRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "browInnerUp", "browDownLeft", "browDownRight", "browOuterUpLeft", "browOuterUpRight",
    "eyeBlinkLeft", "eyeBlinkRight", "eyeWideLeft", "eyeWideRight",
    "cheekSquintLeft", "cheekSquintRight",
)
"""The ARKit blendshapes we drive, in output column order (the rest of ARKit's 52 stay 0)."""


def _part(x: np.ndarray, full: str) -> np.ndarray:
    return np.clip(x / FULL_FAPU[full], 0.0, 1.0)


def arkit_weights(frames: FapFrames) -> np.ndarray:
    """(n, len(ARKIT_NAMES)) float32 weights in 0..1 from FAP frames (missing FAPs read as neutral)."""
    f = frames.column
    opening = -(f(4) + f(5))
    jaw = _part(f(3), "jaw")
    open_n = _part(opening, "lip_opening")
    rounding = np.maximum(_part((f(16) + f(17)) / 2, "protrusion"), _part(-(f(6) + f(7)) / 2, "narrowing"))
    columns = {
        "jawOpen": jaw,
        "mouthClose": np.clip(jaw - open_n, 0.0, 1.0),
        "mouthFunnel": rounding * open_n,
        "mouthPucker": rounding * (1.0 - open_n),
        "mouthSmileLeft": _part(f(12), "corner"),
        "mouthSmileRight": _part(f(13), "corner"),
        "mouthFrownLeft": _part(-f(12), "corner"),
        "mouthFrownRight": _part(-f(13), "corner"),
        "mouthStretchLeft": _part(f(6), "stretch"),
        "mouthStretchRight": _part(f(7), "stretch"),
        "mouthPressLeft": _part(f(5), "lip_press"),
        "mouthPressRight": _part(f(5), "lip_press"),
        "mouthUpperUpLeft": _part(-f(4), "upper_lip_raise"),
        "mouthUpperUpRight": _part(-f(4), "upper_lip_raise"),
        "mouthLowerDownLeft": _part(-f(5), "lip_opening"),
        "mouthLowerDownRight": _part(-f(5), "lip_opening"),
        "browInnerUp": _part((f(31) + f(32)) / 2, "brow"),
        "browDownLeft": _part(-f(31), "brow"),
        "browDownRight": _part(-f(32), "brow"),
        "browOuterUpLeft": _part(f(35), "brow"),
        "browOuterUpRight": _part(f(36), "brow"),
        "eyeBlinkLeft": _part(f(19), "lid"),
        "eyeBlinkRight": _part(f(20), "lid"),
        "eyeWideLeft": _part(-f(19), "lid_wide"),
        "eyeWideRight": _part(-f(20), "lid_wide"),
        "cheekSquintLeft": _part(f(41), "cheek"),
        "cheekSquintRight": _part(f(42), "cheek"),
    }
    return np.stack([columns[name] for name in ARKIT_NAMES], axis=1).astype(np.float32)
