"""Kiosk display on SDL's offscreen driver: retries while no display is there, quits cleanly, shows frames."""

from __future__ import annotations

import signal

import numpy as np
import pygame
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face import CartoonFace
from ventriloquist.device.face.bench import bench_render, speech_like_frames
from ventriloquist.device.face.display import FaceSink, KioskDisplay


@pytest.fixture(autouse=True)
def offscreen(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


def test_opens_offscreen_hides_cursor_and_shows_frames():
    with KioskDisplay(size=(320, 240), fullscreen=False) as display:
        assert display.driver == "dummy" and display.size == (320, 240)
        assert not pygame.mouse.get_visible()
        face = CartoonFace("classic", display.size)
        frames = speech_like_frames(0.5)
        sink = FaceSink(face, display, fps=30)
        assert sink.rate_hz == 30 and sink.realtime and not sink.quit_requested
        sink.write(frames)
        expected = face.render_frame(dict(zip(frames.faps, frames.values[-1].tolist(), strict=True)))
        assert np.array_equal(pygame.surfarray.array3d(display.screen), pygame.surfarray.array3d(expected))
        assert display.show(pygame.Surface((160, 120)))  # other sizes are scaled to fit


def test_retries_while_no_display_then_falls_back_or_fails():
    with pytest.raises(VentriloquistError, match="no display found with SDL video driver.*nosuchdriver"):
        KioskDisplay(drivers=("nosuchdriver",), wait_s=0.35, retry_s=0.1, fallback_offscreen=False)
    display = KioskDisplay(drivers=("nosuchdriver",), wait_s=0.15, retry_s=0.1)
    try:
        assert display.driver == "dummy" and display.attempts >= 3  # 2 tries + the fallback
    finally:
        display.close()


def test_esc_and_window_close_ask_to_quit_and_sigterm_stays_with_the_command():
    before = signal.getsignal(signal.SIGTERM)
    with KioskDisplay(size=(320, 240), fullscreen=False) as display:
        assert display.poll()
        assert signal.getsignal(signal.SIGTERM) is before  # the command's clean stop keeps working
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))
        assert not display.poll() and FaceSink(CartoonFace("classic", display.size), display, 30).quit_requested
    with KioskDisplay(size=(320, 240), fullscreen=False) as display:
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        assert not display.show(pygame.Surface(display.size))


def test_bench_reports_the_two_figures():
    figures = {f["name"]: f for f in bench_render(seconds=0.2)}
    assert set(figures) == {"render_fps", "render_cpu_percent"}
    assert figures["render_fps"]["value"] > 0 and figures["render_fps"]["size"] == "480x320"
    assert 0 < figures["render_cpu_percent"]["value"] <= 200


def test_a_face_of_the_screens_size_is_drawn_on_the_screen_itself():
    """No copy per frame; a face of another size is drawn aside and scaled onto the screen."""
    with KioskDisplay(size=(320, 240), fullscreen=False) as display:
        assert FaceSink(CartoonFace("classic", display.size), display, 30).surface is display.screen
        smaller = FaceSink(CartoonFace("classic", (160, 120)), display, 30)
        assert smaller.surface is not display.screen
        smaller.write(speech_like_frames(0.2))
        assert pygame.surfarray.array3d(display.screen).any()
