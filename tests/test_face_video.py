"""Video export: real ffmpeg, frames in sync with the audio, PNG dumps, and clear errors."""

from __future__ import annotations

import subprocess
import wave

import numpy as np
import pygame
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face import load_style
from ventriloquist.device.face.video import VideoSink, dump_png, render_video, save_png
from ventriloquist.device.values import FapFrames

SIZE = (320, 240)
FPS = 10
OPEN = (266.0, -62.0, -527.0)


def write_wav(path, seconds: float, rate_hz: int = 16000) -> None:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes((3000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes())


def step_frames() -> FapFrames:
    """Mouth shut until 0.45 s, wide open from 0.46 s: video frame 5 (t = 0.5 s) is the first open one."""
    times = np.array([0.0, 0.45, 0.46, 1.0])
    values = np.array([(0, 0, 0), (0, 0, 0), OPEN, OPEN], np.float32)
    return FapFrames(times, values, (3, 4, 5))


def decoded(path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, SIZE[1], SIZE[0], 3)


def teeth_pixels(frame: np.ndarray) -> int:
    lower = frame[int(SIZE[1] * 0.6) :].astype(int)
    return int((np.abs(lower - load_style("classic").teeth).sum(axis=2) < 40).sum())


@pytest.fixture
def audio(tmp_path):
    path = tmp_path / "talk.wav"
    write_wav(path, 1.0)
    return path


def test_mp4_has_audio_and_frames_in_sync(tmp_path, audio):
    out = render_video(step_frames(), audio, tmp_path / "talk.mp4", size=SIZE, fps=FPS, progress=False)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,pix_fmt",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True, check=True).stdout
    assert "h264,yuv420p" in probe and "aac" in probe
    frames = decoded(out)
    assert len(frames) == FPS  # 1.0 s of audio at 10 fps
    is_open = [teeth_pixels(f) > 30 for f in frames]
    assert is_open == [False] * 5 + [True] * 5
    assert not list(tmp_path.glob(".*partial*"))


def test_time_origin_shifts_the_fap_stream(tmp_path, audio):
    frames = step_frames()
    shifted = FapFrames(frames.times_s + 100.0, frames.values, frames.faps)
    out = render_video(shifted, audio, tmp_path / "t.mp4", size=SIZE, fps=FPS, t_origin_s=100.0, progress=False)
    assert [teeth_pixels(f) > 30 for f in decoded(out)] == [False] * 5 + [True] * 5


def test_video_sink_renders_on_close(tmp_path, audio):
    frames = step_frames()
    with VideoSink(audio, tmp_path / "s.mp4", size=SIZE, fps=FPS) as sink:
        sink.write(FapFrames(frames.times_s[:2], frames.values[:2], frames.faps))
        sink.write(FapFrames(frames.times_s[2:], frames.values[2:], frames.faps))
    assert len(decoded(tmp_path / "s.mp4")) == FPS


def test_png_dump_and_single_frame(tmp_path):
    paths = dump_png(step_frames(), tmp_path / "dump", every=2, size=SIZE)
    assert [p.name for p in paths] == ["frame_000000.png", "frame_000002.png"]
    one = save_png(dict(zip((3, 4, 5), OPEN, strict=True)), tmp_path / "open.png", size=SIZE)
    image = pygame.surfarray.array3d(pygame.image.load(str(one))).transpose(1, 0, 2)
    assert image.shape == (SIZE[1], SIZE[0], 3) and teeth_pixels(image) > 30


def test_export_errors_are_one_line(tmp_path, audio, monkeypatch):
    (tmp_path / "noise.wav").write_text("not audio")
    with pytest.raises(VentriloquistError, match="cannot read audio .*noise.wav"):
        render_video(step_frames(), tmp_path / "noise.wav", tmp_path / "x.mp4", size=SIZE, progress=False)
    with pytest.raises(VentriloquistError, match="must be even"):
        render_video(step_frames(), audio, tmp_path / "x.mp4", size=(321, 240), progress=False)
    with pytest.raises(VentriloquistError, match="no FAP frames"):
        render_video(FapFrames.empty((3,)), audio, tmp_path / "x.mp4", size=SIZE, progress=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without ffmpeg on it
    with pytest.raises(VentriloquistError, match="ffmpeg is not installed|ffprobe is not installed"):
        render_video(step_frames(), audio, tmp_path / "x.mp4", size=SIZE, progress=False)
