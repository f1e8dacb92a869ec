"""Servo boards on a pseudo-terminal, for tests and for trying the link without hardware.

`FirmwareSimulator` runs the real firmware parser (firmware/protocol.c compiled for the
host, loaded with ctypes); `MaestroSimulator` parses the Pololu compact protocol. Both sit
on the master side of a pty: the host opens `sim.port` with pyserial like a USB board.
`stop()` pulls the plug (the port fails with EIO and its path disappears), `start()` plugs
it back in at the same path. Run one: `python -m ventriloquist.firmware_bridge.simulator firmware|maestro`.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import select
import tempfile
import threading
import time
import tty
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ventriloquist.firmware_bridge import maestro
from ventriloquist.firmware_bridge.build import build_host_library
from ventriloquist.firmware_bridge.protocol import QUS_PER_US, DeviceStatus, FrameParser, parse_status

POLL_S = 0.002
EVENT_NAMES = ("none", "targets", "neutral", "ping", "bad")
DEFAULT_NEUTRAL_QUS = 6000


def load_protocol_library(path: str | Path) -> ctypes.CDLL:
    """The host build of protocol.c with its C signatures declared."""
    lib = ctypes.CDLL(str(path))
    u8, u16, u32, p = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_void_p
    for name, res, args in (
        ("vq_crc16", u16, [ctypes.c_char_p, ctypes.c_size_t]),
        ("vq_device_init", None, [p, u8, u16, u32]),
        ("vq_device_feed", u8, [p, u8, u32]),
        ("vq_device_tick", u8, [p, u32]),
        ("vq_build_status", ctypes.c_size_t, [p, p]),
        ("vq_encode", ctypes.c_size_t, [u8, u8, ctypes.c_char_p, u8, p]),
        ("vq_device_target", u16, [p, u8]),
        ("vq_device_neutral", u16, [p, u8]),
        ("vq_device_size", ctypes.c_size_t, []),
    ):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


class FirmwareCore:
    """One firmware device state (vq_device_t) driven through the real C, without a port."""

    MAX_FRAME = 64

    def __init__(self, lib: ctypes.CDLL, channels: int = 16, neutral_qus: int = DEFAULT_NEUTRAL_QUS) -> None:
        self.lib = lib
        self.channels = channels
        self.dev = ctypes.create_string_buffer(lib.vq_device_size())
        lib.vq_device_init(self.dev, channels, neutral_qus, 0)

    def feed(self, data: bytes, now_ms: int) -> list[str]:
        """Feed bytes; the names of the events they completed."""
        feed, dev, now = self.lib.vq_device_feed, self.dev, now_ms & 0xFFFFFFFF
        return [EVENT_NAMES[e] for e in (feed(dev, b, now) for b in data) if e]

    def tick(self, now_ms: int) -> bool:
        """The watchdog; True when it has just sent every servo to neutral."""
        return bool(self.lib.vq_device_tick(self.dev, now_ms & 0xFFFFFFFF))

    def targets_qus(self) -> np.ndarray:
        return np.array([self.lib.vq_device_target(self.dev, c) for c in range(self.channels)], np.uint16)

    def neutral_qus(self) -> np.ndarray:
        return np.array([self.lib.vq_device_neutral(self.dev, c) for c in range(self.channels)], np.uint16)

    def status_frame(self) -> bytes:
        out = ctypes.create_string_buffer(self.MAX_FRAME)
        n = self.lib.vq_build_status(self.dev, out)
        return out.raw[:n]

    def status(self) -> DeviceStatus:
        frames = FrameParser().feed(self.status_frame())
        status = parse_status(frames[0]) if frames else None
        if status is None:
            raise RuntimeError("the firmware built a malformed status frame")
        return status


class PtyDevice(ABC):
    """A board on the master side of a pty; subclasses handle bytes and time."""

    def __init__(self, link_path: str | Path | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.link_path = Path(link_path) if link_path else None
        self.clock = clock
        self.lock = threading.Lock()
        self.master = self.slave = -1
        self.slave_name = ""
        self.thread: threading.Thread | None = None
        self.running = threading.Event()
        self.bytes_received = 0

    @property
    def port(self) -> str:
        """The path a host opens: the symlink when one was asked for, else the pty itself."""
        return str(self.link_path) if self.link_path else self.slave_name

    def start(self) -> PtyDevice:
        """Plug in: a fresh pty, the symlink pointed at it, the reader thread running."""
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.slave_name = os.ttyname(self.slave)
        if self.link_path:
            tmp = self.link_path.with_name(f".{self.link_path.name}.new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            os.symlink(self.slave_name, tmp)
            os.replace(tmp, self.link_path)
        self.running.set()
        self.thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Pull the plug: the host's next write fails and the path disappears."""
        self.running.clear()
        if self.thread:
            self.thread.join()
            self.thread = None
        if self.link_path:
            with contextlib.suppress(FileNotFoundError):
                self.link_path.unlink()
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1

    def __enter__(self) -> PtyDevice:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reply(self, data: bytes) -> None:
        os.write(self.master, data)

    def _serve(self) -> None:
        while self.running.is_set():
            ready, _, _ = select.select([self.master], [], [], POLL_S)
            data = b""
            if ready:
                with contextlib.suppress(OSError):
                    data = os.read(self.master, 4096)
            with self.lock:
                now = self.clock()
                if data:
                    self.bytes_received += len(data)
                    self.on_bytes(data, now)
                self.on_time(now)

    @abstractmethod
    def on_bytes(self, data: bytes, now_s: float) -> None:
        """Bytes the host sent, as they arrive (called under the device lock)."""

    @abstractmethod
    def on_time(self, now_s: float) -> None:
        """Called every poll, so a device can act on time passing (watchdogs)."""

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
        """Wait until `predicate()` (called under the device lock) holds; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if predicate():
                    return True
            time.sleep(POLL_S)
        return False


class FirmwareSimulator(PtyDevice):
    """Our servo firmware on a pty: the real C parser and watchdog, fed by a reader thread."""

    def __init__(
        self,
        library: str | Path | None = None,
        channels: int = 16,
        link_path: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(link_path, clock)
        if library is None:
            self.build_dir = tempfile.TemporaryDirectory(prefix="vq-firmware-")
            library = build_host_library(self.build_dir.name)
        self.core = FirmwareCore(load_protocol_library(library), channels)
        self.t0_s = clock()
        self.history: list[tuple[float, np.ndarray]] = []
        """(time, targets in µs) after every applied TARGETS frame or failsafe."""
        self.failsafe_times_s: list[float] = []
        self.events: dict[str, int] = dict.fromkeys(EVENT_NAMES[1:], 0)

    def _ms(self, now_s: float) -> int:
        return int((now_s - self.t0_s) * 1000)

    def on_bytes(self, data: bytes, now_s: float) -> None:
        now_ms = self._ms(now_s)
        for event in (e for i in range(len(data)) for e in self.core.feed(data[i : i + 1], now_ms)):
            self.events[event] += 1
            if event == "targets":
                self.history.append((now_s, self.core.targets_qus() / QUS_PER_US))
            elif event in ("ping", "neutral"):
                with contextlib.suppress(OSError):
                    self.reply(self.core.status_frame())

    def on_time(self, now_s: float) -> None:
        if self.core.tick(self._ms(now_s)):
            self.failsafe_times_s.append(now_s)
            self.history.append((now_s, self.core.targets_qus() / QUS_PER_US))

    def targets_us(self) -> np.ndarray:
        with self.lock:
            return self.core.targets_qus() / QUS_PER_US


class MaestroSimulator(PtyDevice):
    """A Pololu Maestro on a pty: compact protocol, error register, serial timeout, go home."""

    DATA_BYTES = {maestro.SET_TARGET: 3, maestro.SET_SPEED: 3, maestro.SET_ACCELERATION: 3,
                  maestro.GET_POSITION: 1, maestro.GET_ERRORS: 0, maestro.GO_HOME: 0}  # fmt: skip
    PROTOCOL_ERROR = 1 << 4
    TIMEOUT_ERROR = 1 << 5

    def __init__(
        self,
        channels: int = 24,
        serial_timeout_s: float = 0.0,
        home_qus: int = 0,
        link_path: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(link_path, clock)
        self.channels = channels
        self.serial_timeout_s = serial_timeout_s
        """0 = disabled, as shipped; set in the Maestro Control Center on a real board."""
        self.home_qus = home_qus
        """Where errors send the servos; 0 = off (the Maestro's default)."""
        self.targets_qus = np.zeros(channels, np.int64)
        self.speeds = np.zeros(channels, np.int64)
        self.accels = np.zeros(channels, np.int64)
        self.errors = 0
        self.command = bytearray()
        self.last_command_s = clock()
        self.history: list[tuple[float, np.ndarray]] = []
        """(time, targets in µs) after every change."""

    def _expected(self) -> int | None:
        cmd = self.command[0]
        if cmd == maestro.SET_MULTIPLE_TARGETS:
            return None if len(self.command) < 2 else 2 + 2 * self.command[1]
        return self.DATA_BYTES.get(cmd, -1)

    def _error(self, bit: int, now_s: float) -> None:
        self.errors |= bit
        self._go_home(now_s)

    def _go_home(self, now_s: float) -> None:
        self.targets_qus[:] = self.home_qus
        self.history.append((now_s, self.targets_qus / QUS_PER_US))

    def on_bytes(self, data: bytes, now_s: float) -> None:
        for b in data:
            if b & 0x80:
                if self.command:
                    self._error(self.PROTOCOL_ERROR, now_s)  # an unfinished command was interrupted
                self.command = bytearray((b,))
                if self._expected() == -1 or (b == maestro.SET_MULTIPLE_TARGETS and self.channels <= 6):
                    self.command.clear()
                    self._error(self.PROTOCOL_ERROR, now_s)
                    continue
            elif not self.command:
                self._error(self.PROTOCOL_ERROR, now_s)
                continue
            else:
                self.command.append(b)
            need = self._expected()
            if need is not None and len(self.command) - 1 >= need:
                self._execute(bytes(self.command), now_s)
                self.command.clear()

    def _execute(self, cmd: bytes, now_s: float) -> None:
        op, args = cmd[0], cmd[1:]

        def word(i: int) -> int:
            return args[i] | args[i + 1] << 7

        first = args[1] if op == maestro.SET_MULTIPLE_TARGETS else (args[0] if args else 0)
        count = args[0] if op == maestro.SET_MULTIPLE_TARGETS else 1
        if first + count > self.channels:
            self._error(self.PROTOCOL_ERROR, now_s)
            return
        self.last_command_s = now_s
        if op == maestro.SET_TARGET:
            self.targets_qus[first] = word(1)
        elif op == maestro.SET_MULTIPLE_TARGETS:
            self.targets_qus[first : first + count] = [word(2 + 2 * i) for i in range(count)]
        elif op == maestro.SET_SPEED:
            self.speeds[first] = word(1)
        elif op == maestro.SET_ACCELERATION:
            self.accels[first] = word(1)
        elif op == maestro.GET_POSITION:
            self.reply(int(self.targets_qus[first]).to_bytes(2, "little"))
        elif op == maestro.GET_ERRORS:
            self.reply(self.errors.to_bytes(2, "little"))
            self.errors = 0
        elif op == maestro.GO_HOME:
            self._go_home(now_s)
        if op in (maestro.SET_TARGET, maestro.SET_MULTIPLE_TARGETS):
            self.history.append((now_s, self.targets_qus / QUS_PER_US))

    def on_time(self, now_s: float) -> None:
        if self.serial_timeout_s > 0 and now_s - self.last_command_s >= self.serial_timeout_s:
            self.last_command_s = now_s
            self._error(self.TIMEOUT_ERROR, now_s)

    def targets_us(self) -> np.ndarray:
        with self.lock:
            return self.targets_qus / QUS_PER_US


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ventriloquist.firmware_bridge.simulator",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("board", choices=("firmware", "maestro"))
    parser.add_argument("--link", help="also reachable at this path (a symlink), e.g. /tmp/ttyVQ")
    args = parser.parse_args(argv)
    sim = FirmwareSimulator(link_path=args.link) if args.board == "firmware" else MaestroSimulator(link_path=args.link)
    with sim:
        print(f"{args.board} simulator on {sim.port}; Ctrl-C to stop", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1.0)
                print(f"targets µs: {np.array2string(sim.targets_us(), precision=1)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
