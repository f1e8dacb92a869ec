"""Issue 15, item 2: a re-signed bundle (or any settings file a user hands in) is held to bounds of its own,
and what is printed about it is one plain line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import one_line_error

from ventriloquist.device.cli import main
from ventriloquist.device.commands.demo import SAMPLE


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
              "PHOTO": str(Path(__file__).parents[1] / "docs" / "demo_strip.png")}
    assert main([values.get(a, a) for a in command]) == 2
    one_line_error(capsys, name)
