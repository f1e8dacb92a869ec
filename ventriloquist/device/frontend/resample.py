"""Streaming sample-rate conversion (soxr), so any input rate reaches the features at the preset's rate."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

LAG_PROBE_MAX_SAMPLES = 4_000
"""resampler_lag_s feeds silent chunks up to this many input samples to find soxr's worst hold-back."""
LAG_PROBE_STEP_SAMPLES = 7


class StreamResampler:
    """soxr.ResampleStream with a passthrough when the rates agree; output sample k is at time k / out_rate_hz."""

    def __init__(self, in_rate_hz: int, out_rate_hz: int, quality: str) -> None:
        self.in_rate_hz = in_rate_hz
        self.out_rate_hz = out_rate_hz
        self.quality = quality
        self.stream = self._new_stream()

    def _new_stream(self):
        if self.in_rate_hz == self.out_rate_hz:
            return None
        import soxr

        return soxr.ResampleStream(self.in_rate_hz, self.out_rate_hz, 1, dtype="float32", quality=self.quality)

    def process(self, samples: np.ndarray) -> np.ndarray:
        if self.stream is None:
            return samples
        return self.stream.resample_chunk(samples)

    def flush(self) -> np.ndarray:
        if self.stream is None:
            return np.zeros(0, np.float32)
        tail = self.stream.resample_chunk(np.zeros(0, np.float32), last=True)
        self.reset()
        return tail

    def reset(self) -> None:
        self.stream = self._new_stream()


@lru_cache(maxsize=64)
def resampler_lag_s(in_rate_hz: int, out_rate_hz: int, quality: str = "HQ") -> float:
    """Worst-case time soxr holds output back behind its input (0 when the rates agree), measured."""
    lag_s = 0.0
    for n in range(1, LAG_PROBE_MAX_SAMPLES, LAG_PROBE_STEP_SAMPLES):
        stream = StreamResampler(in_rate_hz, out_rate_hz, quality)
        produced = len(stream.process(np.zeros(n, np.float32)))
        lag_s = max(lag_s, n / in_rate_hz - produced / out_rate_hz)
    return lag_s
