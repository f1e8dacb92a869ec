"""`ventriloquist bench cost`: what the appliance costs on a Pi, from counted instructions.

Wall time on a busy workstation, or under emulation, says little about a Pi; the instructions a workload
executes do, and valgrind's callgrind counts them however busy the machine is (runs agree within 0.5 %).
Each workload runs in a child Python under callgrind, once with nothing to do and once with work; the
difference drops start-up (imports, loading the bundle, building the face) and leaves the cost per second
of audio (live pipeline, 20 ms chunks as live) or per face frame. The counts are this machine's
instructions; PI_CORES turns them into a share of one core of each Pi with the clock and
instructions-per-cycle documented in deploy/README.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ventriloquist.device.cli import BLAS_THREAD_VARIABLES

LIVE_SECONDS = 4.0
FACE_FRAMES = 30
FACE_SIZES = ((480, 320), (800, 480))
FACE_FPS = 30
PHOTO_SIZE = (480, 320)
"""The photo face is counted at the small kiosk screen's size (the live path's 30 fps goal is set there)."""
SERVOS_ENV = "VENTRILOQUIST_BENCH_SERVOS"
EXAMPLE_SERVOS = Path(__file__).resolve().parents[2] / "deploy" / "servos.example.toml"
PI_CORES = {
    "pi4": (1.8e9, 1.0),
    "pi5": (2.4e9, 1.5),
    "pi_zero_2w": (1.0e9, 0.6),
}
"""Board -> (clock Hz, instructions per cycle): Cortex-A72 at 1.8 GHz, A76 at 2.4 GHz, A53 at 1.0 GHz; the IPC
values are rounded-down estimates for this mixed interpreter + numeric code (deploy/README.md says why)."""
GOALS = {"kiosk": ("pi4", 25.0), "puppet": ("pi_zero_2w", 15.0)}
"""Role -> (board, most percent of one core it may take): kiosk = live + face at 30 fps, 800x480;
puppet = live + servo link, no face. (photo_kiosk = live + the photo face at 30 fps, 480x320: no goal yet.)"""


def _speech_chunks(seconds: float):
    from ventriloquist.device.bench_runtime import RATE_HZ, speech_like
    from ventriloquist.device.sources import DEFAULT_CHUNK_S
    from ventriloquist.device.values import AudioChunk

    audio, step = speech_like(max(seconds, DEFAULT_CHUNK_S)), int(RATE_HZ * DEFAULT_CHUNK_S)
    return [AudioChunk(audio[i : i + step], RATE_HZ, i / RATE_HZ) for i in range(0, int(seconds * RATE_HZ), step)]


class _Chunks:
    """A source of ready-made live-sized chunks: no pacing, so the count does not depend on the clock."""

    live, overflows = False, 0

    def __init__(self, chunks: list) -> None:
        from ventriloquist.device.values import SPEECH_RATE_HZ  # the rate _speech_chunks makes

        self.chunks, self.rate_hz = chunks, SPEECH_RATE_HZ

    def __iter__(self):
        return iter(self.chunks)

    def close(self) -> None:
        """Nothing to release."""


def _encoded(config):
    """A servo sink doing the live link's work (mapping, then every row into the board's bytes), with no port."""
    from ventriloquist.firmware_bridge.link import make_encoder
    from ventriloquist.firmware_bridge.servo_map import ServoSink

    class Encoded(ServoSink):
        def __init__(self) -> None:
            super().__init__(config)
            self.encoder, self.sent = make_encoder(config), 0

        def send(self, frames) -> None:
            for row in frames.pulses_us:
                self.sent += len(self.encoder.targets(row))

        def finish(self) -> None:
            """Nothing to release."""

    return Encoded()


def run_live(seconds: float, servos: str | None = None):
    """The live pipeline on `seconds` of speech-like audio into a 30 fps sink (and the servo link, if given)."""
    from ventriloquist.device.bench_runtime import _pipeline
    from ventriloquist.device.engine import Engine
    from ventriloquist.device.sinks.base import BaseSink

    class Null(BaseSink):
        rate_hz, realtime = 30.0, True

        def write(self, frames) -> None:
            """Stands in for the display: the engine's resampling to 30 fps is counted, drawing is not."""

    sinks: list = [Null()]
    if servos:
        from ventriloquist.firmware_bridge.servo_config import load_servo_config

        sinks.append(_encoded(load_servo_config(servos)))
    chunks = _speech_chunks(seconds)
    return Engine(_pipeline(), sinks).run(_Chunks(chunks))


def run_face(frames: int, width: int, height: int, photo: bool = False) -> None:
    """Draw `frames` frames of a talking cartoon (or photo) face at width x height straight onto the screen, as
    FaceSink does."""
    import numpy as np
    import pygame

    from ventriloquist.device.face.bench import cartoon_photo, speech_like_frames
    from ventriloquist.device.face.cartoon import CartoonFace
    from ventriloquist.device.face.video import faps_at

    face = cartoon_photo((width, height)) if photo else CartoonFace(size=(width, height))
    screen = pygame.Surface((width, height))
    stream = speech_like_frames(max(frames, 1) / FACE_FPS + 1)
    values = faps_at(stream, np.arange(frames) / FACE_FPS)
    for row in values:
        face.draw(screen, dict(zip(stream.faps, row.tolist(), strict=True)))


WORKLOADS: dict[str, Callable[..., object]] = {"live": run_live, "face": run_face}


def count_instructions(workload: str, *args: object) -> int:
    """Instructions a child Python executes for WORKLOADS[workload](*args), counted by callgrind."""
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, "-m", "ventriloquist.device.bench_cost", workload, json.dumps(args)]
    # One BLAS thread unless the environment says otherwise, as the appliance runs (`cli.main`): idle BLAS threads
    # spin, and what that adds varies from run to run (up to 0.7 M instructions a face frame seen).
    env = {**dict.fromkeys(BLAS_THREAD_VARIABLES, "1"), **os.environ,
           "PYTHONHASHSEED": "0", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind {workload} {args}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return int(found.group(1))


def _servo_config() -> str | None:
    path = os.environ.get(SERVOS_ENV) or (str(EXAMPLE_SERVOS) if EXAMPLE_SERVOS.is_file() else None)
    return path if path and Path(path).is_file() else None


def percent_of_core(instructions_per_s: float, board: str) -> float:
    clock_hz, ipc = PI_CORES[board]
    return 100 * instructions_per_s / (clock_hz * ipc)


def bench_cost() -> list[dict]:
    """Instructions per second of audio (live, puppet) and per face frame, and each role's share of each Pi."""
    from ventriloquist.device.face.style import DEFAULT_STYLE

    if shutil.which("valgrind") is None:
        return [{"name": "cost", "value": -1.0, "unit": "instructions", "note": "not measured: install valgrind"}]
    idle = count_instructions("live", 0.0)
    per_s = {"live": (count_instructions("live", LIVE_SECONDS) - idle) / LIVE_SECONDS}
    servos = _servo_config()
    if servos:  # its own idle run: loading the servo config and modules is start-up, not cost per second
        servo_idle = count_instructions("live", 0.0, servos)
        per_s["puppet"] = (count_instructions("live", LIVE_SECONDS, servos) - servo_idle) / LIVE_SECONDS
    figures = [{"name": f"{role}_instructions_per_audio_s", "value": round(v), "unit": "instructions",
                "chunk_ms": 20, "audio_s": LIVE_SECONDS} for role, v in per_s.items()]
    per_frame = {}
    for width, height in FACE_SIZES:
        blank = count_instructions("face", 0, width, height)
        per_frame[width, height] = (count_instructions("face", FACE_FRAMES, width, height) - blank) / FACE_FRAMES
        figures.append({"name": "face_instructions_per_frame", "value": round(per_frame[width, height]),
                        "unit": "instructions", "size": f"{width}x{height}", "style": DEFAULT_STYLE})
    per_s["kiosk"] = per_s["live"] + FACE_FPS * per_frame[FACE_SIZES[-1]]
    blank = count_instructions("face", 0, *PHOTO_SIZE, True)
    photo_frame = (count_instructions("face", FACE_FRAMES, *PHOTO_SIZE, True) - blank) / FACE_FRAMES
    figures.append({"name": "photo_instructions_per_frame", "value": round(photo_frame), "unit": "instructions",
                    "size": f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}"})
    per_s["photo_kiosk"] = per_s["live"] + FACE_FPS * photo_frame
    return figures + role_figures(per_s)


def role_figures(instructions_per_s: dict[str, float]) -> list[dict]:
    """Each role's share of one core of each Pi, with the goal where the role has one on that board."""
    figures = []
    for role, instructions in instructions_per_s.items():
        goal_board, goal = GOALS.get(role, (None, None))
        for board in PI_CORES:
            figure = {"name": "pi_percent_of_one_core", "value": round(percent_of_core(instructions, board), 1),
                      "unit": "percent_of_one_core", "role": role, "board": board}
            if board == goal_board:
                figure["goal_percent"] = goal
            figures.append(figure)
    return figures


if __name__ == "__main__":  # a child of count_instructions: python -m ventriloquist.device.bench_cost NAME ARGS_JSON
    WORKLOADS[sys.argv[1]](*json.loads(sys.argv[2]))
