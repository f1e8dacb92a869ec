"""Face style files: the shipped ones load, and a bad file names the key at fault."""

from __future__ import annotations

import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.face import STYLES, FaceStyle, load_style


@pytest.mark.parametrize("name", STYLES)
def test_shipped_styles_load_and_differ_from_each_other(name):
    style = load_style(name)
    assert style.name == name
    assert style == FaceStyle(**{**style.__dict__}) and isinstance(style.skin, tuple)
    assert len({load_style(n).background for n in STYLES}) == len(STYLES)


def test_a_style_file_overrides_only_what_it_gives(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[colors]\nskin = "#102030"\n[shape]\nmouth_half_width = 0.3\nears = false\n')
    style = load_style(path)
    assert (style.name, style.skin, style.mouth_half_width, style.ears) == ("mine", (16, 32, 48), 0.3, False)
    assert style.lip == FaceStyle().lip


@pytest.mark.parametrize(("text", "message"), [
    ('[colors]\nskin = "pink"\n', "colors.skin"),
    ('[colors]\nskn = "#ffffff"\n', "colors.skn"),
    ("[shape]\nline_width = -1\n", "shape.line_width"),
    ('[shape]\nhair_style = "mohawk"\n', "shape.hair_style"),
    ("[shape]\nears = 1\n", "shape.ears"),
    ("[shape]\nblush_alpha = 300\n", "shape.blush_alpha"),
    ("[eyes]\nsize = 1\n", "eyes"),
    ("[colors\n", "not valid TOML"),
])
def test_bad_style_files_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(VentriloquistError, match=message.replace(".", r"\.")):
        load_style(path)


def test_unknown_style_name_lists_the_shipped_ones():
    with pytest.raises(VentriloquistError, match="classic, puppet, night"):
        load_style("fancy")
