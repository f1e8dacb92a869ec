"""Wrap sinks written elsewhere (the face display, the servo bridge) so the engine drives them like its own."""

from __future__ import annotations

from ventriloquist.device.sinks.base import Sink
from ventriloquist.device.values import FapFrames


class WrappedSink(Sink):
    """Any object with write(FapFrames)/close() watched live, fed at `rate_hz` (e.g. the kiosk FaceSink at 30 fps)."""

    realtime = True

    def __init__(self, inner, rate_hz: float | None) -> None:
        super().__init__()
        self.inner = inner
        self.rate_hz = rate_hz

    @property
    def quit_requested(self) -> bool:
        return bool(getattr(self.inner, "quit_requested", False))

    def write(self, frames: FapFrames) -> None:
        self.inner.write(frames)

    def close(self) -> None:
        self.inner.close()

    def abort(self) -> None:
        getattr(self.inner, "abort", self.inner.close)()


class ServoSink(Sink):
    """FAP frames -> firmware_bridge.ServoMapper -> a servo output (ServoLink live, ServoCsvSink offline).

    The mapper keeps its own update grid (t = k / update_rate_hz), counted from the audio start.
    """

    def __init__(self, mapper, output) -> None:
        super().__init__()
        self.mapper = mapper
        self.output = output

    def write(self, frames: FapFrames) -> None:
        shifted = FapFrames(frames.times_s - self.t_origin_s, frames.values, frames.faps)
        self.output.write(self.mapper.process(shifted))

    def close(self) -> None:
        tail = self.mapper.flush()
        if len(tail):
            self.output.write(tail)
        self.output.close()

    def abort(self) -> None:
        getattr(self.output, "abort", self.output.close)()
