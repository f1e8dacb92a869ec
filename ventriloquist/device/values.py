"""The values that travel between stages: AudioChunk -> FeatureFrames -> FapFrames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
