"""Servo config loading and the FAP → servo mapper (mixing, limits, lead, relax, CSV)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import FapFrames
from ventriloquist.firmware_bridge.servo_config import (
    load_servo_config,
    parse_servo_config,
    save_servo_config,
    servo_config_to_dict,
)
from ventriloquist.firmware_bridge.servo_map import ServoCsvSink, ServoFrames, ServoMapper

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "servos.example.toml"
CHUNKS = (1, 17, 160, 1024)


def one_channel(**overrides) -> dict:
    channel = {
        "output": 0, "mix": {"open_jaw": 1.0}, "fap_range": [-100, 300],
        "pulse_min_us": 1000, "pulse_neutral_us": 1200, "pulse_max_us": 1800,
    }  # fmt: skip
    channel.update(overrides)
    return {"link": {"protocol": "ventriloquist", "port": "/dev/null"}, "channels": {"jaw": channel}}


def speech_faps(rate_hz: float = 100.0, seconds: float = 4.0, t0_s: float = 12.345) -> FapFrames:
    rng = np.random.default_rng(7)
    t = t0_s + np.arange(int(seconds * rate_hz)) / rate_hz
    jaw = np.clip(150 + 150 * np.sin(2 * np.pi * 3.1 * t) + rng.normal(0, 20, len(t)), 0, None)
    lip = -2 * jaw + rng.normal(0, 10, len(t))
    lid = np.where((t % 1.7) < 0.12, 1024.0, 0.0)
    values = np.stack([jaw, lip, lid, 0.3 * jaw, -0.2 * jaw], axis=1).astype(np.float32)
    return FapFrames(t, values, (3, 5, 19, 6, 31))


def slices(frames: FapFrames, size: int) -> list[FapFrames]:
    return [
        FapFrames(frames.times_s[i : i + size], frames.values[i : i + size], frames.faps)
        for i in range(0, len(frames), size)
    ]


def run(mapper: ServoMapper, parts: list[FapFrames]) -> ServoFrames:
    outs = [mapper.process(p) for p in parts] + [mapper.flush()]
    return ServoFrames.concat(outs, mapper.channels)


def test_example_config_loads_and_round_trips(tmp_path):
    config = load_servo_config(EXAMPLE)
    assert config.link.protocol == "maestro" and config.link.update_rate_hz == 50
    assert config.names[0] == "jaw" and dict(config.channels[0].mix) == {3: 1.0}
    save_servo_config(tmp_path / "servos.toml", config)
    again = load_servo_config(tmp_path / "servos.toml")
    assert replace(again, source=config.source) == config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pulse_min_us": 1300}, "channel 'jaw': pulse_min_us (1300) must be <= pulse_neutral_us (1200)"),
        ({"pulse_max_us": 1100}, "channel 'jaw': pulse_neutral_us (1200) must be <= pulse_max_us (1100)"),
        ({"pulse_max_us": 3500}, "channel 'jaw': pulse_max_us must be within 400..2800"),
        ({"mix": {"open_jwa": 1.0}}, "channel 'jaw': mix: there is no MPEG-4 FAP named 'open_jwa'"),
        ({"mix": {"3": "x"}}, "channel 'jaw': mix.3 must be a number"),
        ({"fap_range": [10, 300]}, "channel 'jaw': fap_range must be [lo, hi] with lo <= 0 <= hi"),
        ({"lead_s": -0.1}, "channel 'jaw': lead_s must be within 0..1"),
        ({"deadband_us": -1}, "channel 'jaw': deadband_us must be >= 0"),
        ({"output": 16}, "channel 'jaw': output must be a ventriloquist channel number 0..15"),
        ({"pulse_min": 1000}, "channel 'jaw': unknown key 'pulse_min'"),
        ({"reverse": "yes"}, "channel 'jaw': reverse must be true or false"),
    ],
)
def test_bad_channel_settings_name_the_key(overrides, message):
    with pytest.raises(VentriloquistError) as e:
        parse_servo_config(one_channel(**overrides), "servos.toml")
    assert str(e.value).startswith("servos.toml: ") and message in str(e.value)


def test_bad_link_and_file_errors(tmp_path):
    doc = one_channel()
    doc["link"]["protocol"] = "dmx"
    with pytest.raises(VentriloquistError, match=r"\[link\]: protocol must be one of maestro, ventriloquist"):
        parse_servo_config(doc)
    doc = one_channel()
    doc["link"]["update_rate_hz"] = 0
    with pytest.raises(VentriloquistError, match="update_rate_hz"):
        parse_servo_config(doc)
    doc = one_channel()
    doc["channels"]["lip"] = dict(doc["channels"]["jaw"])
    with pytest.raises(VentriloquistError, match="channel 'lip': output 0 is already used by 'jaw'"):
        parse_servo_config(doc)
    with pytest.raises(VentriloquistError, match="needs at least one"):
        parse_servo_config({"link": {}})
    (tmp_path / "broken.toml").write_text("[link\n")
    with pytest.raises(VentriloquistError, match="broken.toml: not valid TOML"):
        load_servo_config(tmp_path / "broken.toml")
    with pytest.raises(VentriloquistError, match="not found"):
        load_servo_config(tmp_path / "missing.toml")


def test_mapping_reaches_calibrated_ends_and_reverse():
    config = parse_servo_config(one_channel())
    mapper = ServoMapper(config)
    t = np.arange(5) / 50.0
    faps = FapFrames(t, np.array([[0], [150], [300], [900], [-100]], np.float32), (3,))
    out = run(mapper, [faps])
    assert np.allclose(out.pulses_us[:, 0], [1200, 1500, 1800, 1800, 1000])
    reversed_ = ServoMapper(parse_servo_config(one_channel(reverse=True)))
    out = run(reversed_, [faps])
    assert np.allclose(out.pulses_us[:, 0], [1200, 1100, 1000, 1000, 1800])
    # a FAP the stream does not carry counts as neutral
    out = run(ServoMapper(config), [FapFrames(t, np.full((5, 1), 500, np.float32), (19,))])
    assert np.allclose(out.pulses_us, 1200)


def test_weighted_mix():
    config = parse_servo_config(one_channel(mix={"stretch_l_cornerlip": 0.5, "12": 0.5}, fap_range=[-100, 100]))
    out = run(ServoMapper(config), [FapFrames(np.zeros(1), np.array([[100, 60]], np.float32), (6, 12))])
    assert out.pulses_us[0, 0] == pytest.approx(1200 + 0.8 * 600)


def test_chunk_sizes_give_identical_frames():
    config = load_servo_config(EXAMPLE)
    config = replace(config, link=replace(config.link, relax_after_silence_s=0.3))
    faps = speech_faps()
    whole = run(ServoMapper(config), [faps])
    assert len(whole) == pytest.approx(4.0 * 50, abs=2)
    assert np.allclose(np.diff(whole.times_s), 0.02)
    mapper = ServoMapper(config)
    for size in CHUNKS:
        chunked = run(mapper, slices(faps, size))
        assert np.array_equal(chunked.times_s, whole.times_s), size
        assert np.array_equal(chunked.pulses_us, whole.pulses_us), size


def test_resamples_any_input_rate_to_the_update_grid():
    config = parse_servo_config(one_channel())
    out_30 = run(ServoMapper(config), [speech_faps(rate_hz=30.0)])
    out_100 = run(ServoMapper(config), [speech_faps(rate_hz=100.0)])
    assert np.allclose(out_30.times_s * 50, np.round(out_30.times_s * 50))  # on the k / 50 Hz grid
    common = np.intersect1d(np.round(out_30.times_s, 6), np.round(out_100.times_s, 6))
    assert len(common) > 150
    a = out_30.pulses_us[np.isin(np.round(out_30.times_s, 6), common), 0]
    b = out_100.pulses_us[np.isin(np.round(out_100.times_s, 6), common), 0]
    assert np.median(np.abs(a - b)) < 60  # the same motion, sampled differently


def test_speed_and_acceleration_limits_hold():
    speed, accel = 2000.0, 40000.0
    config = parse_servo_config(one_channel(max_speed_us_per_s=speed, max_accel_us_per_s2=accel))
    t = np.arange(100) / 50.0
    step = np.where((t > 0.2) & (t < 1.0), 300.0, 0.0)[:, None].astype(np.float32)
    out = run(ServoMapper(config), [FapFrames(t, step, (3,))]).pulses_us[:, 0].astype(np.float64)
    vel = np.diff(out) * 50
    assert np.max(np.abs(vel)) <= speed + 1e-3
    accel_seen = np.abs(np.diff(vel)) * 50
    arriving = np.isin(out[2:], (1200.0, 1800.0)) & ~np.isin(out[1:-1], (1200.0, 1800.0))
    assert np.max(accel_seen[~arriving]) <= accel * 1.0001
    assert np.max(accel_seen) <= accel * 1.25  # the step onto the target may brake a little harder
    assert out.max() == pytest.approx(1800, abs=0.01)  # it gets there
    assert out[-1] == pytest.approx(1200, abs=0.01)  # and back


def test_deadband_ignores_small_changes():
    config = parse_servo_config(one_channel(deadband_us=10))
    t = np.arange(6) / 50.0
    faps = np.array([[0], [4], [8], [9], [20], [19]], np.float32)  # 1 FAPU = 2 µs here
    out = run(ServoMapper(config), [FapFrames(t, faps, (3,))]).pulses_us[:, 0]
    assert list(out) == [1200, 1200, 1216, 1216, 1240, 1240]


def test_lead_time_sends_commands_early():
    plain = parse_servo_config(one_channel())
    early = parse_servo_config(one_channel(lead_s=0.1))
    t = np.arange(100) / 50.0
    faps = FapFrames(t, np.where(t >= 1.0, 300.0, 0.0)[:, None].astype(np.float32), (3,))
    a, b = run(ServoMapper(plain), [faps]), run(ServoMapper(early), [faps])
    assert a.times_s[np.argmax(a.pulses_us[:, 0] > 1500)] == pytest.approx(1.0)
    assert b.times_s[np.argmax(b.pulses_us[:, 0] > 1500)] == pytest.approx(0.9)
    assert len(a) == len(b)


def test_relax_after_silence_turns_the_pulse_off_and_back():
    doc = one_channel()
    doc["link"]["relax_after_silence_s"] = 0.5
    t = np.arange(150) / 50.0
    faps = np.where((t > 2.0) & (t < 2.5), 200.0, 0.0)[:, None].astype(np.float32)
    out = run(ServoMapper(parse_servo_config(doc)), [FapFrames(t, faps, (3,))]).pulses_us[:, 0]
    assert np.all(out[:24] == 1200) and np.all(out[25:100] == 0)  # off after 0.5 s at rest
    assert out[110] == pytest.approx(1600)  # back on when it has to move
    assert out[-1] == 0


def test_non_increasing_times_are_an_error():
    mapper = ServoMapper(parse_servo_config(one_channel()))
    mapper.process(FapFrames(np.array([0.0, 0.1]), np.zeros((2, 1), np.float32), (3,)))
    with pytest.raises(VentriloquistError, match="increase"):
        mapper.process(FapFrames(np.array([0.1]), np.zeros((1, 1), np.float32), (3,)))


def test_csv_sink_maps_fap_frames_to_one_column_per_channel(tmp_path):
    """The sink is the mapper plus the file: the audio-relative track equals the mapper's own output."""
    config = load_servo_config(EXAMPLE)
    faps = speech_faps(seconds=1.0)
    t0_s = float(faps.times_s[0])
    frames = run(ServoMapper(config), [FapFrames(faps.times_s - t0_s, faps.values, faps.faps)])
    path = tmp_path / "track.csv"
    with ServoCsvSink(path, config) as sink:
        sink.open(t0_s)
        for part in slices(faps, 7):
            sink.write(part)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["time", *config.names]
    assert len(rows) == len(frames) + 1 > 40
    assert float(rows[1][0]) == pytest.approx(frames.times_s[0])
    assert np.allclose(np.array(rows[1:], float)[:, 1:], frames.pulses_us, atol=0.005)
    assert [p.name for p in tmp_path.iterdir()] == ["track.csv"]


def test_csv_sink_keeps_the_old_track_when_aborted(tmp_path):
    path = tmp_path / "track.csv"
    path.write_text("old\n")
    frames = ServoFrames(np.zeros(1), np.full((1, 1), 1500, np.float32), ("jaw",))
    with pytest.raises(RuntimeError), ServoCsvSink(path, parse_servo_config(one_channel())) as sink:
        sink.send(frames)
        raise RuntimeError("bake failed")
    assert path.read_text() == "old\n" and len(list(tmp_path.iterdir())) == 1


def test_config_document_uses_fap_names():
    doc = servo_config_to_dict(load_servo_config(EXAMPLE))
    assert doc["channels"]["jaw"]["mix"] == {"open_jaw": 1.0}
