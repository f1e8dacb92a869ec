"""The live servo sink: FAP frames, mapped to servo frames, to a serial board without ever blocking the audio path.

`ServoLink.send()` (which `write(FapFrames)` calls through the mapper) only swaps the newest ServoFrames
into a one-slot mailbox; a background thread plays its rows out at the update rate, repeats the last
row when nothing new came (which keeps the firmware watchdog and the Maestro serial timeout fed), polls the board's
health, and reopens the port with backoff after it disappears (USB unplugged) and returns.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ventriloquist.firmware_bridge.maestro import MaestroEncoder
from ventriloquist.firmware_bridge.protocol import FirmwareEncoder
from ventriloquist.firmware_bridge.servo_config import ServoConfig
from ventriloquist.firmware_bridge.servo_map import ServoFrames, ServoSink

log = logging.getLogger("ventriloquist.servos")

BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 2.0
POLL_INTERVAL_S = 1.0
"""How often the board is asked for its status / error register."""
WRITE_TIMEOUT_S = 0.5
"""A write stuck this long counts as a lost port."""


class Port(Protocol):
    """What the link needs of a serial port (pyserial's Serial fits)."""

    in_waiting: int

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int) -> bytes: ...
    def close(self) -> None: ...


def open_serial(path: str, baud: int) -> Any:
    """Open a serial port for the link: non-blocking reads, bounded writes, exclusive."""
    import serial

    return serial.Serial(path, baud, timeout=0, write_timeout=WRITE_TIMEOUT_S, exclusive=True)


def make_encoder(config: ServoConfig) -> MaestroEncoder | FirmwareEncoder:
    """The byte encoder for the config's board."""
    if config.link.protocol == "maestro":
        return MaestroEncoder(
            config.outputs,
            tuple(config.column("max_speed_us_per_s")),
            tuple(config.column("max_accel_us_per_s2")),
            config.link.maestro_multiple_targets,
        )
    return FirmwareEncoder(config.outputs, config.column("pulse_neutral_us"))


def ask_status(port: Port, encoder: MaestroEncoder | FirmwareEncoder, timeout_s: float) -> tuple[bool, str | None]:
    """The link's health poll, once and waiting for the answer: (the board answered, the trouble it reported)."""
    message = None
    port.write(encoder.poll())
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not encoder.answered:
        chunk = port.read(64)
        message = encoder.feed_reply(chunk) or message
        if not chunk:
            time.sleep(0.01)
    return encoder.answered, message


class ServoLink(ServoSink):
    """Sink: `write(FapFrames)` and `send(ServoFrames)` never block; `close()` sends neutral (if configured)."""

    def __init__(
        self,
        config: ServoConfig,
        faps: tuple[int, ...] | None = None,
        port_opener: Callable[[str, int], Port] = open_serial,
        port: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(config, faps)
        self.port_path = port or config.link.port
        self.opener = port_opener
        self.clock = clock
        self.encoder = make_encoder(config)
        self.interval_s = 1.0 / config.link.update_rate_hz
        self.neutral_us = config.column("pulse_neutral_us")
        self.cond = threading.Condition()
        self.pending: ServoFrames | None = None
        self.closing = False
        self.port: Port | None = None
        self.frames_sent = 0
        self.connects = 0
        self.thread = threading.Thread(target=self._run, name="servo-link", daemon=True)
        self.thread.start()

    @property
    def connected(self) -> bool:
        return self.port is not None

    def send(self, frames: ServoFrames) -> None:
        """Hand over the newest frames; an older, not yet played chunk is dropped."""
        if frames.channels != self.config.names:
            raise ValueError(f"servo link: frames carry {frames.channels}, config has {self.config.names}")
        if len(frames):
            with self.cond:
                self.pending = frames
                self.cond.notify()

    def finish(self) -> None:
        """Stop the writer; send every servo to neutral if configured; close the port."""
        with self.cond:
            self.closing = True
            self.cond.notify()
        self.thread.join()
        if self.port is not None:
            if self.config.link.neutral_on_exit:
                with contextlib.suppress(OSError):
                    self.port.write(self.encoder.targets(self.neutral_us))
            self._drop_port()

    def _drop_port(self) -> None:
        if self.port is not None:
            with contextlib.suppress(OSError):
                self.port.close()
            self.port = None

    def _connect(self, outage_logged: bool) -> bool:
        try:
            port = self.opener(self.port_path, self.config.link.baud)
            port.write(self.encoder.hello())
        except OSError as e:
            if not outage_logged:
                log.warning("servo link: cannot open %s (%s); retrying in the background", self.port_path, e)
            return False
        self.port = port
        self.connects += 1
        level, verb = (logging.INFO, "connected to") if self.connects == 1 else (logging.WARNING, "reconnected to")
        log.log(level, "servo link: %s %s (%s)", verb, self.port_path, self.config.link.protocol)
        return True

    def _send(self, row: np.ndarray | None, poll: bool) -> None:
        """Write the row (none before the first frames) and the health poll; read replies."""
        assert self.port is not None
        data = (b"" if row is None else self.encoder.targets(row)) + (self.encoder.poll() if poll else b"")
        if data:
            self.port.write(data)
        self.frames_sent += row is not None
        waiting = self.port.in_waiting
        if waiting:
            message = self.encoder.feed_reply(self.port.read(waiting))
            if message:
                log.warning("servo link: %s", message)

    def _run(self) -> None:
        rows: deque[np.ndarray] = deque()
        row: np.ndarray | None = None
        backoff_s, retry_at, outage_logged = BACKOFF_MIN_S, 0.0, False
        next_tick = next_poll = self.clock()
        while True:
            with self.cond:
                while not self.closing and self.pending is None and self.clock() < next_tick:
                    self.cond.wait(max(0.0, next_tick - self.clock()))
                if self.closing:
                    return
                if self.pending is not None:
                    rows = deque(self.pending.pulses_us.astype(np.float64))
                    self.pending = None
            now = self.clock()
            if now < next_tick:
                continue  # new frames arrived early: start them on the next tick
            next_tick = max(next_tick + self.interval_s, now)
            if rows:
                row = rows.popleft()
            if self.port is None and now >= retry_at:
                if self._connect(outage_logged):
                    backoff_s, outage_logged = BACKOFF_MIN_S, False
                else:
                    outage_logged = True
                    retry_at, backoff_s = now + backoff_s, min(2 * backoff_s, BACKOFF_MAX_S)
            if self.port is None:
                continue
            try:
                self._send(row, poll=now >= next_poll)
            except OSError as e:
                log.warning("servo link: lost %s (%s); reconnecting", self.port_path, e)
                self._drop_port()
                outage_logged, retry_at = True, now + backoff_s
                continue
            if now >= next_poll:
                next_poll = now + POLL_INTERVAL_S
