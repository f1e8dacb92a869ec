"""The plain-text MPEG-4 .fap file: exact round trip, other writers' files, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.device.fap_file import parse_fap, read_fap, write_fap
from ventriloquist.device.values import FapFrames


def test_write_read_write_is_identical(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(0, 200, size=(50, len(ANIMATION_SUBSET))).astype(np.float32)
    frames = FapFrames(np.arange(50) / 25.0, values, ANIMATION_SUBSET)
    a, b = tmp_path / "a.fap", tmp_path / "b.fap"
    write_fap(a, frames, 25)
    back, fps, name = read_fap(a)
    assert (fps, name, back.faps) == (25.0, "ventriloquist", tuple(sorted(ANIMATION_SUBSET)))
    order = [ANIMATION_SUBSET.index(f) for f in back.faps]
    np.testing.assert_array_equal(back.values, np.round(values[:, order]))
    np.testing.assert_allclose(back.times_s, frames.times_s)
    write_fap(b, back, fps, name)
    assert a.read_bytes() == b.read_bytes()


def test_reads_viseme_fields_and_comments():
    mask = ["0"] * 68
    for k in (1, 3, 4, 5, 6, 7):
        mask[k - 1] = "1"
    mask2 = list(mask)
    mask2[0] = "0"
    text = "\n".join([
        "# a comment", "2.1 demo 25 3",
        " ".join(mask), "0 1 10 63 0 40 8 70 0 0",
        " ".join(mask), "1 1 10 32 0 105 -14 -110 5 5",
        " ".join(mask2), "2 170 -35 -294 9 9",
    ])
    frames, fps, name = parse_fap(text)
    assert frames.faps == (3, 4, 5, 6, 7) and fps == 25 and name == "demo"
    np.testing.assert_array_equal(frames.column(5), [70, -110, -294])
    np.testing.assert_array_equal(frames.column(3), [40, 105, 170])


@pytest.mark.parametrize("text, needle", [
    ("", "empty"),
    ("2.1 x", "header"),
    ("2.1 x 25 2\n" + "1 " * 68 + "\n0 1", "fewer"),
    ("2.1 x 25 1\n" + "0 0 1" + " 0" * 65 + "\n0 1 2", "1 FAPs masked, 2 values"),
    ("2.1 x 25 1\n" + "0 0 1" + " 0" * 65 + "\n5 1", "frame number 5"),
])
def test_bad_files_get_clear_errors(text, needle):
    with pytest.raises(VentriloquistError, match=needle):
        parse_fap(text)


def test_refuses_high_level_faps_and_bad_names(tmp_path):
    frames = FapFrames(np.zeros(1), np.zeros((1, 1), np.float32), (1,))
    with pytest.raises(VentriloquistError, match="3..68"):
        write_fap(tmp_path / "x.fap", frames, 25)
    with pytest.raises(VentriloquistError, match="one token"):
        write_fap(tmp_path / "x.fap", FapFrames(np.zeros(1), np.zeros((1, 1), np.float32), (3,)), 25, "two words")
