"""MFCC in the same streaming framework, so training can compare it with the paper's LPC/RASTA-PLP."""

from __future__ import annotations

import numpy as np

from ventriloquist.device.frontend.settings import FrontendSettings

MEL_POWER_FLOOR = 1e-10
"""Floor on mel band power before the log (silence stays finite)."""


def hz_to_mel(f_hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale."""
    return 2595.0 * np.log10(1.0 + np.asarray(f_hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


def mel_filterbank(rate_hz: int, fft_size: int, n_bands: int, fmin_hz: float, fmax_hz: float) -> np.ndarray:
    """Triangular HTK-mel filters, peak 1 (= librosa.filters.mel(htk=True, norm=None)): (n_bands, n_bins)."""
    bin_hz = np.fft.rfftfreq(fft_size, 1.0 / rate_hz)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin_hz), hz_to_mel(fmax_hz), n_bands + 2))
    widths_hz = np.diff(edges_hz)
    ramps = edges_hz[:, None] - bin_hz[None, :]
    rising = -ramps[:-2] / widths_hz[:-1, None]
    falling = ramps[2:] / widths_hz[1:, None]
    return np.maximum(0.0, np.minimum(rising, falling))


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II rows 0..n_out-1 (= scipy.fft.dct(norm='ortho')): (n_out, n_in)."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    d = np.sqrt(2.0 / n_in) * np.cos(np.pi * k * (2 * n + 1) / (2 * n_in))
    d[0] /= np.sqrt(2.0)
    return d


class Mfcc:
    """Stateless per frame: power spectra -> log mel powers -> DCT-II -> c0..c(count-1)."""

    def __init__(self, settings: FrontendSettings, count: int) -> None:
        self.filterbank_t = mel_filterbank(
            settings.rate_hz, settings.fft_size, settings.mel_bands, settings.mel_fmin_hz, settings.mel_fmax_hz
        ).T.copy()
        self.dct_t = dct_matrix(settings.mel_bands, count).T.copy()

    def __call__(self, power: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(power @ self.filterbank_t, MEL_POWER_FLOOR)) @ self.dct_t
