"""The look of the cartoon face (colours, proportions, line width) from a small TOML style file.

A style file holds two tables: `[colors]` ("#rrggbb" strings) and `[shape]` (numbers in face
units: the head is about 2 units tall, +x = the face's own left, +y = up). Keys left out keep
the classic defaults below; unknown keys and bad values are errors that name the key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from ventriloquist.device.errors import VentriloquistError

STYLE_DIR = Path(__file__).with_name("styles")
"""Where the shipped styles live, one `<name>.toml` each."""
DEFAULT_STYLE = "classic"
"""The style a face gets when none is asked for (the config's, render's, the benchmarks')."""
STYLES: tuple[str, ...] = (DEFAULT_STYLE, "puppet", "night")
"""The shipped style names."""

Color = tuple[int, int, int]


@dataclass(frozen=True)
class FaceStyle:
    """Colours and proportions of one cartoon face. Lengths are in face units."""

    name: str = DEFAULT_STYLE
    # [colors]
    background: Color = (46, 52, 64)
    skin: Color = (246, 206, 170)
    outline: Color = (92, 56, 44)
    hair: Color = (92, 58, 40)
    blush: Color = (240, 150, 140)
    lip: Color = (200, 86, 92)
    mouth: Color = (70, 22, 34)
    teeth: Color = (250, 248, 240)
    tongue: Color = (214, 98, 110)
    eye_white: Color = (252, 252, 250)
    iris: Color = (70, 120, 170)
    pupil: Color = (24, 26, 32)
    brow: Color = (84, 54, 38)
    # [shape]
    line_width: float = 0.022
    """Outline width of the head and features."""
    head_width: float = 0.80
    """Half-width of the head at the cheeks."""
    hair_style: str = "cap"
    """'cap' (hair with a side fringe), 'tuft' (three strands on top) or 'none'."""
    ears: bool = True
    eye_spacing: float = 0.34
    """Half the pupil-to-pupil distance (ES0 / 2)."""
    eye_y: float = 0.16
    eye_opening: float = 0.19
    """Neutral gap between the eyelids (= IRISD0)."""
    eye_half_width: float = 0.145
    iris_ratio: float = 0.95
    """Drawn iris diameter over the neutral lid gap."""
    brow_y: float = 0.41
    """Height of the middle of each brow."""
    brow_half_length: float = 0.15
    brow_thickness: float = 0.045
    nose_y: float = -0.17
    """Bottom of the nose (feature point 9.15)."""
    nose_half_width: float = 0.07
    mouth_y: float = -0.45
    """Height of the lip line (feature points 2.2 / 2.3)."""
    mouth_half_width: float = 0.24
    """Half the outer lip corner distance (MW0 / 2)."""
    upper_lip: float = 0.045
    lower_lip: float = 0.065
    cupid_bow: float = 0.012
    """How far the upper lip's two peaks rise above its middle."""
    chin_y: float = -0.95
    blush_alpha: int = 140
    """0 (no blush) .. 255."""
    exaggeration: float = 2.5
    """Gain on the mouth and jaw motion (a ratio, not a length): 1 = as measured; more reads across a room."""


_COLOR_KEYS = tuple(f.name for f in fields(FaceStyle) if f.type == "Color")
_SHAPE_KEYS = tuple(f.name for f in fields(FaceStyle) if f.name != "name" and f.type != "Color")
_HAIR_STYLES = ("cap", "tuft", "none")
_MAX = {"blush_alpha": 255}
"""Largest allowed value per shape key (10 face units otherwise)."""


def _color(where: str, key: str, text: object) -> Color:
    if not (isinstance(text, str) and len(text) == 7 and text[0] == "#"):
        raise VentriloquistError(f"style {where}: colors.{key} = {text!r} is not a colour like '#f2c9a0'")
    try:
        return tuple(int(text[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
    except ValueError:
        raise VentriloquistError(f"style {where}: colors.{key} = {text!r} is not a colour like '#f2c9a0'") from None


def _shape(where: str, key: str, value: object) -> object:
    default = getattr(FaceStyle, key)
    kind = type(default)
    if kind is bool and not isinstance(value, bool):
        raise VentriloquistError(f"style {where}: shape.{key} = {value!r} must be true or false")
    if kind is str and value not in _HAIR_STYLES:
        raise VentriloquistError(f"style {where}: shape.{key} = {value!r} must be one of {', '.join(_HAIR_STYLES)}")
    if kind not in (int, float):
        return value
    lowest = -math.inf if key.endswith("_y") else 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not lowest <= value <= _MAX.get(key, 10):
        raise VentriloquistError(f"style {where}: shape.{key} = {value!r} must be a number "
                                 f"{'' if key.endswith('_y') else '>= 0 '}up to {_MAX.get(key, 10)}")
    return int(value) if kind is int else float(value)


def style_from_dict(data: dict, name: str, where: str) -> FaceStyle:
    """A FaceStyle from parsed TOML ({"colors": {...}, "shape": {...}}); `where` names it in errors."""
    unknown = sorted(set(data) - {"colors", "shape"})
    if unknown:
        raise VentriloquistError(f"style {where}: unknown table(s) {', '.join(unknown)} (expected colors, shape)")
    values: dict[str, object] = {"name": name}
    for table, keys, convert in (("colors", _COLOR_KEYS, _color), ("shape", _SHAPE_KEYS, _shape)):
        given = data.get(table, {})
        if not isinstance(given, dict):
            raise VentriloquistError(f"style {where}: {table} must be a table")
        bad = sorted(set(given) - set(keys))
        if bad:
            raise VentriloquistError(f"style {where}: unknown key(s) {', '.join(table + '.' + k for k in bad)}")
        values.update({k: convert(where, k, v) for k, v in given.items()})
    return FaceStyle(**values)  # type: ignore[arg-type]


def load_style(name_or_path: str | Path | FaceStyle = DEFAULT_STYLE) -> FaceStyle:
    """A shipped style by name (see STYLES) or a style TOML file by path."""
    if isinstance(name_or_path, FaceStyle):
        return name_or_path
    text = str(name_or_path)
    path = STYLE_DIR / f"{text}.toml" if text in STYLES else Path(text)
    if not path.is_file():
        raise VentriloquistError(f"no face style {text!r}: give one of {', '.join(STYLES)} or a .toml file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: nested too deeply
        raise VentriloquistError(f"style {path}: not valid TOML ({e})") from None
    return style_from_dict(data, path.stem, str(path))
