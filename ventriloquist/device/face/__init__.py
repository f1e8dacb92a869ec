"""What people see: a 2D cartoon (or warped photo) face driven by MPEG-4 FAPs, on a kiosk screen or in a video.

`CartoonFace` loads on first use, so reading the style names (the config does) does not import pygame.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ventriloquist.device.face.style import DEFAULT_STYLE, STYLES, FaceStyle, load_style

if TYPE_CHECKING:
    from ventriloquist.device.face.cartoon import CartoonFace

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before anything here imports pygame


def __getattr__(name: str) -> Any:
    if name == "CartoonFace":
        from ventriloquist.device.face.cartoon import CartoonFace

        return CartoonFace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_STYLE", "STYLES", "CartoonFace", "FaceStyle", "load_style"]
