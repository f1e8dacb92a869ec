"""MPEG-4 `.fap` file sink: frames on a fixed grid (default 25 fps), written atomically at close."""

from __future__ import annotations

from pathlib import Path

from ventriloquist.device.fap_file import write_fap
from ventriloquist.device.sinks.base import BaseSink, check_rate
from ventriloquist.device.values import FapFrames

DEFAULT_RATE_HZ = 25.0
"""The frame rate most MPEG-4 players expect."""


class FapFileSink(BaseSink):
    """Collects frames (the engine resamples them to rate_hz from the audio start) and writes one .fap."""

    def __init__(self, path: str | Path, rate_hz: float | None = DEFAULT_RATE_HZ, name: str = "ventriloquist") -> None:
        super().__init__()
        self.path = Path(path)
        self.rate_hz: float = check_rate(rate_hz or DEFAULT_RATE_HZ, str(path)) or DEFAULT_RATE_HZ
        self.name = name
        self.parts: list[FapFrames] | None = []

    def write(self, frames: FapFrames) -> None:
        if len(frames) and self.parts is not None:
            self.parts.append(frames)

    def close(self, t_end_s: float | None = None) -> None:
        if self.parts is None:
            return
        faps = self.parts[0].faps if self.parts else ()
        write_fap(self.path, FapFrames.concat(self.parts, faps), self.rate_hz, self.name)
        self.parts = None

    def abort(self) -> None:
        self.parts = None
