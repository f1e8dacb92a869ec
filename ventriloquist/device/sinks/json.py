"""JSON track: metadata plus one record per frame (FAPs by name, ARKit weights, viseme weights)."""

from __future__ import annotations

import json
from pathlib import Path

from ventriloquist.device.atomic import AtomicTextFile
from ventriloquist.device.fap import FAPS
from ventriloquist.device.mapping.arkit import ARKIT_NAMES
from ventriloquist.device.mapping.visemes import VISEME_NAMES
from ventriloquist.device.sinks.base import BaseSink, check_rate
from ventriloquist.device.sinks.records import frame_records
from ventriloquist.device.values import FapFrames

FORMAT = "ventriloquist-faps"
FORMAT_VERSION = 1


class JsonSink(BaseSink):
    """{"metadata": {...}, "frames": [{"time", "faps", "arkit", "visemes"}, ...]}, written at close."""

    def __init__(self, path: str | Path, rate_hz: float | None = None, sound_file: str = "") -> None:
        super().__init__()
        self.rate_hz = check_rate(rate_hz, str(path))
        self.out = AtomicTextFile(path)
        self.sound_file = sound_file
        self.faps: tuple[int, ...] = ()
        self.count = 0

    def write(self, frames: FapFrames) -> None:
        if self.count == 0 and not self.faps:
            self.faps = frames.faps
            self.out.write('{"frames": [')
        for record in frame_records(frames, self.t_origin_s):
            del record["t_capture"]
            self.out.write(("," if self.count else "") + "\n" + json.dumps(record, separators=(",", ":")))
            self.count += 1

    def close(self, t_end_s: float | None = None) -> None:
        if self.out.file.closed:
            return
        if not self.faps:
            self.out.write('{"frames": [')
        metadata = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "soundFile": self.sound_file,
            "rate_hz": self.rate_hz,
            "faps": [FAPS[f].name for f in self.faps],
            "fap_unit": "FAPU",
            "arkit": list(ARKIT_NAMES),
            "visemes": list(VISEME_NAMES),
        }
        self.out.write('\n], "metadata": ' + json.dumps(metadata) + "}\n")
        self.out.commit()

    def abort(self) -> None:
        self.out.discard()
