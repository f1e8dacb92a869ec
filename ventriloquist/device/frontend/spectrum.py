"""Per-frame building blocks shared by several feature kinds: window, power spectrum, log energy."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

ENERGY_FLOOR = 1e-10
"""Added to the mean square before the log, so silence gives a finite -23.0."""


@lru_cache(maxsize=16)
def hamming(window_samples: int) -> np.ndarray:
    """Symmetric Hamming window (the paper's), read-only."""
    w = np.hamming(window_samples)
    w.flags.writeable = False
    return w


def frame_view(samples: np.ndarray, n_frames: int, span: int, hop: int) -> np.ndarray:
    """Rows samples[i*hop : i*hop + span] for i < n_frames, as a view (a cheap sliding_window_view)."""
    samples = np.ascontiguousarray(samples)
    step = samples.itemsize
    return np.ndarray((n_frames, span), samples.dtype, samples, 0, (hop * step, step))


def power_spectra(frames: np.ndarray, fft_size: int) -> np.ndarray:
    """|rfft(Hamming * frame)|^2 per row: (n, fft_size // 2 + 1)."""
    squares = np.fft.rfft(frames * hamming(frames.shape[1]), n=fft_size, axis=1).view(np.float64)
    np.square(squares, out=squares)  # re^2 and im^2 side by side
    return squares[:, 0::2] + squares[:, 1::2]


def log_energy(frames: np.ndarray) -> np.ndarray:
    """ln(mean square + ENERGY_FLOOR) of each raw (unwindowed) frame."""
    return np.log(np.einsum("ij,ij->i", frames, frames) / frames.shape[1] + ENERGY_FLOOR)
