"""Stack past, current and future frames into one net input row (the paper's 3 + 1 + 2 frames)."""

from __future__ import annotations

import numpy as np

from ventriloquist.device.frontend.settings import FrontendSettings
from ventriloquist.device.frontend.spectrum import frame_view
from ventriloquist.device.values import FeatureFrames


class ContextWindow:
    """FeatureFrames (n, dim) -> FeatureFrames (n, (past + 1 + future) * dim), time = the centre frame's.

    Row layout: frames oldest first (t - past ... t + future), each frame's `dim` values contiguous.
    Edge policy, identical in batch and streaming: a missing past frame repeats the stream's first
    frame; at flush a missing future frame repeats the last one. A row is emitted as soon as its last
    future frame arrives; flush emits the rest and starts a new stream.
    """

    def __init__(self, settings: FrontendSettings) -> None:
        self.dim = settings.dim
        self.past = settings.context_past
        self.future = settings.context_future
        self.span = self.past + 1 + self.future
        self.values = np.zeros((0, self.dim), np.float32)
        """Frames kept for windows still to come (edge copies included)."""
        self.times_s = np.zeros(0)
        """Times of `values` rows (edge copies carry the edge frame's time)."""
        self.started = False

    def process(self, frames: FeatureFrames) -> FeatureFrames:
        if len(frames) == 0:
            return FeatureFrames.empty(self.span * self.dim)
        values = np.asarray(frames.values, np.float32)
        times_s = np.asarray(frames.times_s, np.float64)
        if not self.started:
            self.started = True
            values = np.concatenate([np.repeat(values[:1], self.past, axis=0), values])
            times_s = np.concatenate([np.repeat(times_s[:1], self.past), times_s])
        return self._emit(np.concatenate([self.values, values]), np.concatenate([self.times_s, times_s]))

    def flush(self) -> FeatureFrames:
        if not self.started:
            return FeatureFrames.empty(self.span * self.dim)
        values = np.concatenate([self.values, np.repeat(self.values[-1:], self.future, axis=0)])
        times_s = np.concatenate([self.times_s, np.repeat(self.times_s[-1:], self.future)])
        out = self._emit(values, times_s)
        self.reset()
        return out

    def reset(self) -> None:
        self.values = np.zeros((0, self.dim), np.float32)
        self.times_s = np.zeros(0)
        self.started = False

    def _emit(self, values: np.ndarray, times_s: np.ndarray) -> FeatureFrames:
        """Rows of `span` consecutive frames: each is a contiguous run of the (contiguous) frame array."""
        n_out = max(len(values) - self.span + 1, 0)
        self.values, self.times_s = values[n_out:], times_s[n_out:]
        if n_out == 0:
            return FeatureFrames.empty(self.span * self.dim)
        rows = frame_view(values.reshape(-1), n_out, self.span * self.dim, self.dim)
        return FeatureFrames(rows.copy(), times_s[self.past : self.past + n_out].copy())
