"""Offscreen face export: an MP4 with the audio muxed in (ffmpeg), and PNG frames for demos and reports.

Time origin: `FapFrames.times_s` are taken as seconds from the first sample of the audio file
(pass `t_origin_s` when they are on another clock, e.g. the capture time of that sample).
Video frame k shows the FAPs interpolated linearly at t = k / fps, so it is in sync with the
audio played from its start; outside the FAP frames the first / last values are held.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygame
from tqdm import tqdm

from ventriloquist.device.atomic import write_bytes
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face.cartoon import CartoonFace
from ventriloquist.device.face.style import DEFAULT_STYLE, FaceStyle
from ventriloquist.device.values import FapFrames

DEFAULT_SIZE = (480, 320)
DEFAULT_FPS = 30
STRIP_SCALE = 0.5
"""Each frame of a strip at this share of the face's size."""
STRIP_LABEL_PX = 22
STRIP_LABEL_COLOR = (225, 225, 225)


def faps_at(frames: FapFrames, t_s: np.ndarray) -> np.ndarray:
    """FAP values (len(t_s), len(frames.faps)) linearly interpolated at the times `t_s`."""
    if len(frames) == 0:
        raise VentriloquistError("no FAP frames to render")
    return np.stack([np.interp(t_s, frames.times_s, frames.values[:, j]) for j in range(len(frames.faps))], axis=1)


def audio_duration_s(audio_path: str | Path) -> float:
    """Length of the audio in `audio_path`, from ffprobe."""
    probe = _tool("ffprobe")
    out = subprocess.run([probe, "-v", "error", "-select_streams", "a:0", "-show_entries", "format=duration",
                          "-of", "csv=p=0", str(audio_path)], capture_output=True, text=True)
    try:
        duration = float(out.stdout.strip().splitlines()[0])
    except (ValueError, IndexError):
        reason = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "no audio stream"
        raise VentriloquistError(f"cannot read audio {audio_path}: {reason}") from None
    if duration <= 0:
        raise VentriloquistError(f"audio {audio_path} is empty")
    return duration


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise VentriloquistError(f"{name} is not installed (video export needs it: apt-get install ffmpeg)")
    return path


def _face(face, style: FaceStyle | str, size: tuple[int, int]):
    return face if face is not None else CartoonFace(style, size)


def render_video(frames: FapFrames, audio_path: str | Path, out_path: str | Path,
                 style: FaceStyle | str = DEFAULT_STYLE, size: tuple[int, int] = DEFAULT_SIZE, fps: int = DEFAULT_FPS,
                 face=None, t_origin_s: float = 0.0, progress: bool = True) -> Path:
    """Render `frames` offscreen at `fps` and mux `audio_path` into `out_path` (H.264 yuv420p + AAC).

    `face` (a CartoonFace or PhotoFace) overrides `style` and `size`. Returns the path written.
    """
    face = _face(face, style, size)
    width, height = face.size
    if width % 2 or height % 2:
        raise VentriloquistError(f"video size {width}x{height} must be even in both directions (H.264 yuv420p)")
    if fps <= 0:
        raise VentriloquistError(f"video fps must be > 0, got {fps}")
    ffmpeg = _tool("ffmpeg")
    n_frames = int(np.ceil(audio_duration_s(audio_path) * fps))
    values = faps_at(frames, t_origin_s + np.arange(n_frames) / fps)
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix or '.mp4'}")
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "-", "-i", str(audio_path),
           "-map", "0:v:0", "-map", "1:a:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(tmp)]
    surface = pygame.Surface((width, height))
    # ffmpeg in its own session: Ctrl-C reaches only us, and we stop it and remove its partial file.
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stdin is not None and proc.stderr is not None  # both asked for as pipes
    try:
        try:
            for row in tqdm(values, desc=f"render {out_path.name}", unit="frame", disable=not progress):
                face.draw(surface, dict(zip(frames.faps, row.tolist(), strict=True)))
                proc.stdin.write(pygame.image.tobytes(surface, "RGB"))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read().decode(errors="replace").strip()
        if proc.wait() != 0 or not tmp.exists():
            raise VentriloquistError(f"ffmpeg could not write {out_path}: {err.splitlines()[-1] if err else 'failed'}")
        os.replace(tmp, out_path)
    except BaseException:
        proc.kill()
        proc.wait()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return out_path


def _write_png(surface: pygame.Surface, path: str | Path) -> Path:
    buffer = io.BytesIO()
    pygame.image.save(surface, buffer, "png")
    write_bytes(path, buffer.getvalue())
    return Path(path)


def save_png(faps: dict[int, float], path: str | Path, style: FaceStyle | str = DEFAULT_STYLE,
             size: tuple[int, int] = DEFAULT_SIZE, face=None) -> Path:
    """One frame from a FAP vector (FAP number -> FAPU) as a PNG, written atomically."""
    return _write_png(_face(face, style, size).render_frame(faps), path)


def save_strip(frames: FapFrames, times_s: np.ndarray, path: str | Path, face, scale: float = STRIP_SCALE) -> Path:
    """The frames at `times_s` side by side, each labelled with its time, as one PNG: a video at a glance."""
    width, height = round(face.size[0] * scale), round(face.size[1] * scale)
    sheet = pygame.Surface((width * len(times_s), height + STRIP_LABEL_PX))
    sheet.fill(face.style.background)
    pygame.font.init()
    font = pygame.font.Font(None, STRIP_LABEL_PX)
    for i, (t_s, row) in enumerate(zip(times_s, faps_at(frames, np.asarray(times_s)), strict=True)):
        frame = face.render_frame(dict(zip(frames.faps, row.tolist(), strict=True)))
        sheet.blit(pygame.transform.smoothscale(frame, (width, height)), (i * width, 0))
        label = font.render(f"{t_s:.1f} s", True, STRIP_LABEL_COLOR)
        sheet.blit(label, label.get_rect(center=(i * width + width / 2, height + STRIP_LABEL_PX / 2)))
    return _write_png(sheet, path)


def dump_png(frames: FapFrames, out_dir: str | Path, every: int = 1, style: FaceStyle | str = DEFAULT_STYLE,
             size: tuple[int, int] = DEFAULT_SIZE, face=None) -> list[Path]:
    """Every `every`-th FAP frame as `out_dir/frame_<index>.png`; returns the paths written."""
    if every < 1:
        raise VentriloquistError(f"every must be >= 1, got {every}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    face = _face(face, style, size)
    return [save_png(dict(zip(frames.faps, frames.values[i].tolist(), strict=True)),
                     out_dir / f"frame_{i:06d}.png", face=face) for i in range(0, len(frames), every)]


class VideoSink:
    """A sink that gathers FAP frames and renders them to an MP4 with the audio when closed."""

    def __init__(self, audio_path: str | Path, out_path: str | Path, style: FaceStyle | str = DEFAULT_STYLE,
                 size: tuple[int, int] = DEFAULT_SIZE, fps: int = DEFAULT_FPS, face=None, t_origin_s: float = 0.0):
        _tool("ffmpeg")
        audio_duration_s(audio_path)
        self.face = _face(face, style, size)
        self.audio_path, self.out_path, self.fps, self.t_origin_s = audio_path, Path(out_path), fps, t_origin_s
        self.parts: list[FapFrames] = []

    def write(self, frames: FapFrames) -> None:
        self.parts.append(frames)

    def close(self) -> None:
        if self.parts:
            frames = FapFrames.concat(self.parts, self.parts[0].faps)
            self.parts = []
            render_video(frames, self.audio_path, self.out_path, fps=self.fps, face=self.face,
                         t_origin_s=self.t_origin_s)

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
