"""One frame as a plain record (time, FAPs by MPEG-4 name, ARKit weights, viseme weights), for JSON and UDP."""

from __future__ import annotations

from typing import Any

import numpy as np

from ventriloquist.device.fap import FAPS
from ventriloquist.device.mapping.arkit import ARKIT_NAMES, arkit_weights
from ventriloquist.device.mapping.visemes import VISEME_NAMES, viseme_weights
from ventriloquist.device.values import FapFrames

FAPU_DECIMALS = 2
WEIGHT_DECIMALS = 4
TIME_DECIMALS = 4


def frame_records(frames: FapFrames, t_origin_s: float) -> list[dict[str, Any]]:
    """Per frame: {"time": s since audio start, "t_capture": capture clock, "faps", "arkit", "visemes"}."""
    names = [FAPS[f].name for f in frames.faps]
    values = np.round(np.asarray(frames.values, np.float64), FAPU_DECIMALS).tolist()
    arkit = np.round(arkit_weights(frames).astype(np.float64), WEIGHT_DECIMALS).tolist()
    visemes = np.round(viseme_weights(frames).astype(np.float64), WEIGHT_DECIMALS).tolist()
    times = np.asarray(frames.times_s, np.float64)
    return [
        {
            "time": round(float(t) - t_origin_s, TIME_DECIMALS),
            "t_capture": float(t),
            "faps": dict(zip(names, row, strict=True)),
            "arkit": dict(zip(ARKIT_NAMES, a, strict=True)),
            "visemes": dict(zip(VISEME_NAMES, v, strict=True)),
        }
        for t, row, a, v in zip(times, values, arkit, visemes, strict=True)
    ]
