"""Runtime benchmarks (`ventriloquist bench bake|live|soak`): bake speed, live CPU share, latency, memory.

Each function returns figures {"name", "value", "unit", ...}. The bundle is ventriloquist/device/default_bundle, or
$VENTRILOQUIST_BENCH_BUNDLE; the audio is the benchmarks' one synthetic speech-like signal
(`frontend.bench.speech_like`), so the numbers do not depend on a data folder.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from ventriloquist.device.bundle import SHIPPED_BUNDLE
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.frontend.bench import speech_like
from ventriloquist.device.sources import DEFAULT_CHUNK_S
from ventriloquist.device.values import SPEECH_RATE_HZ

RATE_HZ = SPEECH_RATE_HZ
BAKE_SECONDS = 60.0
LIVE_SECONDS = 10.0
LIVE_RUNS = 3
"""Live runs per figure; the median is reported (a shared machine's wake-up costs vary run to run)."""
SOAK_SECONDS = 3600.0
BUNDLE_ENV = "VENTRILOQUIST_BENCH_BUNDLE"


def _bundle_path() -> Path:
    path = Path(os.environ.get(BUNDLE_ENV) or SHIPPED_BUNDLE)
    if not path.exists():
        raise VentriloquistError(f"bench: no bundle at {path}; set {BUNDLE_ENV}=PATH to a bundle folder")
    return path


def _wav(seconds: float, folder: str) -> Path:
    import soundfile

    path = Path(folder) / "speech_like.wav"
    soundfile.write(path, speech_like(seconds), RATE_HZ, subtype="PCM_16")
    return path


def _pipeline():
    from ventriloquist.device.bundle import load_bundle
    from ventriloquist.device.engine import Pipeline

    return Pipeline(load_bundle(_bundle_path()))


def pipeline_x_realtime(pipeline, seconds: float, chunk_s: float = DEFAULT_CHUNK_S) -> float:
    """Seconds of speech-like audio `pipeline` turns into FAP frames per wall-clock second, in live-sized chunks."""
    from ventriloquist.device.values import AudioChunk

    audio, step = speech_like(seconds), int(RATE_HZ * chunk_s)
    t0 = time.perf_counter()
    for i in range(0, len(audio), step):
        pipeline.process(AudioChunk(audio[i : i + step], RATE_HZ, i / RATE_HZ))
    pipeline.flush()
    return seconds / max(time.perf_counter() - t0, 1e-9)


def bench_bake(seconds: float = BAKE_SECONDS) -> list[dict]:
    """bake_x_realtime: seconds of audio baked per second (file in, CSV out, one thread)."""
    from ventriloquist.device.engine import Engine
    from ventriloquist.device.sinks import file_sink
    from ventriloquist.device.sources.file import FileSource

    pipeline = _pipeline()
    with tempfile.TemporaryDirectory() as tmp:
        wav = _wav(seconds, tmp)
        t0, c0 = time.perf_counter(), time.process_time()
        Engine(pipeline, [file_sink(Path(tmp) / "out.csv")]).run(FileSource(wav, chunk_s=1.0))
        wall_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return [
        {"name": "bake_x_realtime", "value": round(seconds / wall_s, 1), "unit": "x_realtime",
         "audio_s": seconds, "cpu_s": round(cpu_s, 3)},
        {"name": "algorithmic_latency_ms", "value": round(pipeline.algorithmic_latency_s(RATE_HZ) * 1000, 2),
         "unit": "ms", "features": pipeline.settings.name},
    ]


def _live_run(seconds: float, render: bool) -> dict:
    from ventriloquist.device.engine import Engine
    from ventriloquist.device.sinks.base import BaseSink
    from ventriloquist.device.sources.file import FileSource

    class Null(BaseSink):
        """Stands in for the 30 fps display."""

        rate_hz, realtime = 30.0, True

        def write(self, frames) -> None:
            """Frames are counted by the engine; nothing else to do."""

    sinks: list = [Null()]
    if render:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        from ventriloquist.device.face import CartoonFace
        from ventriloquist.device.face.display import FaceSink, KioskDisplay

        sinks = [FaceSink(CartoonFace(), KioskDisplay(fullscreen=False), 30.0)]
    pipeline = _pipeline()
    with tempfile.TemporaryDirectory() as tmp:
        source = _TimedSource(FileSource(_wav(seconds, tmp), realtime=True))
        t0, c0 = time.perf_counter(), time.process_time()
        counters = Engine(pipeline, sinks).run(source)
        wall_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return {"cpu_percent": 100 * cpu_s / wall_s, "engine_cpu_percent": 100 * (cpu_s - source.cpu_s) / wall_s,
            "counters": counters}


class _TimedSource:
    """A source wrapper that adds up the CPU time spent getting each chunk (waking up, reading, pacing)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.live, self.rate_hz = inner.live, inner.rate_hz
        self.cpu_s = 0.0

    @property
    def overflows(self) -> int:
        return self.inner.overflows

    def __iter__(self):
        chunks = iter(self.inner)
        while True:
            c0 = time.process_time()
            chunk = next(chunks, None)
            self.cpu_s += time.process_time() - c0
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self.inner.close()


def bench_live(seconds: float = LIVE_SECONDS, runs: int = LIVE_RUNS) -> list[dict]:
    """live_cpu_percent (without and with 30 fps rendering; median of `runs`), the engine's part of it, and
    capture-to-sink latency p50/p95."""
    plain = [_live_run(seconds, render=False) for _ in range(runs)]
    shares = [r["cpu_percent"] for r in plain]
    latency = plain[shares.index(statistics.median_low(shares))]["counters"]
    engine = [r["engine_cpu_percent"] for r in plain]
    figures = [
        {"name": "live_cpu_percent", "value": round(statistics.median(shares), 2), "unit": "percent_of_one_core",
         "render": False, "chunk_ms": round(DEFAULT_CHUNK_S * 1000), "runs": [round(x, 2) for x in shares]},
        {"name": "live_engine_cpu_percent", "value": round(statistics.median(engine), 2),
         "unit": "percent_of_one_core", "render": False, "runs": [round(x, 2) for x in engine],
         "note": "the same runs without the source's share (waking up for each chunk, reading the file)"},
        {"name": "latency_p50_ms", "value": round(latency.latency_ms(50), 1), "unit": "ms"},
        {"name": "latency_p95_ms", "value": round(latency.latency_ms(95), 1), "unit": "ms"},
    ]
    try:
        rendered = [_live_run(seconds, render=True)["cpu_percent"] for _ in range(runs)]
    except (ImportError, VentriloquistError) as e:
        figures.append({"name": "live_cpu_percent", "value": -1.0, "unit": "percent_of_one_core", "render": True,
                        "note": f"not measured: {e}"})
    else:
        figures.append({"name": "live_cpu_percent", "value": round(statistics.median(rendered), 2),
                        "unit": "percent_of_one_core", "render": True, "fps": 30,
                        "runs": [round(x, 2) for x in rendered]})
    return figures


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_soak(seconds: float = SOAK_SECONDS) -> list[dict]:
    """Memory over an hour of audio run faster than real time (live-sized chunks, looping a minute of audio)."""
    from ventriloquist.device.engine import Engine
    from ventriloquist.device.sinks.base import BaseSink
    from ventriloquist.device.values import AudioChunk

    minute = speech_like(60.0)
    chunk = 160

    class Looping:
        rate_hz, live, overflows = RATE_HZ, False, 0

        def __iter__(self):
            for k in range(int(seconds * RATE_HZ) // chunk):
                i = (k * chunk) % len(minute)
                yield AudioChunk(minute[i : i + chunk], RATE_HZ, k * chunk / RATE_HZ)
                if k == int(0.1 * seconds * RATE_HZ) // chunk:
                    self.rss_early_mib = _rss_mib()

        def close(self) -> None:
            """Nothing to release."""

    class Null(BaseSink):
        rate_hz = 50.0

        def write(self, frames) -> None:
            """Only the engine's counters matter here."""

    source = Looping()
    t0 = time.perf_counter()
    counters = Engine(_pipeline(), [Null()]).run(source)
    wall_s = time.perf_counter() - t0
    rss_end = _rss_mib()
    return [
        {"name": "soak_rss_growth_mib", "value": round(rss_end - source.rss_early_mib, 2), "unit": "MiB",
         "rss_end_mib": round(rss_end, 1), "audio_s": seconds, "x_realtime": round(seconds / wall_s, 1),
         "frames": counters.frames},
    ]
