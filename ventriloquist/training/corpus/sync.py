"""Audio/video offset of a clip, from its own speech and mouth: research crops and phone videos drift.

Mouth opening follows the loudness of the speech band closely enough that the lag of their best
cross-correlation finds a shifted soundtrack: on 300 GRID s1 clips, recorded in sync, the best lag's
median is 0 ms (quartiles -20 and +20 ms), while re-encoded clips of other people peak 60 to 190 ms
later. The estimate needs no model, so it cannot flatter one.

A few seconds of speech make a noisy estimate: on 3 s GRID s1 clips a quarter of the best lags lie
beyond +-40 ms by chance, and 1 in 100 beats lag 0 by 0.24 in r. So a clip is moved only when its
best lag beats lag 0 by more than chance allows for its length; a peak that is weak, sits at the
edge of the search range or does not beat lag 0 clearly is not credible: the clip is flagged and
left as it is.

The loudness of the speech band is a weak picture of the mouth on other people's speech: it found
no credible offset in 9 of the 12 clips of talking_faces/train, where a bundle's predicted lip
opening sees 40-140 ms on seven. So a bundle may stand in for the envelope (`bundle_opening`) to
sync clips for training. The same rule judges it, and is stricter for it: on the 118 held-out GRID s1
clips (in sync, never trained on) an s1-only bundle's gain over lag 0 reaches 0.18 at the 99th
percentile, against the envelope's 0.24. Its timing is the bundle's own, which sits within the
dead zone (median best lag +10 ms on those clips). `corpus prepare` syncs only training clips this
way: on an evaluation clip a bundle would find the offset that suits itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

SEARCH_S = 0.3
"""Offsets searched: +-300 ms."""
STEP_S = 0.01
"""Resolution of the search (the envelope's frame rate)."""
SPEECH_BAND_HZ = (300.0, 3000.0)
MIN_PEAK_R = 0.2
"""Weaker best correlations are chance on a few seconds of speech."""
EDGE_S = 0.05
"""A best lag this close to the search limit may lie beyond it: not credible."""
DEAD_ZONE_S = 0.04
"""Corrections smaller than this (one video frame at 25 fps) are within the estimate's noise: not applied."""
CHANCE_GAIN_3S = 0.3
"""Gain in r over lag 0 that a 3 s clip in sync reaches by chance less than 1 time in 100 (GRID s1's
99th percentile: 0.24); chance shrinks as 1 / sqrt(duration)."""


@dataclass(frozen=True)
class SyncEstimate:
    """How far the soundtrack is late against the picture, and whether to believe it."""

    offset_s: float
    """Audio delay: video frame times move by +offset_s onto the audio clock (0 when not credible or tiny)."""
    best_lag_s: float
    """Lag of the best correlation (sound after mouth is positive), credible or not."""
    peak_r: float
    r_at_zero: float
    credible: bool

    def as_row(self) -> dict:
        """Manifest fields."""
        return {"av_offset_s": round(self.offset_s, 3), "av_best_lag_s": round(self.best_lag_s, 3),
                "av_sync_r": round(self.peak_r, 3), "av_sync_credible": self.credible}


def speech_envelope(samples: np.ndarray, rate_hz: int, times_s: np.ndarray) -> np.ndarray:
    """Log power of the speech band in STEP_S frames, at `times_s`."""
    low, high = SPEECH_BAND_HZ
    sos = butter(4, [low, min(high, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos")
    x = sosfiltfilt(sos, np.asarray(samples, np.float64))
    hop = max(1, int(round(STEP_S * rate_hz)))
    n = len(x) // hop
    power = np.log(np.mean(x[: n * hop].reshape(n, hop) ** 2, 1) + 1e-10)
    return np.interp(times_s, (np.arange(n) + 0.5) * hop / rate_hz, power)


SpeechSignal = Callable[[np.ndarray, int, np.ndarray], np.ndarray]
"""(samples, rate_hz, times_s) -> a signal of the speech at times_s that the mouth opening should follow."""


def shifted(a: np.ndarray, b: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """(a[t + lag], b[t]) over the t where both exist."""
    return (a[lag:], b[: len(b) - lag]) if lag >= 0 else (a[:lag], b[-lag:])


def lag_curve(a: np.ndarray, b: np.ndarray, max_lag: int) -> np.ndarray:
    """Pearson r of a[t + lag] with b[t] for lag in -max_lag..max_lag (NaN where too few pairs)."""
    out = np.full(2 * max_lag + 1, np.nan)
    for i, lag in enumerate(range(-max_lag, max_lag + 1)):
        x, y = shifted(a, b, lag)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() >= 20 and np.std(x[ok]) > 0 and np.std(y[ok]) > 0:
            out[i] = np.corrcoef(x[ok], y[ok])[0, 1]
    return out


def bundle_opening(bundle) -> SpeechSignal:
    """A speech signal that is the bundle's predicted lip opening (its device pipeline: front end, net, smoother)."""
    from ventriloquist.training.evaluate import bundle_predictor, opening_of

    predict = bundle_predictor(bundle)

    def opening(samples: np.ndarray, rate_hz: int, times_s: np.ndarray) -> np.ndarray:
        t, faps = predict(samples, rate_hz)
        return np.interp(times_s, t, opening_of(faps))

    return opening


def estimate_offset(samples: np.ndarray, rate_hz: int, opening: np.ndarray, video_times_s: np.ndarray,
                    speech: SpeechSignal = speech_envelope) -> SyncEstimate:
    """Offset of one clip from its audio and its mouth opening per video frame (NaN where untracked); `speech`
    turns the audio into the signal the mouth is matched against."""
    grid = np.arange(0.0, len(samples) / rate_hz, STEP_S)
    ok = np.isfinite(opening)
    if ok.sum() < 2:
        return SyncEstimate(0.0, 0.0, float("nan"), float("nan"), False)
    mouth = np.interp(grid, video_times_s[ok], opening[ok], left=np.nan, right=np.nan)
    max_lag = int(round(SEARCH_S / STEP_S))
    curve = lag_curve(speech(samples, rate_hz, grid), mouth, max_lag)
    if not np.isfinite(curve).any():
        return SyncEstimate(0.0, 0.0, float("nan"), float("nan"), False)
    best = int(np.nanargmax(curve))
    lag_s = (best - max_lag) * STEP_S
    peak_r, r0 = float(curve[best]), float(curve[max_lag])
    moved = abs(lag_s) >= DEAD_ZONE_S
    tracked_s = np.isfinite(mouth).sum() * STEP_S
    clear = not moved or peak_r - r0 >= CHANCE_GAIN_3S * np.sqrt(3.0 / max(tracked_s, 1.0))
    credible = bool(peak_r >= MIN_PEAK_R and abs(lag_s) <= SEARCH_S - EDGE_S and clear)
    offset_s = lag_s if credible and moved else 0.0
    return SyncEstimate(offset_s, lag_s, peak_r, r0, credible)
