"""Pololu Maestro compact protocol: exact bytes, and the link against the Maestro simulator on a pty."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from ventriloquist.firmware_bridge import maestro
from ventriloquist.firmware_bridge.link import ServoLink
from ventriloquist.firmware_bridge.servo_config import parse_servo_config
from ventriloquist.firmware_bridge.servo_map import ServoFrames
from ventriloquist.firmware_bridge.simulator import MaestroSimulator


def logged(caplog, text: str, timeout_s: float = 5.0) -> bool:
    """Wait for the link's log to say `text` (it logs from its own thread); False on timeout."""
    deadline = time.monotonic() + timeout_s
    while text not in caplog.text:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_command_bytes_match_the_pololu_manual():
    # the user's guide example: channel 2 to 1500 µs = 6000 quarter-µs -> 0x84, 0x02, 0x70, 0x2E
    assert maestro.set_target(2, 6000) == bytes([0x84, 0x02, 0x70, 0x2E])
    assert maestro.set_multiple_targets(3, [6000, 7000]) == bytes([0x9F, 0x02, 0x03, 0x70, 0x2E, 0x58, 0x36])
    assert maestro.set_speed(5, 140) == bytes([0x87, 0x05, 0x0C, 0x01])
    assert maestro.set_acceleration(0, 4) == bytes([0x89, 0x00, 0x04, 0x00])
    assert maestro.get_errors() == b"\xa1" and maestro.go_home() == b"\xa2"
    with pytest.raises(ValueError):
        maestro.set_target(24, 6000)


def test_speed_and_acceleration_units():
    assert maestro.speed_units(0) == 0
    assert maestro.speed_units(2500) == 100  # 100 * 0.25 µs / 10 ms
    assert maestro.speed_units(2501) == 101  # rounded up: the board never lags the host
    assert maestro.acceleration_units(312.5) == 1  # 0.25 µs / 10 ms, gained every 80 ms
    assert maestro.acceleration_units(3125) == 10
    assert maestro.acceleration_units(10**9) == 0  # beyond 255 units: unlimited


def test_encoder_groups_adjacent_outputs():
    enc = maestro.MaestroEncoder((2, 0, 1, 5), (0,) * 4, (0,) * 4, multiple_targets=True)
    data = enc.targets(np.array([1502.0, 1500.0, 1501.0, 1000.0]))
    assert data == maestro.set_multiple_targets(0, [6000, 6004, 6008]) + maestro.set_target(5, 4000)
    single = maestro.MaestroEncoder((2, 0, 1, 5), (0,) * 4, (0,) * 4, multiple_targets=False)
    assert single.targets(np.array([1502.0, 1500.0, 1501.0, 1000.0])).count(maestro.SET_TARGET) == 4


def config_for(port: str, **link):
    channels = {
        "jaw": {"output": 0, "mix": {"open_jaw": 1}, "fap_range": [0, 300], "pulse_min_us": 1000,
                "pulse_neutral_us": 1100, "pulse_max_us": 1900, "max_speed_us_per_s": 2500},
        "lid": {"output": 1, "mix": {"close_t_l_eyelid": 1}, "fap_range": [0, 1024], "pulse_min_us": 1300,
                "pulse_neutral_us": 1400, "pulse_max_us": 2000, "max_accel_us_per_s2": 6250},
    }  # fmt: skip
    return parse_servo_config({"link": {"protocol": "maestro", "port": port, **link}, "channels": channels})


def frames(config, jaw_us: float) -> ServoFrames:
    return ServoFrames(np.zeros(1), np.array([[jaw_us, 1400.0]], np.float32), config.names)


@pytest.fixture
def sim(tmp_path):
    device = MaestroSimulator(channels=12, link_path=tmp_path / "ttyACM0").start()
    yield device
    device.stop()


@pytest.mark.hardware  # the Maestro simulator on a pty
def test_link_drives_the_maestro(sim):
    config = config_for(sim.port)
    with ServoLink(config) as link:
        link.send(frames(config, 1750.0))
        assert sim.wait_for(lambda: sim.targets_qus[0] == 7000)
        assert sim.speeds[0] == 100 and sim.accels[1] == 20  # limits sent on connect
        assert sim.wait_for(lambda: sim.bytes_received > 100)
    assert sim.wait_for(lambda: list(sim.targets_qus[:2]) == [4400, 5600])  # neutral on exit
    assert sim.errors == 0


@pytest.mark.hardware
def test_micro_maestro_needs_single_targets(tmp_path, caplog):
    with MaestroSimulator(channels=6, link_path=tmp_path / "ttyACM0") as sim:
        config = config_for(sim.port, maestro_multiple_targets=False)
        with ServoLink(config) as link:
            link.send(frames(config, 1600.0))
            assert sim.wait_for(lambda: sim.targets_qus[0] == 6400)
        assert sim.errors == 0
        config = config_for(sim.port)  # 0x9F on a Micro Maestro: a protocol error, which the link reports
        caplog.set_level(logging.WARNING, logger="ventriloquist.servos")
        with ServoLink(config) as link:
            link.send(frames(config, 1600.0))
            assert logged(caplog, "Maestro reports errors: serial protocol")


@pytest.mark.hardware
def test_maestro_serial_timeout_sends_servos_home(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="ventriloquist.servos")
    with MaestroSimulator(channels=12, serial_timeout_s=0.25, home_qus=4400, link_path=tmp_path / "tty") as sim:
        config = config_for(sim.port, neutral_on_exit=False)
        link = ServoLink(config)
        link.send(frames(config, 1800.0))
        assert sim.wait_for(lambda: sim.targets_qus[0] == 7200)
        fed_from_s = time.monotonic()  # the link keeps repeating the last frame: no timeout while it runs
        assert sim.wait_for(lambda: sim.errors & MaestroSimulator.TIMEOUT_ERROR
                            or sim.last_command_s - fed_from_s > 2 * sim.serial_timeout_s)
        assert sim.targets_qus[0] == 7200 and not sim.errors & MaestroSimulator.TIMEOUT_ERROR
        link.close()  # host gone
        assert sim.wait_for(lambda: sim.targets_qus[0] == 4400)
        assert sim.errors & MaestroSimulator.TIMEOUT_ERROR
        with ServoLink(config):  # the next run reads and clears the error register
            assert logged(caplog, "Maestro reports errors: serial timeout")
