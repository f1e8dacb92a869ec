"""The "jaw flapper" every hobby servo board uses: smoothed loudness -> mouth opening, our floor to beat.

RMS energy in 20 ms windows at 100 frames/s, low-passed at 8 Hz (zero phase, which flatters it:
a real board lags), mapped linearly to each FAP by least squares on training clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

ENVELOPE_RATE_HZ = 100.0
ENVELOPE_WINDOW_S = 0.020
ENVELOPE_CUTOFF_HZ = 8.0
FILTER_ORDER = 2


def loudness_envelope(samples: np.ndarray, rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """(times_s, envelope): windowed RMS at ENVELOPE_RATE_HZ, low-passed at ENVELOPE_CUTOFF_HZ."""
    hop = int(round(rate_hz / ENVELOPE_RATE_HZ))
    window = int(round(rate_hz * ENVELOPE_WINDOW_S))
    x = np.asarray(samples, np.float64)
    n = max(0, (len(x) - window) // hop + 1)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(x, window)[::hop][:n]
    rms = np.sqrt(np.mean(frames**2, axis=1))
    times_s = (np.arange(n) * hop + (window - 1) / 2) / rate_hz
    if n > 3 * (2 * FILTER_ORDER + 1):
        sos = butter(FILTER_ORDER, ENVELOPE_CUTOFF_HZ, fs=ENVELOPE_RATE_HZ, output="sos")
        rms = sosfiltfilt(sos, rms)
    return times_s, np.maximum(rms, 0.0)


@dataclass(frozen=True)
class JawFlapper:
    """Envelope -> FAPs by one gain and offset per FAP (fitted on training clips)."""

    gain: np.ndarray
    """(k,) FAPU per unit envelope."""
    offset: np.ndarray
    """(k,) FAPU."""
    faps: tuple[int, ...]

    def faps_at(self, samples: np.ndarray, rate_hz: int, times_s: np.ndarray) -> np.ndarray:
        """(len(times_s), k) FAP values of the audio at the given times."""
        t, env = loudness_envelope(samples, rate_hz)
        e = np.interp(times_s, t, env) if len(t) else np.zeros(len(times_s))
        return (e[:, None] * self.gain + self.offset).astype(np.float32)

    @classmethod
    def untrained(cls, faps: tuple[int, ...], gain_fapu: float = 1000.0) -> JawFlapper:
        """Without training clips: the envelope opens the jaw and lips (only correlations are meaningful then)."""
        gain = np.zeros(len(faps), np.float32)
        for fap, sign in ((3, 1.0), (4, -0.5), (5, -0.5)):
            if fap in faps:
                gain[faps.index(fap)] = sign * gain_fapu
        return cls(gain, np.zeros(len(faps), np.float32), tuple(faps))

    @classmethod
    def fit(cls, clips: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]], faps: tuple[int, ...]) -> JawFlapper:
        """clips: (samples, rate_hz, times_s, targets (n, k)) with only valid frames."""
        envs, ys = [], []
        for samples, rate_hz, times_s, targets in clips:
            t, env = loudness_envelope(samples, rate_hz)
            envs.append(np.interp(times_s, t, env) if len(t) else np.zeros(len(times_s)))
            ys.append(targets)
        e, y = np.concatenate(envs), np.concatenate(ys).astype(np.float64)
        design = np.stack([e, np.ones_like(e)], 1)
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        return cls(coef[0].astype(np.float32), coef[1].astype(np.float32), tuple(faps))
