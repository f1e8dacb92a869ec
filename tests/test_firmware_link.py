"""ServoLink over a real pty + pyserial against the real firmware parser (host build of protocol.c)."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import replace

import numpy as np
import pytest

from ventriloquist.firmware_bridge import build
from ventriloquist.firmware_bridge.link import ServoLink
from ventriloquist.firmware_bridge.servo_config import parse_servo_config
from ventriloquist.firmware_bridge.servo_map import ServoFrames
from ventriloquist.firmware_bridge.simulator import FirmwareSimulator

pytestmark = pytest.mark.hardware  # pty serial ports and the firmware built with gcc

NEUTRAL_US = (1200.0, 1500.0, 1400.0)
FIRMWARE_CLOCK_RESOLUTION_S = 0.001


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    return build.build_host_library(tmp_path_factory.mktemp("fw"))


@pytest.fixture
def sim(library, tmp_path):
    device = FirmwareSimulator(library, channels=8, link_path=tmp_path / "ttyVQ").start()
    yield device
    device.stop()


def config_for(port: str, **link):
    channels = {
        name: {"output": out, "mix": {"open_jaw": 1.0}, "fap_range": [0, 300],
               "pulse_min_us": 1000, "pulse_neutral_us": neutral, "pulse_max_us": 2000}
        for name, out, neutral in zip(("jaw", "lip", "brow"), (0, 1, 3), NEUTRAL_US, strict=True)
    }  # fmt: skip
    return parse_servo_config({"link": {"protocol": "ventriloquist", "port": port, **link}, "channels": channels})


def ramp(config, n: int = 10) -> ServoFrames:
    pulses = np.tile(np.array(NEUTRAL_US, np.float32), (n, 1))
    pulses[:, 0] = np.linspace(1300, 1900, n)
    return ServoFrames(np.arange(n) / 50.0, pulses, config.names)


def test_frames_reach_the_firmware_and_neutral_is_set(sim):
    config = config_for(sim.port)
    with ServoLink(config) as link:
        link.send(ramp(config))
        assert sim.wait_for(lambda: sim.core.targets_qus()[0] == 1900 * 4)
        assert sim.wait_for(lambda: link.encoder.status is not None)  # a status poll came back
    assert sim.wait_for(lambda: sim.core.targets_qus()[0] == NEUTRAL_US[0] * 4)  # neutral on exit
    assert list(sim.targets_us()[[0, 1, 3]]) == list(NEUTRAL_US)
    assert list(sim.core.neutral_qus()[[0, 1, 3]] / 4) == list(NEUTRAL_US)  # failsafe positions from the config
    assert sim.events["bad"] == 0
    jaw = [h[0] for _, h in sim.history]
    upto = jaw.index(1900.0) + 1
    assert np.all(np.diff(jaw[:upto]) >= 0)  # every row of the chunk, played in order
    assert all(np.min(np.abs(np.array(jaw[:upto]) - v)) <= 0.125 for v in np.linspace(1300, 1900, 10))


def test_failsafe_moves_to_neutral_250_ms_after_the_host_stops(sim):
    config = config_for(sim.port, neutral_on_exit=False)
    link = ServoLink(config)
    link.send(ramp(config))
    assert sim.wait_for(lambda: sim.core.targets_qus()[0] == 1900 * 4)
    link.close()  # like a crashed host: no neutral, frames just stop
    assert sim.wait_for(lambda: bool(sim.failsafe_times_s), timeout_s=5)
    with sim.lock:
        last_frame_s = max(t for t, h in sim.history if h[0] == 1900)
        silence_s = sim.failsafe_times_s[0] - last_frame_s
    assert silence_s >= 0.25 - FIRMWARE_CLOCK_RESOLUTION_S
    assert list(sim.targets_us()[[0, 1, 3]]) == list(NEUTRAL_US)
    assert sim.core.status().failsafe


def test_link_reconnects_after_unplug_without_blocking(sim, caplog):
    caplog.set_level(logging.INFO, logger="ventriloquist.servos")
    config = config_for(sim.port)
    with ServoLink(config) as link:
        link.send(ramp(config))
        assert sim.wait_for(lambda: sim.core.targets_qus()[0] == 1900 * 4)
        sim.stop()  # USB unplugged: the pty and its path are gone
        for _ in range(50):
            link.send(ramp(config))  # returns at once while the port is missing
        sim.start()  # plugged back in at the same path
        frames = ramp(config)
        frames = replace(frames, pulses_us=np.where(frames.pulses_us == 1900, 1700, frames.pulses_us))
        link.send(frames)
        assert sim.wait_for(lambda: sim.core.targets_qus()[0] == 1700 * 4, timeout_s=10)
        assert link.connects == 2
    text = caplog.text
    assert f"lost {sim.port}" in text and f"reconnected to {sim.port}" in text


def test_link_waits_for_a_port_that_is_not_there_yet(library, tmp_path, caplog):
    port = tmp_path / "ttyLATE"
    config = config_for(str(port))
    with ServoLink(config) as link:
        link.send(ramp(config))
        for _ in range(500):
            if "cannot open" in caplog.text:
                break
            time.sleep(0.01)
        assert not link.connected and f"cannot open {port}" in caplog.text
        with FirmwareSimulator(library, channels=8, link_path=port) as sim:
            assert sim.wait_for(lambda: sim.core.targets_qus()[0] == 1900 * 4, timeout_s=10)
