"""What most sinks share: the `Sink` contract's bookkeeping, the audio-relative clock, closing many at once."""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import FapFrames, Sink

S = TypeVar("S", bound=Sink)
log = logging.getLogger(__name__)


class BaseSink(ABC):
    """A `Sink` (ventriloquist.device.values) with the defaults filled in; subclasses write().

    Use as a context manager: close() on success, abort() on an exception.
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

    @property
    def quit_requested(self) -> bool:
        """Only a sink someone watches (the face) can be asked to quit."""
        return False

    def open(self, t_origin_s: float) -> None:
        self.t_origin_s = float(t_origin_s)

    @abstractmethod
    def write(self, frames: FapFrames) -> None:
        """Take the next frames (already resampled to `rate_hz` when set)."""

    def close(self, t_end_s: float | None = None) -> None:
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


def each(sinks: Iterable[S], finish: Callable[[S], object]) -> None:
    """finish(sink) for every sink, each in its own try, so one that fails cannot leave the servos or the
    display open; the first failure is raised once all were tried."""
    failure: BaseException | None = None
    for sink in sinks:
        try:
            finish(sink)
        except BaseException as e:  # re-raised below, after the others are closed
            failure = failure or e
    if failure is not None:
        raise failure


def abort_all(sinks: Iterable[Sink]) -> None:
    """abort() every sink while another error is on its way out: a sink that fails to abort is logged, so
    the error that stopped the run is the one reported."""
    try:
        each(sinks, lambda s: s.abort())
    except Exception as e:
        log.warning("an output failed to stop cleanly as well: %s", e)


@contextlib.contextmanager
def abort_on_error(sinks: list[S]) -> Iterator[list[S]]:
    """Yield `sinks` to fill; if filling fails, the ones already made are aborted (no temporary file stays)."""
    try:
        yield sinks
    except BaseException:
        abort_all(sinks)
        raise
