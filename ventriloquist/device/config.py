"""The appliance's config file (/etc/ventriloquist/config.toml) → validated frozen dataclasses.

Every key is optional (the defaults below are the kiosk's); unknown keys are errors, so a typo
cannot silently fall back to a default. Each error names the file and the key:
`config.toml: audio.volume: must be a number from 0 to 1, not 3`. Relative paths are taken
relative to the config file's folder. See deploy/config.example.toml for every key.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face.style import DEFAULT_STYLE

DEFAULT_PATH = Path("/etc/ventriloquist/config.toml")
"""Where the systemd units read it."""
SOURCE_MIC = "mic"
SOURCE_STDIN = "-"
MAX_FPS = 240.0
MAX_SIZE_PX = 8192
MAX_EXAGGERATION = 10.0


@dataclass(frozen=True)
class AudioConfig:
    """Where the speech comes from."""

    source: str = SOURCE_MIC
    """"mic", "-" (raw/WAV on stdin) or an audio file's path (resolved against the config's folder)."""
    device: str | int | None = None
    """Input device: an index, or part of its name; None = the system default."""
    rate_hz: int | None = None
    """Capture rate; None = the device's default rate (the front end resamples)."""
    volume: float = 1.0
    """Speaker volume of `run --playback`, 0 (silent) to 1; what the face follows is never scaled."""


@dataclass(frozen=True)
class ModelConfig:
    """Which model drives the face."""

    bundle: Path | None = None
    """Bundle folder; None = the bundle shipped inside the package."""
    smoothing_s: float = 0.06
    """Time constant of the FAP smoother; 0 = no smoothing."""


@dataclass(frozen=True)
class FaceConfig:
    """The on-screen face."""

    enabled: bool = True
    style: str = DEFAULT_STYLE
    """A shipped style name (device.face.style.STYLES) or a style TOML's path."""
    fullscreen: bool = True
    width_px: int = 800
    """Window size when not fullscreen."""
    height_px: int = 480
    fps: float = 30.0
    exaggerate: float | None = None
    """Mouth and jaw gain (1 = as measured); None: the style's."""
    photo: Path | None = None
    """A photo face instead of the cartoon: a frontal photo with the lips closed."""
    points: Path | None = None
    """The photo's neutral feature points (JSON from `ventriloquist photo-points` on the workstation)."""


@dataclass(frozen=True)
class ServosConfig:
    """The animatronic head."""

    config: Path | None = None
    """Servo map TOML (see deploy/servos.example.toml); None = no servos."""


@dataclass(frozen=True)
class IdleConfig:
    """What the face does while nobody speaks."""

    blink_per_min: float = 12.0
    """Mean blinks per minute; 0 = never blink."""
    motion: float = 0.3
    """Amount of idle head/eye motion, 0 (still) to 1."""


@dataclass(frozen=True)
class StreamConfig:
    """Optional network stream of FAP frames (UDP)."""

    target: str | None = None
    """"host:port"; None = no stream."""

    @property
    def host(self) -> str | None:
        return None if self.target is None else self.target.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int | None:
        return None if self.target is None else int(self.target.rpartition(":")[2])


@dataclass(frozen=True)
class Config:
    """The whole config file."""

    audio: AudioConfig = field(default_factory=AudioConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    face: FaceConfig = field(default_factory=FaceConfig)
    servos: ServosConfig = field(default_factory=ServosConfig)
    idle: IdleConfig = field(default_factory=IdleConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    path: Path | None = None
    """The file it came from (None for defaults)."""


SECTIONS: dict[str, type] = {"audio": AudioConfig, "model": ModelConfig, "face": FaceConfig, "servos": ServosConfig,
            "idle": IdleConfig, "stream": StreamConfig}


class _Reader:
    """Takes typed values out of one TOML table; a key not given takes the section dataclass's own default, so
    every default is written once (in the dataclasses above). Every complaint names file and key."""

    def __init__(self, where: str, section: str, table: dict[str, Any], base: Path, defaults: Any):
        self.where, self.section, self.table, self.base, self.defaults = where, section, table, base, defaults

    def fail(self, key: str, why: str) -> VentriloquistError:
        return VentriloquistError(f"{self.where}: {self.section}.{key}: {why}")

    def value(self, key: str) -> Any:
        return self.table.get(key, getattr(self.defaults, key))

    def number(self, key: str, lo: float, hi: float) -> float:
        value = self.value(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise self.fail(key, f"must be a number from {lo:g} to {hi:g}, not {value!r}")
        return float(value)

    def integer(self, key: str, lo: int, hi: int) -> Any:
        """A whole number from lo to hi; None where that is the default and the key is not given."""
        value = self.value(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(key, f"must be a whole number from {lo} to {hi}, not {value!r}")
        return value

    def flag(self, key: str) -> bool:
        value = self.value(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def text(self, key: str) -> str | None:
        """The string given (None when empty), else the default."""
        value = self.value(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"must be a quoted string, not {value!r}")
        return value or None

    def path(self, key: str, must_be_dir: bool = False) -> Path | None:
        text = self.text(key)
        if text is None:
            return None
        path = (self.base / Path(text).expanduser()).resolve()
        if not path.exists():
            raise self.fail(key, f"{path} does not exist")
        if must_be_dir != path.is_dir():
            raise self.fail(key, f"{path} must be a {'folder' if must_be_dir else 'file'}")
        return path


def _audio(r: _Reader) -> AudioConfig:
    from ventriloquist.device.frontend.settings import MAX_RATE_HZ, MIN_RATE_HZ  # the rates `run` accepts

    source = r.text("source") or r.defaults.source
    if source not in (SOURCE_MIC, SOURCE_STDIN):
        source = str(r.path("source"))
    device = r.value("device")
    if isinstance(device, bool) or not isinstance(device, str | int | None) or (isinstance(device, int) and device < 0):
        raise r.fail("device", f"must be a device index (0, 1, ...) or part of its name in quotes, not {device!r}")
    return AudioConfig(source=source, device=device if device != "" else None,
                       rate_hz=r.integer("rate_hz", MIN_RATE_HZ, MAX_RATE_HZ), volume=r.number("volume", 0.0, 1.0))


def _model(r: _Reader) -> ModelConfig:
    return ModelConfig(bundle=r.path("bundle", must_be_dir=True), smoothing_s=r.number("smoothing_s", 0.0, 5.0))


def _face(r: _Reader) -> FaceConfig:
    from ventriloquist.device.face.style import STYLES

    style = r.text("style") or r.defaults.style
    if style not in STYLES:
        if not style.endswith(".toml"):
            raise r.fail("style", f"unknown style {style!r}: use one of {', '.join(STYLES)} or a .toml file's path")
        style = str(r.path("style"))
    return FaceConfig(
        enabled=r.flag("enabled"),
        style=style,
        fullscreen=r.flag("fullscreen"),
        width_px=r.integer("width_px", 16, MAX_SIZE_PX),
        height_px=r.integer("height_px", 16, MAX_SIZE_PX),
        fps=r.number("fps", 1.0, MAX_FPS),
        exaggerate=r.number("exaggerate", 0.0, MAX_EXAGGERATION) if "exaggerate" in r.table else None,
        photo=r.path("photo"),
        points=r.path("points"),
    )


def _servos(r: _Reader) -> ServosConfig:
    return ServosConfig(config=r.path("config"))


def _idle(r: _Reader) -> IdleConfig:
    return IdleConfig(blink_per_min=r.number("blink_per_min", 0.0, 120.0), motion=r.number("motion", 0, 1))


def _stream(r: _Reader) -> StreamConfig:
    from ventriloquist.device.sinks.udp import parse_target

    target = r.text("target")
    if target is not None:
        try:
            parse_target(target)
        except VentriloquistError as e:
            raise r.fail("target", str(e)) from None
    return StreamConfig(target=target)


_PARSERS = {"audio": _audio, "model": _model, "face": _face, "servos": _servos, "idle": _idle, "stream": _stream}


def _unknown(where: str, prefix: str, given: set[str], known: list[str]) -> None:
    for key in sorted(given - set(known)):
        near = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(known)}"
        raise VentriloquistError(f"{where}: {prefix}{key}: unknown key ({hint})")


def config_from_dict(data: dict[str, Any], where: str = "config", base: Path | None = None) -> Config:
    """A validated Config from parsed TOML; `where` names the source in errors, `base` resolves paths."""
    _unknown(where, "", set(data), list(SECTIONS))
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise VentriloquistError(f"{where}: {name}: must be a table ([{name}]), not {table!r}")
        _unknown(where, f"{name}.", set(table), [f.name for f in fields(cls)])
        sections[name] = _PARSERS[name](_Reader(where, name, table, base or Path.cwd(), cls()))
    return Config(**sections)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raises VentriloquistError naming the file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VentriloquistError(f"{path}: no such config file (start from deploy/config.example.toml)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise VentriloquistError(f"{path}: cannot read the config file ({e})") from None
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as e:  # RecursionError: nested too deeply
        raise VentriloquistError(f"{path}: not valid TOML: {e}") from None
    config = config_from_dict(data, str(path), path.resolve().parent)
    return Config(**{s: getattr(config, s) for s in SECTIONS}, path=path)
