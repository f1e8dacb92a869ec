"""What a hostile tester broke (issue 15), each kept broken-proof: outputs checked before any work, never over an
input, one-line errors instead of tracebacks, and no leftovers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ventriloquist.device.cli import main
from ventriloquist.device.commands.demo import SAMPLE

FORMATS = (".csv", ".json", ".fap", ".tsv", ".rhubarb.json")


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """One second of the sample speech."""
    samples, rate_hz = soundfile.read(SAMPLE, dtype="float32")
    path = tmp_path_factory.mktemp("audio") / "talk.wav"
    soundfile.write(path, samples[:rate_hz], rate_hz)
    return path


def one_line_error(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("ventriloquist: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    return err


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("via_link", [False, True], ids=["same-name", "symlink"])
def test_bake_refuses_to_write_over_its_input(suffix, via_link, talk, tmp_path, capsys):
    """Item 1: the recording renamed to an output suffix, given as --out (or through a link), stays intact."""
    audio = tmp_path / f"t{suffix}"
    audio.write_bytes(talk.read_bytes())
    out = audio
    if via_link:
        out = tmp_path / f"link{suffix}"
        out.symlink_to(audio)
    assert main(["bake", str(audio), "--out", str(out)]) == 2
    one_line_error(capsys, "is the input")
    assert audio.read_bytes() == talk.read_bytes()


@pytest.mark.parametrize(("name", "args"), [
    ("t.mp4", ["render", "AUDIO", "--out", "AUDIO"]),
    ("t.tsv", ["run", "--source", "AUDIO", "--fast", "--fap-out", "AUDIO"]),
], ids=["render", "run"])
def test_render_and_run_refuse_to_write_over_their_input(name, args, talk, tmp_path, capsys):
    audio = tmp_path / name
    audio.write_bytes(talk.read_bytes())
    assert main([str(audio) if a == "AUDIO" else a for a in args]) == 2
    one_line_error(capsys, "is the input")
    assert audio.read_bytes() == talk.read_bytes()


def test_an_output_inside_the_bundle_folder_is_refused(bundle, talk, capsys):
    """Writing into the bundle would break its checksums (or replace one of its files)."""
    assert main(["bake", str(talk), "--out", str(bundle / "patterns.csv"), "--bundle", str(bundle)]) == 2
    one_line_error(capsys, "inside the input folder")
    assert main(["verify", str(bundle)]) == 0


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_bake_output_is_checked_before_the_first_chunk(suffix, talk, tmp_path, capsys):
    """Item 3: a bad second output fails at once; the good first one is not written, no temp file stays."""
    ok, bad = tmp_path / "ok.csv", tmp_path / "nodir" / f"x{suffix}"
    assert main(["bake", str(talk), "--out", str(ok), "--out", str(bad)]) == 2
    one_line_error(capsys, str(bad), "does not exist")
    assert not ok.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("stem_chars", [250, 300], ids=["temp-name-too-long", "name-too-long"])
def test_an_output_name_the_file_system_refuses_is_checked_first(stem_chars, talk, tmp_path, capsys):
    """A .tsv is written at close: a name whose temporary sibling cannot exist failed after the whole file."""
    out = tmp_path / ("a" * stem_chars + ".tsv")
    assert main(["bake", str(talk), "--out", str(tmp_path / "ok.csv"), "--out", str(out)]) == 2
    one_line_error(capsys, "cannot be written", "too long")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_run_checks_fap_outputs_before_the_session(talk, tmp_path, capsys):
    bad = tmp_path / "nodir" / "x.tsv"
    assert main(["run", "--source", str(talk), "--fast", "--fap-out", str(bad)]) == 2
    one_line_error(capsys, "--fap-out", "does not exist")


@pytest.mark.parametrize("suffix", FORMATS)
def test_an_output_that_is_a_folder_is_one_line(suffix, talk, tmp_path, capsys):
    """Item 4: --out naming an existing folder, in every format and in render."""
    folder = tmp_path / f"d{suffix}"
    folder.mkdir()
    assert main(["bake", str(talk), "--out", str(folder)]) == 2
    one_line_error(capsys, "is a folder")
    assert main(["render", str(talk), "--out", str(tmp_path)]) == 2
    one_line_error(capsys, ".mp4")
    mp4_folder = tmp_path / "v.mp4"
    mp4_folder.mkdir()
    assert main(["render", str(talk), "--out", str(mp4_folder)]) == 2
    one_line_error(capsys, "is a folder")


def test_the_same_output_twice_is_refused(talk, tmp_path, capsys):
    out = tmp_path / "a.csv"
    assert main(["bake", str(talk), "--out", str(out), "--out", f"{tmp_path}/./a.csv"]) == 2
    one_line_error(capsys, "given twice")


@pytest.mark.parametrize(("args", "words"), [
    (["--png-dir", "FILE"], ["--png-dir", "is a file"]),
    (["--png-dir", "/proc/x"], ["--png-dir", "cannot create"]),
    (["--size", "100000x100000"], ["--size", "4096"]),
    (["--fps", "-1"], ["--fps", "1..120"]),
], ids=["png-dir-file", "png-dir-proc", "huge-size", "negative-fps"])
def test_render_options_are_checked_first(args, words, talk, tmp_path, capsys):
    file = tmp_path / "file.txt"
    file.write_text("x")
    args = [str(file) if a == "FILE" else a for a in args]
    assert main(["render", str(talk), "--out", str(tmp_path / "v.mp4"), *args]) == 2
    one_line_error(capsys, *words)
    assert not (tmp_path / "v.mp4").exists()


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


def test_a_failed_bake_leaves_no_temporary_files(tmp_path, capsys):
    """Item 6: audio that cannot be read, after the outputs were opened, leaves nothing behind."""
    bad = tmp_path / "noise.wav"
    bad.write_bytes(np.random.default_rng(0).bytes(4000))
    assert main(["bake", str(bad), "--out", str(tmp_path / "a.csv"), "--out", str(tmp_path / "a.json")]) == 2
    one_line_error(capsys, "noise.wav")
    assert leftovers(tmp_path) == []


@pytest.fixture
def bundle(tmp_path) -> Path:
    """A copy of the shipped bundle to tamper with (and re-sign, as an attacker can)."""
    import shutil

    from ventriloquist.device.bundle import SHIPPED_BUNDLE

    return Path(shutil.copytree(SHIPPED_BUNDLE, tmp_path / "bundle"))


def _features(**changes):
    def edit(folder: Path) -> None:
        manifest = json.loads((folder / "bundle.json").read_text())
        manifest["features"].update(changes)
        (folder / "bundle.json").write_text(json.dumps(manifest))
    return edit


def _huge_patterns(folder: Path) -> None:
    lines = (folder / "patterns.csv").read_text().splitlines()
    cells = lines[1].split(",")
    lines[1] = ",".join([cells[0], *["1e30"] * (len(cells) - 1)])
    (folder / "patterns.csv").write_text("\n".join(lines) + "\n")


def _nested_manifest(folder: Path) -> None:
    (folder / "bundle.json").write_text("[" * 200_000)


def _escaped_name(folder: Path) -> None:
    manifest = json.loads((folder / "bundle.json").read_text())
    manifest["name"] = "evil\x1b[2J\nline two"
    (folder / "bundle.json").write_text(json.dumps(manifest))


def _latin1_patterns(folder: Path) -> None:
    (folder / "patterns.csv").write_bytes((folder / "patterns.csv").read_bytes() + "# caf\xe9\n".encode("latin-1"))


def _outside_link(folder: Path) -> None:
    outside = folder.parent / "outside.md"
    outside.write_text("not part of the bundle\n")
    (folder / "MODEL_CARD.md").unlink()
    (folder / "MODEL_CARD.md").symlink_to(outside)


def _huge_file(folder: Path) -> None:
    with open(folder / "big.bin", "wb") as f:
        f.truncate(2 * 2**30)  # sparse: 2 GB to read, no disk used


@pytest.mark.parametrize(("tamper", "words"), [
    (_huge_patterns, ["pattern table", "FAPU"]),
    (_features(window_samples=2**26, fft_size=2**26), ["bundle.json", "window_samples"]),
    (_features(mel_bands=5_000_000), ["bundle.json", "mel_bands"]),
    (_features(context_past=10**6), ["bundle.json", "context_past"]),
    (_features(hop_samples=1), ["bundle.json", "hop_samples"]),
    (_features(name="x\x1b]0;owned\x07"), ["bundle.json", "features", "printable"]),
    (_nested_manifest, ["bundle.json", "nested"]),
    (_escaped_name, ["name", "printable"]),
    (_latin1_patterns, ["patterns.csv", "UTF-8"]),
    (_outside_link, ["MODEL_CARD.md", "symbolic link"]),
    (_huge_file, ["big.bin", "larger than"]),
], ids=["patterns-1e30", "window-2^26", "mel-bands-5e6", "context-1e6", "hop-1", "escapes-in-preset-name",
        "nested-json", "escape-codes-in-name", "latin1-patterns", "symlink-outside", "2GB-file"])
def test_a_resigned_bundle_is_held_to_its_bounds(tamper, words, bundle, capsys):
    """Item 2: checksums prove nothing against whoever can edit a bundle, so `verify` and `bake` check the
    content itself: one line naming file and reason, before any work."""
    from conftest import rewrite_checksums

    tamper(bundle)
    if tamper is _huge_file:
        sums = (bundle / "SHA256SUMS").read_text()
        (bundle / "SHA256SUMS").write_text(sums + f"{'0' * 64}  big.bin\n")  # hashing 2 GB is what must not happen
    else:
        rewrite_checksums(bundle)
    assert main(["verify", str(bundle)]) == 2
    one_line_error(capsys, *words)
    assert main(["bake", str(SAMPLE), "--out", str(bundle.parent / "x.csv"), "--bundle", str(bundle)]) == 2
    one_line_error(capsys, *words)


@pytest.mark.parametrize("tamper", [_features(mel_bands=5_000_000), _nested_manifest], ids=["mel-bands", "nested"])
def test_doctor_fails_a_resigned_bundle_out_of_bounds(tamper, bundle, capsys):
    """Item 2: doctor allocated 10 GiB (mel_bands) or gave a RecursionError traceback (nested JSON)."""
    from conftest import rewrite_checksums

    tamper(bundle)
    rewrite_checksums(bundle)
    config = bundle.parent / "config.toml"
    config.write_text(f'[model]\nbundle = "{bundle}"\n')
    assert main(["doctor", "--config", str(config), "--check", "bundle"]) == 1
    assert capsys.readouterr().out.startswith("fail  bundle: bundle ")


def test_error_lines_show_control_characters_as_escapes(tmp_path, capsys):
    """A file name with a newline and a terminal escape still gives one plain line."""
    name = tmp_path / "a\x1b[31mb\nc.wav"
    assert main(["bake", str(name), "--out", str(tmp_path / "x.csv")]) == 2
    err = one_line_error(capsys, "no such audio file")
    assert "\x1b" not in err and "\\x1b" in err


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


@pytest.mark.parametrize("out", ["FILE", "/proc/x"], ids=["existing-file", "proc"])
def test_corpus_prepare_checks_its_out_folder_first(out, tmp_path, capsys):
    """Item 4: --out that is a file or cannot be created is one line, before any source is read."""
    file = tmp_path / "file.txt"
    file.write_text("keep me\n")
    out = str(file) if out == "FILE" else out
    assert main(["corpus", "prepare", str(tmp_path / "no-such-source"), "--out", out]) == 2
    one_line_error(capsys, "--out", out)
    assert file.read_text() == "keep me\n"


def _manifest_with_torn_tail(root: Path, tail: str) -> Path:
    path = root / "manifest.jsonl"
    path.write_text(json.dumps({"id": "a", "n": 1}) + "\n" + tail)
    return path


@pytest.mark.parametrize(("tail", "expected"), [
    ('{"id": "b", "n"', ["a", "c"]),
    ('{"id": "b", "x": {"y": 1}', ["a", "c"]),
    ('{"id": "b", "n": 2}', ["a", "b", "c"]),
], ids=["fragment", "fragment-with-whole-inner-table", "lost-newline-only"])
def test_a_torn_manifest_line_is_recovered_on_the_next_append(tail, expected, tmp_path, caplog):
    """Item 5: what a crash leaves at the end of manifest.jsonl is ended (or cut off) before the next line,
    so every later `prepare` reads the corpus, and the log says what happened."""
    from ventriloquist.training.corpus.manifest import append_manifest, read_manifest_lines

    _manifest_with_torn_tail(tmp_path, tail)
    append_manifest(tmp_path, {"id": "c", "n": 3})
    append_manifest(tmp_path, {"id": "d", "n": 4})
    assert [row["id"] for row in read_manifest_lines(tmp_path)] == [*expected, "d"]
    assert any("interrupted write" in r.getMessage() for r in caplog.records)


def test_a_whole_manifest_appends_without_a_note(tmp_path, caplog):
    from ventriloquist.training.corpus.manifest import append_manifest, read_manifest_lines

    append_manifest(tmp_path, {"id": "a"})
    append_manifest(tmp_path, {"id": "b"})
    assert [row["id"] for row in read_manifest_lines(tmp_path)] == ["a", "b"] and not caplog.records


@pytest.fixture(scope="module")
def long_talk(tmp_path_factory) -> Path:
    """Two minutes of speech (the sample, repeated), long enough to be stopped half way."""
    samples, rate_hz = soundfile.read(SAMPLE, dtype="float32")
    path = tmp_path_factory.mktemp("long") / "long.wav"
    soundfile.write(path, np.tile(samples, int(np.ceil(120 * rate_hz / len(samples)))), rate_hz)
    return path


def _wait_for(condition, timeout_s: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_sigterm_during_bake_removes_its_partial_outputs(long_talk, tmp_path):
    """Item 6: SIGTERM half way leaves no temporary file (it had been growing to the whole CSV)."""
    import signal
    import subprocess
    import sys

    out = tmp_path / "long.csv"
    proc = subprocess.Popen([sys.executable, "-m", "ventriloquist.device.cli", "bake", str(long_talk),
                             "--out", str(out), "--out", str(tmp_path / "long.json")], stderr=subprocess.PIPE)
    _wait_for(lambda: any(p.stat().st_size > 0 for p in tmp_path.glob(".long.csv.*.tmp")))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_sigint_to_render_alone_stops_ffmpeg_and_removes_the_partial_video(long_talk, tmp_path):
    """Item 6: Ctrl-C reaching only the Python process (kill -INT PID) stops ffmpeg too, and no
    .NAME.partial.mp4 stays."""
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "ventriloquist.device.cli", "render", str(long_talk),
                             "--out", str(tmp_path / "v.mp4")], stderr=subprocess.PIPE)
    _wait_for(lambda: (tmp_path / ".v.partial.mp4").exists(), timeout_s=120)
    encoders = _children(proc.pid)
    assert encoders
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT and b"Traceback" not in err
    assert not any(_alive(pid) for pid in encoders)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


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


def test_nan_audio_names_the_file_and_where(tmp_path, capsys):
    """Item 8: "audio: samples contain NaN" did not say which file."""
    samples = np.zeros(3 * 16000, np.float32)
    samples[int(1.5 * 16000)] = np.nan
    bad = tmp_path / "nan.wav"
    soundfile.write(bad, samples, 16000, subtype="FLOAT")
    assert main(["bake", str(bad), "--out", str(tmp_path / "n.csv")]) == 2
    one_line_error(capsys, "nan.wav", "NaN", "between 1.0 and 2.0 s")
    assert leftovers(tmp_path) == []


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


def test_audio_shorter_than_one_window_is_an_error_not_an_empty_file(tmp_path, capsys):
    """Item 7: 50 samples baked 0 frames with exit 0 and a CSV without its header row."""
    short = tmp_path / "blip.wav"
    soundfile.write(short, np.full(50, 0.1, np.float32), 16000)
    assert main(["bake", str(short), "--out", str(tmp_path / "b.csv")]) == 2
    one_line_error(capsys, "blip.wav", "shorter than one analysis window")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blip.wav"]


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


def test_a_manifest_damaged_by_the_old_append_is_read_again(tmp_path, caplog):
    """Item 5: corpora where a good line was already appended straight after a torn one stay usable."""
    from ventriloquist.training.corpus.manifest import read_manifest_lines

    (tmp_path / "manifest.jsonl").write_text(
        json.dumps({"id": "a"}) + "\n" + '{"id": "b", "au' + json.dumps({"id": "c", "x": {"y": 1}}) + "\n")
    assert [row["id"] for row in read_manifest_lines(tmp_path)] == ["a", "c"]
    assert any("torn entry" in r.getMessage() for r in caplog.records)
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"id": "a"}) + "\nnot json at all\n" + json.dumps({"id": "c"}))
    with pytest.raises(Exception, match="line 2 is not JSON"):
        read_manifest_lines(tmp_path)


def test_sigterm_stops_run_while_it_waits_on_a_silent_pipe(talk, tmp_path):
    """`arecord | ventriloquist run --source -` with the recorder stalled: SIGTERM was ignored (the stop
    flag cannot reach a blocking read). Now the wait is cut short and the outputs are finished as usual."""
    import signal
    import subprocess
    import sys
    import time

    samples, _ = soundfile.read(talk, dtype="int16")
    out = tmp_path / "live.csv"
    proc = subprocess.Popen([sys.executable, "-m", "ventriloquist.device.cli", "run", "--source", "-",
                             "--fap-out", str(out)], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(samples.tobytes())
        proc.stdin.flush()  # then nothing more, and the pipe stays open
        _wait_for(lambda: any(p.stat().st_size > 0 for p in tmp_path.glob(".live.csv.*.tmp")))
        time.sleep(2)  # the second of audio is done (in about 0.2 s): now it waits on the pipe
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)  # not communicate(): that would close stdin, an end of stream
    finally:
        proc.kill()
        proc.stdin.close()
    assert proc.returncode == 0 and b"stopped by SIGTERM" in proc.stderr.read()
    rows = out.read_text().splitlines()
    assert rows[0].startswith("time,") and len(rows) > 50
    assert leftovers(tmp_path) == []


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(("command", "name", "text"), [
    (["run", "--config", "FILE"], "config.toml", f"[audio]\nsource = {DEEP}\n"),
    (["calibrate", "FILE"], "servos.toml", f"x = {DEEP}\n"),
    (["render", "TALK", "--out", "OUT", "--style", "FILE"], "style.toml", f"x = {DEEP}\n"),
    (["render", "TALK", "--out", "OUT", "--photo", "PHOTO", "--points", "FILE"], "points.json", DEEP),
], ids=["config", "servo-config", "face-style", "photo-points"])
def test_deeply_nested_settings_files_are_one_line(command, name, text, talk, tmp_path, capsys):
    """The RecursionError of a 200,000-deep bundle.json, in every other settings file a user can hand in."""
    file = tmp_path / name
    file.write_text(text)
    values = {"FILE": str(file), "TALK": str(talk), "OUT": str(tmp_path / "v.mp4"),
              "PHOTO": str(Path(__file__).parents[1] / "docs" / "face.png")}
    assert main([values.get(a, a) for a in command]) == 2
    one_line_error(capsys, name)
