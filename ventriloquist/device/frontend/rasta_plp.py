"""RASTA-PLP (Hermansky & Morgan 1994), following Ellis' rastaplp.m step by step, streaming over frames.

power spectrum -> critical-band (Bark) integration -> ln -> RASTA band-pass IIR along time per band
-> exp -> equal-loudness weighting -> cube-root compression -> all-pole model (Levinson on the IDFT)
-> cepstra c1..c_count.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter, lfilter_zi

from ventriloquist.device.frontend.lpc import levinson, lpc_to_cepstra
from ventriloquist.device.frontend.settings import FrontendSettings

RASTA_NUMERATOR = np.array([0.2, 0.1, 0.0, -0.1, -0.2])
"""Ellis rastafilt.m: -(-2:2) / sum((-2:2)^2); used causally (4-frame FIR delay, no lookahead)."""
BAND_POWER_FLOOR = 1e-10
"""Floor on critical-band power before the log (silence stays finite)."""
CUBE_ROOT = 1.0 / 3.0
BAND_HALF_WIDTH_BARK = 0.5
"""Flat top of each critical-band curve is 1 Bark wide (Ellis fft2barkmx, width 1)."""
UPPER_SLOPE_PER_BARK = 2.5
"""Curve falls by 10^-2.5 per Bark above the band and 10^-1 per Bark below it (Ellis fft2barkmx)."""


def hz_to_bark(f_hz: np.ndarray | float) -> np.ndarray:
    """Bark scale as in Ellis/Hermansky: 6 asinh(f / 600)."""
    return 6.0 * np.arcsinh(np.asarray(f_hz, dtype=np.float64) / 600.0)


def bark_to_hz(z: np.ndarray) -> np.ndarray:
    return 600.0 * np.sinh(np.asarray(z) / 6.0)


def band_count(rate_hz: int) -> int:
    """Critical bands spaced <= 1 Bark from 0 Hz to Nyquist (Ellis: ceil(nyquist in Bark) + 1)."""
    return int(np.ceil(hz_to_bark(rate_hz / 2.0))) + 1


def bark_filterbank(rate_hz: int, fft_size: int) -> np.ndarray:
    """Hermansky's critical-band masking curves sampled on the FFT bins (Ellis fft2barkmx): (bands, bins)."""
    n_bands = band_count(rate_hz)
    nyquist_bark = float(hz_to_bark(rate_hz / 2.0))
    centres_bark = np.linspace(0.0, nyquist_bark, n_bands)
    bins_bark = hz_to_bark(np.fft.rfftfreq(fft_size, 1.0 / rate_hz))
    offset = bins_bark[None, :] - centres_bark[:, None]
    below_band = offset + BAND_HALF_WIDTH_BARK
    above_band = -UPPER_SLOPE_PER_BARK * (offset - BAND_HALF_WIDTH_BARK)
    return 10.0 ** np.minimum(0.0, np.minimum(below_band, above_band))


def equal_loudness(rate_hz: int) -> np.ndarray:
    """Hermansky's 40 dB equal-loudness weight at each band centre (Ellis postaud.m)."""
    centres_hz = bark_to_hz(np.linspace(0.0, float(hz_to_bark(rate_hz / 2.0)), band_count(rate_hz)))
    fsq = centres_hz**2
    return (fsq / (fsq + 1.6e5)) ** 2 * ((fsq + 1.44e6) / (fsq + 9.61e6))


class RastaFilter:
    """The RASTA band-pass along time, per band, with its filter state carried between chunks.

    The state starts at the steady state of the first frame, so a constant input gives 0 from the start.
    """

    def __init__(self, pole: float) -> None:
        self.denominator = np.array([1.0, -pole])
        self.unit_state = lfilter_zi(RASTA_NUMERATOR, self.denominator)
        self.state: np.ndarray | None = None

    def process(self, log_bands: np.ndarray) -> np.ndarray:
        if len(log_bands) == 0:
            return log_bands
        if self.state is None:
            self.state = self.unit_state[:, None] * log_bands[0][None, :]
        out, self.state = lfilter(RASTA_NUMERATOR, self.denominator, log_bands, axis=0, zi=self.state)
        return out

    def reset(self) -> None:
        self.state = None


class RastaPlp:
    """Power spectra (n, bins) -> RASTA-PLP cepstra (n, count); stateful through the RASTA filter."""

    def __init__(self, settings: FrontendSettings, count: int) -> None:
        self.filterbank_t = bark_filterbank(settings.rate_hz, settings.fft_size).T.copy()
        self.loudness = equal_loudness(settings.rate_hz)
        self.order = settings.plp_order
        self.count = count
        self.rasta = RastaFilter(settings.rasta_pole)

    def __call__(self, power: np.ndarray) -> np.ndarray:
        log_bands = np.log(np.maximum(power @ self.filterbank_t, BAND_POWER_FLOOR))
        bands = np.exp(self.rasta.process(log_bands))
        return plp_cepstra(bands, self.loudness, self.order, self.count)

    def reset(self) -> None:
        self.rasta.reset()


def plp_cepstra(bands: np.ndarray, loudness: np.ndarray, order: int, count: int) -> np.ndarray:
    """Critical-band powers -> equal loudness -> cube root -> all-pole model of `order` -> cepstra c1..c_count."""
    compressed = (bands * loudness) ** CUBE_ROOT
    compressed[:, 0] = compressed[:, 1]  # edge bands are unreliable: replicate neighbours (Ellis postaud.m)
    compressed[:, -1] = compressed[:, -2]
    autocorr = np.fft.irfft(compressed, n=2 * (compressed.shape[1] - 1), axis=1)[:, : order + 1]
    a, _ = levinson(autocorr, order)
    return lpc_to_cepstra(a, count)
