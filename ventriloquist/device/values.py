"""The values that travel between stages (AudioChunk -> FeatureFrames -> FapFrames) and the three contracts
they travel through: a `Source` yields AudioChunks, each `Stage` turns one value into the next, a `Sink` takes
FapFrames. The engine, the commands and the tests rely on these and on nothing else of a part.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

SPEECH_RATE_HZ = 16_000
"""The usual speech capture rate: the shipped model's, raw PCM on stdin's default, the benchmarks'."""


@dataclass(frozen=True)
class AudioChunk:
    """A piece of mono audio as it leaves a source."""

    samples: np.ndarray
    """float32, mono, in [-1, 1]."""
    rate_hz: int
    """Sample rate of `samples`."""
    t_capture_s: float = 0.0
    """Monotonic capture time of the first sample, seconds."""

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate_hz


@dataclass(frozen=True)
class FeatureFrames:
    """Speech features, one row per frame."""

    values: np.ndarray
    """(n, d) float32."""
    times_s: np.ndarray
    """(n,) float64: time of each frame's centre, on the capture clock."""

    def __len__(self) -> int:
        return len(self.times_s)

    @classmethod
    def empty(cls, dim: int) -> FeatureFrames:
        return cls(np.zeros((0, dim), np.float32), np.zeros(0, np.float64))

    @classmethod
    def concat(cls, parts: list[FeatureFrames], dim: int) -> FeatureFrames:
        if not parts:
            return cls.empty(dim)
        return cls(
            np.concatenate([p.values for p in parts]).astype(np.float32, copy=False),
            np.concatenate([p.times_s for p in parts]),
        )


@dataclass(frozen=True)
class FapFrames:
    """Face motion: FAP values in FAPU (MPEG-4 units), one row per frame.

    The one currency between the model and every sink; a sink never sees pattern ids.
    """

    times_s: np.ndarray
    """(n,) float64: time of each frame, on the capture clock of the audio it came from."""
    values: np.ndarray
    """(n, k) float32, in FAPU."""
    faps: tuple[int, ...]
    """MPEG-4 FAP numbers, one per column of `values`."""

    def __len__(self) -> int:
        return len(self.times_s)

    def column(self, fap: int) -> np.ndarray:
        """The track of one FAP (by number); zeros (neutral) when the FAP is not carried."""
        if fap in self.faps:
            return self.values[:, self.faps.index(fap)]
        return np.zeros(len(self.times_s), np.float32)

    @classmethod
    def empty(cls, faps: tuple[int, ...]) -> FapFrames:
        return cls(np.zeros(0, np.float64), np.zeros((0, len(faps)), np.float32), faps)

    @classmethod
    def concat(cls, parts: list[FapFrames], faps: tuple[int, ...]) -> FapFrames:
        if not parts:
            return cls.empty(faps)
        return cls(
            np.concatenate([p.times_s for p in parts]),
            np.concatenate([p.values for p in parts]).astype(np.float32, copy=False),
            faps,
        )


In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)


class Stage(Protocol[In, Out]):
    """One streaming step with its state in named attributes: chunking never changes what comes out."""

    def process(self, x: In, /) -> Out:
        """The output that the input so far fully determines."""
        ...

    def flush(self) -> Out:
        """What is still held back (end of stream); the stage then starts afresh."""
        ...

    def reset(self) -> None:
        """Forget the stream so far (a discontinuity in the audio)."""
        ...


class Source(Protocol):
    """Where audio comes from: iterate for AudioChunks, then close()."""

    @property
    def rate_hz(self) -> int | None:
        """Sample rate of the chunks, when known before the first one."""
        ...

    @property
    def live(self) -> bool:
        """True: t_capture_s is on time.monotonic(), so latency is measured and stale chunks dropped."""
        ...

    @property
    def overflows(self) -> int:
        """Input lost at the device so far."""
        ...

    def __iter__(self) -> Iterator[AudioChunk]: ...

    def close(self) -> None: ...


class Sink(Protocol):
    """Where FapFrames go: open(t_origin_s) once, write(frames) any number of times, then close(t_end_s),
    or abort() after a failure (a file sink then leaves nothing half-written)."""

    @property
    def rate_hz(self) -> float | None:
        """Frames per second the engine resamples to first; None: the model's own frame times."""
        ...

    @property
    def realtime(self) -> bool:
        """Watched as it happens (display, stream): its rate_hz grid starts at the first model frame."""
        ...

    @property
    def quit_requested(self) -> bool:
        """The sink asks the engine to stop (the kiosk face's Esc or window close)."""
        ...

    def open(self, t_origin_s: float) -> None:
        """`t_origin_s`: capture time of the audio's first sample."""
        ...

    def write(self, frames: FapFrames) -> None: ...

    def close(self, t_end_s: float | None = None) -> None:
        """Finish the output; `t_end_s`: capture time just after the audio's last sample, when known."""
        ...

    def abort(self) -> None: ...
