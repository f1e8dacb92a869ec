"""FAPs -> weights of the 15 MPEG-4 visemes (the Oculus/Meta lip-sync set), so viseme-driven avatars follow.

Each viseme has a prototype mouth (open_jaw, lower_t_midlip, raise_b_midlip, mean stretch, push_t_lip,
push_b_lip) taken from Greta's per-phoneme lip targets (shared/reference/mpeg4_fap.md §5.1). A frame's
weights are a softmax of minus the squared, per-axis scaled distance to each prototype: they sum to
1, the nearest viseme dominates, and in-between mouths blend smoothly.
"""

from __future__ import annotations

import numpy as np

from ventriloquist.device.values import FapFrames

VISEME_NAMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)
"""MPEG-4 FAP 1 viseme indices 0..14 (the same names and order as Oculus OVRLipSync)."""

_PROTOTYPES = np.array([
    # open_jaw, lower_t_midlip, raise_b_midlip, stretch, push_t_lip, push_b_lip   (FAPU)
    (0, 0, 0, 0, 0, 0),  # sil: rest
    (45, 8, 70, 0, 19, 20),  # PP: p b m, lips pressed
    (70, -3, -29, -8, 17, -116),  # FF: f v, lower lip under the teeth
    (100, -25, -200, 0, 10, 0),  # TH: tongue between the teeth
    (88, -20, -160, -9, 44, 27),  # DD: t d
    (124, -26, -222, -7, 2, 8),  # kk: k g
    (80, -20, -170, -41, 130, 86),  # CH: tS dZ S, rounded and protruded
    (60, -15, -120, 15, 20, 10),  # SS: s z, teeth nearly closed, spread
    (167, -38, -320, -6, 14, 11),  # nn: n l
    (110, -24, -200, -30, 70, 50),  # RR: r, slightly rounded
    (266, -62, -527, 11, -13, -13),  # aa: open /a/
    (226, -52, -439, 16, -33, -24),  # E
    (186, -42, -350, 22, -53, -35),  # ih
    (201, -47, -395, -21, 52, 36),  # oh
    (136, -31, -263, -52, 118, 85),  # ou
], np.float32)
_SCALES_FAPU = np.array([60, 25, 120, 20, 40, 40], np.float32)
"""Per-axis distance that counts as 'one unit' of mismatch."""


def viseme_weights(frames: FapFrames) -> np.ndarray:
    """(n, 15) float32 weights summing to 1 per frame, columns in VISEME_NAMES order."""
    f = frames.column
    mouth = np.stack([f(3), f(4), f(5), (f(6) + f(7)) / 2, f(17), f(16)], axis=1) / _SCALES_FAPU
    d2 = (((mouth[:, None, :] - (_PROTOTYPES / _SCALES_FAPU)[None]) ** 2).sum(axis=2))
    logits = -d2
    logits -= logits.max(axis=1, keepdims=True)
    w = np.exp(logits)
    return (w / w.sum(axis=1, keepdims=True)).astype(np.float32)
