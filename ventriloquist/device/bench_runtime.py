"""Runtime benchmarks (`ventriloquist bench bake|live|soak`): bake speed, live CPU share, latency, memory.

Each function returns figures {"name", "value", "unit", ...}. The bundle is ventriloquist/device/default_bundle, or
$VENTRILOQUIST_BENCH_BUNDLE; the audio is a synthetic speech-like signal (syllable-rate bursts of
shaped noise and a gliding tone), so the numbers do not depend on a data folder.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ventriloquist.device.bundle import SHIPPED_BUNDLE
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.sources import DEFAULT_CHUNK_S

RATE_HZ = 16_000
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


def speech_like(seconds: float, rate_hz: int = RATE_HZ, seed: int = 0) -> np.ndarray:
    """Deterministic float32 audio with a 4 Hz syllable rhythm, voiced glides and noise, and pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.3 * t) > -0.5)
    voice = np.sin(2 * np.pi * np.cumsum(120 + 30 * np.sin(2 * np.pi * 0.7 * t)) / rate_hz)
    noise = np.convolve(rng.normal(0, 1, len(t)), np.ones(4) / 4, mode="same")
    return (0.3 * envelope * (voice + 0.3 * noise)).astype(np.float32)


def _wav(seconds: float, folder: str) -> Path:
    import soundfile

    path = Path(folder) / "speech_like.wav"
    soundfile.write(path, speech_like(seconds), RATE_HZ, subtype="PCM_16")
    return path


def _pipeline():
    from ventriloquist.device.bundle import load_bundle
    from ventriloquist.device.engine import Pipeline

    return Pipeline(load_bundle(_bundle_path()))


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
    from ventriloquist.device.sinks.base import Sink
    from ventriloquist.device.sources.file import FileSource

    class Null(Sink):
        """Stands in for the 30 fps display."""

        rate_hz, realtime = 30.0, True

        def write(self, frames) -> None:
            """Frames are counted by the engine; nothing else to do."""

    sinks: list = [Null()]
    if render:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        from ventriloquist.device.face import CartoonFace
        from ventriloquist.device.face.display import FaceSink, KioskDisplay
        from ventriloquist.device.sinks.adapters import WrappedSink

        sinks = [WrappedSink(FaceSink(CartoonFace("classic"), KioskDisplay(fullscreen=False)), 30.0)]
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
    from ventriloquist.device.sinks.base import Sink
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

    class Null(Sink):
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
