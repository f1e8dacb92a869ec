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
from pathlib import Path

from ventriloquist.device.app import FaceOptions
from ventriloquist.device.commands.options import add_look_arguments, add_pipeline_arguments, pipeline_options
from ventriloquist.device.config import FaceConfig

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


def add_face_arguments(parser: argparse.ArgumentParser, *, photo: bool = True) -> None:
    """Options shared by render and demo (which has no --photo): how the face looks in the video."""
    with_photo = " (with --photo it colours the inside of the mouth)" if photo else ""
    parser.add_argument("--style", default=FaceConfig.style, help="face style: a shipped name or a style .toml"
                        f"{with_photo} (default: %(default)s)")
    parser.add_argument("--size", type=parse_size, metavar="WxH", help="video size in pixels, both even (default: "
                        "480x320" + (", or the photo's size)" if photo else ")"))
    parser.add_argument("--fps", type=parse_fps, default=VIDEO_FPS,
                        help="video frames per second (default: %(default)s)")
    add_look_arguments(parser, photo=photo)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", help="audio file (WAV, FLAC, OGG)")
    parser.add_argument("--out", required=True, metavar="FILE.mp4", help="the video to write")
    add_face_arguments(parser)
    parser.add_argument("--png-dir", metavar="DIR", help="also write every video frame as DIR/frame_NNNNNN.png")
    add_pipeline_arguments(parser)


def face_options(args: argparse.Namespace) -> FaceOptions:
    """What add_face_arguments' options ask for."""
    return FaceOptions(style=args.style, size=args.size, exaggerate=args.exaggerate,
                       photo=getattr(args, "photo", None), points=getattr(args, "points", None))


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.app import build_pipeline, bundle_path, make_face, render_file
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.device.outputs import check_output_files, make_output_folder

    if not Path(args.audio).is_file():
        raise VentriloquistError(f"{args.audio}: no such audio file")
    if not args.out.lower().endswith(".mp4"):
        raise VentriloquistError(f"--out {args.out}: the video must be an .mp4 file")
    options = pipeline_options(args)
    inputs = [path for path in (args.audio, args.photo, args.points, args.style, bundle_path(options)) if path]
    check_output_files([args.out], inputs)
    if args.png_dir:
        make_output_folder(args.png_dir, "--png-dir")
    face = make_face(face_options(args))
    done = render_file(build_pipeline(options), args.audio, args.out, face, args.fps, args.png_dir)
    width, height = face.size
    pngs = f" and {len(done.frames)} PNG frames in {args.png_dir}" if args.png_dir else ""
    print(f"wrote {done.video} ({len(done.frames)} frames, {width}x{height}, {args.fps} fps){pngs}")
    return 0
