"""The runtime's heart: audio chunks through one visible list of stages to FAP frames, then out to every sink.

`Pipeline` is the list of stages (the same object serves `bake` and `run`, so a live stream equals a
bake of the same audio). `Engine` pulls chunks from a source, pushes frames through the pipeline,
resamples them to each sink's rate and hands them over, keeping counters: chunks, frames, stale
chunks dropped, input overflows, discontinuities, and latency from capture to sink output.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ventriloquist.device.bundle import Bundle
from ventriloquist.device.fap_resample import FapResampler
from ventriloquist.device.frontend import ContextWindow, Frontend, resampler_lag_s
from ventriloquist.device.idle import IdleMixer, IdleSettings
from ventriloquist.device.model import PatternModel
from ventriloquist.device.sinks.base import abort_all, each
from ventriloquist.device.smoothing import Smoother, SmoothingSettings
from ventriloquist.device.values import AudioChunk, FapFrames, FeatureFrames, Sink, Source, Stage

log = logging.getLogger(__name__)

MAX_BACKLOG_S = 0.25
"""A live chunk older than this when its turn comes is dropped (counted), so a slow moment never snowballs."""
GAP_TOLERANCE_CHUNKS = 0.5
"""A chunk starting this many chunk lengths away from where the previous one ended is a discontinuity."""
LATENCY_SAMPLES = 20_000
"""Most recent per-frame latencies kept for the p50/p95 figures."""


class Pipeline:
    """AudioChunk -> FapFrames; process/flush/reset over the stages below, in order."""

    def __init__(
        self,
        bundle: Bundle,
        *,
        smoothing: SmoothingSettings | None = None,
        idle: IdleSettings | None = None,
        backend: str | None = None,
    ) -> None:
        self.settings = bundle.frontend_settings()
        self.faps = bundle.faps
        self.stages: list[Stage[Any, Any]] = [
            Frontend(self.settings),  # audio at any rate -> per-frame features at the bundle's rate
            ContextWindow(self.settings),  # past + current + future frames -> one net input row
            PatternModel(bundle, backend=backend),  # int8 net -> pattern scores -> FAP frames (FAPU)
            Smoother(smoothing or SmoothingSettings()),  # One Euro filter per FAP: no jitter, < 1 frame lag in motion
            IdleMixer(idle or IdleSettings()),  # blinks and brow drift, a function of frame times only
        ]

    def process(self, chunk: AudioChunk) -> FapFrames:
        x: Any = chunk
        for stage in self.stages:
            x = stage.process(x)
            if len(x) == 0:
                return FapFrames.empty(self.faps)
        return x

    def flush(self) -> FapFrames:
        """Frames still held back (end of stream); the pipeline then starts afresh."""
        carry: Any = None
        for stage in self.stages:
            parts = [stage.process(carry)] if carry is not None and len(carry) else []
            parts.append(stage.flush())
            carry = _concat(parts)
        return carry if len(carry) else FapFrames.empty(self.faps)

    def reset(self) -> None:
        for stage in self.stages:
            stage.reset()

    def algorithmic_latency_s(self, input_rate_hz: int | None = None) -> float:
        """Capture of a frame's centre -> that FAP frame can be computed (plus soxr's lag for another input rate)."""
        lag_s = 0.0
        if input_rate_hz and input_rate_hz != self.settings.rate_hz:
            lag_s = resampler_lag_s(input_rate_hz, self.settings.rate_hz, self.settings.resample_quality)
        return self.settings.algorithmic_latency_s + lag_s


def _concat(parts: list[Any]) -> Any:
    parts = [p for p in parts if len(p)] or parts[-1:]
    if isinstance(parts[0], FeatureFrames):
        return FeatureFrames.concat(parts, parts[0].values.shape[1])
    return FapFrames.concat(parts, parts[0].faps)


@dataclass
class Counters:
    """What happened in a run; latencies are seconds from capture to sink output (live sources only)."""

    chunks: int = 0
    frames: int = 0
    """FAP frames out of the pipeline (model rate)."""
    dropped: int = 0
    """Live chunks skipped because the engine fell behind."""
    overflows: int = 0
    """Input lost at the device (from the source)."""
    discontinuities: int = 0
    """Gaps or rate changes in the audio; the pipeline restarted there."""
    audio_s: float = 0.0
    latencies_s: deque = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))

    def latency_ms(self, percentile: float) -> float | None:
        if not self.latencies_s:
            return None
        return float(np.percentile(np.asarray(self.latencies_s), percentile) * 1000)

    def summary(self) -> str:
        p50, p95 = self.latency_ms(50), self.latency_ms(95)
        latency = f", latency p50 {p50:.1f} ms / p95 {p95:.1f} ms" if p50 is not None else ""
        return (
            f"{self.audio_s:.1f} s of audio, {self.chunks} chunks, {self.frames} frames, {self.dropped} dropped, "
            f"{self.overflows} overflows, {self.discontinuities} discontinuities{latency}"
        )


class _AudioWaitInterrupted(BaseException):
    """Raised by Engine.interrupt() out of a blocking read of the source; run() ends there as at end of stream."""


class Engine:
    """Runs a source through a pipeline into sinks; run() returns the counters.

    Hooks (e.g. a systemd watchdog): `on_ready()` once the first chunk arrived and every sink is open,
    `on_turn()` after every loop turn (one per chunk, dropped chunks included).
    """

    def __init__(self, pipeline: Pipeline, sinks: list[Sink], *, max_backlog_s: float = MAX_BACKLOG_S,
                 on_ready: Callable[[], object] | None = None, on_turn: Callable[[], object] | None = None) -> None:
        self.pipeline = pipeline
        self.sinks = list(sinks)
        self.max_backlog_s = max_backlog_s
        self.on_ready = on_ready
        self.on_turn = on_turn
        self.resamplers: list[FapResampler | None] = []
        self.counters = Counters()
        self.stop_event = threading.Event()
        self.waiting_for_audio = False
        """True while run() waits inside the source (a blocking read of a mic or a silent pipe)."""

    def stop(self) -> None:
        """Ask a running run() to finish after the current chunk (thread-safe)."""
        self.stop_event.set()

    def interrupt(self) -> None:
        """stop() for a signal handler in run()'s thread: a wait for audio that may never come is cut short
        too (a flag cannot reach a blocking read), and the outputs are finished as after the last chunk."""
        self.stop_event.set()
        if self.waiting_for_audio:
            raise _AudioWaitInterrupted

    def run(self, source: Source) -> Counters:
        self.counters = c = Counters()
        live = bool(source.live)
        expected_s: float | None = None
        rate_hz: int | None = None
        try:
            for chunk in self._chunks(source):
                c.chunks += 1
                end_s = chunk.t_capture_s + chunk.seconds
                if live and time.monotonic() - end_s > self.max_backlog_s:
                    c.dropped += 1
                else:
                    if expected_s is None:
                        self._warn_if_narrowband(chunk.rate_hz)
                        self._open_sinks(chunk.t_capture_s)
                        if self.on_ready is not None:
                            self.on_ready()
                    elif chunk.rate_hz != rate_hz or abs(chunk.t_capture_s - expected_s) > GAP_TOLERANCE_CHUNKS * max(
                        chunk.seconds, 1e-3
                    ):
                        c.discontinuities += 1
                        log.debug("audio discontinuity at %.3f s: restarting the pipeline", chunk.t_capture_s)
                        self._emit(self.pipeline.flush(), live)
                    c.audio_s += chunk.seconds
                    self._emit(self.pipeline.process(chunk), live)
                    expected_s, rate_hz = end_s, chunk.rate_hz
                if self.on_turn is not None:
                    self.on_turn()
                if self.stop_event.is_set():
                    break
            if expected_s is not None:
                self._emit(self.pipeline.flush(), live=False)  # end-of-stream frames: not a live latency
        except BaseException:
            abort_all(self.sinks)
            raise
        finally:
            c.overflows = source.overflows
            source.close()
        each(self.sinks, lambda sink: sink.close(expected_s))
        return c

    def _chunks(self, source: Source) -> Iterator[AudioChunk]:
        """The source's chunks, ending early (and cleanly) when interrupt() comes while waiting for one."""
        chunks = iter(source)
        while True:
            self.waiting_for_audio = True
            try:
                chunk = next(chunks, None)
                self.waiting_for_audio = False
            except _AudioWaitInterrupted:
                self.waiting_for_audio = False
                return
            if chunk is None:
                return
            yield chunk

    def _warn_if_narrowband(self, rate_hz: int) -> None:
        """Audio below the model's rate lacks the upper band it was trained on: the mouth follows it less well."""
        if rate_hz < self.pipeline.settings.rate_hz:
            log.warning("audio at %d Hz is below the model's %d Hz: the band above %.1f kHz is missing, so the mouth "
                        "follows the speech less closely (demo sentence: lip opening r 0.69 against it at %d Hz)",
                        rate_hz, self.pipeline.settings.rate_hz, rate_hz / 2000, self.pipeline.settings.rate_hz)

    def _open_sinks(self, t_origin_s: float) -> None:
        self.pipeline.reset()
        self.resamplers = [
            FapResampler(s.rate_hz, None if s.realtime else t_origin_s) if s.rate_hz else None for s in self.sinks
        ]
        for sink in self.sinks:
            sink.open(t_origin_s)

    def _emit(self, frames: FapFrames, live: bool) -> None:
        if len(frames) == 0:
            return
        self.counters.frames += len(frames)
        for sink, resampler in zip(self.sinks, self.resamplers, strict=True):
            out = resampler.process(frames) if resampler is not None else frames
            if len(out) == 0:
                continue
            sink.write(out)
            if sink.quit_requested:
                self.stop_event.set()
            if live:
                now_s = time.monotonic()
                self.counters.latencies_s.extend((now_s - out.times_s).tolist())
