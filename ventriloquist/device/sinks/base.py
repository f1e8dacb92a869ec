"""What every sink shares: the write/close interface, the audio-relative clock, atomic file output."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import FapFrames


class Sink(ABC):
    """Receives FAP frames on the capture clock; `rate_hz` asks the engine to resample to that rate first.

    The engine calls open(t_origin_s) once (the capture time of the audio's first sample), then
    write(frames) any number of times, then close(). Use as a context manager.
    """

    rate_hz: float | None = None
    """Frames per second this sink wants; None: the model's own frame times."""
    realtime: bool = False
    """Watched as it happens (display, network stream): its rate_hz grid starts at the first model frame, so
    grid points sit on or just after model frames and nothing waits for the next one. Files keep a grid
    counted from the audio's first sample (frame k of a 25 fps .fap is at k / 25 s)."""

    def __init__(self) -> None:
        self.t_origin_s = 0.0
        """Capture time of the audio's first sample (file outputs count time from here)."""
        self.t_end_s: float | None = None
        """Capture time just after the audio's last sample; the engine sets it before close() when known."""
        self.opened = False

    def open(self, t_origin_s: float) -> None:
        self.t_origin_s = float(t_origin_s)
        self.opened = True

    @abstractmethod
    def write(self, frames: FapFrames) -> None:
        """Take the next frames (already resampled to `rate_hz` when set)."""

    def close(self) -> None:
        """Finish the output (files are only in place after this)."""

    def abort(self) -> None:
        """Stop without finishing (a failed run): files are not put in place."""
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def check_rate(rate_hz: float | None, where: str) -> float | None:
    if rate_hz is not None and not 0 < rate_hz <= 1000:
        raise VentriloquistError(f"{where}: rate must be within (0, 1000] frames/s, got {rate_hz}")
    return rate_hz


@contextlib.contextmanager
def abort_on_error(sinks: list) -> Iterator[list]:
    """Yield `sinks` to fill; if filling fails, the ones already made are aborted (no temporary file stays)."""
    try:
        yield sinks
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
