"""Pitch: YIN (de Cheveigne & Kawahara 2002) on all frames of a chunk at once, plus a 3-frame smoother.

The pitch segment of a frame ends where the frame's analysis window ends, so pitch adds no lookahead
of its own; the smoother looks one frame ahead (majority vote on voicing, median of voiced F0s).
"""

from __future__ import annotations

import numpy as np
from scipy.fft import next_fast_len

from ventriloquist.device.frontend.settings import FrontendSettings

TINY = np.finfo(np.float64).tiny
SMOOTHING_SPAN_FRAMES = 3
"""Previous, current and next frame."""


class Yin:
    """Raw per-frame F0 and voicing from pitch segments (n, segment_samples)."""

    def __init__(self, settings: FrontendSettings) -> None:
        self.rate_hz = settings.rate_hz
        self.window_samples = int(round(settings.pitch_window_s * settings.rate_hz))
        self.lag_min = int(np.floor(settings.rate_hz / settings.f0_max_hz))
        self.lag_max = int(np.ceil(settings.rate_hz / settings.f0_min_hz))
        self.segment_samples = self.window_samples + self.lag_max
        self.fft_size = next_fast_len(self.segment_samples, real=True)
        """Correlation by FFT without wrap-around needs >= segment_samples points; any fast size will do."""
        self.threshold = settings.yin_threshold
        self.voicing_threshold = settings.voicing_threshold
        self.floor_mean_square = 10.0 ** (settings.voicing_floor_dbfs / 10.0)

    def __call__(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, w, lag_max = len(segments), self.window_samples, self.lag_max
        head = np.fft.rfft(segments[:, :w], n=self.fft_size, axis=1)
        np.conjugate(head, out=head)
        head *= np.fft.rfft(segments, n=self.fft_size, axis=1)
        corr = np.fft.irfft(head, n=self.fft_size, axis=1)[:, : lag_max + 1]
        # From here on (lag or sample, frame): running sums go down the rows, each step one vectorised row add.
        energy = np.zeros((segments.shape[1] + 1, n))
        np.cumsum(np.square(segments.T, order="C"), axis=0, out=energy[1:])
        lagged_energy = energy[w : w + lag_max + 1] - energy[: lag_max + 1]
        diff = energy[w] + lagged_energy - 2.0 * corr.T
        np.maximum(diff, 0.0, out=diff)
        cmnd = self._cumulative_mean_normalised(diff)
        lag = self._best_lag(cmnd)
        cols = np.arange(n)
        period = lag + _parabolic_offset(cmnd[lag - 1, cols], cmnd[lag, cols], cmnd[lag + 1, cols])
        voiced = (cmnd[lag, cols] < self.voicing_threshold) & (energy[w] / w > self.floor_mean_square)
        return self.rate_hz / period, voiced

    @staticmethod
    def _cumulative_mean_normalised(diff: np.ndarray) -> np.ndarray:
        """YIN's d'(lag) = d(lag) * lag / sum of d up to lag, for diff laid out (lag, frame)."""
        running = np.cumsum(diff, axis=0)
        cmnd = diff * np.arange(len(diff), dtype=np.float64)[:, None]
        cmnd[1:] /= np.maximum(running[1:], TINY)  # silence: 0, but the energy floor keeps it unvoiced
        cmnd[0] = 1.0
        return cmnd

    def _best_lag(self, cmnd: np.ndarray) -> np.ndarray:
        """First dip below the threshold, followed down to its local minimum; else the global minimum."""
        search = cmnd[self.lag_min : self.lag_max]  # lag_max itself is kept as the right neighbour
        below = search < self.threshold
        first = np.argmax(below, axis=0)
        rising = np.ones_like(below)
        rising[:-1] = search[1:] >= search[:-1]
        after_first = np.arange(len(search))[:, None] >= first[None, :]
        dip = np.argmax(rising & after_first, axis=0)
        lag = np.where(below.any(axis=0), dip, np.argmin(search, axis=0))
        return lag + self.lag_min


def _parabolic_offset(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sub-sample position of a parabola's vertex through three equally spaced points, within +-1."""
    curvature = left - 2.0 * centre + right
    safe = np.where(curvature > 0, curvature, 1.0)
    return np.where(curvature > 0, np.clip(0.5 * (left - right) / safe, -1.0, 1.0), 0.0)


class PitchSmoother:
    """Streaming 3-frame smoother with one frame of lookahead; the edges repeat the first / last frame."""

    def __init__(self) -> None:
        self.f0_hz = np.zeros(0)
        """Raw F0 of the frames still waiting for their successor (the previous one leads)."""
        self.voiced = np.zeros(0, bool)

    def process(self, f0_hz: np.ndarray, voiced: np.ndarray) -> np.ndarray:
        """Smoothed F0 (0 = unvoiced) for every frame whose next frame is now known."""
        if len(f0_hz) == 0:
            return np.zeros(0)
        if len(self.f0_hz) == 0:
            f0_hz, voiced = np.concatenate([f0_hz[:1], f0_hz]), np.concatenate([voiced[:1], voiced])
        return self._smooth(np.concatenate([self.f0_hz, f0_hz]), np.concatenate([self.voiced, voiced]))

    def flush(self) -> np.ndarray:
        if len(self.f0_hz) == 0:
            return np.zeros(0)
        f0_hz, voiced = self.f0_hz, self.voiced
        out = self._smooth(np.concatenate([f0_hz, f0_hz[-1:]]), np.concatenate([voiced, voiced[-1:]]))
        self.reset()
        return out

    def reset(self) -> None:
        self.f0_hz = np.zeros(0)
        self.voiced = np.zeros(0, bool)

    def _smooth(self, f0_hz: np.ndarray, voiced: np.ndarray) -> np.ndarray:
        keep = SMOOTHING_SPAN_FRAMES - 1
        self.f0_hz, self.voiced = f0_hz[-keep:], voiced[-keep:]
        if len(f0_hz) < SMOOTHING_SPAN_FRAMES:
            return np.zeros(0)
        f0_prev, f0_now, f0_next = f0_hz[:-2], f0_hz[1:-1], f0_hz[2:]  # the span: previous, current, next
        v_prev, v_now, v_next = voiced[:-2], voiced[1:-1], voiced[2:]
        n_voiced = v_prev.astype(np.int64) + v_now + v_next
        highest = np.maximum(np.maximum(f0_prev, f0_now), f0_next)
        lowest = np.minimum(np.minimum(f0_prev, f0_now), f0_next)
        all_voiced_median = f0_prev + f0_now + f0_next - highest - lowest
        two_voiced_mean = (f0_prev * v_prev + f0_now * v_now + f0_next * v_next) / np.maximum(n_voiced, 1)
        smoothed = np.where(n_voiced == SMOOTHING_SPAN_FRAMES, all_voiced_median, two_voiced_mean)
        return np.where(n_voiced * 2 > SMOOTHING_SPAN_FRAMES, smoothed, 0.0)
