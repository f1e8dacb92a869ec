"""Causal running normalisation of feature frames: each voice and microphone becomes mean 0, spread 1.

A net trained on one studio speaker reads that speaker's timbre, level and channel as part of the
speech. Subtracting a running mean and dividing by a running spread, learnt from the last few
seconds of the same stream, takes most of that away (cepstral mean and variance normalisation),
and works live because it only looks back. Statistics are exponentially weighted with time
constant `settings.normalise_s`, bias-corrected so the first frames are a plain average. Frames
more than `settings.normalise_gate_db` below the running mean energy count with the weight
`settings.normalise_silence_weight` (their time passes that much slower): a long silence between
utterances moves the statistics only slowly towards silence.

Frames are updated one at a time in stream order, so any chunking gives bit-identical output.
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
        self.dim = settings.dim
        self.prior_weight = settings.normalise_prior_s * settings.frame_rate_hz
        self.prior_mean = np.array(settings.normalise_prior_mean or np.zeros(self.dim), np.float64)
        self.prior_variance = np.array(settings.normalise_prior_std or np.zeros(self.dim), np.float64) ** 2
        self.weight = 0.0
        """Sum of the decayed weights of the frames seen and of the prior (0: nothing yet)."""
        self.mean = np.zeros(self.dim)
        self.scatter = np.zeros(self.dim)
        """Decayed sum of squared deviations (West's weighted update); variance = scatter / weight."""
        self.reset()

    def process(self, frames: FeatureFrames) -> FeatureFrames:
        values = np.asarray(frames.values, np.float64)
        out = np.empty(values.shape, np.float32)
        for i, x in enumerate(values):
            w = self._weight_of(x)
            if w:
                decay = self.decay if w == 1.0 else self.decay**w
                self.weight = decay * self.weight + w
                delta = x - self.mean
                self.mean = self.mean + w * delta / self.weight
                self.scatter = decay * self.scatter + w * delta * (x - self.mean)
            variance = self.scatter / self.weight  # > 0: the first frame always counts
            out[i] = (x - self.mean) / np.sqrt(np.maximum(variance, MIN_VARIANCE))
        return FeatureFrames(out, frames.times_s)

    def _weight_of(self, x: np.ndarray) -> float:
        """Frame x's weight in the statistics: 1, or the silence weight when far below the mean energy."""
        column = self.energy_column
        if self.weight == 0.0 or column < 0 or x[column] > self.mean[column] - self.gate:
            return 1.0
        return self.silence_weight

    def flush(self) -> FeatureFrames:
        self.reset()
        return FeatureFrames.empty(self.dim)

    def reset(self) -> None:
        """Back to the prior (typical training speech), or to nothing without one."""
        self.weight = self.prior_weight
        self.mean = self.prior_mean.copy()
        self.scatter = self.prior_variance * self.prior_weight
