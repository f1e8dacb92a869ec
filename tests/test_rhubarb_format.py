"""Our Rhubarb TSV/JSON checked against the rules Rhubarb Lip Sync's own exporters follow.

The rules, from Rhubarb's source (rhubarb/src/exporters/TsvExporter.cpp, JsonExporter.cpp, exporterTools.cpp,
core/Shape.h, time/JoiningTimeline.h, tools/tools.cpp formatDuration "{0:.2f}"):
- shapes are A-H or X; times are seconds with exactly two decimals (whole centiseconds);
- the cues cover the audio from 0.00 without gaps; equal neighbours are joined; no cue is empty;
- TSV: `<start>\\t<shape>` per cue, then `<end>\\tX`;
- JSON: the exporter's exact text (metadata soundFile + duration, then one `{ "start", "end", "value" }` per
  line); with no cues, one zero-length X cue.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from ventriloquist.device.sinks import file_sink
from ventriloquist.device.sinks.rhubarb import centisecond_cues
from ventriloquist.device.values import FapFrames

SAMPLE = REPO / "ventriloquist" / "device" / "samples" / "hello.wav"
TIME = r"\d+\.\d{2}"
SHAPE = "[A-HX]"
TSV_LINE = re.compile(rf"({TIME})\t({SHAPE})")
JSON_TEXT = re.compile(
    r'\{\n  "metadata": \{\n    "soundFile": "(?:[^"\\]|\\.)*",\n'
    rf'    "duration": {TIME}\n  \}},\n  "mouthCues": \[\n'
    rf'(?:    \{{ "start": {TIME}, "end": {TIME}, "value": "{SHAPE}" \}}(?:,\n(?=    \{{)|\n))+'
    r"  \]\n\}\n"
)


def check_cues(cues: list[tuple[float, float, str]]) -> None:
    """Rhubarb's timeline rules: from 0, contiguous, non-empty, equal neighbours joined."""
    assert cues[0][0] == 0.0
    assert all(a < b for a, b, _ in cues), "an empty cue"
    assert all(prev[1] == nxt[0] for prev, nxt in zip(cues, cues[1:], strict=False)), "a gap or overlap"
    assert all(prev[2] != nxt[2] for prev, nxt in zip(cues, cues[1:], strict=False)), "equal neighbours not joined"


def read_tsv(text: str) -> list[tuple[float, float, str]]:
    rows = [TSV_LINE.fullmatch(line) for line in text.splitlines()]
    assert all(rows), [line for line, m in zip(text.splitlines(), rows, strict=True) if not m]
    times, shapes = [float(m[1]) for m in rows], [m[2] for m in rows]
    assert shapes[-1] == "X"
    return list(zip(times[:-1], times[1:], shapes[:-1], strict=True))


def read_json(text: str) -> tuple[list[tuple[float, float, str]], float]:
    assert JSON_TEXT.fullmatch(text), text[:300]
    doc = json.loads(text)
    return [(c["start"], c["end"], c["value"]) for c in doc["mouthCues"]], doc["metadata"]["duration"]


@pytest.mark.slow
def test_baked_speech_follows_rhubarbs_exporter_rules(tmp_path):
    tsv, js = tmp_path / "hello.tsv", tmp_path / "hello.rhubarb.json"
    done = subprocess.run([sys.executable, "-m", "ventriloquist", "bake", str(SAMPLE), "--out", str(tsv),
                           "--out", str(js)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cues = read_tsv(tsv.read_text())
    json_cues, duration_s = read_json(js.read_text())
    check_cues(cues)
    assert json_cues == cues and duration_s == cues[-1][1]
    assert len(cues) > 5 and "A" in {v for _, _, v in cues} and len({v for _, _, v in cues}) >= 3  # speech


def test_cues_round_onto_centiseconds_without_empty_or_repeated_cues():
    cues = [(0.0, 0.003, "B"), (0.003, 0.5, "C"), (0.5, 0.504, "D"), (0.504, 0.9, "C"), (0.9, 1.234, "X")]
    assert centisecond_cues(cues) == [(0.0, 0.9, "C"), (0.9, 1.23, "X")]
    check_cues(centisecond_cues(cues))


def test_no_frames_give_rhubarbs_empty_animation(tmp_path):
    for name in ("empty.tsv", "empty.rhubarb.json"):
        with file_sink(tmp_path / name) as sink:
            sink.open(0.0)
            sink.write(FapFrames(np.zeros(0), np.zeros((0, 1), np.float32), (3,)))
    assert (tmp_path / "empty.tsv").read_text() == "0.00\tX\n"
    assert read_json((tmp_path / "empty.rhubarb.json").read_text()) == ([(0.0, 0.0, "X")], 0.0)
