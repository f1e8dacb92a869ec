"""Causal running normalisation of feature frames: each voice and microphone becomes mean 0, spread 1.

A net trained on one studio speaker reads that speaker's timbre, level and channel as part of the
speech. Subtracting a running mean and dividing by a running spread, learnt from the last few
seconds of the same stream, takes most of that away (cepstral mean and variance normalisation),
and works live because it only looks back. Statistics are exponentially weighted with time
constant `settings.normalise_s`, bias-corrected so the first frames are a plain average. Frames
more than `settings.normalise_gate_db` below the running mean energy count with the weight
`settings.normalise_silence_weight` (their time passes that much slower): a long silence between
utterances moves the statistics only slowly towards silence.

The statistics are kept as decayed sums of weight, x and x^2 (mean = sum x / weight, variance =
sum x^2 / weight - mean^2: in exact arithmetic the same as West's weighted update), so a frame costs
one multiply-add on one vector and the division comes once per chunk: a live 20 ms chunk (two frames)
took some fifteen numpy calls per frame before. Frames are added one at a time in stream order, so
any chunking gives bit-identical output.
"""

from __future__ import annotations

import math

import numpy as np

from ventriloquist.device.frontend.settings import FrontendSettings, column_of
from ventriloquist.device.values import FeatureFrames

MIN_VARIANCE = 1e-4
"""Variance floor (feature units squared): a constant feature (digital silence) maps to 0, not to NaN."""
NATURAL_LOG_PER_DB = math.log(10) / 10
"""log_energy is the natural log of power: 10 dB is ln(10)."""


class RunningNormaliser:
    """process(FeatureFrames) -> FeatureFrames of the same shape and times, flush(), reset()."""

    def __init__(self, settings: FrontendSettings) -> None:
        self.decay = math.exp(-1.0 / (settings.normalise_s * settings.frame_rate_hz))
        """Weight of the past per frame: exp(-hop / time constant)."""
        self.energy_column = column_of(settings, "log_energy")
        """Column whose value gates the update (-1 without log_energy: every frame updates)."""
        self.gate = settings.normalise_gate_db * NATURAL_LOG_PER_DB
        self.silence_weight = settings.normalise_silence_weight
        self.gated = self.energy_column >= 0 and self.silence_weight != 1.0
        """Whether frame weights depend on the stream (else every frame weighs 1)."""
        self.dim = settings.dim
        prior_weight = settings.normalise_prior_s * settings.frame_rate_hz
        prior_mean = np.array(settings.normalise_prior_mean or np.zeros(self.dim), np.float64)
        prior_variance = np.array(settings.normalise_prior_std or np.zeros(self.dim), np.float64) ** 2
        self.prior_sums = prior_weight * np.concatenate([[1.0], prior_mean, prior_variance + prior_mean**2])
        """The prior (typical training speech) as if it had been seen: weight, sum x, sum x^2."""
        self.sums = self.prior_sums.copy()
        """Decayed sums of weight, x (dim values) and x^2 (dim values) over the prior and the frames seen."""

    def process(self, frames: FeatureFrames) -> FeatureFrames:
        x = np.asarray(frames.values, np.float64)
        d = x.shape[1]
        sums = self._accumulate(np.concatenate([np.ones((len(x), 1)), x, x * x], axis=1), x)
        mean = sums[:, 1 : 1 + d] / sums[:, :1]  # weight > 0: the first frame always counts
        variance = sums[:, 1 + d :] / sums[:, :1] - mean * mean
        out = (x - mean) / np.sqrt(np.maximum(variance, MIN_VARIANCE))
        return FeatureFrames(out.astype(np.float32), frames.times_s)

    def _accumulate(self, moments: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The sums after each frame, in stream order: sums = decay**w * sums + w * (1, x, x^2)."""
        out = np.empty_like(moments)
        sums = self.sums
        energies = x[:, self.energy_column].tolist() if self.gated else [None] * len(x)
        for i, (row, energy) in enumerate(zip(moments, energies, strict=True)):
            w = 1.0 if energy is None else self._weight_of(energy, sums)
            if w == 1.0:
                sums = self.decay * sums + row
            elif w:
                sums = self.decay**w * sums + w * row
            out[i] = sums
        self.sums = sums
        return out

    def _weight_of(self, energy: float, sums: np.ndarray) -> float:
        """A frame's weight: 1, or the silence weight when far below the running mean energy."""
        if sums[0] == 0.0 or energy > sums[1 + self.energy_column] / sums[0] - self.gate:
            return 1.0
        return self.silence_weight

    def flush(self) -> FeatureFrames:
        self.reset()
        return FeatureFrames.empty(self.dim)

    def reset(self) -> None:
        """Back to the prior, or to nothing without one."""
        self.sums = self.prior_sums.copy()

