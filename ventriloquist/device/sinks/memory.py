"""Frames kept in memory: render draws them afterwards, benchmarks and tests look at them."""

from __future__ import annotations

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.sinks.base import BaseSink, check_rate
from ventriloquist.device.values import FapFrames


class FrameCollector(BaseSink):
    """Keeps every frame it is given (at `rate_hz`, or the model's frame times); `frames()` joins them."""

    def __init__(self, rate_hz: float | None = None) -> None:
        super().__init__()
        self.rate_hz = check_rate(rate_hz, "frame collector")
        self.parts: list[FapFrames] = []
        self.closed = False

    def open(self, t_origin_s: float) -> None:
        super().open(t_origin_s)
        self.parts = []

    def write(self, frames: FapFrames) -> None:
        if len(frames):
            self.parts.append(frames)

    def close(self, t_end_s: float | None = None) -> None:
        """Nothing to finish: the frames stay in memory."""
        self.closed = True

    def abort(self) -> None:
        self.parts = []
        self.closed = True

    def frames(self) -> FapFrames:
        if not self.parts:
            raise VentriloquistError("the audio gave no FAP frames (is it shorter than one frame?)")
        return FapFrames.concat(self.parts, self.parts[0].faps)
