"""`ventriloquist demo`: offscreen, the sample speech becomes a playable MP4 plus a PNG still; the screen and
microphone rules; a missing bundle is a one-line error naming it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygame
import pytest
import soundfile

from ventriloquist.device.cli import main
from ventriloquist.device.commands.demo import SAMPLE, STRIP_FRAMES, find_display, find_microphone
from ventriloquist.device.face.video import STRIP_LABEL_PX


def streams(path: Path) -> dict[str, float]:
    """codec_type -> duration (s) of every stream, from ffprobe."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, check=True).stdout
    pairs = [line.split(",") for line in out.split()]
    assert len(pairs) == len({kind for kind, _ in pairs}), out
    return {kind: float(duration) for kind, duration in pairs}


@pytest.mark.slow  # encodes a video
def test_offscreen_demo_writes_a_playable_video_and_a_still(tiny_bundle, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--bundle", str(tiny_bundle), "--offscreen"]) == 0
    video, still = tmp_path / "out" / "demo.mp4", tmp_path / "out" / "demo.png"
    assert f"wrote {Path('out') / 'demo.mp4'}" in capsys.readouterr().out
    found = streams(video)
    duration_s = soundfile.info(SAMPLE).duration
    assert sorted(found) == ["audio", "video"] and abs(duration_s - 10.7) < 0.1
    assert abs(found["video"] - duration_s) < 0.1 and abs(found["audio"] - duration_s) < 0.1
    assert pygame.image.load(str(still)).get_size() == (480, 320)
    strip = pygame.image.load(str(tmp_path / "out" / "demo_strip.png"))
    assert strip.get_size() == (STRIP_FRAMES * 240, 160 + STRIP_LABEL_PX)
    thumbs = pygame.surfarray.array3d(strip)[:, :160].astype(int).reshape(STRIP_FRAMES, 240, 160, 3)
    assert len({t.tobytes() for t in thumbs}) > STRIP_FRAMES // 2  # the face moves along the strip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["demo.mp4", "demo.png", "demo_strip.png"]


def test_a_missing_bundle_is_a_one_line_error_naming_it(tmp_path, capsys):
    missing = tmp_path / "no_bundle_here"
    assert main(["demo", "--bundle", str(missing), "--offscreen", "--out", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ventriloquist: error: no model bundle at") and str(missing) in err and err.count("\n") == 1
    assert not (tmp_path / "x.mp4").exists()


def test_mic_without_a_screen_is_refused_with_the_way_out(tiny_bundle, capsys):
    assert main(["demo", "--bundle", str(tiny_bundle), "--source", "mic", "--offscreen"]) == 2
    assert "--source FILE" in capsys.readouterr().err


def test_the_screen_rule(tmp_path):
    """A fake /sys and /dev tree under tmp_path (a real screen cannot exist here)."""
    root = tmp_path
    assert find_display({}, root) is None
    assert find_display({"DISPLAY": ":0"}, root) == "DISPLAY=:0"
    assert find_display({"WAYLAND_DISPLAY": "wayland-0"}, root) == "WAYLAND_DISPLAY=wayland-0"
    assert find_display({"DISPLAY": ":0", "SDL_VIDEODRIVER": "dummy"}, root) is None
    (root / "dev" / "dri").mkdir(parents=True)
    (root / "dev" / "dri" / "card0").touch()
    status = root / "sys" / "class" / "drm" / "card0-HDMI-A-1" / "status"
    status.parent.mkdir(parents=True)
    status.write_text("disconnected\n")
    assert find_display({}, root) is None
    status.write_text("connected\n")
    assert find_display({}, root) == "card0-HDMI-A-1 connected"
    status.write_text("disconnected\n")
    (root / "dev" / "fb0").touch()
    assert find_display({}, root) == str(root / "dev" / "fb0")


@pytest.mark.hardware
def test_microphone_probe_keeps_portaudio_quiet(capfd):
    name = find_microphone()
    assert name is None or (isinstance(name, str) and name)
    assert capfd.readouterr().err == ""


def test_demo_names_a_missing_bundle(tmp_path, capsys):
    assert main(["demo", "--offscreen", "--bundle", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model bundle" in err and "nowhere" in err


@pytest.mark.slow  # encodes a video
def test_plain_demo_runs_on_the_shipped_bundle(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert main(["demo", "--offscreen", "--out", str(tmp_path / "demo.mp4")]) == 0
    assert (tmp_path / "demo.mp4").stat().st_size > 10_000 and (tmp_path / "demo.png").is_file()
    assert "demo.mp4" in capsys.readouterr().out
