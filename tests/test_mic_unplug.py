"""The microphone vanishing mid-stream and coming back, through real PyAudio -> PortAudio -> ALSA -> PulseAudio.

The ALSA `file` PCM of test_mic.py cannot fail mid-stream, so here the microphone is a private PulseAudio
daemon: a `module-pipe-source` (s16le, 16 kHz, mono, so PulseAudio passes samples through untouched) fed in
real time from a known recording (seeded noise) through its FIFO, reached by ALSA's `pulse` PCM (libasound2-plugins).
Killing the daemon (SIGKILL) is the unplug; starting it again is the replug. The capture runs in a fresh
Python process, because ALSA reads its configuration (the temp HOME's .asoundrc) once per process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from glob import glob

import numpy as np
import pytest
from conftest import REPO

from ventriloquist.device.sources import DEFAULT_CHUNK_S

pytestmark = [pytest.mark.hardware, pytest.mark.slow]  # a PulseAudio daemon, real-time unplugging

RATE_HZ = 16_000
LIVE_CHUNKS = 30
"""Chunks of audio captured before the unplug."""
IDLE_CHUNKS = 40
"""Chunks yielded while unplugged before the daemon comes back."""
RESUMED_CHUNKS = 50
"""Chunks of audio captured after the replug."""
GIVE_UP_S = 15.0
"""The capture stops after this long whatever happened, so a failure shows as such, not as a hang."""

DEFAULT_PA = """
load-module module-pipe-source source_name=vent_mic file={fifo} format=s16le rate={rate_hz} channels=1
set-default-source vent_mic
load-module module-native-protocol-unix socket={socket} auth-anonymous=1
"""
ASOUNDRC = """
pcm.vent_mic {{ type pulse server "unix:{socket}" device "vent_mic" }}
ctl.vent_mic {{ type pulse server "unix:{socket}" }}
"""

CAPTURE = r"""
import json, logging, os, signal, subprocess, sys, threading, time
import numpy as np
logging.basicConfig(level=logging.INFO, format="LOG %(levelname)s %(name)s %(message)s")
from ventriloquist.device.sources.mic import MicSource

cfg = json.loads(sys.argv[1])
recording = np.fromfile(cfg["recording"], "<i2")
BLOCK = 160


def start_daemon():
    for stale in (cfg["socket"], cfg["fifo"]):  # a killed daemon leaves both behind
        if os.path.exists(stale):
            os.unlink(stale)
    daemon = subprocess.Popen(cfg["daemon"], stdout=subprocess.DEVNULL, stderr=open(cfg["daemon_log"], "a"))
    deadline_s = time.monotonic() + 10
    while not os.path.exists(cfg["socket"]):  # the socket module loads last: all sources are up
        if daemon.poll() is not None or time.monotonic() > deadline_s:
            daemon.kill()
            sys.exit(f"pulseaudio did not start, see {cfg['daemon_log']}")
        time.sleep(0.01)
    return daemon


def feed(stop):
    # The microphone: the recording in real time into the FIFO while a daemon reads it, dropped otherwise.
    fd, sent, t0_s = None, 0, time.monotonic()
    while not stop.is_set():
        due = int((time.monotonic() - t0_s) * cfg["rate_hz"] / BLOCK)
        if fd is None:
            try:
                fd = os.open(cfg["fifo"], os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no FIFO or no reader: the daemon is down
                sent = due
        while fd is not None and sent < due:
            start = sent * BLOCK % len(recording)
            try:
                os.write(fd, recording[start:start + BLOCK].tobytes())
            except BlockingIOError:
                pass
            except OSError:  # EPIPE: the daemon died
                os.close(fd)
                fd = None
            sent += 1
        time.sleep(BLOCK / cfg["rate_hz"] / 2)
    if fd is not None:
        os.close(fd)


daemon = start_daemon()
stop = threading.Event()
feeder = threading.Thread(target=feed, args=(stop,), daemon=True)
feeder.start()
src = MicSource("vent_mic", retry_s=(0.1, 0.4), stall_s=0.5)
deadline_s = time.monotonic() + cfg["give_up_s"]
phase, counts, rows, audio = "live", {"live": 0, "unplugged": 0, "resumed": 0}, [], []
try:
    for chunk in src:
        pcm = np.round(chunk.samples * 32768).astype(np.int16)
        loud = bool(np.any(pcm))
        rows.append({"phase": phase, "loud": loud, "n": len(pcm), "rate_hz": chunk.rate_hz,
                     "t_s": chunk.t_capture_s, "lag_s": time.monotonic() - chunk.t_capture_s,
                     "reconnects": src.reconnects})
        audio.append(pcm)
        counts[phase] += loud if phase != "unplugged" else 1
        if phase == "live" and counts["live"] >= cfg["live_chunks"]:
            daemon.send_signal(signal.SIGKILL)
            daemon.wait()
            print("LOG MARK unplugged", file=sys.stderr, flush=True)
            phase = "unplugged"
        elif phase == "unplugged" and counts["unplugged"] >= cfg["idle_chunks"]:
            daemon = start_daemon()
            print("LOG MARK replugged", file=sys.stderr, flush=True)
            phase = "resumed"
        elif phase == "resumed" and counts["resumed"] >= cfg["resumed_chunks"] or time.monotonic() > deadline_s:
            break
finally:
    src.close()
    stop.set()
    feeder.join()
    daemon.kill()
    daemon.wait()
np.save(cfg["audio"], np.concatenate(audio))
print(json.dumps({"rows": rows, "reconnects": src.reconnects}))
"""


def _pulseaudio_or_skip() -> str:
    pytest.importorskip("pyaudio", reason="PyAudio is not installed (device extra)")
    daemon = shutil.which("pulseaudio")
    if daemon is None:
        pytest.skip("PulseAudio is not installed (apt-get install pulseaudio)")
    if not glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so"):
        pytest.skip("ALSA's pulse PCM is not installed (apt-get install libasound2-plugins)")
    return daemon


def _contiguous_in(recording: np.ndarray, pcm: np.ndarray) -> bool:
    """Whether pcm is an unbroken stretch of the looped recording."""
    looped = np.tile(recording, len(pcm) // len(recording) + 2)
    starts = [k for k in range(len(recording)) if np.array_equal(looped[k:k + 16], pcm[:16])]
    return len(starts) == 1 and np.array_equal(looped[starts[0]:starts[0] + len(pcm)], pcm)


def test_microphone_unplugged_mid_stream_idles_then_resumes(tmp_path):
    daemon = _pulseaudio_or_skip()
    run, home = tmp_path / "pulse", tmp_path / "home"
    run.mkdir()
    home.mkdir()
    socket, fifo = run / "native", run / "mic.fifo"
    (tmp_path / "default.pa").write_text(DEFAULT_PA.format(fifo=fifo, rate_hz=RATE_HZ, socket=socket))
    (home / ".asoundrc").write_text(ASOUNDRC.format(socket=socket))
    (tmp_path / "client.conf").write_text("autospawn = no\n")  # only the test starts a daemon
    recording = np.random.default_rng(0).integers(-8000, 8000, RATE_HZ, dtype=np.int16)
    recording.astype("<i2").tofile(tmp_path / "recording.raw")
    cfg = {
        "daemon": [daemon, "--daemonize=no", "--system=false", "--exit-idle-time=-1", "--disallow-exit",
                   "--use-pid-file=no", "-n", "-F", str(tmp_path / "default.pa")],
        "daemon_log": str(tmp_path / "daemon.log"), "socket": str(socket), "fifo": str(fifo),
        "recording": str(tmp_path / "recording.raw"), "audio": str(tmp_path / "audio.npy"), "rate_hz": RATE_HZ,
        "live_chunks": LIVE_CHUNKS, "idle_chunks": IDLE_CHUNKS, "resumed_chunks": RESUMED_CHUNKS,
        "give_up_s": GIVE_UP_S,
    }
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO), "PULSE_RUNTIME_PATH": str(run),
           "XDG_RUNTIME_DIR": str(run), "PULSE_SERVER": f"unix:{socket}",
           "PULSE_CLIENTCONFIG": str(tmp_path / "client.conf")}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(CAPTURE), json.dumps(cfg)], env=env,
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    rows, audio = out["rows"], np.load(tmp_path / "audio.npy")
    logs = [line for line in proc.stderr.splitlines() if line.startswith("LOG ")]

    # One clear warning between the unplug and the replug, and the reconnect counted once.
    outage = logs[logs.index("LOG MARK unplugged"):logs.index("LOG MARK replugged")]
    assert len([line for line in outage if line.startswith("LOG WARNING")]) == 1, "\n".join(logs)
    assert out["reconnects"] == 1
    assert all(r["reconnects"] == 0 for r in rows if r["phase"] == "live")

    # While unplugged: whole silent chunks on a clock that keeps going, without a growing backlog.
    idle = [r for r in rows if r["phase"] == "unplugged"]
    assert len(idle) == IDLE_CHUNKS and not any(r["loud"] for r in idle)
    assert all(r["n"] == round(DEFAULT_CHUNK_S * RATE_HZ) and r["rate_hz"] == RATE_HZ for r in idle)
    assert all(b["t_s"] > a["t_s"] for a, b in zip(idle, idle[1:], strict=False))
    assert max(r["lag_s"] for r in idle) < 1.0  # paced silence, not a pile-up of what was missed

    # Before and after: the recording itself, sample for sample, each stretch unbroken.
    bounds = np.cumsum([0] + [r["n"] for r in rows])
    for phase in ("live", "resumed"):
        loud = [i for i, r in enumerate(rows) if r["phase"] == phase and r["loud"]]
        assert len(loud) >= LIVE_CHUNKS
        pcm = audio[bounds[loud[0]]:bounds[loud[-1] + 1]]
        assert _contiguous_in(recording, pcm), phase
    resumed = [r for r in rows if r["phase"] == "resumed"]
    assert resumed[-1]["t_s"] > idle[-1]["t_s"]
