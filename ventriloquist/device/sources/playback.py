"""Playback mode: the device speaks a file through its speaker and its face follows the very same audio.

The sound is delayed by the pipeline's latency (silence written ahead of it, less what the output
device itself adds), so a face frame and the sound it belongs to come out together. Chunks are
handed to the engine as they are written to the speaker; PortAudio's blocking write paces them.
Each chunk's t_capture_s is when it was written, so for a frame, (sink time - t_capture_s) minus
`delay_s` is the lip offset the engine's latency samples measure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.quiet import quiet_stderr
from ventriloquist.device.sources import DEFAULT_CHUNK_S
from ventriloquist.device.sources.file import FileSource
from ventriloquist.device.values import AudioChunk

log = logging.getLogger(__name__)

INT16_SCALE = 32768
"""float samples in [-1, 1) map back to int16 exactly as they were read (x / 32768)."""


def speaker_pcm(samples: np.ndarray, volume: float = 1.0) -> bytes:
    """int16 little-endian PCM of `samples` at `volume` (0 to 1), for the speaker only: the face follows the file."""
    scaled = np.round(samples * (volume * INT16_SCALE))
    return np.clip(scaled, -INT16_SCALE, INT16_SCALE - 1).astype("<i2").tobytes()


class PlaybackSource:
    """Plays `path` on an output device (by name/index, else the default) at `volume` (0 to 1, the config's
    audio.volume), yielding its chunks in step."""

    def __init__(self, path: str | Path, *, latency_s: float, device: str | int | None = None,
                 chunk_s: float = DEFAULT_CHUNK_S, volume: float = 1.0) -> None:
        try:
            import pyaudio
        except ImportError:
            raise VentriloquistError("playback needs PyAudio: pip install pyaudio") from None
        self.pyaudio = pyaudio
        self.file = FileSource(path, chunk_s=chunk_s)
        self.rate_hz = self.file.rate_hz
        self.duration_s = self.file.duration_s
        self.latency_s = latency_s
        self.device = device
        self.volume = volume
        self.live = True
        self.overflows = 0
        self.delay_s = latency_s
        """Total delay of the sound after its chunk is written (silence + output latency)."""
        self.pa: Any = None
        """PyAudio instance while open (PyAudio has no type information)."""
        self.stream: Any = None

    def _output_index(self) -> int | None:
        if self.device is None:
            return None
        infos = [self.pa.get_device_info_by_index(i) for i in range(self.pa.get_device_count())]
        outputs = [i for i, d in enumerate(infos) if d.get("maxOutputChannels", 0) > 0]
        if str(self.device).isdigit() and int(self.device) in outputs:
            return int(self.device)
        for i in outputs:
            if infos[i]["name"] == self.device or str(self.device).lower() in infos[i]["name"].lower():
                return i
        raise VentriloquistError(f"playback: no output device {self.device!r}")

    def __iter__(self) -> Iterator[AudioChunk]:
        try:
            with quiet_stderr():  # ALSA and JACK chatter while PortAudio probes devices
                self.pa = self.pyaudio.PyAudio()
                self.stream = self.pa.open(format=self.pyaudio.paInt16, channels=1, rate=self.rate_hz, output=True,
                                           output_device_index=self._output_index())
        except OSError as e:
            self.close()
            raise VentriloquistError(f"playback: cannot open the output device at {self.rate_hz} Hz ({e})") from None
        output_latency_s = float(self.stream.get_output_latency())
        silence_samples = max(0, round((self.latency_s - output_latency_s) * self.rate_hz))
        self.delay_s = silence_samples / self.rate_hz + output_latency_s
        log.info("playback: sound delayed %.1f ms (%.1f ms silence + %.1f ms device)", self.delay_s * 1000,
                 silence_samples / self.rate_hz * 1000, output_latency_s * 1000)
        self.stream.write(bytes(2 * silence_samples))
        t_start_s = time.monotonic()
        n = 0
        for chunk in self.file:
            self.stream.write(speaker_pcm(chunk.samples, self.volume))
            yield AudioChunk(chunk.samples, self.rate_hz, t_start_s + n / self.rate_hz)
            n += len(chunk.samples)

    def close(self) -> None:
        with quiet_stderr():
            if self.stream is not None:
                self.stream.close()
            if self.pa is not None:
                self.pa.terminate()
        self.stream = self.pa = None
