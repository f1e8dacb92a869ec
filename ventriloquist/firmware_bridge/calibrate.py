"""`ventriloquist calibrate CONFIG`: jog each servo from the keyboard, set its min/neutral/max, save.

`Calibrator` holds the logic (no terminal, no port) so tests drive it directly; `run()` wires
it to a raw-mode terminal and a live ServoLink. The config is rewritten atomically on save.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.firmware_bridge.servo_config import (
    PULSE_LIMITS_US,
    ServoConfig,
    load_servo_config,
    save_servo_config,
)
from ventriloquist.firmware_bridge.servo_map import ServoFrames

STEPS_US = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
DEFAULT_STEP_INDEX = 3
POINTS = {"m": "pulse_min_us", "n": "pulse_neutral_us", "x": "pulse_max_us"}
GOTO = {"M": "pulse_min_us", "N": "pulse_neutral_us", "X": "pulse_max_us"}
KEY_ALIASES = {"\x1b[A": "+", "=": "+", "\x1b[B": "-", "\x1b[C": "\t", "\x1b[D": "\x1b[Z"}
QUIT = "quit"
NOT_SET = "not set"
LASTING_MESSAGES = (NOT_SET, "saved", "unsaved")
"""Messages kept on screen as their own line; the rest only show in the status line."""
HELP = (
    "keys: Tab/→ next channel, Shift-Tab/← previous | +/↑ and -/↓ jog | [ ] finer/coarser step | "
    "m n x set min/neutral/max here | M N X go to min/neutral/max | r reverse | s save | q quit"
)


class Calibrator:
    """Which channel is selected, where every servo is, and the config being edited."""

    def __init__(self, config: ServoConfig, path: str | Path) -> None:
        self.config = config
        self.path = Path(path)
        self.index = 0
        self.pulses_us = config.column("pulse_neutral_us")
        self.step_index = DEFAULT_STEP_INDEX
        self.dirty = False
        self.quit_armed = False

    @property
    def channel_name(self) -> str:
        return self.config.channels[self.index].name

    @property
    def step_us(self) -> float:
        return STEPS_US[self.step_index]

    def select(self, offset: int) -> str:
        self.index = (self.index + offset) % len(self.config.channels)
        return f"channel {self.channel_name!r} (output {self.config.channels[self.index].output})"

    def jog(self, steps: int) -> str:
        lo, hi = PULSE_LIMITS_US
        self.pulses_us[self.index] = float(np.clip(self.pulses_us[self.index] + steps * self.step_us, lo, hi))
        return f"{self.channel_name} at {self.pulses_us[self.index]:g} µs"

    def change_step(self, offset: int) -> str:
        self.step_index = int(np.clip(self.step_index + offset, 0, len(STEPS_US) - 1))
        return f"step {self.step_us:g} µs"

    def set_point(self, key: str) -> str:
        """Store the current position as `key`; the config stays valid or nothing changes."""
        self.config = self.config.with_channel(self.channel_name, **{key: float(self.pulses_us[self.index])})
        self.dirty = True
        return f"{self.channel_name}: {key} = {self.pulses_us[self.index]:g}"

    def go_to(self, key: str) -> str:
        self.pulses_us[self.index] = float(getattr(self.config.channels[self.index], key))
        return f"{self.channel_name} at its {key} {self.pulses_us[self.index]:g} µs"

    def toggle_reverse(self) -> str:
        reverse = not self.config.channels[self.index].reverse
        self.config = self.config.with_channel(self.channel_name, reverse=reverse)
        self.dirty = True
        return f"{self.channel_name}: reverse = {str(reverse).lower()}"

    def save(self) -> str:
        save_servo_config(self.path, self.config)
        self.dirty = False
        return f"saved {self.path}"

    def frames(self) -> ServoFrames:
        """The current positions as one servo frame, for the link."""
        return ServoFrames(np.zeros(1), self.pulses_us[None, :].astype(np.float32), self.config.names)

    def status(self) -> str:
        c = self.config.channels[self.index]
        return (
            f"[{self.index + 1}/{len(self.config.channels)}] {c.name}: {self.pulses_us[self.index]:7.1f} µs  "
            f"min {c.pulse_min_us:g} neutral {c.pulse_neutral_us:g} max {c.pulse_max_us:g}"
            f"{' reversed' if c.reverse else ''}  step {self.step_us:g}{'  *unsaved*' if self.dirty else ''}"
        )

    def handle_key(self, key: str) -> str:
        """Act on one key press; returns a message, or QUIT."""
        key = KEY_ALIASES.get(key, key)
        if key != "q":
            self.quit_armed = False
        try:
            return self._dispatch(key)
        except VentriloquistError as e:
            return f"{NOT_SET}: {e}"

    def _dispatch(self, key: str) -> str:
        if key in ("\t", "\x1b[Z"):
            return self.select(1 if key == "\t" else -1)
        if key in ("+", "-"):
            return self.jog(1 if key == "+" else -1)
        if key in ("[", "]"):
            return self.change_step(-1 if key == "[" else 1)
        if key in POINTS:
            return self.set_point(POINTS[key])
        if key in GOTO:
            return self.go_to(GOTO[key])
        if key == "r":
            return self.toggle_reverse()
        if key == "s":
            return self.save()
        if key == "q":
            if self.dirty and not self.quit_armed:
                self.quit_armed = True
                return "unsaved changes: q again to quit without saving, s to save"
            return QUIT
        return HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="servo config TOML (rewritten on save)")
    parser.add_argument("--port", help="serial port, overriding [link] port (e.g. a simulator's pty)")


def split_keys(text: str) -> list[str]:
    """Key presses in what one terminal read returned: escape sequences stay whole."""
    keys, i = [], 0
    while i < len(text):
        n = 3 if text.startswith("\x1b[", i) else 1
        keys.append(text[i : i + n])
        i += n
    return keys


def run(args: argparse.Namespace) -> int:
    import termios
    import tty

    from ventriloquist.firmware_bridge.link import ServoLink

    config = load_servo_config(args.config)
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        raise VentriloquistError("calibrate needs an interactive terminal (stdin is not a tty)")
    calibrator = Calibrator(config, args.config)
    link = ServoLink(config, port=args.port)
    saved_mode = termios.tcgetattr(fd)
    out = sys.stdout
    try:
        tty.setcbreak(fd)
        out.write(f"calibrating {len(config.channels)} servos on {link.port_path}\n{HELP}\n")
        message = calibrator.select(0)
        while message != QUIT:
            link.send(calibrator.frames())
            out.write(f"\r\x1b[K{calibrator.status()}  | {message}")
            out.flush()
            data = os.read(fd, 64)
            for key in split_keys(data.decode("utf-8", errors="replace")) if data else ["q", "q"]:
                message = calibrator.handle_key(key)
                if message == QUIT:
                    break
                if message.startswith(LASTING_MESSAGES):
                    out.write(f"\r\x1b[K{message}\n")
        out.write("\n")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved_mode)
        link.neutral_us = calibrator.config.column("pulse_neutral_us")  # exit to the new neutral
        link.close()
    return 0
