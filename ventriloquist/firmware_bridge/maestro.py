"""Pololu Maestro compact-protocol bytes, so a stock Maestro can be the servo board.

Commands (compact protocol; data bytes carry 7 bits each, low bits first):
set target 0x84, set multiple targets 0x9F (Mini Maestro 12/18/24 only), set speed 0x87,
set acceleration 0x89, get position 0x90, get errors 0xA1 (2-byte reply), go home 0xA2.
Targets are in quarter microseconds; 0 turns the pulse off. Use the Maestro in "USB Dual
Port" serial mode (the Command Port is /dev/ttyACMn) or UART at a fixed baud rate. Its own
failsafe, the serial timeout, is described in firmware/README.md.
"""

from __future__ import annotations

import math

import numpy as np

from ventriloquist.firmware_bridge.protocol import pulses_to_qus

SET_TARGET = 0x84
SET_MULTIPLE_TARGETS = 0x9F
SET_SPEED = 0x87
SET_ACCELERATION = 0x89
GET_POSITION = 0x90
GET_ERRORS = 0xA1
GO_HOME = 0xA2
MAX_CHANNELS = 24
MAX_DATA_VALUE = 0x3FFF
SPEED_UNIT_US_PER_S = 0.25 / 0.010
"""One speed unit: 0.25 µs per 10 ms."""
ACCEL_UNIT_US_PER_S2 = 0.25 / 0.010 / 0.080
"""One acceleration unit: 0.25 µs per 10 ms per 80 ms."""
MAX_ACCEL = 255
ERROR_BITS = (
    "serial signal", "serial overrun", "serial buffer full", "serial CRC", "serial protocol",
    "serial timeout", "script stack", "script call stack", "script program counter",
)  # fmt: skip
"""Maestro error register, bit 0 first."""


def _data14(value: int) -> bytes:
    if not 0 <= value <= MAX_DATA_VALUE:
        raise ValueError(f"Maestro value {value} outside 0..{MAX_DATA_VALUE}")
    return bytes((value & 0x7F, (value >> 7) & 0x7F))


def _channel(channel: int) -> int:
    if not 0 <= channel < MAX_CHANNELS:
        raise ValueError(f"Maestro channel {channel} outside 0..{MAX_CHANNELS - 1}")
    return channel


def set_target(channel: int, target_qus: int) -> bytes:
    return bytes((SET_TARGET, _channel(channel))) + _data14(int(target_qus))


def set_multiple_targets(first_channel: int, targets_qus: list[int]) -> bytes:
    _channel(first_channel + len(targets_qus) - 1)
    head = bytes((SET_MULTIPLE_TARGETS, len(targets_qus), _channel(first_channel)))
    return head + b"".join(_data14(int(t)) for t in targets_qus)


def set_speed(channel: int, speed: int) -> bytes:
    return bytes((SET_SPEED, _channel(channel))) + _data14(int(speed))


def set_acceleration(channel: int, acceleration: int) -> bytes:
    return bytes((SET_ACCELERATION, _channel(channel))) + _data14(int(acceleration))


def get_position(channel: int) -> bytes:
    return bytes((GET_POSITION, _channel(channel)))


def get_errors() -> bytes:
    return bytes((GET_ERRORS,))


def go_home() -> bytes:
    return bytes((GO_HOME,))


def speed_units(max_speed_us_per_s: float) -> int:
    """Maestro speed for a limit in µs/s (0 = unlimited), rounded up so the board never lags."""
    if max_speed_us_per_s <= 0:
        return 0
    return min(MAX_DATA_VALUE, math.ceil(max_speed_us_per_s / SPEED_UNIT_US_PER_S))


def acceleration_units(max_accel_us_per_s2: float) -> int:
    """Maestro acceleration for a limit in µs/s² (0 = unlimited; above its range: unlimited)."""
    units = math.ceil(max_accel_us_per_s2 / ACCEL_UNIT_US_PER_S2) if max_accel_us_per_s2 > 0 else 0
    return 0 if units > MAX_ACCEL else units


def describe_errors(errors: int) -> str:
    return ", ".join(name for bit, name in enumerate(ERROR_BITS) if errors >> bit & 1) or "none"


class MaestroEncoder:
    """Bytes for a Maestro from pulse rows; reads back the get-errors replies."""

    protocol = "maestro"

    def __init__(
        self,
        outputs: tuple[int, ...],
        speed_us_per_s: tuple[float, ...],
        accel_us_per_s2: tuple[float, ...],
        multiple_targets: bool = True,
    ) -> None:
        for ch in outputs:
            _channel(ch)
        self.outputs = outputs
        self.speeds = tuple(speed_units(s) for s in speed_us_per_s)
        self.accels = tuple(acceleration_units(a) for a in accel_us_per_s2)
        self.multiple_targets = multiple_targets
        self.order = sorted(range(len(outputs)), key=lambda i: outputs[i])
        self.reply = bytearray()
        self.errors = 0
        self.replies = 0

    @property
    def answered(self) -> bool:
        """A get-errors reply came back."""
        return self.replies > 0

    def hello(self) -> bytes:
        """Sent on every (re)connect: speed and acceleration limits, then clear old errors."""
        limits = b"".join(
            set_speed(ch, s) + set_acceleration(ch, a)
            for ch, s, a in zip(self.outputs, self.speeds, self.accels, strict=True)
        )
        return limits + get_errors()

    def targets(self, pulses_us: np.ndarray) -> bytes:
        """Set-target commands for one row (µs per configured channel); runs of adjacent
        outputs become one set-multiple-targets command when enabled."""
        qus = pulses_to_qus(pulses_us)
        runs: list[list[int]] = []
        for i in self.order:
            if runs and self.multiple_targets and self.outputs[i] == self.outputs[runs[-1][-1]] + 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        return b"".join(
            set_target(self.outputs[run[0]], qus[run[0]])
            if len(run) == 1
            else set_multiple_targets(self.outputs[run[0]], [qus[i] for i in run])
            for run in runs
        )

    def poll(self) -> bytes:
        return get_errors()

    def feed_reply(self, data: bytes) -> str | None:
        """Take bytes read back; a line to log when the Maestro reports errors."""
        self.reply += data
        message = None
        while len(self.reply) >= 2:
            self.errors = self.reply[0] | self.reply[1] << 8
            del self.reply[:2]
            self.replies += 1
            if self.errors:
                message = f"Maestro reports errors: {describe_errors(self.errors)} (0x{self.errors:04x})"
        return message
