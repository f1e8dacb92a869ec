"""Streaming resampling of FAP frames onto a sink's own clock (display 30/60 fps, servos 50 Hz, .fap 25 fps).

Output frame k is at t_origin_s + k / rate_hz, linearly interpolated between the two model frames
around it; grid points before the first model frame hold its value. A grid point is emitted as soon
as a model frame at or after it arrives, so the wait is under one model frame (10 ms at 100 fps).
"""

from __future__ import annotations

import math

import numpy as np

from device.errors import VentriloquistError
from device.values import FapFrames

GRID_EPSILON = 1e-9
"""A grid point this close past the newest frame time (in grid steps) counts as reached (float rounding)."""


class FapResampler:
    """Stage: FapFrames at the model's frame times -> FapFrames at t_origin_s + k / rate_hz."""

    def __init__(self, rate_hz: float, t_origin_s: float = 0.0) -> None:
        if not rate_hz > 0:
            raise VentriloquistError(f"FAP resampler: rate_hz must be > 0, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.t_origin_s = float(t_origin_s)
        self.next_index = 0
        """Grid index of the next output frame."""
        self.last_time_s: float | None = None
        """Time of the last input frame (None before the first)."""
        self.last_values: np.ndarray | None = None
        self.faps: tuple[int, ...] = ()
        self.empty = FapFrames.empty(())
        """Returned when no grid point is ready (rebuilt when the FAP set changes)."""

    def process(self, frames: FapFrames) -> FapFrames:
        if frames.faps != self.faps:
            self.faps, self.empty = frames.faps, FapFrames.empty(frames.faps)
        if len(frames) == 0:
            return self.empty
        times_s, values = frames.times_s, frames.values
        if self.last_time_s is not None:
            later = times_s > self.last_time_s  # a restarted source may repeat or go back in time
            if not later.all():
                times_s, values = times_s[later], values[later]
                if len(times_s) == 0:
                    return self.empty
        t_newest_s = float(times_s[-1])
        n_ready = math.floor((t_newest_s - self.t_origin_s) * self.rate_hz + GRID_EPSILON) + 1 - self.next_index
        if n_ready > 0:
            if self.last_time_s is not None:
                times_s = np.concatenate(([self.last_time_s], times_s))
                values = np.concatenate((self.last_values[None], values))
            out = self._interpolate(np.asarray(times_s, np.float64), values, n_ready)
        else:
            out = self.empty
        self.last_time_s, self.last_values = t_newest_s, np.array(values[-1], np.float32)
        return out

    def _interpolate(self, times_s: np.ndarray, values: np.ndarray, n: int) -> FapFrames:
        """np.interp on every column at once (same formula: slope * (t - t_j) + v_j, held outside the range)."""
        grid_s = self.t_origin_s + (self.next_index + np.arange(n)) / self.rate_hz
        self.next_index += n
        values = np.asarray(values, np.float64)
        if len(times_s) == 1:
            return FapFrames(grid_s, np.repeat(values, n, axis=0).astype(np.float32), self.faps)
        j = np.searchsorted(times_s, grid_s, side="right") - 1
        np.clip(j, 0, len(times_s) - 2, out=j)
        t_j = times_s[j]
        slope = (values[j + 1] - values[j]) / (times_s[j + 1] - t_j)[:, None]
        out = slope * (grid_s - t_j)[:, None] + values[j]
        before, after = grid_s < times_s[0], grid_s >= times_s[-1]
        if before.any() or after.any():
            out[before], out[after] = values[0], values[-1]
        return FapFrames(grid_s, out.astype(np.float32), self.faps)

    def flush(self) -> FapFrames:
        empty = self.empty
        self.reset()
        return empty

    def reset(self) -> None:
        self.next_index = 0
        self.last_time_s = None
        self.last_values = None
