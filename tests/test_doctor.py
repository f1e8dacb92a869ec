"""`ventriloquist doctor` on this machine (no microphone, no display): plain lines, warnings, no traceback;
failures for a bad config, a broken bundle, a silent or answering servo board on a real pty."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ventriloquist.device.commands import doctor

REPO = Path(__file__).resolve().parents[1]
LEVELS = ("ok", "warn", "fail")


def run_doctor(capsys, *argv: str) -> tuple[int, list[str]]:
    parser = argparse.ArgumentParser()
    doctor.add_arguments(parser)
    code = doctor.run(parser.parse_args(list(argv)))
    lines = capsys.readouterr().out.splitlines()
    return code, lines


def config_file(tmp_path: Path, bundle: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[model]\nbundle = "{bundle}"\n{extra}')
    return path


@pytest.mark.hardware  # audio devices, a display probe
def test_whole_report_on_this_machine(tmp_path, tiny_bundle):
    env = {k: v for k, v in os.environ.items() if k != "SDL_VIDEODRIVER"}
    runner = "import sys; from ventriloquist.device.cli import main; sys.exit(main(sys.argv[1:]))"
    from ventriloquist.device.cli import COMMANDS

    if "doctor" in {name for name, _, _ in COMMANDS}:
        cmd = [sys.executable, "-c", runner, "doctor"]
    else:  # not registered yet: the same module, called the way cli.py calls it
        cmd = [sys.executable, "-c", "import argparse, sys; from ventriloquist.device.commands import doctor as d; "
               "p = argparse.ArgumentParser(); d.add_arguments(p); sys.exit(d.run(p.parse_args(sys.argv[1:])))"]
    result = subprocess.run([*cmd, "--config", str(config_file(tmp_path, tiny_bundle))],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    checks = [line.split(":")[0].split()[-1] for line in lines[:-1]]
    assert set(checks) == set(doctor.CHECKS), lines
    assert all(line.split()[0] in LEVELS for line in lines[:-1]), lines
    assert lines[-1].startswith("doctor: 0 failed"), lines
    assert result.returncode == 0
    assert any(line.startswith("ok    bundle:") and "tiny-test" in line for line in lines)
    assert any(line.startswith("ok    cpu:") and "faster than real time" in line for line in lines)


def test_bad_config_fails_and_the_rest_is_not_checked(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text('[audio]\nsorce = "mic"\n')
    code, lines = run_doctor(capsys, "--config", str(path))
    assert code == 1
    assert lines[0] == f"fail  config: {path}: audio.sorce: unknown key (did you mean 'source'?)"
    assert "warn  bundle: not checked, because the config did not load" in lines


def test_broken_bundle_fails(tmp_path, tiny_bundle, capsys):
    (tiny_bundle / "patterns.csv").write_text("pattern\n")
    code, lines = run_doctor(capsys, "--config", str(config_file(tmp_path, tiny_bundle)), "--check", "bundle")
    assert code == 1
    assert lines[0].startswith("fail  bundle:") and "patterns.csv" in lines[0]


def test_no_config_file_warns_and_uses_defaults(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(doctor, "DEFAULT_PATH", tmp_path / "absent.toml")
    code, lines = run_doctor(capsys, "--check", "config", "--check", "serial")
    assert code == 0
    assert lines[0].startswith("warn  config: no config file")
    assert lines[1].startswith("ok    serial: no servos configured")


def test_display_not_needed_when_the_face_is_off(tmp_path, tiny_bundle, capsys):
    path = config_file(tmp_path, tiny_bundle, "[face]\nenabled = false\n")
    code, lines = run_doctor(capsys, "--config", str(path), "--check", "display")
    assert (code, lines[0]) == (0, "ok    display: the face is off in the config, so no display is needed")


def servo_config(tmp_path: Path, port: str) -> Path:
    path = tmp_path / "servos.toml"
    path.write_text(f"""
[link]
protocol = "maestro"
port = "{port}"
[channels.jaw]
output = 0
mix = {{ open_jaw = 1.0 }}
fap_range = [0, 300]
pulse_min_us = 1000
pulse_neutral_us = 1050
pulse_max_us = 1800
""")
    return path


@pytest.mark.hardware
def test_serial_check_hears_a_maestro_on_a_pty(tmp_path, tiny_bundle, capsys):
    simulator = pytest.importorskip("ventriloquist.firmware_bridge.simulator")
    with simulator.MaestroSimulator(link_path=tmp_path / "ttyMaestro") as sim:
        servos = servo_config(tmp_path, sim.port)
        path = config_file(tmp_path, tiny_bundle, f'[servos]\nconfig = "{servos}"\n')
        code, lines = run_doctor(capsys, "--config", str(path), "--check", "config", "--check", "serial")
    assert code == 0, lines
    assert "1 servo(s) on maestro" in lines[1]
    assert lines[2] == f"ok    serial: the maestro board on {tmp_path / 'ttyMaestro'} answered and reports no errors"


@pytest.mark.hardware
def test_serial_check_fails_when_the_board_is_silent_or_absent(tmp_path, tiny_bundle, capsys):
    master, slave = os.openpty()  # a port that exists but where nothing answers
    try:
        servos = servo_config(tmp_path, os.ttyname(slave))
        path = config_file(tmp_path, tiny_bundle, f'[servos]\nconfig = "{servos}"\n')
        code, lines = run_doctor(capsys, "--config", str(path), "--check", "serial")
    finally:
        os.close(master)
        os.close(slave)
    assert code == 1 and "did not answer" in lines[0]
    servo_config(tmp_path, str(tmp_path / "unplugged"))
    code, lines = run_doctor(capsys, "--config", str(path), "--check", "serial")
    assert code == 1 and lines[0].startswith(f"fail  serial: servo port {tmp_path / 'unplugged'} does not exist")
