"""The firmware C (protocol.c) against the host encoder: CRC, frames, range checks, watchdog, fuzz."""

from __future__ import annotations

import random
import shutil
import subprocess

import numpy as np
import pytest

from ventriloquist.firmware_bridge import build, protocol
from ventriloquist.firmware_bridge.simulator import FirmwareCore, load_protocol_library

CHECK_INPUT = b"123456789"
CCITT_FALSE_CHECK = 0x29B1


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    # UBSan with bounds checks: an out-of-bounds write in the parser aborts the test run
    return load_protocol_library(build.build_host_library(tmp_path_factory.mktemp("fw"), sanitize=True))


def test_protocol_c_builds_with_strict_flags(tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    done = subprocess.run(
        ["gcc", *build.C_FLAGS, "-pedantic", "-c", str(build.FIRMWARE_DIR / "protocol.c"), "-o", str(tmp_path / "p.o")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_crc16_ccitt_false_vectors(lib):
    assert protocol.crc16(CHECK_INPUT) == CCITT_FALSE_CHECK
    assert lib.vq_crc16(CHECK_INPUT, len(CHECK_INPUT)) == CCITT_FALSE_CHECK
    assert protocol.crc16(b"") == 0xFFFF
    data = bytes(range(256)) * 3
    assert protocol.crc16(data) == lib.vq_crc16(data, len(data))


def test_python_and_c_encoders_agree(lib):
    import ctypes

    data = bytes([2, 0x70, 0x17, 0x40, 0x1F])
    out = ctypes.create_string_buffer(64)
    n = lib.vq_encode(protocol.TYPE_TARGETS, 7, data, len(data), out)
    assert out.raw[:n] == protocol.encode(protocol.TYPE_TARGETS, 7, data)
    # a fixed frame, so a change in the layout shows up here
    assert protocol.encode_targets(1, np.array([1500.0])).hex() == "a5" + "050101007017" + "fb7b"


def test_targets_frame_moves_servos_and_status_answers(lib):
    core = FirmwareCore(lib, channels=8)
    frame = protocol.encode_targets(5, np.array([1000.0, 2000.25, 0.0]), first_channel=2)
    assert core.feed(frame, 10) == ["targets"]
    t = core.targets_qus()
    assert list(t[2:5]) == [4000, 8001, 0] and t[0] == 6000
    assert core.feed(protocol.encode_ping(6), 11) == ["ping"]
    status = core.status()
    assert (status.last_seq, status.good_frames, status.bad_frames, status.channels) == (6, 2, 0, 8)


@pytest.mark.parametrize(
    "frame",
    [
        protocol.encode(protocol.TYPE_TARGETS, 1, bytes([0]) + (1200).to_bytes(2, "little")),  # 300 µs: too short
        protocol.encode(protocol.TYPE_TARGETS, 1, bytes([0]) + (12000).to_bytes(2, "little")),  # 3000 µs: too long
        protocol.encode(protocol.TYPE_TARGETS, 1, bytes([7]) + (6000).to_bytes(2, "little") * 2),  # past channel 7
        protocol.encode(protocol.TYPE_TARGETS, 1, bytes([0, 1, 2, 3])),  # odd target bytes
        protocol.encode(protocol.TYPE_NEUTRAL, 1, bytes([0, 0, 0])),  # neutral may not be "off"
        protocol.encode(0x55, 1, b""),  # unknown type
        protocol.encode(protocol.TYPE_PING, 1, b"\x00"),  # ping with data
    ],
)
def test_bad_frames_are_rejected_without_moving(lib, frame):
    core = FirmwareCore(lib, channels=8)
    before = core.targets_qus().copy()
    assert core.feed(frame, 0) == ["bad"]
    assert np.array_equal(core.targets_qus(), before)
    assert core.status().bad_frames == 1


def test_watchdog_moves_to_neutral_after_250_ms(lib):
    core = FirmwareCore(lib, channels=4)
    core.feed(protocol.encode_neutral(1, np.array([1100.0, 1200.0, 1300.0, 1400.0])), 0)
    core.feed(protocol.encode_targets(2, np.array([2000.0] * 4)), 1000)
    assert not core.tick(1000 + 249)
    assert list(core.targets_qus()) == [8000] * 4
    assert core.tick(1000 + 250)
    assert list(core.targets_qus()) == [4400, 4800, 5200, 5600]
    assert core.status().failsafe
    assert not core.tick(1000 + 900)  # fires once per outage
    core.feed(protocol.encode_targets(3, np.array([1600.0] * 4)), 2000)
    assert not core.status().failsafe and core.targets_qus()[0] == 6400


def test_watchdog_survives_millisecond_wraparound(lib):
    core = FirmwareCore(lib, channels=1)
    t0 = 0xFFFFFFFF - 100
    core.feed(protocol.encode_targets(1, np.array([2000.0])), t0)
    assert not core.tick(t0 + 200)  # wraps past zero, 200 ms later
    assert core.tick(t0 + 260)


def test_parser_resynchronises_after_noise(lib):
    core = FirmwareCore(lib, channels=2)
    good = protocol.encode_targets(9, np.array([1234.0, 1765.5]))
    events = core.feed(b"\x00\xa5\xa5\x13garbage" + good + b"\xa5" + good, 0)
    assert events.count("targets") == 2
    assert list(core.targets_qus()) == [4936, 7062]


def test_fuzz_random_and_corrupted_bytes_never_move_a_servo(lib):
    rng = random.Random(1234)
    core = FirmwareCore(lib, channels=16)
    neutral = core.targets_qus().copy()
    # random bytes, with start bytes sprinkled in so the parser gets deep into frames
    noise = bytes(rng.choice((0xA5, rng.randrange(256))) for _ in range(60_000))
    events = core.feed(noise, 0)
    assert "targets" not in events and "neutral" not in events
    assert np.array_equal(core.targets_qus(), neutral)
    # valid frames with one corruption each: bit flip, dropped byte, inserted byte, truncation
    for i in range(3_000):
        pulses = np.array([rng.uniform(500, 2500) for _ in range(rng.randrange(1, 17))])
        original = protocol.encode_targets(i, pulses)
        frame = bytearray(original)
        kind = i % 4
        pos = rng.randrange(1, len(frame))
        if kind == 0:
            frame[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del frame[pos]
        elif kind == 2:
            frame.insert(pos, rng.randrange(256))
        else:
            frame = frame[:pos]
        if original in frame:
            continue  # e.g. a start byte inserted before the frame: noise followed by a valid frame
        events = core.feed(bytes(frame), i)
        assert "targets" not in events, f"corruption {kind} at byte {pos} passed: {bytes(frame).hex()}"
        core.feed(b"\x00" * protocol.MAX_FRAME, i)  # flush a half-parsed frame
        assert np.array_equal(core.targets_qus(), neutral)
    # and the parser still works afterwards
    assert core.feed(protocol.encode_targets(1, np.array([1500.5])), 0) == ["targets"]


def test_python_frame_parser_reads_c_status(lib):
    core = FirmwareCore(lib, channels=3)
    parser = protocol.FrameParser()
    frames = parser.feed(b"\x01\x02" + core.status_frame()[:5])
    assert frames == []
    frames = parser.feed(core.status_frame()[5:])
    status = protocol.parse_status(frames[0])
    assert status is not None and status.channels == 3 and not status.failsafe


@pytest.mark.hardware  # avr-gcc
def test_avr_build_fits_an_atmega328p(tmp_path):
    if not build.avr_available():
        pytest.skip("avr-gcc / avr-libc not installed (Debian: gcc-avr avr-libc)")
    for pca in (False, True):
        b = build.build_avr(tmp_path, pca9685=pca)
        print(f"ATmega328P {'pca9685' if pca else 'direct'}: flash {b.flash_bytes} B, static RAM {b.ram_bytes} B")
        assert b.hex.stat().st_size > 0
        assert 0 < b.flash_bytes < build.AVR_FLASH_BYTES
        assert 0 < b.ram_bytes < build.AVR_RAM_BYTES // 2  # leave half the RAM for the stack


@pytest.mark.hardware  # simavr
def test_avr_firmware_boots_under_simavr(tmp_path):
    if not build.avr_available() or shutil.which("simavr") is None:
        pytest.skip("avr-gcc or simavr not installed")
    b = build.build_avr(tmp_path)
    done = subprocess.run(
        ["timeout", "--signal=INT", "1", "simavr", "-m", build.AVR_MCU, "-f", str(build.AVR_F_CPU_HZ), str(b.elf)],
        capture_output=True, text=True,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert "Loaded" in output
    assert "crash" not in output.lower()
