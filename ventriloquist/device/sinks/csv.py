"""CSV track: a `time` column (s from audio start) then one column per FAP, headed by its MPEG-4 name, in FAPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ventriloquist.device.atomic import AtomicTextFile
from ventriloquist.device.fap import FAPS
from ventriloquist.device.sinks.base import BaseSink, check_rate
from ventriloquist.device.values import FapFrames

TIME_FORMAT = "%.4f"
VALUE_FORMAT = "%.2f"


class CsvSink(BaseSink):
    """Streams rows to a temporary file; close() puts it in place."""

    def __init__(self, path: str | Path, rate_hz: float | None = None) -> None:
        super().__init__()
        self.rate_hz = check_rate(rate_hz, str(path))
        self.out = AtomicTextFile(path)
        self.header_done = False

    def write(self, frames: FapFrames) -> None:
        if not self.header_done:
            self.out.write(",".join(["time", *(FAPS[f].name for f in frames.faps)]) + "\n")
            self.header_done = True
        if len(frames) == 0:
            return
        rows = np.column_stack([np.asarray(frames.times_s) - self.t_origin_s, frames.values])
        fmt = ",".join([TIME_FORMAT] + [VALUE_FORMAT] * len(frames.faps))
        self.out.write("".join(fmt % tuple(r) + "\n" for r in rows))

    def close(self, t_end_s: float | None = None) -> None:
        self.out.commit()

    def abort(self) -> None:
        self.out.discard()
