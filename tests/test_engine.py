"""The engine on a real bundle and the shipped speech sample: chunk invariance, live == bake, faults, closing every
sink, the bake/run commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ventriloquist.device.bundle import load_bundle
from ventriloquist.device.engine import Engine, Pipeline
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap_file import read_fap
from ventriloquist.device.sinks import file_sink
from ventriloquist.device.sinks.base import BaseSink
from ventriloquist.device.sinks.memory import FrameCollector
from ventriloquist.device.sources.file import FileSource
from ventriloquist.device.values import AudioChunk, FapFrames, FeatureFrames

SPEECH = Path(__file__).resolve().parents[1] / "ventriloquist" / "device" / "samples" / "hello.wav"
"""Ships with the code, so the streaming invariant is tested in every clone."""
BLEND_ROUNDING_FAPU = 1e-4
"""The model's pattern blend is one float32 matrix product per call, which BLAS sums in an order that
depends on the number of rows: the only stage whose output is not bit-identical across chunkings."""


class ChunkSource:
    """Fixed chunks of an array (for chunk-size tests)."""

    def __init__(self, samples, rate_hz, size, t0_s=0.0, live=False):
        self.samples, self.rate_hz, self.size, self.t0_s, self.live = samples, rate_hz, size, t0_s, live
        self.overflows = 0

    def __iter__(self):
        for i in range(0, len(self.samples), self.size):
            yield AudioChunk(self.samples[i : i + self.size], self.rate_hz, self.t0_s + i / self.rate_hz)

    def close(self):
        pass


@pytest.fixture
def speech():
    samples, rate_hz = soundfile.read(SPEECH, dtype="float32")
    return samples[: rate_hz // 2], rate_hz  # half a second keeps 1-sample chunks quick


def bake(bundle_path, source, rate_hz=None) -> FapFrames:
    sink = FrameCollector(rate_hz)
    Engine(Pipeline(load_bundle(bundle_path)), [sink]).run(source)
    return sink.frames()


def stage_outputs(pipeline: Pipeline, source: ChunkSource) -> list:
    """Each stage's output over the whole stream (its process() results joined, then its flush)."""
    outs: list[list] = [[] for _ in pipeline.stages]
    for chunk in source:
        x = chunk
        for k, stage in enumerate(pipeline.stages):
            x = stage.process(x)
            outs[k].append(x)
    joined = []
    for parts in outs:
        parts = [p for p in parts if len(p)]
        if isinstance(parts[0], FeatureFrames):
            joined.append(FeatureFrames.concat(parts, parts[0].values.shape[1]))
        else:
            joined.append(FapFrames.concat(parts, parts[0].faps))
    return joined


@pytest.mark.parametrize("size", [1, 17, 160, 1024])
def test_any_chunk_size_gives_the_whole_file_result(tiny_bundle, speech, size):
    samples, rate_hz = speech
    whole = bake(tiny_bundle, ChunkSource(samples, rate_hz, len(samples)))
    got = bake(tiny_bundle, ChunkSource(samples, rate_hz, size))
    assert len(whole) == len(got) == 50
    np.testing.assert_array_equal(got.times_s, whole.times_s)
    np.testing.assert_allclose(got.values, whole.values, rtol=0, atol=BLEND_ROUNDING_FAPU)


@pytest.mark.parametrize("size", [1, 17, 160, 1024])
def test_front_end_and_context_window_are_exact_for_any_chunk_size(tiny_bundle, speech, size):
    """Bit-identical where a stage allows it: features and context rows do not depend on the chunking."""
    samples, rate_hz = speech
    bundle = load_bundle(tiny_bundle)
    whole = stage_outputs(Pipeline(bundle), ChunkSource(samples, rate_hz, len(samples)))
    got = stage_outputs(Pipeline(bundle), ChunkSource(samples, rate_hz, size))
    for k in (0, 1):  # Frontend, ContextWindow
        assert len(got[k]) == len(whole[k]) > 40
        np.testing.assert_array_equal(got[k].values, whole[k].values)
        np.testing.assert_array_equal(got[k].times_s, whole[k].times_s)


class FailsToClose(BaseSink):
    def write(self, frames):
        """Takes frames like any sink."""

    def close(self, t_end_s=None):
        raise OSError("disk gone")


def test_a_sink_failing_to_close_leaves_no_other_open(tiny_bundle, speech, tmp_path):
    samples, rate_hz = speech
    before, after = FrameCollector(), FrameCollector()
    csv = tmp_path / "out.csv"
    sinks = [before, FailsToClose(), file_sink(csv), after]
    with pytest.raises(OSError, match="disk gone"):
        Engine(Pipeline(load_bundle(tiny_bundle)), sinks).run(ChunkSource(samples, rate_hz, 160))
    assert before.closed and after.closed
    assert len(csv.read_text().splitlines()) == 51  # header + 50 frames: committed although a sink before it failed


def test_capture_clock_shifts_times_but_not_motion(tiny_bundle, speech):
    samples, rate_hz = speech
    base = bake(tiny_bundle, ChunkSource(samples, rate_hz, 160), rate_hz=30)
    live = bake(tiny_bundle, ChunkSource(samples, rate_hz, 160, t0_s=5000.25), rate_hz=30)
    np.testing.assert_allclose(live.times_s - 5000.25, base.times_s, atol=1e-6)
    np.testing.assert_allclose(live.values, base.values, atol=1e-3)
    assert np.allclose(np.diff(base.times_s), 1 / 30)


def test_a_gap_in_the_audio_restarts_the_pipeline_and_is_counted(tiny_bundle, speech):
    samples, rate_hz = speech

    class Gappy(ChunkSource):
        def __iter__(self):
            for k, chunk in enumerate(super().__iter__()):
                if k != 10:  # chunk 10 is lost
                    yield chunk

    sink = FrameCollector()
    counters = Engine(Pipeline(load_bundle(tiny_bundle)), [sink]).run(Gappy(samples, rate_hz, 160))
    assert counters.discontinuities == 1
    assert np.all(np.diff(sink.frames().times_s) > 0)


def test_stale_live_chunks_are_dropped_not_queued(tiny_bundle, speech):
    samples, rate_hz = speech
    old = ChunkSource(samples, rate_hz, 160, t0_s=-100.0, live=True)  # captured long ago on the monotonic clock
    sink = FrameCollector()
    counters = Engine(Pipeline(load_bundle(tiny_bundle)), [sink]).run(old)
    assert counters.dropped == counters.chunks == 50
    assert sink.parts == [] and sink.closed


def parse(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


class FailsToAbort(FailsToClose):
    def abort(self):
        raise OSError("cannot abort either")


def test_a_failed_run_aborts_every_sink_and_reports_its_own_error(tiny_bundle, speech, tmp_path):
    samples, rate_hz = speech

    class Broken(ChunkSource):
        def __iter__(self):
            for k, chunk in enumerate(super().__iter__()):
                if k == 20:
                    raise RuntimeError("the microphone went away")
                yield chunk

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    csv, after = out_dir / "out.csv", FrameCollector()
    sinks = [FailsToAbort(), file_sink(csv), after]
    with pytest.raises(RuntimeError, match="microphone went away"):
        Engine(Pipeline(load_bundle(tiny_bundle)), sinks).run(Broken(samples, rate_hz, 160))
    assert list(out_dir.iterdir()) == [] and after.closed and after.parts == []  # no CSV, not even a temporary


@pytest.mark.slow  # a real-time run
def test_bake_writes_every_format_and_run_on_the_same_file_matches(tiny_bundle, tmp_path):
    from ventriloquist.device.commands import bake as bake_cmd
    from ventriloquist.device.commands import run as run_cmd

    samples, rate_hz = soundfile.read(SPEECH, dtype="int16")
    wav = str(tmp_path / SPEECH.name)  # its first 3 s: the live run below takes real time on a shared machine
    soundfile.write(wav, samples[: 3 * rate_hz], rate_hz, subtype="PCM_16")
    outs = [tmp_path / f"a.{s}" for s in ("fap", "csv", "json", "tsv", "rhubarb.json")]
    bake_cmd.run(parse(bake_cmd, [wav, "--bundle", str(tiny_bundle), *sum((["--out", str(o)] for o in outs), [])]))
    duration_s = soundfile.info(wav).duration
    frames, fps, _ = read_fap(outs[0])
    assert fps == 25 and abs(len(frames) - duration_s * 25) <= 1
    csv_lines = outs[1].read_text().splitlines()
    assert csv_lines[0].startswith("time,open_jaw,lower_t_midlip,raise_b_midlip,")
    assert abs(len(csv_lines) - 1 - duration_s * 100) <= 1
    doc = json.loads(outs[2].read_text())
    assert doc["metadata"]["soundFile"] == "hello.wav" and "jawOpen" in doc["frames"][0]["arkit"]
    tsv = [line.split("\t") for line in outs[3].read_text().splitlines()]
    assert tsv[0][0] == "0.00" and tsv[-1][1] == "X" and abs(float(tsv[-1][0]) - duration_s) < 0.011
    cues = json.loads(outs[4].read_text())["mouthCues"]
    assert [c["value"] for c in cues] == [row[1] for row in tsv[:-1]]

    live_csv = tmp_path / "live.csv"  # real-time file source in live-sized chunks: the live code path
    run_cmd.run(parse(run_cmd, ["--source", wav, "--bundle", str(tiny_bundle), "--fap-out", str(live_csv)]))
    assert live_csv.read_text() == outs[1].read_text()


def test_a_bundle_failing_verification_refuses_to_start(tiny_bundle, tmp_path):
    from ventriloquist.device.commands import bake as bake_cmd

    (tiny_bundle / "patterns.csv").write_text("tampered\n")
    args = parse(bake_cmd, [str(SPEECH), "--bundle", str(tiny_bundle), "--out", str(tmp_path / "x.csv")])
    with pytest.raises(VentriloquistError, match="patterns.csv does not match its sha256"):
        bake_cmd.run(args)
    assert not (tmp_path / "x.csv").exists()


def test_unreadable_audio_and_unknown_format_are_one_line_errors(tmp_path):
    bad = tmp_path / "noise.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(VentriloquistError, match="cannot read as audio"):
        FileSource(bad)
    with pytest.raises(VentriloquistError, match="unknown output format"):
        file_sink(tmp_path / "out.xyz")
