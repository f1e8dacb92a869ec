"""Wiring in one place: options and the config file -> the pipeline, the source, the sinks, and the runs that
`run`, `bake`, `render`, `demo` and `doctor` share. Commands parse their arguments and call these.

Heavy modules (pygame, PyAudio, pyserial) are imported where the part that needs them is built, so a
command that never shows a face never loads pygame.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ventriloquist.device.bundle import SHIPPED_BUNDLE
from ventriloquist.device.config import SOURCE_MIC, SOURCE_STDIN, AudioConfig, Config, FaceConfig
from ventriloquist.device.engine import Counters, Engine, Pipeline
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.idle import IdleSettings
from ventriloquist.device.smoothing import SmoothingSettings
from ventriloquist.device.values import SPEECH_RATE_HZ, AudioChunk, FapFrames, Sink, Source

log = logging.getLogger("ventriloquist.device.run")

BLINK_GAP_SPREAD = 0.5
"""Blink gaps are drawn uniformly from mean * (1 -/+ this); the mean is 60 / idle.blink_per_min."""
NEVER_S = 1e9
"""A blink gap that never ends: idle.blink_per_min = 0."""
BROW_DRIFT_AT_FULL_MOTION_FAPU = 40.0
"""Brow drift for idle.motion = 1; the config default 0.3 gives IdleSettings' own 12 FAPU."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
KIOSK_DISPLAY_WAIT_S = 60.0
"""How long a fullscreen face waits for a display (the units' TimeoutStartSec is 90 s)."""
BAKE_CHUNK_S = 1.0
"""Large chunks for speed; the stages give the same frames for any chunking, so this equals a live run."""


@dataclass(frozen=True)
class PipelineOptions:
    """What the commands' shared options (--bundle, --no-idle, --no-smoothing, --seed) ask of the pipeline."""

    bundle: Path | None = None
    """None: the config's [model] bundle, else the shipped one."""
    idle: bool = True
    smoothing: bool = True
    seed: int = 0
    """Idle behaviour seed."""


def bundle_path(options: PipelineOptions, config: Config | None = None) -> Path:
    """--bundle, else the config's [model] bundle, else the shipped bundle."""
    if options.bundle is not None:
        return options.bundle
    return config.model.bundle if config is not None and config.model.bundle is not None else SHIPPED_BUNDLE


def stage_settings(options: PipelineOptions, config: Config | None = None) -> tuple[SmoothingSettings, IdleSettings]:
    """The config's [model] smoothing_s and [idle], then --no-* and --seed."""
    smoothing, idle = SmoothingSettings(), IdleSettings(seed=options.seed)
    if config is not None:
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
    if not options.smoothing:
        smoothing = replace(smoothing, enabled=False)
    if not options.idle:
        idle = replace(idle, enabled=False)
    return smoothing, idle


def build_pipeline(options: PipelineOptions, config: Config | None = None) -> Pipeline:
    """The verified bundle's pipeline; a bundle failing verification stops here with the reason."""
    from ventriloquist.device.bundle import load_bundle

    path = bundle_path(options, config)
    if not path.exists():
        raise VentriloquistError(f"no model bundle at {path}: pass --bundle PATH")
    smoothing, idle = stage_settings(options, config)
    return Pipeline(load_bundle(path), smoothing=smoothing, idle=idle)


@dataclass(frozen=True)
class FaceOptions:
    """How a face looks, in a video (`render`, `demo`) or live (`run`): a cartoon style, or a photo warped by its
    feature points. Both build it with make_face."""

    style: str
    """A shipped style name or a style .toml (with a photo it colours the inside of the mouth)."""
    size: tuple[int, int] | None = None
    """Video size; None: the cartoon's default, or the photo's size. Live, the display's size replaces it."""
    exaggerate: float | None = None
    """Mouth and jaw gain (1 = as measured); None: the style's for the cartoon, 1 for a photo."""
    photo: str | None = None
    points: str | None = None
    """The photo's neutral feature points (JSON); None: found by the face tracker (workstation only)."""


@dataclass(frozen=True)
class LiveSettings:
    """Everything a live run needs, the command line and the config already merged."""

    pipeline: PipelineOptions = PipelineOptions()
    source: str = SOURCE_MIC
    """"mic", "-" (s16le PCM on stdin) or an audio file."""
    device: str | int | None = None
    """Microphone (or playback speaker) by name or index; None: the system's."""
    rate_hz: int | None = None
    """Capture rate: of PCM on stdin (None: SPEECH_RATE_HZ), or the microphone's (None: the model's)."""
    channels: int = 1
    """Channels of PCM on stdin."""
    realtime: bool = True
    """Read a file in real time (False: as fast as possible)."""
    playback: bool = False
    """Play the file through the speaker, delayed by the pipeline latency."""
    volume: float = AudioConfig.volume
    """Playback volume, 0 to 1."""
    face: FaceOptions | None = None
    """How the face looks, as `render` draws it; None: no face. Its size is the display's, known once the window
    (the fields below, live only) opens."""
    fullscreen: bool = True
    face_size: tuple[int, int] | None = None
    """Window size; None: the screen's (fullscreen) or the display's fallback."""
    fps: float = FaceConfig.fps
    servos: str | None = None
    """Servo config (TOML), or None."""
    fap_out: tuple[str, ...] = ()
    stream: tuple[str, ...] = ()
    stream_rate_hz: float | None = None
    seconds: float | None = None
    """Stop after this much audio."""


def make_source(settings: LiveSettings, pipeline: Pipeline) -> Source:
    if settings.source == SOURCE_MIC:
        from ventriloquist.device.sources.mic import MicSource

        source: Source = MicSource(settings.device, rate_hz=settings.rate_hz or pipeline.settings.rate_hz)
    elif settings.source == SOURCE_STDIN:
        from ventriloquist.device.sources.stdin import StdinSource

        source = StdinSource(rate_hz=settings.rate_hz or SPEECH_RATE_HZ, channels=settings.channels)
    elif not Path(settings.source).is_file():
        raise VentriloquistError(f"--source {settings.source}: no such file (use mic, a file, or -)")
    elif settings.playback:
        from ventriloquist.device.sources.playback import PlaybackSource

        source = PlaybackSource(settings.source, latency_s=pipeline.algorithmic_latency_s(), device=settings.device,
                                volume=settings.volume)
    else:
        from ventriloquist.device.sources.file import FileSource

        source = FileSource(settings.source, realtime=settings.realtime)
    return source if settings.seconds is None else Limited(source, settings.seconds)


class Limited:
    """A source cut after `seconds` of audio."""

    def __init__(self, source: Source, seconds: float) -> None:
        self.source, self.seconds = source, seconds
        self.live, self.rate_hz = source.live, source.rate_hz

    @property
    def overflows(self) -> int:
        return self.source.overflows

    def __iter__(self) -> Iterator[AudioChunk]:
        done_samples = 0
        for chunk in self.source:
            if done_samples >= self.seconds * chunk.rate_hz - 0.5:
                break
            yield chunk
            done_samples += len(chunk.samples)

    def close(self) -> None:
        self.source.close()


def file_sinks(paths: Sequence[str], faps: tuple[int, ...], *, sound_file: str = "", rate_hz: float | None = None,
               servos: str | None = None) -> list[Sink]:
    """A sink per path by its suffix (.fap keeps its own 25 fps; others at `rate_hz`); with a servo config, a .csv
    is the servo pulse track. On a failure the ones already made are aborted."""
    from ventriloquist.device.sinks import file_sink
    from ventriloquist.device.sinks.base import abort_on_error

    with abort_on_error(list[Sink]()) as sinks:
        for path in paths:
            if servos and path.lower().endswith(".csv"):
                from ventriloquist.firmware_bridge.servo_config import load_servo_config
                from ventriloquist.firmware_bridge.servo_map import ServoCsvSink

                sinks.append(ServoCsvSink(path, load_servo_config(servos), faps))
            else:
                sinks.append(file_sink(path, None if path.lower().endswith(".fap") else rate_hz, sound_file))
    return sinks


def live_sinks(settings: LiveSettings, faps: tuple[int, ...]) -> list[Sink]:
    """The outputs of a live run (`faps`: the model's, for the servo mix); on a failure the ones already
    made are aborted."""
    from ventriloquist.device.sinks import stream_sink
    from ventriloquist.device.sinks.base import abort_on_error

    sound = Path(settings.source).name if settings.source not in (SOURCE_MIC, SOURCE_STDIN) else ""
    with abort_on_error(file_sinks(settings.fap_out, faps, sound_file=sound)) as sinks:
        sinks += [stream_sink(target, settings.stream_rate_hz) for target in settings.stream]
        if settings.servos:
            from ventriloquist.firmware_bridge.link import ServoLink
            from ventriloquist.firmware_bridge.servo_config import load_servo_config

            sinks.append(ServoLink(load_servo_config(settings.servos), faps))
        if settings.face:
            from ventriloquist.device.face.display import FaceSink, KioskDisplay

            # A kiosk waits for a screen that is slow to appear at boot (within systemd's start timeout);
            # a window on a desktop falls back to offscreen at once.
            display = KioskDisplay(size=settings.face_size, fullscreen=settings.fullscreen,
                                   wait_s=KIOSK_DISPLAY_WAIT_S if settings.fullscreen else 0.0,
                                   fallback_offscreen=not settings.fullscreen)
            face = make_face(replace(settings.face, size=display.size))
            sinks.append(FaceSink(face, display, settings.fps))
    return sinks


class StopOnSignal:
    """SIGTERM / SIGINT -> a clean stop of the engine handed to `stop_with` (or of the one to come).

    Outside the main thread (where Python cannot take signals) it does nothing. Leaving the `with`
    block restores the handlers found on entry.
    """

    def __init__(self) -> None:
        self.signal_name: str | None = None
        """The signal that asked for the stop, once one did."""
        self.engine: Engine | None = None
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self.saved = {s: signal.getsignal(s) for s in STOP_SIGNALS}
            for s in self.saved:
                signal.signal(s, self._on_signal)
        return self

    def stop_with(self, engine: Engine) -> None:
        self.engine = engine
        if self.signal_name is not None:
            engine.stop()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signal_name = signal.Signals(signum).name
        if self.engine is not None:
            self.engine.interrupt()  # also cuts short a wait for audio that may never come (a silent pipe)

    def __exit__(self, *exc: object) -> None:
        for s, handler in self.saved.items():
            signal.signal(s, handler)


def run_live(settings: LiveSettings, config: Config | None = None) -> Counters:
    """The live run: build, then run until the source ends, a sink asks to quit, or SIGTERM / SIGINT.

    Under systemd (Type=notify) it reports READY=1 once the audio and every output are open, pings the
    watchdog every loop turn and says STOPPING=1 on the way out.
    """
    from ventriloquist.device.outputs import check_output_files
    from ventriloquist.device.watchdog import SystemdNotifier

    notifier = SystemdNotifier()
    with StopOnSignal() as stopper:
        inputs: list[str | Path] = [p for p in (settings.source, settings.servos) if p and p not in (SOURCE_MIC,
                                                                                                     SOURCE_STDIN)]
        if config is not None and config.path is not None:
            inputs.append(config.path)
        inputs.append(bundle_path(settings.pipeline, config))
        check_output_files(settings.fap_out, inputs, option="--fap-out")
        pipeline = build_pipeline(settings.pipeline, config)
        source = make_source(settings, pipeline)
        sinks = live_sinks(settings, pipeline.faps)
        if not sinks:
            log.info("no output chosen (--face, --servos, --fap-out, --stream): running for the counters only")
        face = settings.face.style if settings.face else "off"
        status = f"source {settings.source}, face {face}, {len(sinks)} output(s)"
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
    return counters


def bake_file(pipeline: Pipeline, audio_path: str | Path, sinks: Sequence[Sink]) -> Counters:
    """Run an audio file through `pipeline` into `sinks` as fast as possible; returns the engine's Counters.

    Frame times are seconds from the file's first sample.
    """
    from ventriloquist.device.sinks.base import abort_on_error
    from ventriloquist.device.sources.file import FileSource

    with abort_on_error(list(sinks)):
        source = FileSource(audio_path, chunk_s=BAKE_CHUNK_S)
        window_s = pipeline.settings.window_samples / pipeline.settings.rate_hz
        if source.duration_s < window_s:
            raise VentriloquistError(f"{audio_path}: {source.duration_s * 1000:.1f} ms of audio is shorter than one "
                                     f"analysis window ({window_s * 1000:.0f} ms): nothing to animate")
    return Engine(pipeline, list(sinks)).run(source)


def make_face(options: FaceOptions) -> Any:
    """CartoonFace of the style at the size, or PhotoFace of the photo and its points."""
    from ventriloquist.device.face import CartoonFace
    from ventriloquist.device.face.video import DEFAULT_SIZE

    if options.photo is None:
        return CartoonFace(options.style, options.size or DEFAULT_SIZE, options.exaggerate)
    from ventriloquist.device.face.photo_warp import PhotoFace

    points = options.points or photo_points(options.photo)
    face = PhotoFace(options.photo, points, style=options.style, size=options.size)
    if options.exaggerate is not None:
        face.geometry.exaggeration = options.exaggerate
    return face


def photo_points(photo: str | Path) -> dict:
    """The photo's neutral points found by the face tracker; where it is not installed (the device), how to
    pass them instead."""
    from ventriloquist.training.corpus.tracker import track_python
    from ventriloquist.training.photo_points import find_photo_points

    try:
        python = track_python()
    except VentriloquistError:
        raise VentriloquistError("--photo without --points needs the face tracker (.venv-track), which is not "
                                 "here: pass --points JSON, made by `ventriloquist photo-points PHOTO --out JSON` "
                                 "on the workstation") from None
    return find_photo_points(photo, python)


@dataclass(frozen=True)
class Rendered:
    """What a render produced."""

    video: Path
    frames: FapFrames
    """The video's FAP frames, at the video's frame times."""


def render_file(pipeline: Pipeline, audio_path: str | Path, out_path: str | Path, face: Any, fps: int,
                png_dir: str | Path | None = None, progress: bool = True) -> Rendered:
    """Bake `audio_path` with `pipeline` (bake's code path) and render the MP4 (and PNG frames) with `face`."""
    import numpy as np

    from ventriloquist.device.face.video import audio_duration_s, dump_png, faps_at, render_video
    from ventriloquist.device.sinks.memory import FrameCollector

    collector = FrameCollector()
    bake_file(pipeline, audio_path, [collector])
    frames = collector.frames()
    video = render_video(frames, audio_path, out_path, fps=fps, face=face, progress=progress)
    times_s = np.arange(int(np.ceil(audio_duration_s(audio_path) * fps))) / fps
    video_frames = FapFrames(times_s, faps_at(frames, times_s).astype(np.float32), frames.faps)
    if png_dir is not None:
        dump_png(video_frames, png_dir, face=face)
    return Rendered(Path(video), video_frames)
