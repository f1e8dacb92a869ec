"""A photo's neutral MPEG-4 feature points found by the face tracker, so a photo face needs no hand-made points.

The tracker worker (.venv-track) finds the faces in the image and meshes the only one; here its
landmarks become the points `device/face/photo_warp.py` reads, in image pixels (x right, y down),
after the checks a usable neutral face must pass: one face, big enough, frontal, lips closed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ventriloquist.device import atomic
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.training.corpus.landmarks_to_fap import (
    FEATURE_POINTS,
    INNER_LIP_BOTTOM,
    INNER_LIP_TOP,
    LEFT_EYE_OUTER,
    RIGHT_EYE_OUTER,
)

PHOTO_POINTS = FEATURE_POINTS | {"2.13": 397, "2.14": 172}
"""The corpus's feature points plus the jaw corners, which the photo's jaw drop moves (landmark indices)."""
NOSE_TIP, LEFT_CHEEK, RIGHT_CHEEK = 4, 454, 234
MIN_EYE_SPAN_PX = 40.0
"""Outer eye corners at least this far apart: below it the mouth is too few pixels to animate."""
MAX_YAW_DEG = 20.0
"""Head turned sideways: the nose tip's offset from the cheeks' midpoint over half their distance, as atan."""
MAX_ROLL_DEG = 15.0
"""Head tilted: the eye line's angle to the horizontal."""
MAX_LIP_GAP = 0.04
"""Inner-lip gap over the eye span: above it the mouth is open and cannot stand for the neutral face."""
CLOSED_PAIRS = ((INNER_LIP_TOP, INNER_LIP_BOTTOM), (311, 402), (81, 178))
"""Inner-lip landmarks (2.2/2.3, 2.6/2.8, 2.7/2.9) put together: the neutral mouth is exactly closed."""


def measure(landmarks: np.ndarray) -> dict[str, float]:
    """Eye span (px), yaw, roll (degrees) and lip gap (share of the eye span) of one face's (478, 3) landmarks."""
    eyes = landmarks[LEFT_EYE_OUTER, :2] - landmarks[RIGHT_EYE_OUTER, :2]
    span = float(np.linalg.norm(eyes))
    cheeks = landmarks[LEFT_CHEEK, :2] - landmarks[RIGHT_CHEEK, :2]
    half = np.linalg.norm(cheeks) / 2
    offset = (landmarks[NOSE_TIP, :2] - (landmarks[LEFT_CHEEK, :2] + landmarks[RIGHT_CHEEK, :2]) / 2) @ cheeks
    gap = np.linalg.norm(landmarks[INNER_LIP_TOP, :2] - landmarks[INNER_LIP_BOTTOM, :2])
    return {"eye_span_px": span, "yaw_deg": math.degrees(math.atan(offset / (2 * half * half))),
            "roll_deg": math.degrees(math.atan2(eyes[1], eyes[0])), "lip_gap": float(gap) / span}


def neutral_points(landmarks: np.ndarray, where: str) -> dict[str, tuple[float, float]]:
    """The MPEG-4 points (image pixels) of one face's landmarks, or VentriloquistError naming what is wrong."""
    m = measure(landmarks)
    if m["eye_span_px"] < MIN_EYE_SPAN_PX:
        raise VentriloquistError(f"{where}: the face is too small (eyes {m['eye_span_px']:.0f} px apart, at least "
                                 f"{MIN_EYE_SPAN_PX:.0f} needed): use a larger or closer photo")
    if abs(m["yaw_deg"]) > MAX_YAW_DEG or abs(m["roll_deg"]) > MAX_ROLL_DEG:
        raise VentriloquistError(f"{where}: the face is too turned (yaw {m['yaw_deg']:.0f}°, roll "
                                 f"{m['roll_deg']:.0f}°; at most {MAX_YAW_DEG:.0f}° and {MAX_ROLL_DEG:.0f}°): "
                                 "use a frontal, upright photo")
    if m["lip_gap"] > MAX_LIP_GAP:
        raise VentriloquistError(f"{where}: the mouth is open (inner lips {100 * m['lip_gap']:.0f} % of the eye span "
                                 f"apart, at most {100 * MAX_LIP_GAP:.0f} %): the neutral face needs closed lips")
    xy = landmarks[:, :2].astype(float).copy()
    for top, bottom in CLOSED_PAIRS:
        xy[top] = xy[bottom] = (xy[top] + xy[bottom]) / 2
    return {name: (round(xy[i, 0], 2), round(xy[i, 1], 2)) for name, i in PHOTO_POINTS.items()}


def find_photo_points(image: str | Path, python: Path | None = None) -> dict[str, tuple[float, float]]:
    """Run the face tracker on `image` and return its neutral points (see `neutral_points`)."""
    from ventriloquist.training.corpus.tracker import run_worker

    path = str(Path(image).absolute())  # the worker runs in the repository folder
    found = run_worker([{"image": path}], "image", python)[path]
    if "error" in found:
        raise VentriloquistError(f"cannot read photo {image}: {found['error'].removeprefix('ValueError: ')}")
    faces = found["faces"]
    if not faces:
        raise VentriloquistError(f"{image}: no face found")
    if len(faces) > 1:
        raise VentriloquistError(f"{image}: {len(faces)} faces found; the photo must show one face only")
    if found["landmarks"] is None:
        raise VentriloquistError(f"{image}: a face was found but its features could not be placed")
    return neutral_points(np.array(found["landmarks"]), str(image))


def write_points(path: str | Path, image: str | Path, points: dict[str, tuple[float, float]]) -> None:
    """The points JSON `PhotoFace` reads, written atomically."""
    data = {"image": Path(image).name, "found_by": "MediaPipe face mesh (ventriloquist photo-points)",
            "points": {name: list(xy) for name, xy in points.items()}}
    atomic.write_text(path, json.dumps(data, indent=1) + "\n")
