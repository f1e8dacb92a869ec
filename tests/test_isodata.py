"""Improved ISODATA: finds separated classes, splits/merges/discards as told, deterministic, eq. (1)."""

from __future__ import annotations

import numpy as np
import pytest

from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.training.isodata import IsodataSettings, eq1_error, isodata, sweep

MOUTH = ANIMATION_SUBSET.index(4), ANIMATION_SUBSET.index(5)


def _blobs(n_classes: int, per_class: int, spread: float = 3.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 100, (n_classes, len(ANIMATION_SUBSET)))
    labels = np.repeat(np.arange(n_classes), per_class)
    return centres[labels] + rng.normal(0, spread, (len(labels), len(ANIMATION_SUBSET))), labels, centres


def test_eq1_is_the_mean_squared_entry_error():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert eq1_error(x, x) == 0
    assert eq1_error(x, np.zeros_like(x)) == pytest.approx((1 + 4 + 9 + 16) / 4)


def test_finds_well_separated_classes_and_maps_them_back():
    x, labels, _ = _blobs(6, 200)
    r = isodata(x, ANIMATION_SUBSET, IsodataSettings(expected_classes=12, min_samples=20, split_p=0.5, merge_c=0.5))
    assert len(r.centres) == 6
    # every true class maps onto exactly one pattern
    assert all(len(np.unique(r.labels[labels == k])) == 1 for k in range(6))
    assert r.error < 3.0**2 * 1.5
    np.testing.assert_array_equal(r.assign(x), r.labels)


def test_same_seed_same_patterns_and_pattern_zero_is_most_closed():
    x, _, _ = _blobs(5, 150, seed=3)
    a = isodata(x, ANIMATION_SUBSET, IsodataSettings(seed=7))
    b = isodata(x, ANIMATION_SUBSET, IsodataSettings(seed=7))
    np.testing.assert_array_equal(a.centres, b.centres)
    opening = -(a.centres[:, MOUTH[0]] + a.centres[:, MOUTH[1]])
    assert np.all(np.diff(opening) >= 0)


def test_discard_step_drops_classes_smaller_than_the_minimum():
    x, _, _ = _blobs(4, 300, seed=1)
    outliers = np.full((8, len(ANIMATION_SUBSET)), 900.0)  # a tiny far-away class
    data = np.concatenate([x, outliers])
    kept = isodata(data, ANIMATION_SUBSET, IsodataSettings(min_samples=5, split_p=0.5, merge_c=0.5))
    dropped = isodata(data, ANIMATION_SUBSET, IsodataSettings(min_samples=20, split_p=0.5, merge_c=0.5))
    assert np.isclose(kept.centres, 900.0, atol=1).all(1).any()
    assert not np.isclose(dropped.centres, 900.0, atol=1).all(1).any()
    assert np.bincount(dropped.labels).min() >= 20


def test_merge_parameter_joins_close_classes():
    x, _, _ = _blobs(2, 300, seed=2)
    close = np.concatenate([x, x[:300] + 8.0])  # a near twin of class 0
    base = {"split_p": 100.0, "initial_classes": 3, "expected_classes": 4}
    fine = isodata(close, ANIMATION_SUBSET, IsodataSettings(merge_c=0.01, **base))
    merged = isodata(close, ANIMATION_SUBSET, IsodataSettings(merge_c=1.0, **base))
    assert (len(fine.centres), len(merged.centres)) == (3, 2)


def test_sweep_reports_classes_and_error_per_minimum():
    x, _, _ = _blobs(6, 100, seed=4)
    rows = sweep(x, ANIMATION_SUBSET, (50, 5), IsodataSettings(split_p=0.5))
    assert [r["min_samples"] for r in rows] == [50, 5]
    assert all(r["classes"] >= 1 and r["error"] >= 0 for r in rows)
