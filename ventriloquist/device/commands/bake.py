"""Animate an audio file offline, as fast as possible, with the same engine as `run`.

The output format follows each --out suffix: .fap (MPEG-4, 25 fps), .csv (time + one column per FAP,
in FAPU), .json (FAPs, ARKit weights, visemes per frame), .tsv / .rhubarb.json (Rhubarb Lip Sync
mouth cues). With --servos CONFIG, a .csv output is the servo pulse track instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ventriloquist.device.commands.options import add_pipeline_arguments, pipeline_options, positive


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", help="audio file (WAV, FLAC, OGG)")
    parser.add_argument("--out", action="append", required=True, metavar="FILE",
                        help="output file; format by suffix (.fap .csv .json .tsv .rhubarb.json); repeatable")
    parser.add_argument("--rate", type=positive(float), default=None,
                        help="frames per second for .csv/.json (default: the model's frame rate)")
    parser.add_argument("--servos", metavar="CONFIG", help="servo config: .csv outputs become servo pulse tracks")
    add_pipeline_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import logging

    from ventriloquist.device.app import bake_file, build_pipeline, bundle_path, file_sinks
    from ventriloquist.device.outputs import check_output_files

    options = pipeline_options(args)
    check_output_files(args.out, [args.audio, bundle_path(options), *([args.servos] if args.servos else [])])
    pipeline = build_pipeline(options)
    sinks = file_sinks(args.out, pipeline.faps, sound_file=Path(args.audio).name, rate_hz=args.rate,
                       servos=args.servos)
    counters = bake_file(pipeline, args.audio, sinks)
    logging.getLogger("ventriloquist.device.bake").info(
        "baked %s -> %s (%s)", args.audio, ", ".join(args.out), counters.summary())
    return 0
