"""The kiosk screen: a fullscreen face without a desktop on the Pi (KMS/DRM or framebuffer), or a window.

`KioskDisplay` tries the SDL video drivers in order, waits and retries while no display is
there yet (boot), falls back to the offscreen "dummy" driver when allowed, hides the cursor,
has no window decorations and turns window close and Esc into `quit_requested` (signals stay with the
command that runs it). Pacing is the engine's: `FaceSink` is the sink that draws FAP frames onto it at its fps.
"""

from __future__ import annotations

import logging
import os
import time

import pygame

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.sinks.base import BaseSink, check_rate
from ventriloquist.device.values import FapFrames

log = logging.getLogger(__name__)

PI_DRIVERS = ("kmsdrm", "fbcon", "x11", "wayland")
"""SDL video drivers tried in this order when SDL_VIDEODRIVER is not set."""
OFFSCREEN_DRIVER = "dummy"
OFFSCREEN_DRIVERS = (OFFSCREEN_DRIVER, "offscreen")
"""SDL video drivers that draw nowhere: with one of these asked for, there is no screen to use."""
FALLBACK_SIZE = (480, 320)
"""Window size when none is given and there is no desktop size to take (offscreen)."""
MAX_RETRY_S = 8.0
QUIT_KEYS = (pygame.K_ESCAPE, pygame.K_q)


class KioskDisplay:
    """One pygame screen; `show(surface)` puts a frame on it. Use as a context manager."""

    def __init__(self, size: tuple[int, int] | None = None, fullscreen: bool = True,
                 drivers: tuple[str, ...] | None = None, wait_s: float = 0.0, retry_s: float = 1.0,
                 fallback_offscreen: bool = True):
        """`drivers` default: $SDL_VIDEODRIVER if set, else PI_DRIVERS. While none opens, retry every
        `retry_s` (doubling up to MAX_RETRY_S) for `wait_s` seconds, then use the offscreen driver
        if `fallback_offscreen`, else raise VentriloquistError."""
        env = os.environ.get("SDL_VIDEODRIVER")
        self.drivers = tuple(drivers) if drivers else (env,) if env else PI_DRIVERS
        self.quit_requested = False
        self.attempts = 0
        self.driver = ""
        deadline, delay = time.monotonic() + wait_s, retry_s
        while not any(self._open(d, size, fullscreen) for d in self.drivers):
            if time.monotonic() + delay > deadline:
                if fallback_offscreen and self._open(OFFSCREEN_DRIVER, size or FALLBACK_SIZE, False):
                    break
                raise VentriloquistError(f"no display found with SDL video driver(s) {', '.join(self.drivers)} "
                                         f"after {self.attempts} tries (is the screen connected?)")
            if self.attempts == len(self.drivers):
                log.warning("no display yet (SDL drivers %s): waiting up to %.0f s", ", ".join(self.drivers), wait_s)
            time.sleep(delay)
            delay = min(2 * delay, MAX_RETRY_S)
        self.screen = pygame.display.get_surface()
        self.size = self.screen.get_size()
        pygame.mouse.set_visible(False)

    def _open(self, driver: str, size: tuple[int, int] | None, fullscreen: bool) -> bool:
        self.attempts += 1
        pygame.display.quit()
        os.environ["SDL_VIDEODRIVER"] = driver
        try:
            pygame.display.init()
            flags = pygame.FULLSCREEN if fullscreen else pygame.NOFRAME
            pygame.display.set_mode(size or ((0, 0) if fullscreen else FALLBACK_SIZE), flags)
        except pygame.error:
            pygame.display.quit()
            return False
        pygame.display.set_caption("ventriloquist")
        self.driver = driver
        return True

    def poll(self) -> bool:
        """Handle window events; False once a quit was asked for (window close, Esc or q)."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key in QUIT_KEYS):
                self.quit_requested = True
        return not self.quit_requested

    def show(self, surface: pygame.Surface) -> bool:
        """Put `surface` on the screen (scaled to fit if its size differs; the screen itself as is); returns poll()."""
        if surface is self.screen:
            pass
        elif surface.get_size() == self.size:
            self.screen.blit(surface, (0, 0))
        else:
            k = min(self.size[0] / surface.get_width(), self.size[1] / surface.get_height())
            scaled = pygame.transform.smoothscale(surface, (int(surface.get_width() * k),
                                                            int(surface.get_height() * k)))
            self.screen.fill((0, 0, 0))
            self.screen.blit(scaled, scaled.get_rect(center=(self.size[0] // 2, self.size[1] // 2)))
        pygame.display.flip()
        return self.poll()

    def close(self) -> None:
        pygame.display.quit()

    def __enter__(self) -> KioskDisplay:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FaceSink(BaseSink):
    """The sink that draws the newest FAP frame of each `write` on a display (CartoonFace or PhotoFace),
    fed by the engine at `fps`. It owns the display: `close()` closes it. `quit_requested` stops the engine."""

    realtime = True

    def __init__(self, face, display: KioskDisplay, fps: float):
        super().__init__()
        self.face, self.display = face, display
        self.rate_hz = check_rate(fps, "face")
        self.surface = display.screen if display.size == face.size else pygame.Surface(face.size)
        """Where frames are drawn: the screen itself when the sizes agree, which saves a copy of every frame."""

    @property
    def quit_requested(self) -> bool:
        return self.display.quit_requested

    def write(self, frames: FapFrames) -> None:
        if len(frames):
            self.face.draw(self.surface, dict(zip(frames.faps, frames.values[-1].tolist(), strict=True)))
            self.display.show(self.surface)

    def close(self, t_end_s: float | None = None) -> None:
        self.display.close()
