"""Streaming resampling of FAP frames onto a sink's own clock (display 30/60 fps, servos 50 Hz, .fap 25 fps).

Output frame k is at t_origin_s + k / rate_hz, linearly interpolated between the two model frames
around it; grid points before the first model frame hold its value. A grid point is emitted as soon
as a model frame at or after it arrives, so the wait is under one model frame (10 ms at 100 fps); a
grid anchored at the first model frame (live outputs) waits less: 0, 3.3 or 6.7 ms at 30 fps, 0 at 50.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import FapFrames

GRID_EPSILON = 1e-9
"""A grid point this close past the newest frame time (in grid steps) counts as reached (float rounding)."""


class FapResampler:
    """Stage: FapFrames at the model's frame times -> FapFrames at t_origin_s + k / rate_hz."""

    def __init__(self, rate_hz: float, t_origin_s: float | None = 0.0) -> None:
        if not rate_hz > 0:
            raise VentriloquistError(f"FAP resampler: rate_hz must be > 0, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.anchor_s = t_origin_s
        """Grid origin as given; None: the first frame's time (for live outputs, see Sink.realtime)."""
        self.t_origin_s = 0.0 if t_origin_s is None else float(t_origin_s)
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
        times = frames.times_s.tolist()
        skip = 0 if self.last_time_s is None else bisect.bisect_right(times, self.last_time_s)
        if skip == len(times):  # nothing new (a restarted source may repeat or go back in time)
            return self.empty
        times, values = times[skip:], frames.values[skip:]
        if self.anchor_s is None and self.last_time_s is None:  # the stream's first frame
            self.t_origin_s = times[0]
        t_newest_s = times[-1]
        n_ready = math.floor((t_newest_s - self.t_origin_s) * self.rate_hz + GRID_EPSILON) + 1 - self.next_index
        rows = list(values)
        if self.last_time_s is not None:
            times, rows = [self.last_time_s, *times], [self.last_values, *rows]
        out = self._interpolate(times, rows, n_ready) if n_ready > 0 else self.empty
        self.last_time_s, self.last_values = t_newest_s, np.array(values[-1], np.float32)
        return out

    def _interpolate(self, times: list[float], rows: list[np.ndarray], n: int) -> FapFrames:
        """Grid points next_index .. + n: linear between the frames around each, held outside their range.

        A loop over the (few) grid points of a call, each a couple of vector operations: live calls
        bring one model frame, so this beats a vectorised pass that would pay for its set-up every call.
        """
        grid_s = [self.t_origin_s + k / self.rate_hz for k in range(self.next_index, self.next_index + n)]
        self.next_index += n
        out = []
        for t_s in grid_s:
            j = min(max(bisect.bisect_right(times, t_s) - 1, 0), len(times) - 2)
            if j < 0:  # a single frame: hold it
                out.append(rows[0])
                continue
            w = (t_s - times[j]) / (times[j + 1] - times[j])
            if w <= 0.0 or w >= 1.0:  # on or outside a frame: that frame exactly, whichever call brought it
                out.append(rows[j] if w <= 0.0 else rows[j + 1])
            else:
                out.append(rows[j] + np.float32(w) * (rows[j + 1] - rows[j]))
        return FapFrames(np.array(grid_s), np.array(out, np.float32), self.faps)

    def flush(self) -> FapFrames:
        empty = self.empty
        self.reset()
        return empty

    def reset(self) -> None:
        self.t_origin_s = 0.0 if self.anchor_s is None else float(self.anchor_s)
        self.next_index = 0
        self.last_time_s = None
        self.last_values = None
