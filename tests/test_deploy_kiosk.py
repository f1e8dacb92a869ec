"""The kiosk unit's own command line, started as systemd would (NOTIFY_SOCKET, SDL's dummy video driver,
a file source), must report READY=1, run, and exit cleanly on SIGTERM."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.hardware, pytest.mark.slow]  # systemd notify socket, a real-time run

REPO = Path(__file__).resolve().parents[1]
KIOSK = REPO / "deploy" / "systemd" / "ventriloquist-kiosk.service"
INSTALLED_BIN = "/opt/ventriloquist/venv/bin/ventriloquist"
READY_TIMEOUT_S = 60.0
RUN_AFTER_READY_S = 2.0
STOP_TIMEOUT_S = 10.0  # the unit's TimeoutStopSec
CLEAN_EXITS = (0, -signal.SIGTERM, 128 + signal.SIGTERM)
"""What systemd counts as a clean stop of the main process."""


def exec_start() -> list[str]:
    line = next(x for x in KIOSK.read_text().splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.partition("=")[2])


def speech_wav(folder: Path) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is absent (Debian package espeak-ng), so there is no speech file to play")
    path = folder / "talk.wav"
    text = "The box is switched on and works for months. " * 4
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path


def test_kiosk_command_starts_notifies_and_stops_on_sigterm(tmp_path, tiny_bundle):
    from ventriloquist.device.cli import build_parser

    argv = exec_start()
    assert argv[0] == INSTALLED_BIN
    build_parser().parse_args(argv[1:])  # the unit's flags are the command's
    config = tmp_path / "config.toml"
    config.write_text(f'[audio]\nsource = "{speech_wav(tmp_path)}"\n[model]\nbundle = "{tiny_bundle}"\n'
                      '[face]\nfullscreen = true\n')
    argv = [str(Path(sys.executable).parent / "ventriloquist"), *argv[1:]]
    argv[argv.index("/etc/ventriloquist/config.toml")] = str(config)

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(READY_TIMEOUT_S)
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1",
           "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "10000000"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        messages = [notify.recv(4096).decode()]
        assert messages[0].startswith("READY=1"), messages
        assert proc.poll() is None, "exited right after READY"
        time.sleep(RUN_AFTER_READY_S)
        assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        notify.close()
    assert proc.returncode in CLEAN_EXITS, stderr
    assert "Traceback" not in stderr, stderr
