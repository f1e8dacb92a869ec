"""Turn an audio file into a talking-face video: the FAPs are baked exactly as `bake` does, then drawn offscreen.

Examples: `ventriloquist render talk.wav --out talk.mp4 --style puppet`;
`ventriloquist render talk.wav --out me.mp4 --photo me.png --points me.json` (a frontal photo and its
neutral MPEG-4 feature points, see ventriloquist/device/face/photo_warp.py; without --points the face
tracker finds them, on a workstation with .venv-track); `--png-dir frames/` also writes every
video frame as a PNG. The MP4 (H.264 + AAC, the audio muxed in) is written to a temporary name and
renamed into place.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ventriloquist.device.commands.run import FACE_STYLE, add_pipeline_arguments, exaggeration

VIDEO_FPS = 30
MAX_VIDEO_SIDE_PX = 4096
"""Largest video width or height: 4K; a frame of 100000x100000 would need 30 GB of memory."""
MAX_VIDEO_FPS = 120


def parse_size(text: str) -> tuple[int, int]:
    """"640x480" -> (640, 480), each side within 1..MAX_VIDEO_SIDE_PX."""
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT in pixels, e.g. 640x480, not {text!r}")
    if not (0 < int(width) <= MAX_VIDEO_SIDE_PX and 0 < int(height) <= MAX_VIDEO_SIDE_PX):
        raise argparse.ArgumentTypeError(f"size {text}: each side must be within 1..{MAX_VIDEO_SIDE_PX} pixels")
    return int(width), int(height)


def parse_fps(text: str) -> int:
    """Video frames per second, 1..MAX_VIDEO_FPS."""
    if not text.isdigit() or not 0 < int(text) <= MAX_VIDEO_FPS:
        raise argparse.ArgumentTypeError(f"fps must be a whole number within 1..{MAX_VIDEO_FPS}, not {text!r}")
    return int(text)


def add_face_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by render and demo: how the face looks in the video."""
    parser.add_argument("--style", default=FACE_STYLE, help="face style: a shipped name or a style .toml "
                        "(with --photo it colours the inside of the mouth) (default: %(default)s)")
    parser.add_argument("--size", type=parse_size, metavar="WxH",
                        help="video size in pixels, both even (default: 480x320, or the photo's size)")
    parser.add_argument("--fps", type=parse_fps, default=VIDEO_FPS,
                        help="video frames per second (default: %(default)s)")
    parser.add_argument("--exaggerate", type=exaggeration, metavar="GAIN", help="mouth and jaw gain: 1 = as "
                        "measured (default: the style's for the cartoon, 1 for a photo)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", help="audio file (WAV, FLAC, OGG)")
    parser.add_argument("--out", required=True, metavar="FILE.mp4", help="the video to write")
    add_face_arguments(parser)
    parser.add_argument("--photo", metavar="IMG", help="warp this frontal face photo instead of the cartoon")
    parser.add_argument("--points", metavar="JSON", help="the photo's neutral feature points (default: found by "
                        "the face tracker, on a workstation; see `ventriloquist photo-points`)")
    parser.add_argument("--png-dir", metavar="DIR", help="also write every video frame as DIR/frame_NNNNNN.png")
    add_pipeline_arguments(parser)


@dataclass(frozen=True)
class Rendered:
    """What a render produced."""

    video: Path
    frames: object
    """The video's FAP frames (FapFrames at the video's frame times)."""
    face: object
    """The CartoonFace or PhotoFace it was drawn with."""


class FrameCollector:
    """A sink (the engine's Sink interface) keeping every FAP frame at the model's rate, for drawing afterwards."""

    rate_hz = None

    def __init__(self) -> None:
        self.parts: list = []
        self.t_end_s: float | None = None

    def open(self, t_origin_s: float) -> None:
        self.parts = []

    def write(self, frames) -> None:
        self.parts.append(frames)

    def close(self) -> None:
        """Nothing to finish: the frames stay in memory."""

    def abort(self) -> None:
        self.parts = []

    def frames(self):
        from ventriloquist.device.errors import VentriloquistError
        from ventriloquist.device.values import FapFrames

        if not self.parts:
            raise VentriloquistError("the audio gave no FAP frames (is it shorter than one frame?)")
        return FapFrames.concat(self.parts, self.parts[0].faps)


def make_face(args: argparse.Namespace):
    """CartoonFace of --style at --size, or PhotoFace of --photo/--points; --exaggerate sets the mouth's gain."""
    from ventriloquist.device.face import CartoonFace
    from ventriloquist.device.face.video import DEFAULT_SIZE

    photo = getattr(args, "photo", None)
    if photo is None:
        return CartoonFace(args.style, args.size or DEFAULT_SIZE, args.exaggerate)
    from ventriloquist.device.face.photo_warp import PhotoFace

    face = PhotoFace(photo, args.points or photo_points(photo), style=args.style, size=args.size)
    if args.exaggerate is not None:
        face.geometry.exaggeration = args.exaggerate
    return face


def photo_points(photo: str) -> dict:
    """The photo's neutral points found by the face tracker; where it is not installed (the device), how to
    pass them instead."""
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.training.corpus.tracker import track_python
    from ventriloquist.training.photo_points import find_photo_points

    try:
        python = track_python()
    except VentriloquistError:
        raise VentriloquistError("--photo without --points needs the face tracker (.venv-track), which is not "
                                 "here: pass --points JSON, made by `ventriloquist photo-points PHOTO --out JSON` "
                                 "on the workstation") from None
    return find_photo_points(photo, python)


def render_file(pipeline, audio_path: str | Path, out_path: str | Path, face, fps: int = VIDEO_FPS,
                png_dir: str | Path | None = None, progress: bool = True) -> Rendered:
    """Bake `audio_path` with `pipeline` (bake's code path) and render the MP4 (and PNG frames) with `face`."""
    import numpy as np

    from ventriloquist.device.commands.bake import bake_file
    from ventriloquist.device.face.video import audio_duration_s, dump_png, faps_at, render_video
    from ventriloquist.device.values import FapFrames

    collector = FrameCollector()
    bake_file(pipeline, audio_path, [collector])
    frames = collector.frames()
    video = render_video(frames, audio_path, out_path, fps=fps, face=face, progress=progress)
    times_s = np.arange(int(np.ceil(audio_duration_s(audio_path) * fps))) / fps
    video_frames = FapFrames(times_s, faps_at(frames, times_s).astype(np.float32), frames.faps)
    if png_dir is not None:
        dump_png(video_frames, png_dir, face=face)
    return Rendered(video, video_frames, face)


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.commands.run import build_pipeline, bundle_path
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.device.outputs import check_output_files, make_output_folder

    if not Path(args.audio).is_file():
        raise VentriloquistError(f"{args.audio}: no such audio file")
    if not args.out.lower().endswith(".mp4"):
        raise VentriloquistError(f"--out {args.out}: the video must be an .mp4 file")
    inputs = [path for path in (args.audio, args.photo, args.points, args.style, bundle_path(args)) if path]
    check_output_files([args.out], inputs)
    if args.png_dir:
        make_output_folder(args.png_dir, "--png-dir")
    face = make_face(args)
    done = render_file(build_pipeline(args), args.audio, args.out, face, args.fps, args.png_dir)
    width, height = face.size
    pngs = f" and {len(done.frames)} PNG frames in {args.png_dir}" if args.png_dir else ""
    print(f"wrote {done.video} ({len(done.frames)} frames, {width}x{height}, {args.fps} fps){pngs}")
    return 0
