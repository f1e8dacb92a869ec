"""Mouth cues in Rhubarb Lip Sync's TSV and JSON layouts, so tools that import Rhubarb output read ours.

Written the way Rhubarb's own exporters write them (rhubarb/src/exporters/TsvExporter.cpp, JsonExporter.cpp):
times in whole centiseconds printed with two decimals; cues contiguous from 0.00, no two neighbours with the
same shape (Rhubarb's JoiningTimeline), none empty.
TSV: `<start>\t<shape>` per cue, then `<end>\tX`.
JSON: the exporter's exact text, one cue per line; an empty animation is one zero-length X cue.
Shapes come from ventriloquist.device.mapping.mouth_shapes (rules documented there).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ventriloquist.device import atomic
from ventriloquist.device.mapping.mouth_shapes import mouth_shapes, shape_cues
from ventriloquist.device.sinks.base import BaseSink
from ventriloquist.device.values import FapFrames

MIN_CUE_S = 0.04
"""Shorter shape runs join the previous cue (Rhubarb avoids sub-frame flicker the same way)."""


def centisecond_cues(cues: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Cues on Rhubarb's centisecond clock: a cue that rounds to nothing goes, equal neighbours join."""
    out: list[tuple[float, float, str]] = []
    for start_s, end_s, shape in cues:
        a, b = round(start_s * 100) / 100, round(end_s * 100) / 100
        if b <= a:
            continue  # its neighbours already meet at a == b
        if out and out[-1][2] == shape:
            out[-1] = (out[-1][0], b, shape)
        else:
            out.append((a, b, shape))
    return out


def rhubarb_json(cues: list[tuple[float, float, str]], sound_file: str) -> str:
    """The text Rhubarb's JsonExporter writes for these cues (its layout, its number format)."""
    lines = [f'    {{ "start": {a:.2f}, "end": {b:.2f}, "value": "{v}" }}' for a, b, v in cues]
    return (
        '{\n  "metadata": {\n'
        f'    "soundFile": {json.dumps(sound_file)},\n'
        f'    "duration": {cues[-1][1]:.2f}\n'
        '  },\n  "mouthCues": [\n' + ",\n".join(lines) + "\n  ]\n}\n"
    )


class RhubarbSink(BaseSink):
    """Collects per-frame shapes; close() writes cues as TSV or JSON (by `layout`)."""

    def __init__(self, path: str | Path, layout: str = "tsv", sound_file: str = "") -> None:
        super().__init__()
        self.path = Path(path)
        self.layout = layout
        self.sound_file = sound_file
        self.parts: list[FapFrames] = []
        """Every frame: the shapes look at the whole track (a mouth held still is at rest)."""
        self.done = False

    def write(self, frames: FapFrames) -> None:
        if len(frames):
            self.parts.append(frames)

    def cues(self, t_end_s: float | None = None) -> list[tuple[float, float, str]]:
        """The cue list; the last one reaches `t_end_s` (capture time of the audio's end) when given."""
        if self.parts:
            frames = FapFrames.concat(self.parts, self.parts[0].faps)
            times_s, shapes = np.asarray(frames.times_s) - self.t_origin_s, mouth_shapes(frames)
        else:
            times_s, shapes = np.zeros(0), np.zeros(0, "<U1")
        if len(times_s):
            times_s[0] = 0.0  # the first cue starts with the audio
        audio_end_s = t_end_s - self.t_origin_s if t_end_s is not None else 0.0
        end_s = max(audio_end_s, float(times_s[-1]) if len(times_s) else 0.0)
        return centisecond_cues(shape_cues(times_s, shapes, end_s, MIN_CUE_S))

    def close(self, t_end_s: float | None = None) -> None:
        if self.done:
            return
        self.done = True
        cues = self.cues(t_end_s)
        end_s = cues[-1][1] if cues else 0.0
        if self.layout == "json":
            atomic.write_text(self.path, rhubarb_json(cues or [(0.0, 0.0, "X")], self.sound_file))
        else:
            lines = [f"{a:.2f}\t{v}" for a, _, v in cues] + [f"{end_s:.2f}\tX"]
            atomic.write_text(self.path, "\n".join(lines) + "\n")

    def abort(self) -> None:
        self.done = True
