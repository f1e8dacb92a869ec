"""`ventriloquist run`: --config decides, command-line flags win; systemd READY/WATCHDOG/STOPPING; SIGTERM and
SIGINT stop it cleanly with every output complete."""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ventriloquist.device import app
from ventriloquist.device.cli import main
from ventriloquist.device.commands import run as run_cmd
from ventriloquist.device.commands.options import pipeline_options
from ventriloquist.device.config import FaceConfig, load_config
from ventriloquist.device.fap_file import read_fap

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "ventriloquist" / "device" / "samples" / "hello.wav"
MODEL_FPS = 100
READY_TIMEOUT_S = 60.0
RUN_BEFORE_SIGNAL_S = 1.5


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    return parser.parse_args(argv)


def stage_settings(argv: list[str], config=None):
    return app.stage_settings(pipeline_options(parse(argv)), config)


def cut(folder: Path, name: str, seconds: float) -> Path:
    """The first `seconds` of the sample speech as a WAV of its own."""
    samples, rate_hz = soundfile.read(SAMPLE, dtype="float32")
    path = folder / name
    soundfile.write(path, samples[: int(seconds * rate_hz)], rate_hz)
    return path


def csv_times(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    assert lines[0].startswith("time,")
    return np.array([float(line.split(",", 1)[0]) for line in lines[1:]])


@pytest.fixture
def config_file(tmp_path):
    """A config choosing a file source, a windowed puppet face, servos, a stream target and idle/smoothing."""
    audio = cut(tmp_path, "config_source.wav", 1.0)
    (tmp_path / "servos.toml").write_text("# only its existence is checked when the config loads\n")
    path = tmp_path / "config.toml"
    path.write_text(f'[audio]\nsource = "{audio.name}"\ndevice = 2\nrate_hz = 48000\n'
                    '[face]\nstyle = "puppet"\nfullscreen = false\nwidth_px = 640\nheight_px = 360\nfps = 20\n'
                    'exaggerate = 3\n'
                    '[servos]\nconfig = "servos.toml"\n[stream]\ntarget = "127.0.0.1:5005"\n'
                    '[model]\nsmoothing_s = 0.1\n[idle]\nblink_per_min = 30\nmotion = 0.5\n')
    return path


def test_the_config_decides_what_no_flag_gives(config_file, tmp_path):
    config = load_config(config_file)
    r = run_cmd.live_settings(parse(["--config", str(config_file)]), config)
    assert (r.source, r.device, r.rate_hz) == (str(tmp_path / "config_source.wav"), 2, 48000)
    assert r.face == app.FaceOptions("puppet", exaggerate=3.0)
    assert (r.fullscreen, r.face_size, r.fps) == (False, (640, 360), 20.0)
    assert r.servos == str(tmp_path / "servos.toml") and r.stream == ("127.0.0.1:5005",)
    smoothing, idle = stage_settings([], config)
    assert math.isclose(smoothing.min_cutoff_hz, 1 / (2 * math.pi * 0.1)) and smoothing.enabled
    assert idle.blink_interval_s == (1.0, 3.0) and idle.brow_drift_fapu == 20.0 and idle.enabled


def test_flags_win_over_the_config(config_file):
    config = load_config(config_file)
    r = run_cmd.live_settings(parse(["--source", "-", "--device", "USB", "--rate", "16000", "--face", "night",
                                     "--windowed", "--fps", "12", "--servos", "other.toml", "--stream", "10.0.0.1:9",
                                     "--exaggerate", "1"]),
                              config)
    assert (r.source, r.device, r.rate_hz, r.fps) == ("-", "USB", 16000, 12.0)
    assert r.face == app.FaceOptions("night", exaggerate=1.0)
    assert (r.servos, r.stream) == ("other.toml", ("10.0.0.1:9",))
    assert run_cmd.live_settings(parse(["--no-face", "--face", "night"]), config).face is None
    smoothing, idle = stage_settings(["--no-smoothing", "--no-idle", "--seed", "7"], config)
    assert not smoothing.enabled and not idle.enabled and idle.seed == 7


def test_without_config_the_old_defaults_hold():
    r = run_cmd.live_settings(parse([]))
    assert (r.source, r.device, r.rate_hz, r.face, r.fullscreen, r.fps, r.servos, r.stream) == (
        "mic", None, None, None, True, 30.0, None, ())
    assert run_cmd.live_settings(parse(["--face"])).face == app.FaceOptions(FaceConfig.style)
    assert FaceConfig.style == "classic"
    smoothing, idle = stage_settings([])
    assert smoothing == type(smoothing)() and idle == type(idle)()


def test_a_photo_given_on_the_command_line_comes_with_its_own_points(tmp_path):
    """The config's points belong to the config's photo: --photo drops them, --points alone replaces them."""
    for name in ("a.png", "a.json"):
        (tmp_path / name).touch()
    path = tmp_path / "config.toml"
    path.write_text('[face]\nstyle = "night"\nexaggerate = 2\nphoto = "a.png"\npoints = "a.json"\n')
    config = load_config(path)

    def face(argv: list[str]) -> app.FaceOptions | None:
        return run_cmd.live_settings(parse(argv), config).face

    a_png, a_json = str(tmp_path / "a.png"), str(tmp_path / "a.json")
    assert face([]) == app.FaceOptions("night", exaggerate=2.0, photo=a_png, points=a_json)
    assert face(["--photo", "b.png"]) == app.FaceOptions("night", exaggerate=2.0, photo="b.png")
    assert face(["--points", "b.json", "--face", "puppet"]) == app.FaceOptions("puppet", exaggerate=2.0, photo=a_png,
                                                                               points="b.json")
    assert face(["--no-face", "--photo", "b.png"]) is None


def test_zero_smoothing_blinks_and_motion_turn_those_stages_off(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[model]\nsmoothing_s = 0\n[idle]\nblink_per_min = 0\nmotion = 0\n")
    smoothing, idle = stage_settings([], load_config(path))
    assert not smoothing.enabled and not idle.enabled
    path.write_text("[idle]\nblink_per_min = 0\nmotion = 1\n")
    _, idle = stage_settings([], load_config(path))
    assert idle.enabled and idle.blink_interval_s[0] >= app.NEVER_S / 2  # drift, but never a blink


@pytest.mark.slow
def test_run_with_a_config_file_source_then_a_flag_overriding_it(tiny_bundle, tmp_path):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5.0)
    short, longer = cut(tmp_path, "short.wav", 1.0), cut(tmp_path, "longer.wav", 2.0)
    config = tmp_path / "config.toml"
    config.write_text(f'[audio]\nsource = "{short}"\n[model]\nbundle = "{tiny_bundle}"\n[face]\nenabled = false\n'
                      f'[stream]\ntarget = "127.0.0.1:{receiver.getsockname()[1]}"\n')
    out = tmp_path / "from_config.csv"
    try:
        assert main(["run", "--config", str(config), "--fap-out", str(out), "--fast"]) == 0
        assert b"time" in receiver.recv(65536)  # the config's stream target got frames
    finally:
        receiver.close()
    times = csv_times(out)
    assert abs(len(times) - MODEL_FPS * 1.0) <= 2 and times[-1] <= 1.0 + 1e-6

    overridden = tmp_path / "from_flag.csv"
    assert main(["run", "--config", str(config), "--source", str(longer), "--fap-out", str(overridden),
                 "--fast", "--stream", "127.0.0.1:9"]) == 0
    times = csv_times(overridden)
    assert abs(len(times) - MODEL_FPS * 2.0) <= 2 and times[-1] > 1.9


def test_a_bad_config_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text("[face]\nstyel = 'classic'\n")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "face.styel: unknown key" in err and str(path) in err


def drain(sock: socket.socket, seconds: float) -> list[str]:
    """Every datagram arriving on `sock` within `seconds`."""
    out, deadline_s = [], time.monotonic() + seconds
    while (left_s := deadline_s - time.monotonic()) > 0:
        sock.settimeout(left_s)
        try:
            out.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return out


@pytest.mark.slow  # real-time runs stopped by a signal
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_live_run_cleanly(stop_signal, tiny_bundle, tmp_path):
    """A real-time file source, a notify socket with a 0.2 s watchdog: READY, pings, the signal, STOPPING, exit 0."""
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(READY_TIMEOUT_S)
    fap, csv = tmp_path / "live.fap", tmp_path / "live.csv"
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000",
           "SDL_VIDEODRIVER": "dummy"}
    argv = [sys.executable, "-m", "ventriloquist", "run", "--source", str(SAMPLE), "--bundle", str(tiny_bundle),
            "--fap-out", str(fap), "--fap-out", str(csv)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        messages = [notify.recv(4096).decode()]
        messages += drain(notify, RUN_BEFORE_SIGNAL_S)
        proc.send_signal(stop_signal)
        _, stderr = proc.communicate(timeout=10)
        messages += drain(notify, 0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        notify.close()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and f"stopped by {stop_signal.name}" in stderr, stderr
    assert messages[0].startswith("READY=1"), messages
    assert messages.count("WATCHDOG=1") >= 3 and messages[-1] == "STOPPING=1", messages

    frames, fps, _ = read_fap(fap)  # complete and valid, yet stopped early
    duration_s = soundfile.info(SAMPLE).duration
    assert fps == 25 and RUN_BEFORE_SIGNAL_S * 25 * 0.8 < len(frames) < duration_s * 25 * 0.8
    times = csv_times(csv)
    assert np.all(np.diff(times) > 0) and abs(times[-1] - len(frames) / 25) < 0.1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("live")) == ["live.csv", "live.fap"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a temporary file was left behind"
