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
way out. SIGTERM or Ctrl-C stop it cleanly: the current chunk is finished, every output is flushed
and closed (files renamed into place), servos go to neutral, and the exit status is 0.
"""

from __future__ import annotations

import argparse
import math
import signal
import threading
from dataclasses import replace
from pathlib import Path

from ventriloquist.device.bundle import SHIPPED_BUNDLE
from ventriloquist.device.config import MAX_EXAGGERATION

FACE_FPS = 30.0
FACE_STYLE = "classic"
STDIN_RATE_HZ = 16_000
BLINK_GAP_SPREAD = 0.5
"""Blink gaps are drawn uniformly from mean * (1 -/+ this); the mean is 60 / idle.blink_per_min."""
NEVER_S = 1e9
"""A blink gap that never ends: idle.blink_per_min = 0."""
BROW_DRIFT_AT_FULL_MOTION_FAPU = 40.0
"""Brow drift for idle.motion = 1; the config default 0.3 gives IdleSettings' own 12 FAPU."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
KIOSK_DISPLAY_WAIT_S = 60.0
"""How long a fullscreen face waits for a display (the units' TimeoutStartSec is 90 s)."""


def exaggeration(text: str) -> float:
    """--exaggerate GAIN: a number from 0 to MAX_EXAGGERATION."""
    try:
        gain = float(text)
    except ValueError:
        gain = -1.0
    if not 0 <= gain <= MAX_EXAGGERATION:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to {MAX_EXAGGERATION:g}, not {text!r}")
    return gain


def positive(kind: type[int] | type[float]):
    """An argparse type: a finite number > 0 of `kind`, so 0, -5 or nan never stand in for a default."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number > 0, not {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be a number > 0, not {text!r}")
        return value
    return parse


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by run, bake, render and demo."""
    parser.add_argument("--bundle", default=None,
                        help=f"model bundle folder (default: {SHIPPED_BUNDLE})")
    parser.add_argument("--no-idle", action="store_true", help="no blinks or brow drift")
    parser.add_argument("--no-smoothing", action="store_true", help="raw model frames (for analysis)")
    parser.add_argument("--seed", type=int, default=0, help="idle behaviour seed (default: %(default)s)")


def bundle_path(args: argparse.Namespace, config=None) -> Path:
    """--bundle, else the config's [model] bundle, else the shipped bundle."""
    if args.bundle:
        return Path(args.bundle)
    return config.model.bundle if config is not None and config.model.bundle is not None else SHIPPED_BUNDLE


def stage_settings(args: argparse.Namespace, config=None):
    """(SmoothingSettings, IdleSettings): the config's [model] smoothing_s and [idle], then --no-* and --seed."""
    from ventriloquist.device.idle import IdleSettings
    from ventriloquist.device.smoothing import SmoothingSettings

    smoothing, idle = SmoothingSettings(), IdleSettings(seed=args.seed)
    if config is not None:
        import math

        tau_s = config.model.smoothing_s
        if tau_s > 0:  # a first-order low-pass of time constant tau has its cutoff at 1 / (2 pi tau)
            smoothing = replace(smoothing, min_cutoff_hz=1 / (2 * math.pi * tau_s))
        else:
            smoothing = replace(smoothing, enabled=False)
        mean_gap_s = 60 / config.idle.blink_per_min if config.idle.blink_per_min > 0 else NEVER_S
        gaps_s = (mean_gap_s * (1 - BLINK_GAP_SPREAD), mean_gap_s * (1 + BLINK_GAP_SPREAD))
        idle = replace(idle, blink_interval_s=gaps_s,
                       brow_drift_fapu=config.idle.motion * BROW_DRIFT_AT_FULL_MOTION_FAPU,
                       enabled=config.idle.blink_per_min > 0 or config.idle.motion > 0)
    if args.no_smoothing:
        smoothing = replace(smoothing, enabled=False)
    if args.no_idle:
        idle = replace(idle, enabled=False)
    return smoothing, idle


def build_pipeline(args: argparse.Namespace, config=None):
    """The verified bundle's pipeline; a bundle failing verification stops here with the reason."""
    from ventriloquist.device.bundle import load_bundle
    from ventriloquist.device.engine import Pipeline
    from ventriloquist.device.errors import VentriloquistError

    path = bundle_path(args, config)
    if not path.exists():
        raise VentriloquistError(f"no model bundle at {path}: pass --bundle PATH")
    smoothing, idle = stage_settings(args, config)
    return Pipeline(load_bundle(path), smoothing=smoothing, idle=idle)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="appliance settings (TOML; see deploy/config.example.toml); "
                        "options given here win over it")
    parser.add_argument("--source", help="mic (default), an audio file, or - for s16le PCM on stdin")
    parser.add_argument("--device", help="microphone (or playback speaker) by name or index (default: the system's)")
    parser.add_argument("--rate", type=positive(int), help=f"capture rate: of PCM on stdin (default {STDIN_RATE_HZ}), "
                        "or the microphone's preferred rate (default: the model's)")
    parser.add_argument("--channels", type=positive(int), default=1,
                        help="channels of PCM on stdin (default: %(default)s)")
    parser.add_argument("--fast", action="store_true", help="read a file as fast as possible instead of in real time")
    parser.add_argument("--playback", action="store_true",
                        help="play the file through the speaker, delayed by the pipeline latency, and follow it")
    parser.add_argument("--face", nargs="?", const="", metavar="STYLE",
                        help=f"show the face (style: the config's, else {FACE_STYLE})")
    parser.add_argument("--no-face", action="store_true", help="no face, whatever --config says")
    parser.add_argument("--windowed", action="store_true", default=None,
                        help="face in a window instead of fullscreen")
    parser.add_argument("--fps", type=positive(float),
                        help=f"face frames per second (default: the config's, else {FACE_FPS:g})")
    parser.add_argument("--exaggerate", type=exaggeration, metavar="GAIN",
                        help="mouth and jaw gain of the face: 1 = as measured (default: config, else style)")
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


def resolve(args: argparse.Namespace, config=None) -> argparse.Namespace:
    """A copy of `args` with every option not given on the command line taken from `config` or the defaults.

    Adds `fullscreen` (bool) and `face_size` (window size, or None for the default); `face` becomes
    the style name, or None for no face.
    """
    out = argparse.Namespace(**vars(args))
    audio = config.audio if config is not None else None
    face = config.face if config is not None else None
    out.source = args.source or (audio.source if audio else "mic")
    out.device = args.device if args.device is not None else (audio.device if audio else None)
    out.rate = args.rate if args.rate is not None else (audio.rate_hz if audio else None)
    if args.no_face or (args.face is None and not (face and face.enabled)):
        out.face = None
    else:
        out.face = args.face or (face.style if face else FACE_STYLE)
    out.fullscreen = not args.windowed if args.windowed is not None else (face.fullscreen if face else True)
    out.face_size = (face.width_px, face.height_px) if face and not out.fullscreen else None
    out.fps = args.fps if args.fps is not None else (face.fps if face else FACE_FPS)
    out.exaggerate = args.exaggerate if args.exaggerate is not None else (face.exaggerate if face else None)
    configured_servos = config.servos.config if config is not None else None
    out.servos = args.servos or (str(configured_servos) if configured_servos else None)
    configured_stream = config.stream.target if config is not None else None
    out.stream = list(args.stream) or ([configured_stream] if configured_stream else [])
    return out


def make_source(args: argparse.Namespace, pipeline):
    from ventriloquist.device.errors import VentriloquistError

    if args.source == "mic":
        from ventriloquist.device.sources.mic import MicSource

        return MicSource(args.device, rate_hz=args.rate or pipeline.settings.rate_hz)
    if args.source == "-":
        from ventriloquist.device.sources.stdin import StdinSource

        return StdinSource(rate_hz=args.rate or STDIN_RATE_HZ, channels=args.channels)
    if not Path(args.source).is_file():
        raise VentriloquistError(f"--source {args.source}: no such file (use mic, a file, or -)")
    if args.playback:
        from ventriloquist.device.sources.playback import PlaybackSource

        return PlaybackSource(args.source, latency_s=pipeline.algorithmic_latency_s(), device=args.device)
    from ventriloquist.device.sources.file import FileSource

    return FileSource(args.source, realtime=not args.fast)


def make_sinks(args: argparse.Namespace, faps: tuple[int, ...]) -> list:
    """The outputs of resolved `args` (`faps`: the model's, for the servo mix); on a failure the ones already
    opened are closed again."""
    from ventriloquist.device.sinks import file_sink, stream_sink
    from ventriloquist.device.sinks.adapters import ServoSink, WrappedSink
    from ventriloquist.device.sinks.base import abort_on_error

    sound = Path(args.source).name if args.source not in ("mic", "-") else ""
    with abort_on_error([]) as sinks:
        sinks += [file_sink(path, sound_file=sound) for path in args.fap_out]
        sinks += [stream_sink(target, args.stream_rate) for target in args.stream]
        if args.servos:
            from ventriloquist.firmware_bridge.link import ServoLink
            from ventriloquist.firmware_bridge.servo_config import load_servo_config
            from ventriloquist.firmware_bridge.servo_map import ServoMapper

            config = load_servo_config(args.servos)
            sinks.append(ServoSink(ServoMapper(config, faps), ServoLink(config)))
        if args.face:
            from ventriloquist.device.face import CartoonFace
            from ventriloquist.device.face.display import FaceSink, KioskDisplay

            # A kiosk waits for a screen that is slow to appear at boot (within systemd's start timeout);
            # a window on a desktop falls back to offscreen at once.
            display = KioskDisplay(size=args.face_size, fullscreen=args.fullscreen,
                                   wait_s=KIOSK_DISPLAY_WAIT_S if args.fullscreen else 0.0,
                                   fallback_offscreen=not args.fullscreen)
            face = CartoonFace(args.face, display.size, args.exaggerate)
            sinks.append(WrappedSink(FaceSink(face, display), args.fps))
    return sinks


class _Limited:
    """A source cut after `seconds` of audio."""

    def __init__(self, source, seconds: float) -> None:
        self.source, self.seconds = source, seconds
        self.live, self.rate_hz = source.live, source.rate_hz

    @property
    def overflows(self) -> int:
        return self.source.overflows

    def __iter__(self):
        done_samples = 0
        for chunk in self.source:
            if done_samples >= self.seconds * chunk.rate_hz - 0.5:
                break
            yield chunk
            done_samples += len(chunk.samples)

    def close(self) -> None:
        self.source.close()


class StopOnSignal:
    """SIGTERM / SIGINT -> a clean stop of the engine handed to `stop_with` (or of the one to come).

    Outside the main thread (where Python cannot take signals) it does nothing. `install()` puts the
    handlers (back) in place, e.g. after a display took SIGTERM for itself; leaving the `with` block
    restores the handlers found on entry.
    """

    def __init__(self) -> None:
        self.signal_name: str | None = None
        """The signal that asked for the stop, once one did."""
        self.engine = None
        self.saved: dict[int, object] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self.saved = {s: signal.getsignal(s) for s in STOP_SIGNALS}
            self.install()
        return self

    def install(self) -> None:
        for s in self.saved:
            signal.signal(s, self._on_signal)

    def stop_with(self, engine) -> None:
        self.engine = engine
        if self.signal_name is not None:
            engine.stop()

    def _on_signal(self, signum, frame) -> None:
        self.signal_name = signal.Signals(signum).name
        if self.engine is not None:
            self.engine.interrupt()  # also cuts short a wait for audio that may never come (a silent pipe)

    def __exit__(self, *exc) -> None:
        for s, handler in self.saved.items():
            signal.signal(s, handler)  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> int:
    import logging

    from ventriloquist.device.config import load_config
    from ventriloquist.device.engine import Engine
    from ventriloquist.device.outputs import check_output_files
    from ventriloquist.device.watchdog import SystemdNotifier

    log = logging.getLogger("ventriloquist.device.run")
    notifier = SystemdNotifier()
    with StopOnSignal() as stopper:
        config = load_config(args.config) if args.config else None
        args = resolve(args, config)
        inputs = [path for path in (args.source, args.config, args.servos) if path and path not in ("mic", "-")]
        inputs.append(bundle_path(args, config))
        check_output_files(args.fap_out, inputs, option="--fap-out")
        pipeline = build_pipeline(args, config)
        source = make_source(args, pipeline)
        if args.seconds is not None:
            source = _Limited(source, args.seconds)
        sinks = make_sinks(args, pipeline.faps)
        stopper.install()  # the kiosk display takes SIGTERM when it opens; the engine's stop is cleaner
        if not sinks:
            log.info("no output chosen (--face, --servos, --fap-out, --stream): running for the counters only")
        status = f"source {args.source}, face {args.face or 'off'}, {len(sinks)} output(s)"
        engine = Engine(pipeline, sinks, on_ready=lambda: notifier.ready(status), on_turn=notifier.ping)
        stopper.stop_with(engine)
        log.info("running: algorithmic latency %.1f ms", pipeline.algorithmic_latency_s(source.rate_hz) * 1000)
        try:
            counters = engine.run(source)
        finally:
            notifier.stopping()
            notifier.close()
        if stopper.signal_name:
            log.info("stopped by %s", stopper.signal_name)
    log.info("done: %s", counters.summary())
    return 0
