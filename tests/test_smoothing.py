"""The One Euro smoother: chunk-size invariant, removes jitter at rest, keeps speech motion within a frame."""

from __future__ import annotations

import numpy as np
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.smoothing import Smoother, SmoothingSettings
from ventriloquist.device.values import FapFrames

RATE_HZ = 100.0
FAPS = (3, 5)


def frames(values: np.ndarray, t0_s: float = 0.0) -> FapFrames:
    times = t0_s + np.arange(len(values)) / RATE_HZ
    return FapFrames(times, values.astype(np.float32), FAPS[: values.shape[1]])


def run_chunks(stage, fr: FapFrames, size: int) -> FapFrames:
    parts = [stage.process(FapFrames(fr.times_s[i : i + size], fr.values[i : i + size], fr.faps))
             for i in range(0, len(fr), size)]
    parts.append(stage.flush())
    return FapFrames.concat([p for p in parts if len(p)], fr.faps)


@pytest.mark.parametrize("size", [1, 17, 160, 1024])
def test_any_chunking_gives_the_batch_output(size):
    rng = np.random.default_rng(0)
    fr = frames(np.cumsum(rng.normal(0, 20, (700, 2)), axis=0))
    whole = run_chunks(Smoother(), fr, len(fr))
    assert np.array_equal(run_chunks(Smoother(), fr, size).values, whole.values)


def test_jitter_at_rest_is_strongly_reduced():
    rng = np.random.default_rng(1)
    noisy = 100 + rng.normal(0, 5, (500, 1))
    out = Smoother().process(frames(noisy)).values[100:, 0]
    assert np.std(out) < 0.35 * np.std(noisy[100:, 0])  # std of 5 FAPU -> about 1.5
    assert abs(np.mean(out) - 100) < 1.5


def test_speech_speed_ramp_lags_less_than_one_frame():
    """Jaw opening 0 -> 300 FAPU in 100 ms (3000 FAPU/s): the output trails by under one frame's motion."""
    ramp = np.minimum(np.arange(60) * 30.0, 300.0)[:, None]
    values = np.concatenate([np.zeros((20, 1)), ramp])
    out = Smoother().process(frames(values)).values[:, 0]
    during = slice(22, 30)  # from the third ramp frame on
    lag_frames = (values[during, 0] - out[during]) / 30.0
    assert np.all(lag_frames < 1.0), lag_frames
    assert np.all(lag_frames > 0)  # causal: never ahead of the input


def test_reset_forgets_and_settings_are_checked():
    s = Smoother()
    s.process(frames(np.full((5, 1), 50.0)))
    s.reset()
    out = s.process(frames(np.full((3, 1), -50.0), t0_s=10))
    assert out.values[0, 0] == -50.0
    with pytest.raises(VentriloquistError, match="min_cutoff_hz"):
        SmoothingSettings(min_cutoff_hz=0)
