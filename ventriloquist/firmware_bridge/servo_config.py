"""Servo config: one TOML file → validated frozen dataclasses; every error names the key.

    [link]                      # where and how to talk to the board
    protocol = "maestro"        # or "ventriloquist" (our firmware)
    port = "/dev/ttyACM0"
    [channels.jaw]              # one table per servo, in output order of the CSV
    output = 0                  # board channel
    mix = { open_jaw = 1.0 }    # FAP name or number -> weight; the channel follows the sum
    fap_range = [0, 300]        # mixed FAPU that reach pulse_min_us / pulse_max_us
    pulse_min_us = 1000
    pulse_neutral_us = 1100
    pulse_max_us = 1800

See deploy/servos.example.toml for every key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ventriloquist.device import atomic
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import FAPS, fap_number

PROTOCOLS = ("maestro", "ventriloquist")
MAX_OUTPUTS = {"maestro": 24, "ventriloquist": 16}
PULSE_LIMITS_US = (400.0, 2800.0)
"""What any config may ask for; the firmware rejects frames outside it."""
MAX_UPDATE_RATE_HZ = 200.0
MAX_LEAD_S = 1.0


@dataclass(frozen=True)
class LinkConfig:
    """The board and how often it gets new targets."""

    protocol: str = "maestro"
    """'maestro' (Pololu compact protocol) or 'ventriloquist' (our firmware)."""
    port: str = "/dev/ttyACM0"
    baud: int = 115200
    update_rate_hz: float = 50.0
    """Servo frames per second, whatever rate the FAPs come at."""
    relax_after_silence_s: float = 0.0
    """Turn a servo's pulse off after it rested at neutral this long; 0 = never."""
    neutral_on_exit: bool = True
    """On close, send every servo to neutral before the port closes."""
    maestro_multiple_targets: bool = True
    """Use set-multiple-targets (0x9F); false for a Micro Maestro 6, which lacks it."""


@dataclass(frozen=True)
class ChannelConfig:
    """One servo: which FAPs drive it and its calibration."""

    name: str
    output: int
    """Board channel number."""
    mix: tuple[tuple[int, float], ...]
    """(FAP number, weight): the servo follows sum(weight * FAP) in FAPU."""
    fap_range: tuple[float, float]
    """Mixed values (lo <= 0 <= hi) that reach the ends; 0 (the neutral face) is neutral."""
    pulse_min_us: float
    pulse_neutral_us: float
    pulse_max_us: float
    reverse: bool = False
    """False: positive mixed values move towards pulse_max_us; true: towards pulse_min_us."""
    deadband_us: float = 0.0
    """Target changes smaller than this are ignored (stops servo buzz)."""
    max_speed_us_per_s: float = 0.0
    """0 = unlimited."""
    max_accel_us_per_s2: float = 0.0
    """0 = unlimited. The last step onto a target may brake harder rather than overshoot."""
    lead_s: float = 0.0
    """Send this channel's commands this much early, to hide the servo's travel delay."""


@dataclass(frozen=True)
class ServoConfig:
    """A whole servo set: the link and its channels, in column order."""

    link: LinkConfig
    channels: tuple[ChannelConfig, ...]
    source: str = "servos.toml"
    """File name used in messages."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.channels)

    @property
    def outputs(self) -> tuple[int, ...]:
        return tuple(c.output for c in self.channels)

    def column(self, key: str) -> np.ndarray:
        """One numeric channel setting for every channel, as float64 (e.g. 'pulse_neutral_us')."""
        return np.array([float(getattr(c, key)) for c in self.channels], np.float64)

    def with_channel(self, name: str, **changes: Any) -> ServoConfig:
        """A copy with one channel's settings changed, validated like a loaded file."""
        channels = tuple(replace(c, **changes) if c.name == name else c for c in self.channels)
        for c in channels:
            if c.name == name:
                check_channel(c, f"{self.source}: channel {name!r}")
        return replace(self, channels=channels)


def _fail(where: str, message: str) -> VentriloquistError:
    return VentriloquistError(f"{where}: {message}")


def _as_number(value: object, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(where, f"{key} must be a number, got {value!r}")
    return float(value)


def _number(table: dict, key: str, where: str, default: float | None = None) -> float:
    if key not in table:
        if default is None:
            raise _fail(where, f"missing {key}")
        return default
    return _as_number(table[key], key, where)


def _check_keys(table: dict, known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise _fail(where, f"unknown key {unknown[0]!r} (known: {', '.join(known)})")


def check_channel(c: ChannelConfig, where: str) -> None:
    """Raise a VentriloquistError naming the first bad setting of `c`."""
    lo_us, hi_us = PULSE_LIMITS_US
    for key in ("pulse_min_us", "pulse_neutral_us", "pulse_max_us"):
        if not lo_us <= getattr(c, key) <= hi_us:
            raise _fail(where, f"{key} must be within {lo_us:g}..{hi_us:g} µs, got {getattr(c, key):g}")
    if c.pulse_min_us > c.pulse_neutral_us:
        raise _fail(where, f"pulse_min_us ({c.pulse_min_us:g}) must be <= pulse_neutral_us ({c.pulse_neutral_us:g})")
    if c.pulse_neutral_us > c.pulse_max_us:
        raise _fail(where, f"pulse_neutral_us ({c.pulse_neutral_us:g}) must be <= pulse_max_us ({c.pulse_max_us:g})")
    if c.pulse_min_us >= c.pulse_max_us:
        raise _fail(where, "pulse_min_us must be < pulse_max_us")
    lo, hi = c.fap_range
    if not (lo <= 0 <= hi and lo < hi):
        raise _fail(where, f"fap_range must be [lo, hi] with lo <= 0 <= hi and lo < hi, got [{lo:g}, {hi:g}]")
    for key in ("deadband_us", "max_speed_us_per_s", "max_accel_us_per_s2"):
        if getattr(c, key) < 0:
            raise _fail(where, f"{key} must be >= 0 (0 = off)")
    if not 0 <= c.lead_s <= MAX_LEAD_S:
        raise _fail(where, f"lead_s must be within 0..{MAX_LEAD_S:g} s, got {c.lead_s:g}")


def _mix(value: object, where: str) -> tuple[tuple[int, float], ...]:
    if not isinstance(value, dict) or not value:
        raise _fail(where, "mix must be a table of FAP name or number -> weight, e.g. { open_jaw = 1.0 }")
    mix = []
    for key, weight in value.items():
        try:
            number = fap_number(key)
        except VentriloquistError as e:
            raise _fail(where, f"mix: {e}") from None
        mix.append((number, _as_number(weight, f"mix.{key}", where)))
    return tuple(mix)


_CHANNEL_KEYS = tuple(f.name for f in fields(ChannelConfig) if f.name != "name")
_LINK_KEYS = tuple(f.name for f in fields(LinkConfig))


def _channel(name: str, table: object, protocol: str, where: str) -> ChannelConfig:
    if not isinstance(table, dict):
        raise _fail(where, "must be a table")
    _check_keys(table, _CHANNEL_KEYS, where)
    output = table.get("output")
    if isinstance(output, bool) or not isinstance(output, int) or not 0 <= output < MAX_OUTPUTS[protocol]:
        raise _fail(where, f"output must be a {protocol} channel number 0..{MAX_OUTPUTS[protocol] - 1}, got {output!r}")
    fap_range = table.get("fap_range")
    if not isinstance(fap_range, list) or len(fap_range) != 2:
        raise _fail(where, "fap_range must be a list of two numbers [lo, hi]")
    reverse = table.get("reverse", False)
    if not isinstance(reverse, bool):
        raise _fail(where, f"reverse must be true or false, got {reverse!r}")
    channel = ChannelConfig(
        name=name,
        output=output,
        mix=_mix(table.get("mix"), where),
        fap_range=(_as_number(fap_range[0], "fap_range", where), _as_number(fap_range[1], "fap_range", where)),
        pulse_min_us=_number(table, "pulse_min_us", where),
        pulse_neutral_us=_number(table, "pulse_neutral_us", where),
        pulse_max_us=_number(table, "pulse_max_us", where),
        reverse=reverse,
        deadband_us=_number(table, "deadband_us", where, 0.0),
        max_speed_us_per_s=_number(table, "max_speed_us_per_s", where, 0.0),
        max_accel_us_per_s2=_number(table, "max_accel_us_per_s2", where, 0.0),
        lead_s=_number(table, "lead_s", where, 0.0),
    )  # fmt: skip
    check_channel(channel, where)
    return channel


def _link(table: object, where: str) -> LinkConfig:
    if not isinstance(table, dict):
        raise _fail(where, "must be a table")
    _check_keys(table, _LINK_KEYS, where)
    d = LinkConfig()
    protocol = table.get("protocol", d.protocol)
    if protocol not in PROTOCOLS:
        raise _fail(where, f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    port = table.get("port", d.port)
    if not isinstance(port, str) or not port:
        raise _fail(where, f"port must be a device path, got {port!r}")
    baud = table.get("baud", d.baud)
    if isinstance(baud, bool) or not isinstance(baud, int) or baud <= 0:
        raise _fail(where, f"baud must be a positive integer, got {baud!r}")
    rate = _number(table, "update_rate_hz", where, d.update_rate_hz)
    if not 0 < rate <= MAX_UPDATE_RATE_HZ:
        raise _fail(where, f"update_rate_hz must be within (0, {MAX_UPDATE_RATE_HZ:g}], got {rate:g}")
    relax = _number(table, "relax_after_silence_s", where, d.relax_after_silence_s)
    if relax < 0:
        raise _fail(where, "relax_after_silence_s must be >= 0 (0 = never)")
    flags = {}
    for key in ("neutral_on_exit", "maestro_multiple_targets"):
        flags[key] = table.get(key, getattr(d, key))
        if not isinstance(flags[key], bool):
            raise _fail(where, f"{key} must be true or false, got {flags[key]!r}")
    return LinkConfig(protocol, port, baud, rate, relax, **flags)


def parse_servo_config(data: dict, source: str = "servos.toml") -> ServoConfig:
    """Validate a parsed TOML document."""
    _check_keys(data, ("link", "channels"), source)
    link = _link(data.get("link", {}), f"{source}: [link]")
    tables = data.get("channels")
    if not isinstance(tables, dict) or not tables:
        raise _fail(source, "needs at least one [channels.NAME] table")
    channels = tuple(
        _channel(name, table, link.protocol, f"{source}: channel {name!r}") for name, table in tables.items()
    )
    seen: dict[int, str] = {}
    for c in channels:
        if c.output in seen:
            raise _fail(f"{source}: channel {c.name!r}", f"output {c.output} is already used by {seen[c.output]!r}")
        seen[c.output] = c.name
    return ServoConfig(link, channels, source)


def load_servo_config(path: str | Path) -> ServoConfig:
    """Read and validate a servo config TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VentriloquistError(f"{path}: servo config not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise VentriloquistError(f"{path}: cannot read servo config ({e})") from None
    except (tomllib.TOMLDecodeError, RecursionError) as e:  # RecursionError: nested too deeply
        raise VentriloquistError(f"{path.name}: not valid TOML ({e})") from None
    return parse_servo_config(data, path.name)


def servo_config_to_dict(config: ServoConfig) -> dict:
    """The TOML document for `config` (FAPs written by name)."""
    channels = {}
    for c in config.channels:
        table = {k: v for k, v in asdict(c).items() if k != "name"}
        table["mix"] = {FAPS[n].name: w for n, w in c.mix}
        table["fap_range"] = list(c.fap_range)
        channels[c.name] = table
    return {"link": asdict(config.link), "channels": channels}


def save_servo_config(path: str | Path, config: ServoConfig) -> None:
    """Write `config` as TOML atomically (temporary file, then rename). Comments are not kept."""
    import tomli_w

    atomic.write_text(path, tomli_w.dumps(servo_config_to_dict(config)))
