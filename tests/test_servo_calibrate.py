"""`calibrate`: the Calibrator logic, and the real command driven over a pty against the Maestro simulator."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from ventriloquist.firmware_bridge.calibrate import QUIT, Calibrator, split_keys
from ventriloquist.firmware_bridge.servo_config import load_servo_config, save_servo_config
from ventriloquist.firmware_bridge.simulator import MaestroSimulator

REPO = Path(__file__).resolve().parents[1]
CONFIG = """
[link]
protocol = "maestro"
port = "/dev/does-not-exist"

[channels.jaw]
output = 0
mix = { open_jaw = 1.0 }
fap_range = [0, 300]
pulse_min_us = 1000
pulse_neutral_us = 1100
pulse_max_us = 1800

[channels.lid]
output = 1
mix = { close_t_l_eyelid = 1.0 }
fap_range = [0, 1024]
pulse_min_us = 1300
pulse_neutral_us = 1400
pulse_max_us = 2000
"""


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "servos.toml"
    path.write_text(CONFIG)
    return path


def test_calibrator_logic(tmp_path):
    path = write_config(tmp_path)
    cal = Calibrator(load_servo_config(path), path)
    for key in "+++":
        cal.handle_key(key)
    assert cal.pulses_us[0] == 1130
    assert "pulse_neutral_us = 1130" in cal.handle_key("n")
    assert "pulse_min_us = 1130" in cal.handle_key("m")  # min may equal neutral
    cal.handle_key("]")
    cal.handle_key("\x1b[A")  # arrow up = jog +
    assert cal.pulses_us[0] == 1150
    assert "must be <= pulse_neutral_us" in cal.handle_key("m")  # min above neutral: refused
    assert cal.config.channels[0].pulse_min_us == 1130
    cal.handle_key("\t")
    assert cal.channel_name == "lid"
    cal.handle_key("X")
    assert cal.pulses_us[1] == 2000
    assert cal.handle_key("q").startswith("unsaved changes")
    assert "saved" in cal.handle_key("s")
    assert cal.handle_key("q") == QUIT
    assert load_servo_config(path).channels[0].pulse_neutral_us == 1130
    assert cal.frames().pulses_us.shape == (1, 2)


def test_split_keys_keeps_escape_sequences():
    assert split_keys("+\x1b[A-\t") == ["+", "\x1b[A", "-", "\t"]


@pytest.mark.hardware
def test_calibrate_command_over_a_pty(tmp_path):
    path = write_config(tmp_path)
    with MaestroSimulator(channels=12, link_path=tmp_path / "ttyACM0") as sim:
        master, slave = os.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ventriloquist.device.cli", "calibrate", str(path), "--port", sim.port],
            stdin=slave, stdout=slave, stderr=slave, cwd=REPO,
        )  # fmt: skip
        os.close(slave)
        screen: list[bytes] = []
        reader = threading.Thread(target=drain, args=(master, screen), daemon=True)
        reader.start()
        try:
            assert sim.wait_for(lambda: list(sim.targets_qus[:2]) == [4400, 5600], timeout_s=20)
            os.write(master, b"+++")
            assert sim.wait_for(lambda: sim.targets_qus[0] == 1130 * 4)
            os.write(master, b"n]++")
            assert sim.wait_for(lambda: sim.targets_qus[0] == 1170 * 4)
            os.write(master, b"xm\t--")  # max = 1170; min above neutral is refused
            assert sim.wait_for(lambda: sim.targets_qus[1] == 1360 * 4)
            os.write(master, b"msq")
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            reader.join(timeout=5)
            os.close(master)
        assert sim.wait_for(lambda: sim.targets_qus[0] == 1130 * 4)  # the new neutral on exit
    text = b"".join(screen).decode(errors="replace")
    assert "not set: servos.toml: channel 'jaw': pulse_min_us (1170)" in text
    assert f"saved {path}" in text
    config = load_servo_config(path)
    jaw, lid = config.channels
    assert (jaw.pulse_min_us, jaw.pulse_neutral_us, jaw.pulse_max_us) == (1000, 1130, 1170)
    assert (lid.pulse_min_us, lid.pulse_neutral_us) == (1360, 1400)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def drain(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                data = os.read(fd, 4096)
                if not data:
                    return
                into.append(data)
        except OSError:
            return


def test_save_is_atomic_and_keeps_other_channels(tmp_path):
    path = write_config(tmp_path)
    config = load_servo_config(path)
    save_servo_config(path, config.with_channel("lid", pulse_max_us=1900.0))
    again = load_servo_config(path)
    assert again.channels[1].pulse_max_us == 1900 and again.channels[0] == config.channels[0]
    assert np.array_equal(again.column("pulse_neutral_us"), [1100, 1400])
