"""MPEG-4 FAP table, FAPU from feature points, fill rules."""

from __future__ import annotations

import numpy as np
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import ANIMATION_SUBSET, FAPS, fap_number, fapu_from_feature_points, fill_by_rule

NEUTRAL = {
    "3.1": (10, 50), "3.3": (10, 40), "3.2": (-10, 52), "3.4": (-10, 40),
    "3.5": (15, 45), "3.6": (-15, 45), "9.15": (0, 20), "2.2": (0, 8),
    "8.3": (20, 5), "8.4": (-20, 5),
}


def test_table_has_all_68_with_known_rows():
    assert sorted(FAPS) == list(range(1, 69))
    assert (FAPS[3].name, FAPS[3].unit, FAPS[3].bidirectional, FAPS[3].positive_direction) == (
        "open_jaw", "MNS", False, "down")
    assert (FAPS[5].name, FAPS[5].unit, FAPS[5].positive_direction) == ("raise_b_midlip", "MNS", "up")
    assert (FAPS[19].unit, FAPS[23].unit, FAPS[31].unit, FAPS[6].unit) == ("IRISD", "AU", "ENS", "MW")
    assert all(FAPS[f].group in (2, 3, 4, 5, 8) for f in ANIMATION_SUBSET)


def test_fapu_matches_hand_computed_values():
    fapu = fapu_from_feature_points(NEUTRAL)
    # IRISD0 = mean(50-40, 52-40) = 11; ES0 = 30; ENS0 = 45-20 = 25; MNS0 = 20-8 = 12; MW0 = 40
    assert fapu.irisd == pytest.approx(11 / 1024)
    assert fapu.es == pytest.approx(30 / 1024)
    assert fapu.ens == pytest.approx(25 / 1024)
    assert fapu.mns == pytest.approx(12 / 1024)
    assert fapu.mw == pytest.approx(40 / 1024)
    assert fapu.of(3) == fapu.mns and fapu.of(6) == fapu.mw and fapu.of(48) == 1e-5


def test_fapu_needs_every_point_and_nonzero_distances():
    with pytest.raises(VentriloquistError, match="9.15"):
        fapu_from_feature_points({k: v for k, v in NEUTRAL.items() if k != "9.15"})
    with pytest.raises(VentriloquistError, match="degenerate"):
        fapu_from_feature_points({**NEUTRAL, "8.3": (0, 5), "8.4": (0, 5)})


def test_fap_number_by_name_or_number():
    assert fap_number("open_jaw") == 3 and fap_number(52) == 52 and fap_number("52") == 52
    with pytest.raises(VentriloquistError):
        fap_number("open_mouth")
    with pytest.raises(VentriloquistError):
        fap_number(69)


def test_fill_by_rule_derives_contours_from_the_subset():
    values = np.zeros((2, len(ANIMATION_SUBSET)), np.float32)
    values[:, ANIMATION_SUBSET.index(5)] = -300
    values[:, ANIMATION_SUBSET.index(6)] = 40
    values[:, ANIMATION_SUBSET.index(31)] = 100
    values[:, ANIMATION_SUBSET.index(35)] = 50
    full, faps = fill_by_rule(values, ANIMATION_SUBSET)
    col = {f: full[0, i] for i, f in enumerate(faps)}
    assert col[10] == pytest.approx(-270) and col[53] == pytest.approx(40) and col[33] == pytest.approx(75)
    assert len(set(faps)) == len(faps) and faps[: len(ANIMATION_SUBSET)] == ANIMATION_SUBSET


def test_fill_by_rule_takes_a_target_with_only_one_of_its_sources():
    """The middle brow (33) follows 31 and 35; a face drawing only the non-zero FAPs may hand over 31 alone."""
    full, faps = fill_by_rule(np.array([[100.0]], np.float32), (31,))
    assert faps == (31, 33) and full[0, 1] == pytest.approx(50)
