"""Animate an audio file offline, as fast as possible, with the same engine as `run`.

The output format follows each --out suffix: .fap (MPEG-4, 25 fps), .csv (time + one column per FAP,
in FAPU), .json (FAPs, ARKit weights, visemes per frame), .tsv / .rhubarb.json (Rhubarb Lip Sync
mouth cues). With --servos CONFIG, a .csv output is the servo pulse track instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ventriloquist.device.commands.run import add_pipeline_arguments, build_pipeline, bundle_path, positive

BAKE_CHUNK_S = 1.0
"""Large chunks for speed; the stages give the same frames for any chunking, so this equals a live run."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", help="audio file (WAV, FLAC, OGG)")
    parser.add_argument("--out", action="append", required=True, metavar="FILE",
                        help="output file; format by suffix (.fap .csv .json .tsv .rhubarb.json); repeatable")
    parser.add_argument("--rate", type=positive(float), default=None,
                        help="frames per second for .csv/.json (default: the model's frame rate)")
    parser.add_argument("--servos", metavar="CONFIG", help="servo config: .csv outputs become servo pulse tracks")
    add_pipeline_arguments(parser)


def make_sinks(args: argparse.Namespace, faps: tuple[int, ...]) -> list:
    """The --out sinks; `faps` (the model's) are checked against a servo config's mix."""
    from ventriloquist.device.sinks import file_sink
    from ventriloquist.device.sinks.base import abort_on_error

    sound = Path(args.audio).name
    with abort_on_error([]) as sinks:
        for path in args.out:
            if args.servos and path.lower().endswith(".csv"):
                from ventriloquist.device.sinks.adapters import ServoSink
                from ventriloquist.firmware_bridge.servo_config import load_servo_config
                from ventriloquist.firmware_bridge.servo_map import ServoCsvSink, ServoMapper

                config = load_servo_config(args.servos)
                sinks.append(ServoSink(ServoMapper(config, faps), ServoCsvSink(path, config.names)))
            else:
                sinks.append(file_sink(path, rate_hz=None if path.lower().endswith(".fap") else args.rate,
                                       sound_file=sound))
    return sinks


def bake_file(pipeline, audio_path: str | Path, sinks: list):
    """Run an audio file through `pipeline` into `sinks` as fast as possible; returns the engine's Counters.

    Frame times are seconds from the file's first sample.
    """
    from ventriloquist.device.engine import Engine
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.device.sinks.base import abort_on_error
    from ventriloquist.device.sources.file import FileSource

    with abort_on_error(sinks):
        source = FileSource(audio_path, chunk_s=BAKE_CHUNK_S)
        window_s = pipeline.settings.window_samples / pipeline.settings.rate_hz
        if source.duration_s < window_s:
            raise VentriloquistError(f"{audio_path}: {source.duration_s * 1000:.1f} ms of audio is shorter than one "
                                     f"analysis window ({window_s * 1000:.0f} ms): nothing to animate")
    return Engine(pipeline, sinks).run(source)


def run(args: argparse.Namespace) -> int:
    import logging

    from ventriloquist.device.outputs import check_output_files

    check_output_files(args.out, [args.audio, bundle_path(args), *([args.servos] if args.servos else [])])
    pipeline = build_pipeline(args)
    counters = bake_file(pipeline, args.audio, make_sinks(args, pipeline.faps))
    logging.getLogger("ventriloquist.device.bake").info(
        "baked %s -> %s (%s)", args.audio, ", ".join(args.out), counters.summary())
    return 0
