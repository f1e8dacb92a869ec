"""Find a face photo's neutral MPEG-4 feature points with the face tracker, for `render --photo` and the device.

Example: `ventriloquist photo-points me.jpg --out me.json`, then on the device `ventriloquist render
talk.wav --out me.mp4 --photo me.jpg --points me.json`. Needs the face tracker venv (.venv-track).
The photo must show one face, frontal and upright, with the lips closed; the JSON is written to a
temporary name and renamed into place.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photo", help="a frontal face photo (PNG, JPEG)")
    parser.add_argument("--out", required=True, metavar="FILE.json", help="the feature points to write")


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.outputs import check_output_files
    from ventriloquist.training.photo_points import find_photo_points, write_points

    check_output_files([args.out], [args.photo])
    points = find_photo_points(args.photo)
    write_points(args.out, args.photo, points)
    print(f"wrote {args.out} ({len(points)} feature points of {args.photo})")
    return 0
