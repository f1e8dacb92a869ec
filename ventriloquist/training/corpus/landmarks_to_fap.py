"""From tracked face landmarks to MPEG-4 FAPs: head pose removed, feature points, FAPU from a neutral face.

Landmarks arrive in image pixels (x right, y down, z away from the camera) and are turned into
MPEG-4 axes (+x the face's left, +y up, +z towards the viewer). Every frame is aligned (rotation,
translation, uniform scale) to the speaker's neutral face on points that speech does not move;
a FAP is then the displacement of its feature point from neutral along the FAP's direction,
divided by the FAPU of the neutral face. Frames without a face stay NaN, never invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import ANIMATION_SUBSET, FAPS, Fapu, fapu_from_feature_points

IMAGE_TO_MPEG4 = np.array([1.0, -1.0, -1.0], np.float32)
"""Image (x right, y down, z away) -> MPEG-4 (x face's left, y up, z towards viewer) for a frontal face."""

FEATURE_POINTS: dict[str, int] = {
    "2.1": 152, "2.2": 13, "2.3": 14, "2.4": 308, "2.5": 78, "2.6": 311, "2.7": 81, "2.8": 402, "2.9": 178,
    "2.10": 199,
    "3.1": 386, "3.2": 159, "3.3": 374, "3.4": 145, "3.5": 473, "3.6": 468,
    "4.1": 336, "4.2": 107, "4.3": 334, "4.4": 105, "4.5": 300, "4.6": 70,
    "5.3": 280, "5.4": 50,
    "8.1": 0, "8.2": 17, "8.3": 291, "8.4": 61, "8.5": 269, "8.6": 39, "8.7": 405, "8.8": 181,
    "9.3": 4, "9.15": 2,
}  # fmt: skip
"""MPEG-4 feature point -> MediaPipe FaceMesh landmark index (478-point mesh; left = the face's own)."""

STABLE_LANDMARKS = (6, 168, 197, 195, 5, 4, 33, 133, 362, 263, 10, 151, 9, 8, 127, 356, 234, 454)
"""Nose bridge, eye corners, forehead and temples: what speech does not move; the pose is fitted on these."""
LEFT_EYE_OUTER, RIGHT_EYE_OUTER, CHIN = 263, 33, 152
INNER_LIP_TOP, INNER_LIP_BOTTOM = 13, 14

DIRECTIONS = {
    "up": (0.0, 1.0, 0.0), "down": (0.0, -1.0, 0.0), "left": (1.0, 0.0, 0.0), "right": (-1.0, 0.0, 0.0),
    "forward": (0.0, 0.0, 1.0),
}  # fmt: skip
"""MPEG-4 FAP positive directions as unit vectors."""

CLOSED_MOUTH_PERCENTILE = 30.0
"""Neutral candidates: silent frames whose lip gap is at or below this percentile."""
MIN_NEUTRAL_FRAMES = 5
MAX_NEUTRAL_FRAMES = 3000
PROCRUSTES_ITERATIONS = 3


def to_mpeg4_axes(landmarks_px: np.ndarray) -> np.ndarray:
    """(…, 478, 3) image-pixel landmarks -> MPEG-4 axes, same length unit (pixels)."""
    return np.asarray(landmarks_px, np.float32) * IMAGE_TO_MPEG4


def similarity_align(frames: np.ndarray, reference: np.ndarray, points: tuple[int, ...] = STABLE_LANDMARKS):
    """Each frame of (n, L, 3) moved by the rotation, scale and shift that best fit `points` onto `reference`.

    Returns (aligned (n, L, 3), scale (n,)). Umeyama's least-squares similarity, batched.
    """
    src = frames[:, points].astype(np.float64)
    dst = reference[list(points)].astype(np.float64)
    src_mean, dst_mean = src.mean(axis=1, keepdims=True), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = np.einsum("kd,nke->nde", dst_c, src_c) / len(points)
    u, s, vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(u @ vt))
    d = np.ones((len(frames), 3))
    d[:, 2] = sign
    rotation = u @ (d[:, :, None] * vt)
    scale = (s * d).sum(axis=1) / (src_c**2).sum(axis=(1, 2)) * len(points)
    moved = np.einsum("nde,nle->nld", rotation, frames.astype(np.float64) - src_mean)
    return (scale[:, None, None] * moved + dst_mean).astype(np.float32), scale


def upright(shape: np.ndarray) -> np.ndarray:
    """A (L, 3) face turned so its eye line is +x, chin-to-eyes is +y and the face looks along +z."""
    x = shape[LEFT_EYE_OUTER] - shape[RIGHT_EYE_OUTER]
    x = x / np.linalg.norm(x)
    up = (shape[LEFT_EYE_OUTER] + shape[RIGHT_EYE_OUTER]) / 2 - shape[CHIN]
    y = up - x * (up @ x)
    y = y / np.linalg.norm(y)
    rotation = np.stack([x, y, np.cross(x, y)])
    centre = shape[list(STABLE_LANDMARKS)].mean(axis=0)
    return ((shape - centre) @ rotation.T).astype(np.float32)


def lip_gap_ratio(shapes: np.ndarray) -> np.ndarray:
    """Inner-lip gap over the outer eye-corner distance, per frame: a pose-free mouth-opening measure."""
    gap = np.linalg.norm(shapes[:, INNER_LIP_TOP] - shapes[:, INNER_LIP_BOTTOM], axis=-1)
    eyes = np.linalg.norm(shapes[:, LEFT_EYE_OUTER] - shapes[:, RIGHT_EYE_OUTER], axis=-1)
    return gap / eyes


@dataclass(frozen=True)
class Neutral:
    """A speaker's neutral face: the reference for pose removal and the source of FAPU."""

    shape: np.ndarray
    """(478, 3) float32 in MPEG-4 axes, upright, in the tracker's pixel unit."""
    fapu: Fapu
    n_frames: int
    """How many closed-mouth silent frames it was built from."""

    def feature_points(self) -> dict[str, tuple[float, ...]]:
        return {fp: tuple(float(v) for v in self.shape[i]) for fp, i in FEATURE_POINTS.items()}


def estimate_neutral(shapes: np.ndarray, silent: np.ndarray) -> Neutral:
    """The neutral face from many frames (n, 478, 3) in MPEG-4 axes of one speaker (NaN rows = no face).

    Closed-mouth silent frames are pooled by generalised Procrustes and their median shape taken.
    """
    found = ~np.isnan(shapes).any(axis=(1, 2))
    candidates = np.flatnonzero(found & silent)
    if len(candidates) < MIN_NEUTRAL_FRAMES:
        candidates = np.flatnonzero(found)
    if len(candidates) < MIN_NEUTRAL_FRAMES:
        raise VentriloquistError(f"too few frames with a face ({len(candidates)}) to estimate a neutral face")
    gaps = lip_gap_ratio(shapes[candidates])
    closed = candidates[gaps <= np.percentile(gaps, CLOSED_MOUTH_PERCENTILE)]
    if len(closed) < MIN_NEUTRAL_FRAMES:
        closed = candidates[np.argsort(gaps)[:MIN_NEUTRAL_FRAMES]]
    closed = closed[np.linspace(0, len(closed) - 1, min(len(closed), MAX_NEUTRAL_FRAMES)).astype(int)]
    pool = shapes[closed]
    reference = upright(pool[0])
    for _ in range(PROCRUSTES_ITERATIONS):
        aligned, _ = similarity_align(pool, reference)
        reference = upright(np.median(aligned, axis=0))
    points = {fp: tuple(float(v) for v in reference[i]) for fp, i in FEATURE_POINTS.items()}
    return Neutral(reference, fapu_from_feature_points(points), len(closed))


@dataclass(frozen=True)
class FapTrack:
    """FAP values of one clip, one row per video frame."""

    values: np.ndarray
    """(n, k) float32 in FAPU; NaN where the face was lost."""
    mask: np.ndarray
    """(n,) bool: frames with a tracked face."""
    faps: tuple[int, ...]
    feature_points: np.ndarray
    """(n, p, 3) float32: feature points after pose removal, MPEG-4 axes, pixel unit (NaN where lost)."""
    scale: np.ndarray
    """(n,) float32: how much each frame was scaled onto the neutral face (camera distance)."""


def faps_from_landmarks(shapes: np.ndarray, neutral: Neutral, faps: tuple[int, ...] = ANIMATION_SUBSET) -> FapTrack:
    """FAP track of (n, 478, 3) landmarks in MPEG-4 axes against a speaker's neutral face."""
    n = len(shapes)
    mask = ~np.isnan(shapes).any(axis=(1, 2))
    names = tuple(FEATURE_POINTS)
    points = np.full((n, len(names), 3), np.nan, np.float32)
    scale = np.full(n, np.nan, np.float32)
    if mask.any():
        aligned, frame_scale = similarity_align(shapes[mask], neutral.shape)
        points[mask] = aligned[:, [FEATURE_POINTS[name] for name in names]]
        scale[mask] = frame_scale
    rest = neutral.shape[[FEATURE_POINTS[name] for name in names]]
    values = np.empty((n, len(faps)), np.float32)
    for column, number in enumerate(faps):
        fap = FAPS[number]
        if fap.feature_point not in FEATURE_POINTS:
            raise VentriloquistError(f"FAP {number} ({fap.name}) has no tracked feature point {fap.feature_point}")
        k = names.index(fap.feature_point)
        moved = (points[:, k] - rest[k]) @ np.array(DIRECTIONS[fap.positive_direction], np.float32)
        value = moved / neutral.fapu.of(number)
        values[:, column] = value if fap.bidirectional else np.maximum(value, 0.0)
    return FapTrack(values, mask, tuple(faps), points, scale)


def mouth_opening(values: np.ndarray, faps: tuple[int, ...]) -> np.ndarray:
    """Inner-lip opening in MNS: −(lower_t_midlip + raise_b_midlip), positive when open."""
    return -(values[:, faps.index(4)] + values[:, faps.index(5)])
