"""Raw PCM on standard input (s16le, interleaved) as a source: `arecord ... | ventriloquist run --source -`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.frontend import to_mono_float32
from ventriloquist.device.frontend.audio import check_rate
from ventriloquist.device.sources import DEFAULT_CHUNK_S
from ventriloquist.device.values import SPEECH_RATE_HZ, AudioChunk

BYTES_PER_SAMPLE = 2


class StdinSource:
    """s16le PCM from a byte stream; times count from the first sample (a pipe has no capture clock)."""

    def __init__(
        self,
        stream: BinaryIO | None = None,
        *,
        rate_hz: int = SPEECH_RATE_HZ,
        channels: int = 1,
        chunk_s: float = DEFAULT_CHUNK_S,
    ) -> None:
        check_rate(rate_hz)
        if not 1 <= channels <= 32:
            raise VentriloquistError(f"stdin: channels must be within 1..32, got {channels}")
        self.stream = stream if stream is not None else sys.stdin.buffer
        self.rate_hz = rate_hz
        self.channels = channels
        self.chunk_samples = max(1, round(chunk_s * rate_hz))
        self.live = False
        self.overflows = 0
        self.duration_s: float | None = None

    def __iter__(self) -> Iterator[AudioChunk]:
        frame_bytes = BYTES_PER_SAMPLE * self.channels
        n = 0
        pending = b""
        while True:
            data = self.stream.read(self.chunk_samples * frame_bytes - len(pending))
            if not data:
                break
            pending += data
            usable = len(pending) - len(pending) % frame_bytes
            if usable < self.chunk_samples * frame_bytes:
                continue
            pcm = np.frombuffer(pending[:usable], "<i2").reshape(-1, self.channels)
            pending = pending[usable:]
            yield AudioChunk(to_mono_float32(pcm), self.rate_hz, n / self.rate_hz)
            n += len(pcm)
        usable = len(pending) - len(pending) % frame_bytes
        if usable:
            pcm = np.frombuffer(pending[:usable], "<i2").reshape(-1, self.channels)
            yield AudioChunk(to_mono_float32(pcm), self.rate_hz, n / self.rate_hz)
            n += len(pcm)
        self.duration_s = n / self.rate_hz

    def close(self) -> None:
        """The stream belongs to the caller."""
