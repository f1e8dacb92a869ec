"""New voices from one speaker's recordings (WORLD vocoder), so his measured lips can teach other voices.

GRID s1 gives an hour of speech with exactly tracked lips, from one man. Re-synthesising his audio
with another pitch (F0 scaled), another vocal tract (spectral envelope and aperiodicity warped
along frequency, which moves every formant by the same factor) and another tempo (the analysis
frames played faster or slower; pitch and formants kept) makes speech of a different-sounding
person whose mouth is still s1's: the lip track stays exact, its clock stretched with the tempo.
"""

from __future__ import annotations

import numpy as np

FRAME_PERIOD_MS = 5.0
"""WORLD analysis step."""


def convert(samples: np.ndarray, rate_hz: int, *, f0_scale: float, formant_scale: float,
            tempo: float) -> np.ndarray:
    """float32 audio of the same speech by another voice; it lasts len(samples) / tempo samples."""
    import pyworld

    x = np.asarray(samples, np.float64)
    f0, times = pyworld.dio(x, rate_hz, frame_period=FRAME_PERIOD_MS)
    f0 = pyworld.stonemask(x, f0, times, rate_hz)
    envelope = pyworld.cheaptrick(x, f0, times, rate_hz)
    aperiodicity = pyworld.d4c(x, f0, times, rate_hz)
    envelope, aperiodicity = warp_frequency(envelope, formant_scale), warp_frequency(aperiodicity, formant_scale)
    y = pyworld.synthesize(f0 * f0_scale, envelope, aperiodicity, rate_hz, FRAME_PERIOD_MS / tempo)
    y = y * (np.sqrt(np.mean(x**2)) / (np.sqrt(np.mean(y**2)) + 1e-12))  # as loud as the original
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def warp_frequency(spectra: np.ndarray, scale: float) -> np.ndarray:
    """Each frame's spectrum (bins 0..rate/2) stretched along frequency: scale > 1 moves features up."""
    if scale == 1.0:
        return spectra
    bins = np.arange(spectra.shape[1], dtype=np.float64)
    source = np.clip(bins / scale, 0, spectra.shape[1] - 1)
    left = np.floor(source).astype(int)
    right = np.minimum(left + 1, spectra.shape[1] - 1)
    frac = source - left
    return np.ascontiguousarray(spectra[:, left] * (1 - frac) + spectra[:, right] * frac)
