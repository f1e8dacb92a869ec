"""Microphone and speaker through the real PyAudio -> PortAudio -> ALSA path, from a known recording.

No sound card here, so each test writes an ALSA config into a temporary HOME: `vent_in` is an ALSA
`file` PCM whose capture data comes from a raw recording (`infile`), `vent_out` writes what is played
to a raw file. The ALSA `null` slave has no clock, so capture runs faster than real time. Each case
runs in a fresh Python process, because ALSA reads its configuration once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import REPO, shared_path

pytestmark = pytest.mark.hardware  # ALSA devices (a file-backed loopback)

SPEECH = ("data", "phones", "arctic", "arctic_a0009.wav")
CHUNK_SAMPLES = 160

ASOUNDRC = """
pcm.vent_in {{ type file slave.pcm "null" file "/dev/null" infile "{infile}" format "raw" }}
pcm.vent_out {{ type file slave.pcm "null" file "{outfile}" format "raw" }}
"""


def _pyaudio_or_skip():
    pytest.importorskip("pyaudio", reason="PyAudio is not installed (device extra)")
    if not Path("/usr/share/alsa/alsa.conf").exists():
        pytest.skip("ALSA configuration (alsa-utils/libasound2) is not installed")


@pytest.fixture
def alsa_home(tmp_path):
    _pyaudio_or_skip()
    home = tmp_path / "home"
    home.mkdir()
    infile, outfile = tmp_path / "capture.raw", tmp_path / "played.raw"
    (home / ".asoundrc").write_text(ASOUNDRC.format(infile=infile, outfile=outfile))
    return home, infile, outfile


def run_py(home: Path, code: str, timeout_s: float = 60) -> dict:
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=timeout_s, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]) | {"stderr": proc.stderr}


@pytest.fixture
def recording(tmp_path):
    """The speech padded to whole chunks, as a WAV and as the raw s16le the capture device plays back."""
    samples, rate_hz = soundfile.read(shared_path(*SPEECH), dtype="int16")
    samples = np.concatenate([samples, np.zeros(-len(samples) % CHUNK_SAMPLES, np.int16)])
    wav = tmp_path / "speech.wav"
    soundfile.write(wav, samples, rate_hz, subtype="PCM_16")
    return wav, samples, rate_hz


def test_live_capture_through_alsa_equals_bake(alsa_home, recording, tiny_bundle, tmp_path):
    home, infile, _ = alsa_home
    wav, samples, rate_hz = recording
    samples.astype("<i2").tofile(infile)
    live_csv, baked_csv = tmp_path / "live.csv", tmp_path / "baked.csv"
    out = run_py(home, f"""
        import argparse, json
        from ventriloquist.device.commands import run
        p = argparse.ArgumentParser(); run.add_arguments(p)
        args = p.parse_args(["--source", "mic", "--device", "vent_in", "--bundle", "{tiny_bundle}",
                             "--seconds", "{len(samples) / rate_hz}", "--fap-out", "{live_csv}"])
        run.run(args)
        print(json.dumps({{"ok": True}}))
    """)
    assert out["ok"]
    from ventriloquist.device.commands import bake

    p = __import__("argparse").ArgumentParser()
    bake.add_arguments(p)
    bake.run(p.parse_args([str(wav), "--bundle", str(tiny_bundle), "--out", str(baked_csv)]))
    live, baked = live_csv.read_text().splitlines(), baked_csv.read_text().splitlines()
    assert len(live) == len(baked) > 300
    assert live == baked


def test_unplugged_microphone_idles_then_resumes(alsa_home):
    """No capture data at start (the device cannot open): one log line, silence, retries; then audio."""
    home, infile, _ = alsa_home
    tone = (np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000) * 16000).astype("<i2")
    out = run_py(home, f"""
        import json, logging, threading, time, numpy as np
        logging.basicConfig(level=logging.INFO, format="LOG %(message)s")
        from ventriloquist.device.sources.mic import MicSource
        src = MicSource("vent_in", retry_s=(0.1, 0.4), stall_s=0.5)
        plug_in = threading.Timer(0.5, lambda: np.array({tone.tolist()}, "<i2").tofile("{infile}"))
        plug_in.start()
        kinds, first_audio = [], None
        for chunk in src:
            loud = bool(np.abs(chunk.samples).max() > 0)
            kinds.append(loud)
            if loud and first_audio is None:
                first_audio = chunk.samples[:5].tolist()
            if sum(kinds) >= 10:
                break
        src.close()
        print(json.dumps({{"silent_first": kinds.index(True), "reconnects": src.reconnects,
                          "first_audio": first_audio, "rate": src.rate_hz}}))
    """)
    assert out["silent_first"] >= 20  # ~0.5 s of real-time silence kept the face alive
    assert out["reconnects"] == 1
    np.testing.assert_allclose(out["first_audio"], tone[:5] / 32768, atol=1e-6)
    warnings = [line for line in out["stderr"].splitlines() if "microphone unavailable" in line]
    assert len(warnings) == 1, out["stderr"]


def test_playback_delays_the_sound_by_the_pipeline_latency(alsa_home, recording):
    home, _, outfile = alsa_home
    wav, samples, rate_hz = recording
    out = run_py(home, f"""
        import json
        from ventriloquist.device.sources.playback import PlaybackSource
        src = PlaybackSource("{wav}", latency_s=0.04, device="vent_out")
        n = sum(len(c.samples) for c in src)
        src.close()
        print(json.dumps({{"n": n, "delay_s": src.delay_s}}))
    """)
    played = np.fromfile(outfile, "<i2")
    silence = len(played) - len(samples)
    assert out["n"] == len(samples)
    assert silence >= 0 and np.all(played[:silence] == 0)
    assert np.array_equal(played[silence:], samples)
    assert abs(out["delay_s"] - 0.04) <= 1 / rate_hz  # silence + the device's own latency = the pipeline's
