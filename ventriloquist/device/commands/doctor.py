"""Check the box and explain what is wrong in plain words: config, bundle, audio, display, servos, CPU.

Each check prints one line, `ok`, `warn` or `fail`, with what it found and what to do about it.
Missing hardware (no microphone, no display) is a warning; a bad config, a broken bundle, a servo
board that does not answer or a CPU too slow for real time is a failure.
Exit status: 0 when nothing failed (warnings allowed), 1 when any check failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ventriloquist.device.config import DEFAULT_PATH, SOURCE_MIC, SOURCE_STDIN, Config
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.quiet import quiet_stderr
from ventriloquist.device.values import SPEECH_RATE_HZ

OK, WARN, FAIL = "ok", "warn", "fail"
LEVEL_READ_S = 0.5
SILENT_DBFS = -70.0
CLIPPED_PEAK = 0.99
DISPLAY_PROBE_TIMEOUT_S = 15.0
SERIAL_REPLY_TIMEOUT_S = 0.5
BENCH_SECONDS_OF_AUDIO = 3.0
HEADROOM_WARN_X = 2.0
"""Below this many times real time the face may lag when the CPU is also busy drawing."""
STABLE_SERVO_PORT = "/dev/ventriloquist-servo"


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    check: str
    level: str
    what: str
    hint: str = ""

    def line(self) -> str:
        return f"{self.level:<4}  {self.check}: {self.what}" + (f" — {self.hint}" if self.hint else "")


@dataclass
class Context:
    """What the checks share: the config (if it loaded) and its path."""

    config: Config | None
    config_path: Path | None
    config_broken: bool = False


class NotChecked(Exception):
    """A check that cannot run because the config above did not load."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help=f"config file to check (default: {DEFAULT_PATH} if present)")
    parser.add_argument("--check", action="append", choices=list(CHECKS), metavar="NAME",
                        help=f"run only this check (repeatable): {', '.join(CHECKS)}")


def run(args: argparse.Namespace) -> int:
    path = args.config or (DEFAULT_PATH if DEFAULT_PATH.is_file() else None)
    ctx = Context(config=None, config_path=path)
    findings = []
    for name in args.check or list(CHECKS):
        try:
            found = list(CHECKS[name](ctx))
        except NotChecked:
            found = [Finding(name, WARN, "not checked, because the config did not load")]
        except VentriloquistError as e:
            found = [Finding(name, FAIL, str(e))]
            ctx.config_broken |= name == "config"
        for f in found:
            print(f.line(), flush=True)
        findings += found
    failed = sum(f.level == FAIL for f in findings)
    warned = sum(f.level == WARN for f in findings)
    print(f"doctor: {failed} failed, {warned} warning(s), {len(findings) - failed - warned} ok")
    return 1 if failed else 0


def check_config(ctx: Context) -> Iterator[Finding]:
    from ventriloquist.device.config import load_config

    if ctx.config_path is None:
        ctx.config = Config()
        yield Finding("config", WARN, "no config file, so the defaults apply",
                      f"copy deploy/config.example.toml to {DEFAULT_PATH} and edit it")
        return
    ctx.config = load_config(ctx.config_path)
    c = ctx.config
    yield Finding("config", OK, f"{ctx.config_path} is valid (source {c.audio.source}, "
                  f"face {c.face.style if c.face.enabled else 'off'}, servos {c.servos.config or 'none'})")
    if c.servos.config is not None:
        from ventriloquist.firmware_bridge.servo_config import load_servo_config

        try:
            servos = load_servo_config(c.servos.config)
        except VentriloquistError as e:
            yield Finding("config", FAIL, str(e), "fix the servo config (ventriloquist calibrate helps)")
            return
        yield Finding("config", OK, f"{c.servos.config} is valid ({len(servos.channels)} servo(s) on "
                      f"{servos.link.protocol} at {servos.link.port})")


def _config(ctx: Context) -> Config:
    """The config, loaded quietly when the config check was not run first."""
    if ctx.config_broken:
        raise NotChecked
    if ctx.config is None:
        from ventriloquist.device.config import load_config

        ctx.config = load_config(ctx.config_path) if ctx.config_path else Config()
    return ctx.config


def _bundle_path(ctx: Context) -> Path:
    from ventriloquist.device.app import PipelineOptions, bundle_path

    return bundle_path(PipelineOptions(), _config(ctx))


def check_bundle(ctx: Context) -> Iterator[Finding]:
    from ventriloquist.device.bundle import load_bundle
    from ventriloquist.device.model import load_model

    path = _bundle_path(ctx)
    bundle = load_bundle(path)
    load_model(bundle)
    yield Finding("bundle", OK, f"{path}: every checksum matches and the model loads ({bundle.summary()})")


def check_audio(ctx: Context) -> Iterator[Finding]:
    source = _config(ctx).audio.source
    if source != SOURCE_MIC:
        what = "standard input" if source == SOURCE_STDIN else source
        yield Finding("audio", OK, f"the source is {what}, so no microphone is needed")
    try:
        with quiet_stderr():
            import pyaudio
    except ImportError:
        yield Finding("audio", WARN if source != SOURCE_MIC else FAIL, "PyAudio is not installed, so no microphone",
                      "sudo apt install python3-pyaudio (the venv sees system packages)")
        return
    with quiet_stderr():
        pa = pyaudio.PyAudio()
    try:
        yield from _audio_devices(pa, _config(ctx).audio.device)
    finally:
        pa.terminate()


def _audio_devices(pa, wanted: str | int | None) -> Iterator[Finding]:
    inputs = [pa.get_device_info_by_index(i) for i in range(pa.get_device_count())]
    inputs = [d for d in inputs if d.get("maxInputChannels", 0) > 0]
    if not inputs:
        yield Finding("audio", WARN, "no microphone found",
                      "plug in a USB microphone; `arecord -l` lists the capture cards the system sees")
        return
    names = ", ".join(f"{d['index']}: {d['name']}" for d in inputs)
    yield Finding("audio", OK, f"{len(inputs)} input device(s): {names}")
    if wanted is None:
        try:
            chosen = pa.get_default_input_device_info()
        except OSError:
            chosen = inputs[0]
    else:
        matches = [d for d in inputs if d["index"] == wanted or (isinstance(wanted, str) and wanted in d["name"])]
        if not matches:
            yield Finding("audio", FAIL, f"audio.device = {wanted!r} matches no input device",
                          "use one of the indices or names listed above")
            return
        chosen = matches[0]
    yield _level(pa, chosen)


def _level(pa, device: dict) -> Finding:
    import numpy as np
    import pyaudio

    rate_hz = int(device.get("defaultSampleRate") or SPEECH_RATE_HZ)
    frames = int(rate_hz * LEVEL_READ_S)
    try:
        with quiet_stderr():
            stream = pa.open(format=pyaudio.paFloat32, channels=1, rate=rate_hz, input=True,
                             input_device_index=int(device["index"]), frames_per_buffer=1024)
            data = stream.read(frames, exception_on_overflow=False)
            stream.close()
    except OSError as e:
        return Finding("audio", WARN, f"cannot record from {device['name']!r} ({e})",
                       "another program may hold it (is the service running?), or its rate is unsupported")
    x = np.frombuffer(data, np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    rms_dbfs = 20 * np.log10(max(float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0, 1e-10))
    where = f"{device['name']!r} over {LEVEL_READ_S:g} s: level {rms_dbfs:.0f} dBFS, peak {peak:.2f}"
    if rms_dbfs < SILENT_DBFS:
        return Finding("audio", WARN, f"{where}: silent", "unmute and raise the capture level in alsamixer (F4)")
    if peak >= CLIPPED_PEAK:
        return Finding("audio", WARN, f"{where}: clipping", "lower the capture level in alsamixer (F4)")
    return Finding("audio", OK, where)


_DISPLAY_PROBE = (
    "import os; os.environ.setdefault('PYGAME_HIDE_SUPPORT_PROMPT', '1'); import pygame; pygame.display.init(); "
    "i = pygame.display.Info(); print(pygame.display.get_driver(), i.current_w, i.current_h)"
)


def check_display(ctx: Context) -> Iterator[Finding]:
    if not _config(ctx).face.enabled:
        yield Finding("display", OK, "the face is off in the config, so no display is needed")
        return
    cards = sorted(str(p) for p in Path("/dev/dri").glob("card*"))
    where = ", ".join(cards) or "no /dev/dri/card*"
    env_driver = os.environ.get("SDL_VIDEODRIVER", "")
    try:
        probe = subprocess.run([sys.executable, "-c", _DISPLAY_PROBE], capture_output=True, text=True,
                               timeout=DISPLAY_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        yield Finding("display", FAIL, f"opening the display hung for {DISPLAY_PROBE_TIMEOUT_S:g} s ({where})",
                      "another program may hold the screen (a desktop session?): boot to the console")
        return
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        yield Finding("display", WARN, f"SDL cannot open a display with driver {env_driver or 'auto'} "
                      f"({reason}; {where})",
                      "attach a screen and enable KMS (dtoverlay=vc4-kms-v3d), or use the puppet service")
        return
    driver, width, height = probe.stdout.split()[-3:]
    from ventriloquist.device.face.display import OFFSCREEN_DRIVERS

    if driver in OFFSCREEN_DRIVERS:
        yield Finding("display", WARN, f"SDL driver {driver!r} draws nowhere ({where})",
                      "unset SDL_VIDEODRIVER, or set it to kmsdrm on the Pi")
        return
    yield Finding("display", OK, f"SDL opened {driver} at {width}x{height} ({where})")


def check_serial(ctx: Context) -> Iterator[Finding]:
    from serial.tools import list_ports

    ports = sorted(p.device for p in list_ports.comports())
    stable = Path(STABLE_SERVO_PORT)
    stable_note = f"{STABLE_SERVO_PORT} -> {os.path.realpath(stable)}" if stable.exists() else f"no {STABLE_SERVO_PORT}"
    servo_path = _config(ctx).servos.config
    if servo_path is None:
        yield Finding("serial", OK, f"no servos configured; ports: {', '.join(ports) or 'none'} ({stable_note})")
        return
    from ventriloquist.firmware_bridge.servo_config import load_servo_config

    servos = load_servo_config(servo_path)
    port = servos.link.port
    if not Path(port).exists():
        yield Finding("serial", FAIL, f"servo port {port} does not exist (ports: {', '.join(ports) or 'none'}; "
                      f"{stable_note})", "plug in the board; deploy/udev gives it the name " + STABLE_SERVO_PORT)
        return
    yield _controller_reply(servos)


def _controller_reply(servos) -> Finding:
    """Ask the board for its status once and say whether and what it answered."""
    from ventriloquist.firmware_bridge.link import ask_status, make_encoder, open_serial

    link = servos.link
    try:
        port = open_serial(link.port, link.baud)
    except OSError as e:  # pyserial's SerialException is one
        return Finding("serial", FAIL, f"cannot open {link.port} ({e})",
                       "is the service using it (systemctl stop ventriloquist-puppet)? is the user in 'dialout'?")
    try:
        answered, message = ask_status(port, make_encoder(servos), SERIAL_REPLY_TIMEOUT_S)
    except OSError as e:
        return Finding("serial", FAIL, f"{link.port} failed while talking to the board ({e})")
    finally:
        port.close()
    if not answered:
        return Finding("serial", FAIL, f"the {link.protocol} board on {link.port} did not answer "
                       f"within {SERIAL_REPLY_TIMEOUT_S:g} s",
                       "check the protocol and baud in the servo config, and the board's power")
    if message:
        return Finding("serial", WARN, f"the board on {link.port} answered: {message}")
    return Finding("serial", OK, f"the {link.protocol} board on {link.port} answered and reports no errors")


def check_cpu(ctx: Context) -> Iterator[Finding]:
    """Time the real pipeline on a few seconds of the benchmarks' speech-like audio, in live-sized chunks."""
    from ventriloquist.device.app import PipelineOptions, build_pipeline
    from ventriloquist.device.bench_runtime import pipeline_x_realtime

    x_realtime = pipeline_x_realtime(build_pipeline(PipelineOptions(), _config(ctx)), BENCH_SECONDS_OF_AUDIO)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    what = (f"the pipeline runs {x_realtime:.1f}x faster than real time "
            f"({os.cpu_count()} CPU(s), load {load}){_throttled()}")
    if x_realtime < 1:
        yield Finding("cpu", FAIL, what, "the face will lag: use a smaller bundle or a faster Pi")
    elif x_realtime < HEADROOM_WARN_X:
        yield Finding("cpu", WARN, what, "little headroom left for drawing: lower face.fps or stop other programs")
    else:
        yield Finding("cpu", OK, what + "; `ventriloquist bench` measures more")


def _throttled() -> str:
    """The Pi firmware's under-voltage / throttling flags, where vcgencmd exists."""
    try:
        out = subprocess.run(["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    flags = int(out.strip().partition("=")[2] or "0", 16)
    return "; the Pi reports under-voltage or throttling (use a better power supply)" if flags else ""


CHECKS: dict[str, Callable[[Context], Iterator[Finding]]] = {
    "config": check_config,
    "bundle": check_bundle,
    "audio": check_audio,
    "display": check_display,
    "serial": check_serial,
    "cpu": check_cpu,
}
"""Check name -> generator of findings, in the order the report prints them."""
