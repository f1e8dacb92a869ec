"""Show what the box does in one command: a live face from the microphone, or else a video of the sample speech.

Live when a microphone and a screen are both there (and no --offscreen): the face fills the screen
and follows your voice (Esc, q, Ctrl-C or SIGTERM ends it). Otherwise the shipped sample recording
(ventriloquist/device/samples/hello.wav, or --source FILE) is rendered offscreen to an MP4 (default out/demo.mp4
under the current folder) plus a PNG still of the frame where the mouth is widest and a strip of
frames around it (out/demo_strip.png), and the paths are printed.

A microphone is there when PyAudio lists a device with input channels. A screen is there when
SDL_VIDEODRIVER is not "dummy"/"offscreen" and any of: $DISPLAY or $WAYLAND_DISPLAY is set; a
/dev/dri/card* node exists and a /sys/class/drm/card*-*/status reads "connected"; /dev/fb0 exists.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from ventriloquist.device.commands.options import add_pipeline_arguments, pipeline_options
from ventriloquist.device.commands.render import add_face_arguments, face_options

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "hello.wav"
DEFAULT_OUT = Path("out") / "demo.mp4"
OPEN_JAW_FAP = 3
STRIP_FRAMES = 8
STRIP_STEP_S = 0.1
STRIP_LEAD_S = 0.4
"""The strip of frames (out/demo_strip.png) starts this long before the widest mouth."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="mic, or an audio file to render (default: the microphone when there is "
                        "a microphone and a screen, else the sample speech)")
    parser.add_argument("--out", metavar="FILE.mp4", help=f"video to write offscreen (default: {DEFAULT_OUT})")
    parser.add_argument("--offscreen", action="store_true", help="render a video even when a screen and mic exist")
    add_face_arguments(parser, photo=False)
    add_pipeline_arguments(parser)


def find_display(environ: Mapping[str, str] | None = None, root: Path = Path("/")) -> str | None:
    """What makes a screen usable (see the module docstring), or None; `root` is "/" except in tests."""
    from ventriloquist.device.face.display import OFFSCREEN_DRIVERS

    env = os.environ if environ is None else environ
    if env.get("SDL_VIDEODRIVER", "") in OFFSCREEN_DRIVERS:
        return None
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        if env.get(name):
            return f"{name}={env[name]}"
    if any((root / "dev" / "dri").glob("card*")):
        for status in sorted((root / "sys" / "class" / "drm").glob("card*-*/status")):
            if status.read_text(errors="replace").strip() == "connected":
                return f"{status.parent.name} connected"
    fb = root / "dev" / "fb0"
    return str(fb) if fb.exists() else None


def find_microphone() -> str | None:
    """The name of the first PortAudio device with input channels, or None (ALSA's chatter hidden)."""
    from ventriloquist.device.quiet import quiet_stderr

    with quiet_stderr():
        try:
            import pyaudio
        except ImportError:
            return None
        pa = pyaudio.PyAudio()
        try:
            infos = [pa.get_device_info_by_index(i) for i in range(pa.get_device_count())]
        finally:
            pa.terminate()
    return next((str(d["name"]) for d in infos if d.get("maxInputChannels", 0) > 0), None)


def run_live(args: argparse.Namespace) -> int:
    """`ventriloquist run --source mic --face STYLE` (fullscreen) with this demo's bundle and options."""
    from ventriloquist.device import app

    print("demo: live face from the microphone; speak! (Esc, q or Ctrl-C ends it)", flush=True)
    app.run_live(app.LiveSettings(pipeline=pipeline_options(args), face=face_options(args), fps=args.fps))
    return 0


def run_offscreen(args: argparse.Namespace, audio: Path) -> int:
    """Render `audio` to the MP4 and a PNG still beside it; print both paths."""
    import numpy as np

    from ventriloquist.device.app import build_pipeline, make_face, render_file
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.device.face.video import save_png, save_strip

    out = Path(args.out) if args.out else DEFAULT_OUT
    if out.suffix.lower() != ".mp4":
        raise VentriloquistError(f"--out {out}: the video must be an .mp4 file")
    pipeline = build_pipeline(pipeline_options(args))
    face = make_face(face_options(args))
    out.parent.mkdir(parents=True, exist_ok=True)
    done = render_file(pipeline, audio, out, face, args.fps)
    frames = done.frames
    jaw = frames.column(OPEN_JAW_FAP) if OPEN_JAW_FAP in frames.faps else np.zeros(len(frames))
    index = int(np.argmax(jaw)) if np.ptp(jaw) > 0 else len(frames) // 2
    still = save_png(dict(zip(frames.faps, frames.values[index].tolist(), strict=True)), out.with_suffix(".png"),
                     face=face)
    last_start_s = frames.times_s[-1] - (STRIP_FRAMES - 1) * STRIP_STEP_S
    start_s = max(0.0, min(frames.times_s[index] - STRIP_LEAD_S, last_start_s))
    strip = save_strip(frames, start_s + np.arange(STRIP_FRAMES) * STRIP_STEP_S,
                       out.with_name(f"{out.stem}_strip.png"), face)
    width, height = face.size
    print(f"demo: wrote {out} ({len(frames) / args.fps:.1f} s, {width}x{height}, {args.fps} fps), {still} "
          f"(the frame at {frames.times_s[index]:.2f} s) and {strip} ({STRIP_FRAMES} frames, {STRIP_STEP_S:g} s apart)")
    return 0


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.app import bundle_path
    from ventriloquist.device.errors import VentriloquistError

    bundle = bundle_path(pipeline_options(args))
    if not bundle.exists():
        raise VentriloquistError(f"no model bundle at {bundle}: pass --bundle PATH (a bundle folder)")
    display = None if args.offscreen else find_display()
    source = args.source
    if source is None:
        microphone = find_microphone() if display else None
        if display and microphone:
            source = "mic"
        else:
            why = "--offscreen" if args.offscreen else "no screen" if not display else "no microphone"
            print(f"demo: {why}, so rendering the sample speech {SAMPLE.name} to a video", flush=True)
            source = str(SAMPLE)
    if source == "mic":
        if display is None:
            raise VentriloquistError("demo --source mic needs a screen for the live face (none found, or "
                                     "--offscreen); pass --source FILE to render a video instead")
        return run_live(args)
    if not Path(source).is_file():
        raise VentriloquistError(f"--source {source}: no such audio file (use mic or a file)")
    return run_offscreen(args, Path(source))
