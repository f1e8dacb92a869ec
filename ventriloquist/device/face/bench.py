"""`ventriloquist bench render|photo`: how fast the cartoon (photo) face draws at 480x320, and what share of
a core 60 (30) fps costs.

The photo is the cartoon's neutral face saved as a picture with its feature points: it fills the frame
as a close-up portrait does, and the figure needs no data folder. The face is animated with a
speech-like FAP sequence built from Greta's per-phoneme lip targets (MPEG-4 reference §5.1) with
cosine transitions, blinks and brow accents, so every part moves.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pygame

from ventriloquist.device.face.cartoon import CartoonFace
from ventriloquist.device.face.style import DEFAULT_STYLE
from ventriloquist.device.face.video import faps_at
from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.device.values import FapFrames

BENCH_SIZE = (480, 320)
PACED_FPS = 60
PHOTO_PACED_FPS = 30
"""The photo face's rate on the kiosk (run's face fps)."""
SYLLABLE_S = 0.18
BLINK_EVERY_S = 3.3
BLINK_S = 0.15
PHONEME_TARGETS = {  # open_jaw, lower_t_midlip, raise_b_midlip, stretch, push_b_lip, push_t_lip
    "a1": (266, -62, -527, 11, -13, -13), "p": (45, 9, 75, 0, 18, 19), "i": (143, -29, -245, 21, -28, -44),
    "o": (133, -30, -254, -18, 39, 53), "s": (88, -20, -160, -9, 27, 44), "u": (97, -25, -214, -45, 88, 115),
    "e1": (226, -52, -439, 16, -24, -33), "m": (54, 7, 62, -4, 15, 19), "l": (167, -38, -320, -6, 11, 14),
    "f": (70, -3, -29, -8, -116, 17), "k": (124, -26, -222, -7, 8, 2), "pause": (0, 0, 0, 0, 0, 0),
}
SENTENCE = ("pause", "m", "a1", "p", "i", "s", "o", "l", "u", "f", "e1", "k", "a1", "m", "pause", "pause")


def speech_like_frames(seconds: float, rate_hz: float = 100.0) -> FapFrames:
    """A FAP stream (ANIMATION_SUBSET columns) that looks like someone talking, for benchmarks and demos."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    targets = np.array([PHONEME_TARGETS[p] for p in SENTENCE], float)
    pos = t / SYLLABLE_S
    k = pos.astype(int)
    w = (0.5 - 0.5 * np.cos(np.pi * (pos - k)))[:, None]  # cosine glide from one target to the next
    lips = (1 - w) * targets[k % len(SENTENCE)] + w * targets[(k + 1) % len(SENTENCE)]
    jaw, upper, lower, stretch, push_b, push_t = lips.T
    blink = np.where((t % BLINK_EVERY_S) < BLINK_S, 1024 * np.sin(np.pi * (t % BLINK_EVERY_S) / BLINK_S), 0.0)
    brow = 90 * np.clip(np.sin(2 * np.pi * t / 2.1), 0, None) ** 2
    columns = {3: jaw, 4: upper, 5: lower, 6: stretch, 7: stretch, 12: 0 * t, 13: 0 * t, 16: push_b, 17: push_t,
               19: blink, 20: blink, 31: brow, 32: brow, 35: 0.6 * brow, 36: 0.6 * brow, 41: jaw / 4, 42: jaw / 4,
               51: upper, 52: 0.8 * lower}
    values = np.stack([columns[f] for f in ANIMATION_SUBSET], axis=1).astype(np.float32)
    return FapFrames(t, values, ANIMATION_SUBSET)


def bench_render(style: str = DEFAULT_STYLE, seconds: float = 3.0) -> list[dict]:
    """render_fps (unthrottled draws per wall second) and render_cpu_percent (one core, paced at 60 fps)."""
    fps, cpu = _speed(CartoonFace(style, BENCH_SIZE), PACED_FPS, seconds)
    where = {"size": f"{BENCH_SIZE[0]}x{BENCH_SIZE[1]}", "style": style}
    return [
        {"name": "render_fps", "value": round(fps, 1), "unit": "fps", **where},
        {"name": "render_cpu_percent", "value": round(100 * cpu, 1), "unit": "percent_of_one_core",
         "paced_fps": PACED_FPS, **where},
    ]


def bench_photo(seconds: float = 3.0) -> list[dict]:
    """photo_render_fps (unthrottled) and photo_render_cpu_percent (one core, paced at 30 fps) of the photo face."""
    fps, cpu = _speed(cartoon_photo(BENCH_SIZE), PHOTO_PACED_FPS, seconds)
    where = {"size": f"{BENCH_SIZE[0]}x{BENCH_SIZE[1]}"}
    return [
        {"name": "photo_render_fps", "value": round(fps, 1), "unit": "fps", **where},
        {"name": "photo_render_cpu_percent", "value": round(100 * cpu, 1), "unit": "percent_of_one_core",
         "paced_fps": PHOTO_PACED_FPS, **where},
    ]


def cartoon_photo(size: tuple[int, int]):
    """A PhotoFace of the cartoon's neutral face saved as a picture, with its known feature points."""
    from ventriloquist.device.face.photo_warp import PhotoFace

    cartoon = CartoonFace("classic", size)
    with tempfile.TemporaryDirectory() as tmp:
        picture = Path(tmp) / "face.png"
        pygame.image.save(cartoon.render_frame({}), str(picture))
        return PhotoFace(picture, cartoon.feature_points_px(), size=size)


def _speed(face, paced_fps: int, seconds: float) -> tuple[float, float]:
    """(draws per wall second unthrottled, CPU share of one core paced at `paced_fps`), each over `seconds`
    of speech-like FAPs, every frame blitted to a screen-sized surface as the kiosk does."""
    surface, screen = pygame.Surface(BENCH_SIZE), pygame.Surface(BENCH_SIZE)
    frames = speech_like_frames(10.0)
    values = faps_at(frames, np.arange(10 * paced_fps) / paced_fps)
    vectors = [dict(zip(frames.faps, row.tolist(), strict=True)) for row in values]
    for faps in vectors[:30]:  # warm-up
        face.draw(surface, faps)
    drawn, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        face.draw(surface, vectors[drawn % len(vectors)])
        screen.blit(surface, (0, 0))
        drawn += 1
    fps = drawn / (time.perf_counter() - start)
    period = 1.0 / paced_fps
    wall0, cpu0 = time.perf_counter(), time.process_time()
    next_t, i = wall0, 0
    while next_t - wall0 < seconds:
        face.draw(surface, vectors[i % len(vectors)])
        screen.blit(surface, (0, 0))
        i += 1
        next_t += period
        time.sleep(max(0.0, next_t - time.perf_counter()))
    return fps, (time.process_time() - cpu0) / (time.perf_counter() - wall0)
