"""Idle life: blinks and slow brow drift mixed into every frame, so a silent kiosk never looks frozen.

Everything is a function of the frame times relative to the stream's first frame and a seed, so a
live run and a bake of the same audio get the same blinks. The mouth is left to the model (its
silence pattern is the mouth at rest). Blinks push the upper eyelids towards fully closed (+1024
IRISD, the neutral lid gap); the brow drift adds a few ENS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import FapFrames

EYELID_CLOSED_FAPU = 1024.0
"""close_t_*_eyelid value of a fully closed upper lid (the neutral lid gap is one IRISD0)."""
UPPER_EYELIDS = (19, 20)
BROWS = (31, 32, 35, 36)
"""Inner and outer eyebrows, left and right."""
BLINK_CLOSING_SHARE = 0.4
"""Part of a blink spent closing; the rest reopens (lids close faster than they open)."""
BROW_DRIFT_PERIODS_S = (7.3, 11.9)
"""Two incommensurate periods summed for the brow drift, so it never visibly repeats."""


@dataclass(frozen=True)
class IdleSettings:
    """Blink timing and brow drift."""

    seed: int = 0
    """Fixes the blink schedule and the drift phases."""
    blink_interval_s: tuple[float, float] = (2.0, 6.0)
    """Gap between blinks, drawn uniformly from this range."""
    blink_duration_s: float = 0.15
    brow_drift_fapu: float = 12.0
    """Peak brow drift in ENS units (a FAPU each)."""
    enabled: bool = True

    def __post_init__(self) -> None:
        low, high = self.blink_interval_s
        if not 0 < low <= high:
            raise VentriloquistError(f"idle: blink_interval_s must be 0 < low <= high, got {self.blink_interval_s}")
        if not 0 < self.blink_duration_s < low:
            raise VentriloquistError(f"idle: blink_duration_s must be within (0, {low}), got {self.blink_duration_s}")
        if self.brow_drift_fapu < 0:
            raise VentriloquistError(f"idle: brow_drift_fapu must be >= 0, got {self.brow_drift_fapu}")


def blink_closure(phase: np.ndarray) -> np.ndarray:
    """Lid closure 0..1 over one blink, phase 0..1 (raised-cosine close, slower raised-cosine open)."""
    closing = 0.5 - 0.5 * np.cos(np.pi * np.clip(phase / BLINK_CLOSING_SHARE, 0, 1))
    opening = 0.5 + 0.5 * np.cos(np.pi * np.clip((phase - BLINK_CLOSING_SHARE) / (1 - BLINK_CLOSING_SHARE), 0, 1))
    inside = (phase >= 0) & (phase < 1)
    return np.where(inside, np.where(phase < BLINK_CLOSING_SHARE, closing, opening), 0.0)


class IdleMixer:
    """Stage: FapFrames -> FapFrames with blinks and brow drift added (FAPs the frames carry only)."""

    def __init__(self, settings: IdleSettings = IdleSettings()) -> None:
        self.settings = settings
        self.rng = np.random.default_rng(settings.seed)
        self.phases = self.rng.uniform(0, 2 * math.pi, len(BROW_DRIFT_PERIODS_S))
        self.angular_hz = 2 * math.pi / np.array(BROW_DRIFT_PERIODS_S)
        self.t_first_s: float | None = None
        """Time of the stream's first frame: the schedule's zero."""
        self.blink_starts_s: list[float] = []
        """Blink start times (relative to t_first_s) not yet wholly in the past."""
        self.next_blink_s = 0.0
        """Start of the first blink not yet in blink_starts_s."""
        self.faps: tuple[int, ...] = ()
        """FAP numbers of the frames seen (for an empty flush of the right width)."""
        self.eyelid_mask = np.zeros(0, np.float32)
        """1 in the UPPER_EYELIDS columns of frames of `faps`, else 0."""
        self.brow_waves = np.zeros((len(BROW_DRIFT_PERIODS_S), 0))
        """(waves, FAPs): each drift wave's amplitude in each column (BROWS columns only)."""

    def process(self, frames: FapFrames) -> FapFrames:
        if frames.faps != self.faps:
            self.faps = frames.faps
            self.eyelid_mask = np.array([f in UPPER_EYELIDS for f in frames.faps], np.float32)
            brow_mask = np.array([f in BROWS for f in frames.faps], np.float64)
            amplitude = self.settings.brow_drift_fapu / len(BROW_DRIFT_PERIODS_S)
            self.brow_waves = np.outer(np.full(len(BROW_DRIFT_PERIODS_S), amplitude), brow_mask)
        if not self.settings.enabled or len(frames) == 0:
            return frames
        if self.t_first_s is None:
            self.t_first_s = float(frames.times_s[0])
            self.next_blink_s = self._gap_s()
        rel_s = np.asarray(frames.times_s, np.float64) - self.t_first_s
        values = np.array(frames.values, np.float32)
        closure = self._closure(rel_s)
        if closure is not None:  # columns outside the mask get + 0
            values += (closure[:, None] * self.eyelid_mask) * (EYELID_CLOSED_FAPU - values)
        values += np.sin(np.multiply.outer(rel_s, self.angular_hz) + self.phases) @ self.brow_waves
        return FapFrames(frames.times_s, values, frames.faps)

    def _gap_s(self) -> float:
        return float(self.rng.uniform(*self.settings.blink_interval_s))

    def _closure(self, rel_s: np.ndarray) -> np.ndarray | None:
        """Closure 0..1 at each time (None: no blink touches these times); extends the blink schedule."""
        duration_s = self.settings.blink_duration_s
        first_s, last_s = float(rel_s[0]), float(rel_s[-1])
        while self.next_blink_s <= last_s:
            self.blink_starts_s.append(self.next_blink_s)
            self.next_blink_s += self._gap_s()
        closure = None
        for start_s in self.blink_starts_s:
            if start_s + duration_s > first_s:
                blink = blink_closure((rel_s - start_s) / duration_s)
                closure = blink if closure is None else np.maximum(closure, blink)
        if self.blink_starts_s and self.blink_starts_s[0] + duration_s <= last_s:
            self.blink_starts_s = [s for s in self.blink_starts_s if s + duration_s > last_s]
        return closure

    def flush(self) -> FapFrames:
        self.reset()
        return FapFrames.empty(self.faps)

    def reset(self) -> None:
        self.rng = np.random.default_rng(self.settings.seed)
        self.phases = self.rng.uniform(0, 2 * math.pi, len(BROW_DRIFT_PERIODS_S))
        self.t_first_s = None
        self.blink_starts_s = []
        self.next_blink_s = 0.0
