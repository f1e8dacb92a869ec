"""Causal smoothing of FAP tracks, so pattern switching shows no jitter yet motion keeps its timing.

A One Euro filter per FAP (Casiez, Roussel & Vogel, CHI 2012): a first-order low-pass whose cutoff
rises with the track's speed. At rest the cutoff is low (jitter of a few FAPU vanishes); in speech
motion it is high, so the lag stays under one frame. Depends only on values and frame times, so the
same frames give the same output whether they arrive one by one or all at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import FapFrames


@dataclass(frozen=True)
class SmoothingSettings:
    """One Euro filter parameters, shared by every FAP (values are in FAPU)."""

    min_cutoff_hz: float = 1.0
    """Cutoff when the track is still: lower removes more jitter at rest."""
    beta_per_fapu: float = 0.01
    """Cutoff increase per FAPU/s of speed: higher means less lag in fast motion."""
    derivative_cutoff_hz: float = 5.0
    """Cutoff of the speed estimate itself."""
    enabled: bool = True

    def __post_init__(self) -> None:
        for name in ("min_cutoff_hz", "derivative_cutoff_hz"):
            if not getattr(self, name) > 0:
                raise VentriloquistError(f"smoothing: {name} must be > 0, got {getattr(self, name)}")
        if self.beta_per_fapu < 0:
            raise VentriloquistError(f"smoothing: beta_per_fapu must be >= 0, got {self.beta_per_fapu}")


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    """Smoothing factor of a first-order low-pass with this cutoff, for one step of dt_s."""
    tau_s = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau_s / dt_s)


class Smoother:
    """Stage: FapFrames -> FapFrames of the same times, each FAP One-Euro filtered (causal)."""

    def __init__(self, settings: SmoothingSettings = SmoothingSettings()) -> None:
        self.settings = settings
        self.value: np.ndarray | None = None
        """Filtered values of the last frame (None before the first frame)."""
        self.speed: np.ndarray | None = None
        """Filtered speed (FAPU/s) of the last frame."""
        self.t_last_s = 0.0
        """Time of the last frame."""
        self.faps: tuple[int, ...] = ()
        """FAP numbers of the frames seen (for an empty flush of the right width)."""

    def process(self, frames: FapFrames) -> FapFrames:
        self.faps = frames.faps
        if not self.settings.enabled or len(frames) == 0:
            return frames
        s = self.settings
        x = np.asarray(frames.values, np.float32)
        out = np.empty_like(x)
        start = 0
        if self.value is None:
            self.value, self.speed, self.t_last_s = x[0].copy(), np.zeros_like(x[0]), float(frames.times_s[0])
            out[0] = x[0]
            start = 1
        value, speed, t_last_s = self.value, self.speed, self.t_last_s
        assert value is not None and speed is not None  # set by the first frame above
        times_s = np.asarray(frames.times_s, np.float64).tolist()
        for i in range(start, len(x)):
            t_s = times_s[i]
            dt_s = t_s - t_last_s
            if dt_s <= 0:  # a repeated time: hold the previous output
                out[i] = value
                continue
            delta = x[i] - value
            a_speed = _alpha(s.derivative_cutoff_hz, dt_s)
            speed *= 1.0 - a_speed
            speed += delta * (a_speed / dt_s)
            # alpha = 1 / (1 + tau / dt) = k / (k + 1), with k = 2 pi dt cutoff and cutoff = min + beta |speed|
            k = np.abs(speed)
            k *= 2.0 * math.pi * dt_s * s.beta_per_fapu
            k += 2.0 * math.pi * dt_s * s.min_cutoff_hz
            k /= k + 1.0
            k *= delta
            value += k
            out[i] = value
            t_last_s = t_s
        self.t_last_s = t_last_s
        return FapFrames(frames.times_s, out, frames.faps)

    def flush(self) -> FapFrames:
        faps = self.faps
        self.reset()
        return FapFrames.empty(faps)

    def reset(self) -> None:
        self.value = None
        self.speed = None
        self.t_last_s = 0.0
