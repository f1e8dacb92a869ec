"""`ventriloquist bench frontend`: seconds of audio the front end turns into features per CPU-second, one core."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from ventriloquist.device.frontend.pipeline import Frontend
from ventriloquist.device.frontend.settings import PRESETS
from ventriloquist.device.values import SPEECH_RATE_HZ, AudioChunk

BENCH_SECONDS = 60.0
BENCH_RATE_HZ = SPEECH_RATE_HZ
"""Input rate of the benchmark audio (the paper preset resamples it to 8,040 Hz inside the timing)."""
STREAM_CHUNK_S = {"": 1.0, "_stream20ms": 0.02}
"""Figure-name suffix -> chunk length fed to process(); 1 s for bake/training, 20 ms for a live mic."""
FORMANTS_HZ = ((700.0, 130.0), (1_220.0, 70.0), (2_600.0, 160.0))
"""(centre, bandwidth) of the resonators that colour the synthetic voice."""


def speech_like(seconds: float, rate_hz: int = SPEECH_RATE_HZ, seed: int = 0) -> np.ndarray:
    """Deterministic speech-like audio: gliding pulse train through formants, syllable envelope, hiss, pauses.

    The one synthetic speech of the benchmarks, `doctor`'s CPU check and the tests."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * rate_hz)
    t_s = np.arange(n) / rate_hz
    f0_hz = 150.0 + 60.0 * np.sin(2 * np.pi * 0.7 * t_s) + 20.0 * np.sin(2 * np.pi * 3.1 * t_s)
    phase = np.cumsum(f0_hz / rate_hz)
    voice = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
    for centre_hz, bandwidth_hz in FORMANTS_HZ:
        radius = np.exp(-np.pi * bandwidth_hz / rate_hz)
        voice = lfilter([1.0 - radius], [1.0, -2 * radius * np.cos(2 * np.pi * centre_hz / rate_hz), radius**2], voice)
    syllables = np.clip(np.sin(2 * np.pi * 2.0 * t_s), 0.0, None) ** 0.5
    pauses = (np.sin(2 * np.pi * 0.13 * t_s) > -0.8).astype(np.float64)
    hiss = 0.02 * rng.standard_normal(n) * (np.sin(2 * np.pi * 1.3 * t_s) > 0.6)
    audio = (voice / np.max(np.abs(voice)) * 0.5 * syllables + hiss) * pauses
    return audio.astype(np.float32)


def x_realtime(preset: str, audio: np.ndarray, rate_hz: int, chunk_s: float) -> float:
    """Audio seconds per CPU-second for streaming `audio` through a fresh Frontend in chunk_s pieces."""
    frontend = Frontend(PRESETS[preset])
    chunk_samples = max(int(chunk_s * rate_hz), 1)
    frontend.process(AudioChunk(audio[:chunk_samples], rate_hz))  # warm caches and lazy imports
    frontend.reset()
    start_s = time.process_time()
    for i in range(0, len(audio), chunk_samples):
        frontend.process(AudioChunk(audio[i : i + chunk_samples], rate_hz))
    frontend.flush()
    return len(audio) / rate_hz / (time.process_time() - start_s)


def bench_frontend() -> list[dict]:
    """frontend[_paper]_x_realtime (1 s chunks) and the same with 20 ms chunks, single thread."""
    audio = speech_like(BENCH_SECONDS, BENCH_RATE_HZ)
    figures = []
    with _single_thread():
        for suffix, chunk_s in STREAM_CHUNK_S.items():
            for preset, stem in (("default", "frontend"), ("paper", "frontend_paper")):
                figures.append(
                    {
                        "name": f"{stem}{suffix}_x_realtime",
                        "value": round(x_realtime(preset, audio, BENCH_RATE_HZ, chunk_s), 1),
                        "unit": "x_realtime",
                        "preset": preset,
                        "input_rate_hz": BENCH_RATE_HZ,
                        "chunk_s": chunk_s,
                        "audio_s": BENCH_SECONDS,
                        "latency_ms": round(PRESETS[preset].algorithmic_latency_s * 1000, 2),
                    }
                )
    return figures


def _single_thread():
    """Limit BLAS to one thread when threadpoolctl is installed (the CPU-time figure is per core)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)
