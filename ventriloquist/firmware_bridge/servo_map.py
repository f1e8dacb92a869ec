"""FAPs → servo pulse widths: mixing, calibration, deadband, speed/acceleration limits, lead.

`ServoMapper` is a streaming stage (process/flush/reset) from FapFrames at any rate to
ServoFrames on the config's fixed update grid (t = k / update_rate_hz). Everything runs on
frame times, never a clock, so batch and streaming give the same pulses. `ServoSink` puts a
mapper in front of a servo output, so the engine drives the live link and the CSV track like any sink.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ventriloquist.device.atomic import AtomicTextFile
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import FAPS
from ventriloquist.device.sinks.base import BaseSink
from ventriloquist.device.values import FapFrames
from ventriloquist.firmware_bridge.servo_config import ServoConfig

REST_TOLERANCE_US = 0.5
"""A servo within max(deadband, this) of neutral counts as resting (for relax-after-silence)."""
GRID_EPSILON = 1e-9
CSV_TIME_FORMAT = "%.4f"
CSV_PULSE_FORMAT = "%.2f"


@dataclass(frozen=True)
class ServoFrames:
    """Servo commands on a fixed time grid: one row per frame, one column per channel."""

    times_s: np.ndarray
    """(n,) float64: when to send the row (lead time already applied per channel)."""
    pulses_us: np.ndarray
    """(n, channels) float32 pulse widths in µs; 0 = pulse off (servo relaxed)."""
    channels: tuple[str, ...]
    """Channel names, one per column."""

    def __len__(self) -> int:
        return len(self.times_s)

    @classmethod
    def empty(cls, channels: tuple[str, ...]) -> ServoFrames:
        return cls(np.zeros(0, np.float64), np.zeros((0, len(channels)), np.float32), channels)

    @classmethod
    def concat(cls, parts: list[ServoFrames], channels: tuple[str, ...]) -> ServoFrames:
        if not parts:
            return cls.empty(channels)
        return cls(np.concatenate([p.times_s for p in parts]), np.concatenate([p.pulses_us for p in parts]), channels)


class PulseCalibration:
    """Mixed FAP values (..., channels) -> calibrated pulse widths (µs), clamped to min..max. The channel
    settings are read once: on a Pi Zero every chunk's instructions count (`ventriloquist bench cost`)."""

    def __init__(self, config: ServoConfig) -> None:
        self.lo = np.array([c.fap_range[0] for c in config.channels], np.float64)
        self.hi = np.array([c.fap_range[1] for c in config.channels], np.float64)
        self.sign = np.where(config.column("reverse") > 0, -1.0, 1.0)
        self.neutral = config.column("pulse_neutral_us")
        self.up = config.column("pulse_max_us") - self.neutral
        self.down = self.neutral - config.column("pulse_min_us")

    def __call__(self, mixed: np.ndarray) -> np.ndarray:
        lo, hi = self.lo, self.hi
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(mixed >= 0, np.where(hi > 0, mixed / hi, 0.0), np.where(lo < 0, -mixed / lo, 0.0))
        u = np.clip(u, -1.0, 1.0) * self.sign
        return self.neutral + u * np.where(u >= 0, self.up, self.down)


def check_mix(config: ServoConfig, faps: tuple[int, ...]) -> None:
    """Every FAP a servo is mixed from is one the model outputs; else that servo would never move."""
    for channel in config.channels:
        missing = [FAPS[fap].name for fap, _ in channel.mix if fap not in faps]
        if missing:
            given = ", ".join(FAPS[f].name for f in faps)
            raise VentriloquistError(f"{config.source}: servo {channel.name!r} is mixed from {', '.join(missing)}, "
                                     f"which the model never outputs (it gives {given})")


class ServoMapper:
    """Streaming stage: FapFrames (any rate) → ServoFrames at the config's update rate."""

    def __init__(self, config: ServoConfig, faps: tuple[int, ...] | None = None) -> None:
        """`faps`: the FAPs the frames will carry (the model's); a channel mixed from any other is refused."""
        if faps is not None:
            check_mix(config, faps)
        self.config = config
        self.channels = config.names
        self.rate_hz = config.link.update_rate_hz
        self.dt_s = 1.0 / self.rate_hz
        self.lead_s = config.column("lead_s")
        self.neutral_us = config.column("pulse_neutral_us")
        self.deadband_us = config.column("deadband_us")
        self.max_speed = config.column("max_speed_us_per_s")
        self.max_accel = config.column("max_accel_us_per_s2")
        self.relax_after_s = config.link.relax_after_silence_s
        self.limits = list(zip(
            np.maximum(self.deadband_us, 1e-12).tolist(),
            np.where(self.max_speed > 0, self.max_speed, np.inf).tolist(),
            np.where(self.max_accel > 0, self.max_accel * self.dt_s, np.inf).tolist(),
            np.maximum(self.deadband_us, REST_TOLERANCE_US).tolist(),
            self.neutral_us.tolist(), strict=True))
        """Per servo: (deadband, speed cap, speed change per frame, rest tolerance, neutral), as plain floats."""
        self.mix_cache: dict[tuple[int, ...], np.ndarray] = {}
        self.to_pulse_us = PulseCalibration(config)
        self.reset()

    def reset(self) -> None:
        n = len(self.channels)
        self.in_times_s = np.zeros(0, np.float64)
        """Input frames still needed for interpolation."""
        self.in_pulses_us = np.zeros((0, n), np.float64)
        """Their calibrated (unlimited) pulse widths."""
        self.next_k: int | None = None
        """Grid index of the next output frame (t = k / rate_hz)."""
        self.target_us = self.neutral_us.tolist()
        """Last target accepted through the deadband, per servo."""
        self.pos_us = self.neutral_us.tolist()
        self.vel_us_per_s = [0.0] * n
        self.rest_s = [0.0] * n
        """How long each servo has rested at neutral."""

    def _mix_matrix(self, faps: tuple[int, ...]) -> np.ndarray:
        if faps not in self.mix_cache:
            m = np.zeros((len(faps), len(self.channels)), np.float64)
            for c, channel in enumerate(self.config.channels):
                for fap, weight in channel.mix:
                    if fap in faps:
                        m[faps.index(fap), c] += weight
            self.mix_cache[faps] = m
        return self.mix_cache[faps]

    def process(self, frames: FapFrames) -> ServoFrames:
        """Take the next FAP frames; return the servo frames that are now fully known."""
        if len(frames):
            times = np.asarray(frames.times_s, np.float64)
            last = self.in_times_s[-1] if len(self.in_times_s) else -math.inf
            if np.any(np.diff(times) <= 0) or times[0] <= last:
                raise VentriloquistError("servo mapper: FAP frame times must increase strictly")
            mixed = frames.values.astype(np.float64) @ self._mix_matrix(frames.faps)
            self.in_times_s = np.concatenate([self.in_times_s, times])
            self.in_pulses_us = np.concatenate([self.in_pulses_us, self.to_pulse_us(mixed)])
            if self.next_k is None:
                self.next_k = math.ceil(times[0] * self.rate_hz - GRID_EPSILON)
        return self._emit(final=False)

    def flush(self) -> ServoFrames:
        """Emit the rest, up to the last input time; then ready for a new stream."""
        out = self._emit(final=True)
        self.reset()
        return out

    def _emit(self, final: bool) -> ServoFrames:
        if self.next_k is None:
            return ServoFrames.empty(self.channels)
        horizon_s = self.in_times_s[-1] - (0.0 if final else float(self.lead_s.max()))
        k_end = math.floor(horizon_s * self.rate_hz + GRID_EPSILON) + 1
        ks = np.arange(self.next_k, max(k_end, self.next_k))
        times = ks / self.rate_hz
        pulses = np.zeros((len(ks), len(self.channels)), np.float32)
        for i, t in enumerate(times):
            wanted = [float(np.interp(t + lead, self.in_times_s, self.in_pulses_us[:, c]))
                      for c, lead in enumerate(self.lead_s)]
            pulses[i] = self._step(wanted)
        if len(ks):
            self.next_k = int(ks[-1]) + 1
            keep = max(0, int(np.searchsorted(self.in_times_s, self.next_k / self.rate_hz, "right")) - 1)
            self.in_times_s, self.in_pulses_us = self.in_times_s[keep:], self.in_pulses_us[keep:]
        return ServoFrames(times, pulses, self.channels)

    def _step(self, wanted_us: list[float]) -> list[float]:
        """One grid frame: deadband, then speed/acceleration limits, then relax; returns pulses.

        Plain floats, servo by servo: a handful of servos through some thirty numpy calls cost more than
        the arithmetic itself (`ventriloquist bench cost`); the operations are numpy's, so the pulses are too.
        """
        dt, relax_s = self.dt_s, self.relax_after_s - GRID_EPSILON
        out = []
        for c, (wanted, target, pos, vel_before, rest, (deadband, speed_cap, a_dt, tolerance, neutral)) in enumerate(
                zip(wanted_us, self.target_us, self.pos_us, self.vel_us_per_s, self.rest_s, self.limits,
                    strict=True)):
            if abs(wanted - target) >= deadband:
                target = wanted
            err = target - pos
            vel = min(max(err / dt, -speed_cap), speed_cap)
            if a_dt != math.inf:  # fastest speed from which steps of a*dt less each still stop within |err|
                stop_cap = (math.sqrt(1.0 + 8.0 * abs(err) / (a_dt * dt)) - 1.0) / 2.0 * a_dt
                vel = min(max(min(max(vel, -stop_cap), stop_cap), vel_before - a_dt), vel_before + a_dt)
            step = vel * dt
            if step * err >= 0 and abs(step) >= abs(err):
                pos, vel = target, err / dt
            else:
                pos = pos + step
            self.target_us[c], self.pos_us[c], self.vel_us_per_s[c] = target, pos, vel
            if self.relax_after_s > 0:
                resting = abs(target - neutral) <= tolerance and abs(pos - neutral) <= tolerance
                self.rest_s[c] = rest = rest + dt if resting else 0.0
            out.append(0.0 if self.relax_after_s > 0 and rest >= relax_s else pos)
        return out


def _csv_block(frames: ServoFrames) -> str:
    if not len(frames):
        return ""
    table = np.column_stack([frames.times_s, frames.pulses_us.astype(np.float64)])
    fmt = ",".join([CSV_TIME_FORMAT] + [CSV_PULSE_FORMAT] * len(frames.channels))
    return "\n".join(fmt % tuple(row) for row in table) + "\n"


class ServoSink(BaseSink):
    """A sink of FapFrames for a servo output: a ServoMapper (its grid counted from the audio start) turns
    them into ServoFrames for `send()`; `close()` sends the mapper's tail, then `finish()` ends the output."""

    def __init__(self, config: ServoConfig, faps: tuple[int, ...] | None = None) -> None:
        """`faps`: the FAPs the frames will carry (the model's); a channel mixed from any other is refused."""
        super().__init__()
        self.config = config
        self.mapper = ServoMapper(config, faps)

    def write(self, frames: FapFrames) -> None:
        self.send(self.mapper.process(FapFrames(frames.times_s - self.t_origin_s, frames.values, frames.faps)))

    def close(self, t_end_s: float | None = None) -> None:
        try:
            tail = self.mapper.flush()
            if len(tail):
                self.send(tail)
        finally:
            self.finish()

    @abstractmethod
    def send(self, frames: ServoFrames) -> None:
        """Pulse widths on the config's channels, in order."""

    @abstractmethod
    def finish(self) -> None:
        """End the output: the file in place, the servos at neutral."""


class ServoCsvSink(ServoSink):
    """A servo track for a show controller: `time` then one column of pulse widths (µs) per
    channel. Written to a temporary file and renamed into place on close."""

    def __init__(self, path: str | Path, config: ServoConfig, faps: tuple[int, ...] | None = None) -> None:
        super().__init__(config, faps)
        self.out = AtomicTextFile(path)
        self.out.write(",".join(("time", *config.names)) + "\n")

    def send(self, frames: ServoFrames) -> None:
        if frames.channels != self.config.names:
            raise VentriloquistError(f"servo CSV: frames carry channels {frames.channels}, expected "
                                     f"{self.config.names}")
        self.out.write(_csv_block(frames))

    def finish(self) -> None:
        self.out.commit()

    def abort(self) -> None:
        """Drop the half-written track; the old file, if any, stays."""
        self.out.discard()
