"""Turn whatever a source delivers (int16/int32/float, mono or multi-channel) into float32 mono, or say why not."""

from __future__ import annotations

import math

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.frontend.settings import MAX_RATE_HZ, MIN_RATE_HZ
from ventriloquist.device.values import AudioChunk

INT_FULL_SCALE = {np.dtype(np.int16): 2.0**15, np.dtype(np.int32): 2.0**31, np.dtype(np.uint8): 2.0**7}
"""Divisor that maps each integer sample type to [-1, 1)."""
UINT8_OFFSET = 128
"""8-bit WAV samples are unsigned around this value."""


def to_mono_float32(samples: np.ndarray, *, channels_axis: int = -1) -> np.ndarray:
    """float32 mono in [-1, 1] from int16/int32/uint8/float samples, averaging channels.

    1-D input is mono; 2-D input has its channels along `channels_axis` (-1: (n, channels), as
    interleaved PCM reshapes). Raises VentriloquistError for other dtypes, shapes and NaN/Inf.
    """
    x = np.asarray(samples)
    if x.ndim not in (1, 2):
        raise VentriloquistError(f"audio: expected 1-D (mono) or 2-D (multi-channel) samples, got shape {x.shape}")
    if x.dtype in INT_FULL_SCALE:
        offset = UINT8_OFFSET if x.dtype == np.uint8 else 0
        y = (x.astype(np.float32) - offset) / np.float32(INT_FULL_SCALE[x.dtype])
    elif x.dtype in (np.float32, np.float64):
        y = x.astype(np.float32, copy=False)
        if not np.isfinite(y).all():
            raise VentriloquistError("audio: samples contain NaN or Inf")
    else:
        raise VentriloquistError(f"audio: unsupported sample type {x.dtype} (use int16, int32, uint8, float32/64)")
    if y.ndim == 2:
        y = y.mean(axis=channels_axis, dtype=np.float32)
    return np.ascontiguousarray(y)


def check_chunk(chunk: AudioChunk) -> np.ndarray:
    """The chunk's samples as a 1-D float32 array, after checking type, rate and values."""
    if not isinstance(chunk, AudioChunk):
        raise VentriloquistError(f"frontend: expected an AudioChunk, got {type(chunk).__name__}")
    check_rate(chunk.rate_hz)
    x = np.asarray(chunk.samples)
    if x.ndim != 1 or x.dtype != np.float32:
        raise VentriloquistError(
            f"frontend: AudioChunk samples must be 1-D float32, got {x.dtype} shape {x.shape} "
            "(convert with device.frontend.to_mono_float32)"
        )
    if not math.isfinite(np.add.reduce(x)):  # one pass; a NaN or Inf anywhere makes the sum non-finite
        raise VentriloquistError("frontend: AudioChunk samples contain NaN or Inf")
    return x


def check_rate(rate_hz: int) -> None:
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, int | np.integer):
        raise VentriloquistError(f"audio: sample rate must be an integer in Hz, got {rate_hz!r}")
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise VentriloquistError(
            f"audio: sample rate {rate_hz} Hz is outside the supported {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz"
        )
