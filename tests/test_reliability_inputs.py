"""Issue 15, items 4, 7, 8: odd inputs and settings get one line that names them, and silent successes speak."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import leftovers, one_line_error

from ventriloquist.device.cli import main
from ventriloquist.device.commands.demo import SAMPLE


def test_a_pipe_and_a_missing_file_are_named(talk, tmp_path, capsys):
    """`bake <(cat talk.wav)`: a pipe can be read only once, so it is refused by name."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, talk.read_bytes())  # 1 s of 16 kHz speech fits in a pipe's buffer
    os.close(write_fd)
    try:
        assert main(["bake", f"/dev/fd/{read_fd}", "--out", str(tmp_path / "p.csv")]) == 2
        one_line_error(capsys, "not a regular file")
    finally:
        os.close(read_fd)
    assert main(["bake", str(tmp_path / "none.wav"), "--out", str(tmp_path / "p.csv")]) == 2
    one_line_error(capsys, "none.wav", "no such audio file")
    assert leftovers(tmp_path) == []


BAD_HOSTS = ("a..b", "a" * 64 + ".example", "-x.example", "b" * 254)


@pytest.mark.parametrize("host", BAD_HOSTS, ids=["empty-label", "64-char-label", "leading-hyphen", "254-chars"])
def test_a_bad_stream_host_is_one_line_on_the_command_line_and_in_the_config(host, talk, tmp_path, capsys):
    """Item 4: the same rule for --stream and [stream] target, so config validation (and doctor) refuse what
    `run` would crash on, and the kiosk service cannot crash-loop."""
    from ventriloquist.device.config import load_config
    from ventriloquist.device.errors import VentriloquistError

    assert main(["run", "--source", str(talk), "--fast", f"--stream={host}:9000"]) == 2
    one_line_error(capsys, "stream target", "host name")
    config = tmp_path / "config.toml"
    config.write_text(f'[stream]\ntarget = "{host}:9000"\n')
    with pytest.raises(VentriloquistError, match="stream.target"):
        load_config(config)


@pytest.mark.parametrize("target", ["127.0.0.1:9000", "[::1]:9000", "osc://localhost:9000", "my-host.local.:9"])
def test_good_stream_targets_still_pass(target):
    from ventriloquist.device.sinks.udp import parse_target

    assert parse_target(target)[2] in (9000, 9)


def test_a_config_rate_the_runtime_refuses_is_refused_by_validation(tmp_path):
    """Item 7: audio.rate_hz = 96000 passed validation and doctor, but `run` refused it."""
    from ventriloquist.device.config import load_config
    from ventriloquist.device.errors import VentriloquistError

    config = tmp_path / "config.toml"
    config.write_text("[audio]\nrate_hz = 96000\n")
    with pytest.raises(VentriloquistError, match="audio.rate_hz"):
        load_config(config)
    config.write_text("[audio]\nrate_hz = 48000\n")
    assert load_config(config).audio.rate_hz == 48000


def test_a_stream_that_cannot_send_says_so(talk, caplog):
    """Item 7: every send to the broadcast address fails (no SO_BROADCAST); the run says how many."""
    assert main(["run", "--source", str(talk), "--fast", "--stream", "255.255.255.255:9000"]) == 0
    assert any("could not be sent" in r.getMessage() for r in caplog.records)


def test_a_header_only_wav_is_an_error_and_a_truncated_one_a_note(talk, tmp_path, capsys, caplog):
    """Item 7: 0 samples baked 0 frames with exit 0 (and a CSV without a header row); a cut-off file
    gave no word."""
    data = talk.read_bytes()
    header_only, truncated = tmp_path / "header.wav", tmp_path / "cut.wav"
    header_only.write_bytes(data[:44])
    truncated.write_bytes(data[: len(data) // 2])
    assert main(["bake", str(header_only), "--out", str(tmp_path / "h.csv")]) == 2
    one_line_error(capsys, "header.wav", "no audio samples")
    assert not (tmp_path / "h.csv").exists()
    assert main(["bake", str(truncated), "--out", str(tmp_path / "c.csv")]) == 0
    assert any("shorter than its header says" in r.getMessage() for r in caplog.records)


def test_audio_shorter_than_one_window_is_an_error_not_an_empty_file(tmp_path, capsys):
    """Item 7: 50 samples baked 0 frames with exit 0 and a CSV without its header row."""
    short = tmp_path / "blip.wav"
    soundfile.write(short, np.full(50, 0.1, np.float32), 16000)
    assert main(["bake", str(short), "--out", str(tmp_path / "b.csv")]) == 2
    one_line_error(capsys, "blip.wav", "shorter than one analysis window")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blip.wav"]


def test_narrowband_audio_is_warned_about(talk, tmp_path, caplog):
    """Item 7: 8 kHz input follows the mouth less well (r 0.69 on the demo sentence), so it is said."""
    import soxr

    samples, rate_hz = soundfile.read(talk, dtype="float32")
    narrow = tmp_path / "phone.wav"
    soundfile.write(narrow, soxr.resample(samples, rate_hz, 8000), 8000)
    assert main(["bake", str(narrow), "--out", str(tmp_path / "n.csv")]) == 0
    assert any("8000 Hz is below the model's 16000 Hz" in r.getMessage() for r in caplog.records)
    caplog.clear()
    assert main(["bake", str(talk), "--out", str(tmp_path / "w.csv")]) == 0
    assert not any("below the model" in r.getMessage() for r in caplog.records)


def test_nan_audio_names_the_file_and_where(tmp_path, capsys):
    """Item 8: "audio: samples contain NaN" did not say which file."""
    samples = np.zeros(3 * 16000, np.float32)
    samples[int(1.5 * 16000)] = np.nan
    bad = tmp_path / "nan.wav"
    soundfile.write(bad, samples, 16000, subtype="FLOAT")
    assert main(["bake", str(bad), "--out", str(tmp_path / "n.csv")]) == 2
    one_line_error(capsys, "nan.wav", "NaN", "between 1.0 and 2.0 s")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("args", [
    ["run", "--source", "-", "--rate", "0"],
    ["run", "--source", "TALK", "--seconds", "-5"],
    ["run", "--source", "TALK", "--seconds", "nan"],
    ["run", "--source", "TALK", "--fps", "-1"],
    ["run", "--source", "TALK", "--stream-rate", "inf"],
    ["bake", "TALK", "--out", "x.csv", "--rate", "0"],
], ids=["run-rate-0", "seconds-negative", "seconds-nan", "fps-negative", "stream-rate-inf", "bake-rate-0"])
def test_numbers_that_would_stand_for_a_default_are_refused(args, talk, capsys):
    """Items 7 and 8: --rate 0 silently became 16000, --seconds -5 / nan ran, --fps -1 blamed the resampler."""
    option = next(a for a in args if a.startswith("--") and a not in ("--source", "--out"))
    assert main([str(talk) if a == "TALK" else a for a in args]) == 2
    one_line_error(capsys, option, "> 0")


def test_a_servo_mixed_from_a_fap_the_model_never_outputs_is_refused(talk, tmp_path, capsys):
    """Item 7: that servo would never move."""
    example = (Path(__file__).parents[1] / "deploy" / "servos.example.toml").read_text()
    config = tmp_path / "servos.toml"
    config.write_text(example.replace("mix = { open_jaw = 1.0 }", "mix = { open_jaw = 1.0, depress_chin = 0.5 }"))
    assert main(["bake", str(talk), "--out", str(tmp_path / "s.csv"), "--servos", str(config)]) == 2
    one_line_error(capsys, "servos.toml", "depress_chin", "never outputs")


def test_silence_is_rest_in_rhubarb_cues(tmp_path):
    """Item 7: 10 s of silence gave shape B (slightly open): the shipped model holds s1's lips parted at rest.
    A mouth held still is X, whatever its pose."""
    silence = tmp_path / "silence.wav"
    soundfile.write(silence, np.zeros(10 * 16000, np.float32), 16000)
    assert main(["bake", str(silence), "--out", str(tmp_path / "s.tsv")]) == 0
    assert {line.split("\t")[1] for line in (tmp_path / "s.tsv").read_text().splitlines()} == {"X"}


@pytest.mark.hardware
@pytest.mark.parametrize("source", ["mic", "PLAYBACK"])
def test_the_audio_device_paths_print_no_library_chatter(source, talk):
    """Item 8: PortAudio's probing made ALSA and JACK print 100-200 lines before the one that matters.
    Real PyAudio on whatever this machine has (often no device at all: then the mic idles, playback fails)."""
    import subprocess
    import sys

    args = ["--source", str(talk), "--playback"] if source == "PLAYBACK" else ["--source", "mic"]
    done = subprocess.run([sys.executable, "-m", "ventriloquist.device.cli", "run", *args, "--seconds", "1"],
                          capture_output=True, text=True, timeout=120)
    lines = done.stderr.splitlines()
    assert all(line.startswith("ventriloquist: ") for line in lines), lines[:5]
    assert len(lines) <= 6


@pytest.mark.slow  # decodes an MP3 through ffmpeg
def test_an_mp3_bakes_without_decoder_chatter(talk, tmp_path):
    """Item 8: libmpg123 printed 4 'part2_3_length too large' lines for an ordinary ffmpeg-made MP3."""
    import subprocess
    import sys

    mp3 = tmp_path / "talk.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(SAMPLE), str(mp3)], check=True)
    done = subprocess.run([sys.executable, "-m", "ventriloquist.device.cli", "bake", str(mp3),
                           "--out", str(tmp_path / "m.csv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert [line.split(" ")[:2] for line in done.stderr.splitlines()] == [["ventriloquist:", "baked"]]
