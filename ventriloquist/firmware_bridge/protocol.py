"""Frames of our servo firmware, host side: the mirror of firmware/protocol.c.

Frame: 0xA5 | len | type | seq | data | crc_hi crc_lo, where len counts type..data and the
CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected, no final xor; check
value 0x29B1 for b"123456789") over len..data, sent big-endian. Targets are uint16
little-endian quarter microseconds; 0 turns a servo's pulse off.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

START_BYTE = 0xA5
MAX_CHANNELS = 16
MAX_PAYLOAD = 3 + 2 * MAX_CHANNELS
MAX_FRAME = MAX_PAYLOAD + 4
PULSE_MIN_QUS = 1600
PULSE_MAX_QUS = 11200
WATCHDOG_S = 0.250
CRC_INIT = 0xFFFF
CRC_POLY = 0x1021
QUS_PER_US = 4
UNUSED_NEUTRAL_US = 1500.0
"""Failsafe position sent for firmware outputs that no configured channel uses."""

TYPE_TARGETS = 0x01
TYPE_NEUTRAL = 0x02
TYPE_PING = 0x03
TYPE_STATUS = 0x81
FLAG_FAILSAFE = 0x01
FLAG_NEUTRAL_SET = 0x02
_STATUS = struct.Struct("<BBBHH")


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ CRC_POLY) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes, crc: int = CRC_INIT) -> int:
    """CRC-16/CCITT-FALSE of `data`."""
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[(crc >> 8) ^ b]
    return crc


def encode(frame_type: int, seq: int, data: bytes = b"") -> bytes:
    """One frame; `seq` wraps at 256."""
    if len(data) + 2 > MAX_PAYLOAD:
        raise ValueError(f"frame data of {len(data)} bytes exceeds {MAX_PAYLOAD - 2}")
    body = bytes((len(data) + 2, frame_type, seq & 0xFF)) + data
    return bytes((START_BYTE,)) + body + crc16(body).to_bytes(2, "big")


def pulses_to_qus(pulses_us: np.ndarray) -> np.ndarray:
    """Pulse widths (µs, 0 = off) as uint16 quarter microseconds, rounded."""
    return np.rint(np.asarray(pulses_us, np.float64) * QUS_PER_US).astype(np.uint16)


def _targets_body(first_channel: int, pulses_us: np.ndarray) -> bytes:
    qus = pulses_to_qus(pulses_us)
    if first_channel + len(qus) > MAX_CHANNELS:
        raise ValueError(f"channels {first_channel}..{first_channel + len(qus) - 1} exceed {MAX_CHANNELS}")
    return bytes((first_channel,)) + qus.astype("<u2").tobytes()


def encode_targets(seq: int, pulses_us: np.ndarray, first_channel: int = 0) -> bytes:
    """A TARGETS frame for consecutive channels from `first_channel`."""
    return encode(TYPE_TARGETS, seq, _targets_body(first_channel, pulses_us))


def encode_neutral(seq: int, pulses_us: np.ndarray, first_channel: int = 0) -> bytes:
    """A NEUTRAL frame: the positions the firmware's failsafe moves to."""
    return encode(TYPE_NEUTRAL, seq, _targets_body(first_channel, pulses_us))


def encode_ping(seq: int) -> bytes:
    return encode(TYPE_PING, seq)


@dataclass(frozen=True)
class DeviceStatus:
    """The firmware's answer to a PING or NEUTRAL frame."""

    last_seq: int
    failsafe: bool
    """The watchdog has moved the servos to neutral (no valid frame for 250 ms)."""
    neutral_set: bool
    channels: int
    good_frames: int
    bad_frames: int


@dataclass(frozen=True)
class Frame:
    frame_type: int
    seq: int
    data: bytes


class FrameParser:
    """Byte-stream parser for frames, the same state machine as protocol.c (host side)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.bad_frames = 0

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return the complete frames with a valid CRC."""
        self.buffer += data
        frames: list[Frame] = []
        while True:
            start = self.buffer.find(START_BYTE)
            if start < 0:
                self.buffer.clear()
                return frames
            del self.buffer[:start]
            if len(self.buffer) < 2:
                return frames
            n = self.buffer[1]
            if n == START_BYTE:
                del self.buffer[:1]
                continue
            if not 2 <= n <= MAX_PAYLOAD:
                self.bad_frames += 1
                del self.buffer[:2]
                continue
            if len(self.buffer) < n + 4:
                return frames
            body, crc = bytes(self.buffer[1 : n + 2]), int.from_bytes(self.buffer[n + 2 : n + 4], "big")
            del self.buffer[: n + 4]
            if crc16(body) != crc:
                self.bad_frames += 1
                continue
            frames.append(Frame(body[1], body[2], body[3:]))


def parse_status(frame: Frame) -> DeviceStatus | None:
    """The status carried by `frame`, or None when it is not a well-formed status frame."""
    if frame.frame_type != TYPE_STATUS or len(frame.data) != _STATUS.size:
        return None
    seq, flags, channels, good, bad = _STATUS.unpack(frame.data)
    return DeviceStatus(seq, bool(flags & FLAG_FAILSAFE), bool(flags & FLAG_NEUTRAL_SET), channels, good, bad)


class FirmwareEncoder:
    """Bytes for our firmware from pulse rows; numbers frames with a wrapping sequence."""

    protocol = "ventriloquist"

    def __init__(self, outputs: tuple[int, ...], neutral_us: np.ndarray) -> None:
        if len(set(outputs)) != len(outputs) or max(outputs, default=0) >= MAX_CHANNELS:
            raise ValueError(f"firmware outputs must be distinct and < {MAX_CHANNELS}: {outputs}")
        self.outputs = outputs
        self.neutral_us = np.asarray(neutral_us, np.float64)
        self.seq = 0
        self.width = max(outputs, default=-1) + 1
        self.parser = FrameParser()
        self.status: DeviceStatus | None = None
        self.targets_sent = False

    def _row(self, pulses_us: np.ndarray, fill_us: float) -> np.ndarray:
        full = np.full(self.width, fill_us, np.float64)
        full[list(self.outputs)] = pulses_us
        return full

    def _next_seq(self) -> int:
        self.seq = (self.seq + 1) & 0xFF
        return self.seq

    def hello(self) -> bytes:
        """Sent on every (re)connect: the failsafe positions, which the device acknowledges."""
        return encode_neutral(self._next_seq(), self._row(self.neutral_us, UNUSED_NEUTRAL_US))

    def targets(self, pulses_us: np.ndarray) -> bytes:
        """One TARGETS frame for a row of pulses (µs per configured channel, 0 = off)."""
        self.targets_sent = True
        return encode_targets(self._next_seq(), self._row(pulses_us, 0.0))

    def poll(self) -> bytes:
        return encode_ping(self._next_seq())

    @property
    def answered(self) -> bool:
        """A status frame came back."""
        return self.status is not None

    def feed_reply(self, data: bytes) -> str | None:
        """Take bytes read back; a line to log when the firmware reports trouble."""
        message = None
        for frame in self.parser.feed(data):
            status = parse_status(frame)
            if status is None:
                continue
            before = self.status
            self.status = status
            if status.failsafe and self.targets_sent and not (before and before.failsafe):
                message = "servo firmware is in failsafe (no valid frame for 250 ms): servos went to neutral"
            elif before is not None and status.bad_frames != before.bad_frames:
                message = f"servo firmware rejected {(status.bad_frames - before.bad_frames) & 0xFFFF} bad frame(s)"
        return message
