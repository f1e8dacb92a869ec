"""Idle life: blinks at human intervals, deterministic from frame times, identical for any chunking."""

from __future__ import annotations

import numpy as np
import pytest

from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.device.idle import EYELID_CLOSED_FAPU, IdleMixer, IdleSettings
from ventriloquist.device.values import FapFrames

RATE_HZ = 100.0


def neutral(seconds: float, t0_s: float = 0.0) -> FapFrames:
    n = int(seconds * RATE_HZ)
    return FapFrames(t0_s + np.arange(n) / RATE_HZ, np.zeros((n, len(ANIMATION_SUBSET)), np.float32), ANIMATION_SUBSET)


def lid(frames: FapFrames) -> np.ndarray:
    return frames.column(19)


def test_blinks_close_the_eyes_at_two_to_six_second_intervals():
    out = IdleMixer().process(neutral(60))
    closed = lid(out) > 0.9 * EYELID_CLOSED_FAPU
    onsets = np.flatnonzero(np.diff(closed.astype(int)) == 1) / RATE_HZ
    assert 10 <= len(onsets) <= 30
    assert np.all(np.diff(onsets) > 1.9) and np.all(np.diff(onsets) < 6.2)
    assert np.array_equal(lid(out), out.column(20))  # both eyes together
    assert np.ptp(out.column(31)) > 5  # the brows drift
    assert np.all(out.column(3) == 0)  # the mouth is left alone


@pytest.mark.parametrize("size", [1, 17, 160, 1024])
def test_chunking_and_clock_offset_do_not_change_the_motion(size):
    whole = IdleMixer().process(neutral(20))
    shifted = neutral(20, t0_s=12345.678)  # a live capture clock
    m = IdleMixer()
    parts = [m.process(FapFrames(shifted.times_s[i : i + size], shifted.values[i : i + size], shifted.faps))
             for i in range(0, len(shifted), size)]
    got = np.concatenate([p.values for p in parts])
    np.testing.assert_allclose(got, whole.values, atol=1e-3)


def test_seed_changes_the_schedule_and_disabled_passes_through():
    a = IdleMixer(IdleSettings(seed=1)).process(neutral(20))
    b = IdleMixer(IdleSettings(seed=2)).process(neutral(20))
    assert not np.array_equal(lid(a), lid(b))
    off = IdleMixer(IdleSettings(enabled=False)).process(neutral(5))
    assert np.all(off.values == 0)
