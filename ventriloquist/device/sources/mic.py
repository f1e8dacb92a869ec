"""Microphone through PyAudio (PortAudio), surviving unplugging: the face idles and the source reconnects.

Device by name (exact, else a case-insensitive substring) or index, else the default input. The rate
is negotiated: the bundle's own rate when the device offers it (no resampler lag), else the first of
COMMON_RATES_HZ it supports; the front end resamples. Reads poll PortAudio's buffer, so a device that
vanishes is noticed within stall_s instead of blocking for ever. While no microphone is usable the
source yields real-time silence (the pipeline keeps running, so blinks go on) and retries with
exponential backoff. Timestamps follow a sample clock anchored at the first read; when audio comes
late (lost samples), the clock re-anchors, which the engine sees as a discontinuity.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.frontend import to_mono_float32
from ventriloquist.device.quiet import quiet_stderr
from ventriloquist.device.sources import DEFAULT_CHUNK_S
from ventriloquist.device.values import SPEECH_RATE_HZ, AudioChunk

log = logging.getLogger(__name__)

COMMON_RATES_HZ = (SPEECH_RATE_HZ, 48_000, 44_100, 32_000, 22_050, 8_000)
LATE_TOLERANCE_S = 0.05
"""Audio arriving this much later than its sample clock predicts means samples were lost: re-anchor."""
PA_INPUT_OVERFLOWED = -9981
"""PortAudio's paInputOverflowed error code, as PyAudio raises it."""


class MicSource:
    """AudioChunks from a PortAudio input device, with fault handling (see the module docstring)."""

    def __init__(
        self,
        device: str | int | None = None,
        *,
        rate_hz: int = SPEECH_RATE_HZ,
        chunk_s: float = DEFAULT_CHUNK_S,
        retry_s: tuple[float, float] = (0.5, 8.0),
        stall_s: float = 1.0,
    ) -> None:
        try:
            import pyaudio
        except ImportError:
            raise VentriloquistError("the microphone source needs PyAudio: pip install pyaudio") from None
        self.pyaudio = pyaudio
        self.device = device
        self.preferred_rate_hz = rate_hz
        self.rate_hz = rate_hz
        self.chunk_s = chunk_s
        self.retry_s = retry_s
        self.stall_s = stall_s
        self.live = True
        self.overflows = 0
        """Reads that reported lost input (PortAudio overflow)."""
        self.reconnects = 0
        self.duration_s: float | None = None
        self.pa: Any = None
        """PyAudio instance while open (PyAudio has no type information)."""
        self.stream: Any = None
        self.channels = 1
        self.device_name = ""
        self.closed = False

    # -- device handling -------------------------------------------------------------------------
    def _find_device(self, pa) -> int:
        infos = [pa.get_device_info_by_index(i) for i in range(pa.get_device_count())]
        inputs = [i for i, d in enumerate(infos) if d.get("maxInputChannels", 0) > 0]
        if isinstance(self.device, int) or (isinstance(self.device, str) and self.device.isdigit()):
            index = int(self.device)
            if index not in inputs:
                raise VentriloquistError(f"microphone: no input device with index {index} (inputs: {inputs})")
            return index
        if self.device:
            exact = [i for i in inputs if infos[i]["name"] == self.device]
            partial = [i for i in inputs if str(self.device).lower() in infos[i]["name"].lower()]
            if exact or partial:
                return (exact or partial)[0]
            names = ", ".join(repr(infos[i]["name"]) for i in inputs) or "none"
            raise VentriloquistError(f"microphone: no input device named {self.device!r} (inputs: {names})")
        if not inputs:
            raise VentriloquistError("microphone: no input device present")
        try:
            return int(pa.get_default_input_device_info()["index"])
        except OSError:
            return inputs[0]

    def _negotiate_rate(self, pa, index: int, channels: int) -> int:
        for rate_hz in dict.fromkeys((self.preferred_rate_hz, *COMMON_RATES_HZ)):
            try:
                if pa.is_format_supported(
                    rate_hz, input_device=index, input_channels=channels, input_format=self.pyaudio.paInt16
                ):
                    return rate_hz
            except ValueError:
                continue
        raise VentriloquistError(f"microphone {self.device_name!r}: supports none of the rates {COMMON_RATES_HZ}")

    def _open(self) -> None:
        with quiet_stderr():  # ALSA and JACK print 100-200 lines while PortAudio probes; failures still raise
            self.pa = self.pyaudio.PyAudio()  # a fresh PortAudio session re-scans devices (hot-plug)
            try:
                index = self._find_device(self.pa)
                info = self.pa.get_device_info_by_index(index)
                self.device_name = info["name"]
                self.channels = 1 if info["maxInputChannels"] >= 1 else int(info["maxInputChannels"])
                self.rate_hz = self._negotiate_rate(self.pa, index, self.channels)
                self.chunk_samples = max(1, round(self.chunk_s * self.rate_hz))
                self.stream = self.pa.open(
                    format=self.pyaudio.paInt16, channels=self.channels, rate=self.rate_hz, input=True,
                    input_device_index=index, frames_per_buffer=self.chunk_samples,
                )
            except BaseException:
                self._close_device()
                raise

    def _close_device(self) -> None:
        with quiet_stderr():
            if self.stream is not None:
                try:
                    self.stream.close()
                except OSError:
                    pass
            if self.pa is not None:
                self.pa.terminate()
        self.stream = self.pa = None

    # -- reading -----------------------------------------------------------------------------------
    def _read(self) -> tuple[bytes, float] | None:
        """One chunk and the time its first sample was captured; None when the device stalls or fails."""
        deadline_s = time.monotonic() + self.stall_s
        n = self.chunk_samples
        try:
            while (available := self.stream.get_read_available()) < n:
                if time.monotonic() > deadline_s:
                    log.warning("microphone %r delivered no audio for %.1f s; the face idles", self.device_name,
                                self.stall_s)
                    return None
                time.sleep(max((n - available) / self.rate_hz, 0.001))
            data = self.stream.read(n, exception_on_overflow=True)
        except OSError as e:
            if e.errno == PA_INPUT_OVERFLOWED:
                self.overflows += 1
                return b"", 0.0
            log.warning("microphone %r failed (%s); the face idles", self.device_name, e)
            return None
        t_first_s = time.monotonic() - max(available, n) / self.rate_hz
        return data, t_first_s

    def _silence(self, seconds: float) -> Iterator[AudioChunk]:
        """Real-time paced silent chunks, so the pipeline (blinks, rest mouth) keeps going."""
        n = max(1, round(self.chunk_s * self.rate_hz))
        t_start_s = time.monotonic()
        for k in range(max(1, round(seconds / self.chunk_s))):
            t_s = t_start_s + k * n / self.rate_hz
            wait_s = t_s + n / self.rate_hz - time.monotonic()
            if wait_s > 0:
                time.sleep(wait_s)
            yield AudioChunk(np.zeros(n, np.float32), self.rate_hz, t_s)

    def __iter__(self) -> Iterator[AudioChunk]:
        backoff_s = self.retry_s[0]
        failing = False
        while not self.closed:
            if self.stream is None:
                try:
                    self._open()
                except (OSError, VentriloquistError) as e:
                    if not failing:
                        log.warning("microphone unavailable (%s); the face idles, retrying with backoff", e)
                        failing = True
                    yield from self._silence(backoff_s)
                    backoff_s = min(backoff_s * 2, self.retry_s[1])
                    continue
                if failing:
                    self.reconnects += 1
                log.info("microphone %r open at %d Hz", self.device_name, self.rate_hz)
                failing, backoff_s = False, self.retry_s[0]
                anchor_s, count = None, 0
            got = self._read()
            if got is None:
                self._close_device()
                failing = True
                continue
            data, t_first_s = got
            if not data:
                anchor_s = None  # samples were lost: start a new sample clock
                continue
            if anchor_s is None or t_first_s - (anchor_s + count / self.rate_hz) > LATE_TOLERANCE_S:
                anchor_s, count = t_first_s, 0
            pcm = np.frombuffer(data, "<i2").reshape(-1, self.channels)
            yield AudioChunk(to_mono_float32(pcm), self.rate_hz, anchor_s + count / self.rate_hz)
            count += len(pcm)

    def close(self) -> None:
        self.closed = True
        self._close_device()
