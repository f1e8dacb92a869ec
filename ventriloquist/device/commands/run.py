"""Drive the face live: microphone, audio file (real time) or raw PCM on stdin -> face, servos, files, network.

Examples: `ventriloquist run --face`; `ventriloquist run --source talk.wav --stream 127.0.0.1:9000`;
`arecord -f S16_LE -r 16000 | ventriloquist run --source - --fap-out live.fap`;
`ventriloquist run --source talk.wav --playback --face` (plays the file, sound delayed to match the lips);
`ventriloquist run --config /etc/ventriloquist/config.toml` (the appliance: systemd starts this).

With --config, the file decides the source, microphone, bundle, face (on/off, style, fullscreen, fps,
window size), servos, idle life, smoothing and stream target; an option given on the command line
wins over the file, and --no-face turns the face off whatever the file says. Without --config the
built-in defaults apply (no face unless --face). Under systemd (Type=notify) it reports READY=1 once
the audio and every output are open, pings the watchdog every loop turn and says STOPPING=1 on the
way out (ventriloquist.device.app builds and runs it). SIGTERM or Ctrl-C stop it cleanly: the
current chunk is finished, every output is flushed and closed (files renamed into place), servos go
to neutral, and the exit status is 0.
"""

from __future__ import annotations

import argparse

from ventriloquist.device.app import FaceOptions, LiveSettings
from ventriloquist.device.commands.options import add_look_arguments, add_pipeline_arguments, pipeline_options, positive
from ventriloquist.device.config import Config, FaceConfig
from ventriloquist.device.values import SPEECH_RATE_HZ


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="appliance settings (TOML; see deploy/config.example.toml); "
                        "options given here win over it")
    parser.add_argument("--source", help="mic (default), an audio file, or - for s16le PCM on stdin")
    parser.add_argument("--device", help="microphone (or playback speaker) by name or index (default: the system's)")
    parser.add_argument("--rate", type=positive(int), help=f"capture rate: of PCM on stdin (default {SPEECH_RATE_HZ}), "
                        "or the microphone's preferred rate (default: the model's)")
    parser.add_argument("--channels", type=positive(int), default=1,
                        help="channels of PCM on stdin (default: %(default)s)")
    parser.add_argument("--fast", action="store_true", help="read a file as fast as possible instead of in real time")
    parser.add_argument("--playback", action="store_true",
                        help="play the file through the speaker, delayed by the pipeline latency, and follow it")
    parser.add_argument("--face", nargs="?", const="", metavar="STYLE",
                        help=f"show the face (style: the config's, else {FaceConfig.style})")
    parser.add_argument("--no-face", action="store_true", help="no face, whatever --config says")
    parser.add_argument("--windowed", action="store_true", default=None,
                        help="face in a window instead of fullscreen")
    parser.add_argument("--fps", type=positive(float),
                        help=f"face frames per second (default: the config's, else {FaceConfig.fps:g})")
    add_look_arguments(parser, live=True)
    parser.add_argument("--servos", metavar="CONFIG", help="drive servos with this servo config (TOML)")
    parser.add_argument("--fap-out", action="append", default=[], metavar="FILE",
                        help="also write FAPs to FILE (.fap, .csv, .json, .tsv, .rhubarb.json); repeatable")
    parser.add_argument("--stream", action="append", default=[], metavar="HOST:PORT",
                        help="send frames over UDP: HOST:PORT (JSON lines) or osc://HOST:PORT; repeatable "
                             "(replaces the config's [stream] target)")
    parser.add_argument("--stream-rate", type=positive(float), default=None,
                        help="stream frames per second (default 60)")
    parser.add_argument("--seconds", type=positive(float), help="stop after this much audio")
    add_pipeline_arguments(parser)


def live_settings(args: argparse.Namespace, config: Config | None = None) -> LiveSettings:
    """The options given on the command line, else the config's, else the defaults (the config's own);
    without a config file the face is off unless --face asks for it."""
    c = config or Config()
    face_on = not args.no_face and (args.face is not None or args.photo is not None
                                    or (config is not None and c.face.enabled))
    photo, points = (args.photo, args.points) if args.photo else (c.face.photo, args.points or c.face.points)
    face = FaceOptions(args.face or c.face.style, exaggerate=_given(args.exaggerate, c.face.exaggerate),
                       photo=str(photo) if photo else None, points=str(points) if points else None)
    fullscreen = not args.windowed if args.windowed is not None else c.face.fullscreen
    return LiveSettings(
        pipeline=pipeline_options(args),
        source=args.source or c.audio.source,
        device=_given(args.device, c.audio.device),
        rate_hz=_given(args.rate, c.audio.rate_hz),
        channels=args.channels,
        realtime=not args.fast,
        playback=args.playback,
        volume=c.audio.volume,
        face=face if face_on else None,
        fullscreen=fullscreen,
        face_size=(c.face.width_px, c.face.height_px) if config is not None and not fullscreen else None,
        fps=_given(args.fps, c.face.fps),
        servos=args.servos or (str(c.servos.config) if c.servos.config else None),
        fap_out=tuple(args.fap_out),
        stream=tuple(args.stream) or ((c.stream.target,) if c.stream.target else ()),
        stream_rate_hz=args.stream_rate,
        seconds=args.seconds,
    )


def _given(option, configured):
    return option if option is not None else configured


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.app import run_live
    from ventriloquist.device.config import load_config

    config = load_config(args.config) if args.config else None
    run_live(live_settings(args, config), config)
    return 0
