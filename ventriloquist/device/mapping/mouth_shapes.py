"""FAPs -> Rhubarb Lip Sync mouth shapes (A-H, X), so animation tools that read Rhubarb cues use our output.

Rules, first match wins, on opening = -(lower_t_midlip + raise_b_midlip) (MNS), rounding = the larger
of mean lip protrusion (push_t/push_b) and corner narrowing (-mean stretch), both in FAPU:
  X  rest: jaw, opening, rounding and lip press all within REST_FAPU of neutral, or the mouth held
     still (every mouth FAP within STILL_RANGE_FAPU for STILL_S around the frame), whatever its pose:
     a model trained on a speaker whose lips part at rest holds them parted through silence
  G  F/V: lower lip drawn back (push_b_lip <= -FV_LOWER_LIP_FAPU) and the mouth not wide open
  A  closed (M B P): opening below CLOSED_OPENING_FAPU (lips together or pressed)
  F  puckered (UW OW W): rounding >= PUCKER_FAPU and opening below WIDE_OPENING_FAPU
  D  wide open (AA): opening >= WIDE_OPENING_FAPU
  E  slightly rounded (AO ER): rounding >= ROUNDED_FAPU
  C  open (EH AE): opening >= OPEN_FAPU
  B  slightly open, teeth near together (most consonants, EE): everything else
H (tongue raised, L) is one of Rhubarb's optional shapes; the FAP subset carries no tongue, so it is
never produced.
"""

from __future__ import annotations

import numpy as np

from ventriloquist.device.values import FapFrames

SHAPES = "ABCDEFGHX"
REST_FAPU = 25.0
CLOSED_OPENING_FAPU = 40.0
FV_LOWER_LIP_FAPU = 60.0
PUCKER_FAPU = 70.0
ROUNDED_FAPU = 30.0
WIDE_OPENING_FAPU = 450.0
OPEN_FAPU = 280.0
STILL_S = 0.25
STILL_RANGE_FAPU = 40.0
"""Speech moves the mouth by more than this within STILL_S (demo sentence: 2 % of frames under it);
digital silence stays under it, and so do 97 % of frames of noise at -50 dBFS."""
MOUTH_FAPS = (3, 4, 5, 6, 7, 12, 13, 16, 17, 51, 52)


def held_still(frames: FapFrames) -> np.ndarray:
    """(n,) bool: every mouth FAP stays within STILL_RANGE_FAPU over the STILL_S centred on the frame.

    Needs the whole track (a chunk would cut the windows); a track shorter than STILL_S is never still.
    """
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    n = len(frames)
    if n < 2 or frames.times_s[-1] - frames.times_s[0] < STILL_S:
        return np.zeros(n, bool)
    width = max(2, round(STILL_S / float(np.median(np.diff(frames.times_s)))))
    mouth = np.stack([frames.column(f) for f in MOUTH_FAPS], axis=1)
    spread = maximum_filter1d(mouth, width, axis=0, mode="nearest") - minimum_filter1d(mouth, width, axis=0,
                                                                                         mode="nearest")
    return np.all(spread < STILL_RANGE_FAPU, axis=1)


def mouth_shapes(frames: FapFrames) -> np.ndarray:
    """(n,) array of one-letter shapes, one per frame."""
    f = frames.column
    opening = -(f(4) + f(5))
    rounding = np.maximum((f(16) + f(17)) / 2, -(f(6) + f(7)) / 2)
    at_rest = (np.abs(f(3)) < REST_FAPU) & (np.abs(opening) < REST_FAPU) & (np.abs(rounding) < REST_FAPU)
    at_rest &= np.abs(f(5)) < REST_FAPU
    at_rest |= held_still(frames)
    conditions = [
        at_rest,
        (f(16) <= -FV_LOWER_LIP_FAPU) & (opening < WIDE_OPENING_FAPU),
        opening < CLOSED_OPENING_FAPU,
        (rounding >= PUCKER_FAPU) & (opening < WIDE_OPENING_FAPU),
        opening >= WIDE_OPENING_FAPU,
        rounding >= ROUNDED_FAPU,
        opening >= OPEN_FAPU,
    ]
    return np.select(conditions, list("XGAFDEC"), default="B")


def shape_cues(
    times_s: np.ndarray, shapes: np.ndarray, end_s: float, min_cue_s: float
) -> list[tuple[float, float, str]]:
    """(start, end, shape) runs of equal shapes; a run shorter than min_cue_s joins the one before it."""
    change = np.flatnonzero(np.r_[True, shapes[1:] != shapes[:-1]]) if len(shapes) else np.zeros(0, int)
    starts = [float(times_s[i]) for i in change]
    ends = [*starts[1:], max(float(end_s), starts[-1])] if starts else []
    kept: list[list] = []
    for start_s, stop_s, i in zip(starts, ends, change, strict=True):
        if kept and (stop_s - start_s < min_cue_s or kept[-1][2] == shapes[i]):
            kept[-1][1] = stop_s
        else:
            kept.append([start_s, stop_s, str(shapes[i])])
    return [(a, b, v) for a, b, v in kept]
