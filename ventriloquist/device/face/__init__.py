"""What people see: a 2D cartoon (or warped photo) face driven by MPEG-4 FAPs, on a kiosk screen or in a video."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before anything here imports pygame

from ventriloquist.device.face.cartoon import CartoonFace  # noqa: E402
from ventriloquist.device.face.style import STYLES, FaceStyle, load_style  # noqa: E402

__all__ = ["STYLES", "CartoonFace", "FaceStyle", "load_style"]
