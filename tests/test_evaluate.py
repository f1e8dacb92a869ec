"""Evaluation on real EMA recordings: lip aperture correlation of a bundle and of the loudness baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path

from ventriloquist.training.evaluate import evaluate, goals
from ventriloquist.training.report import results_markdown


@pytest.fixture(scope="module")
def ema_corpus(tmp_path_factory) -> Path:
    from ventriloquist.training.corpus.prepare import PrepareSettings, prepare

    out = tmp_path_factory.mktemp("ema") / "corpus"
    prepare([f"ema:{shared_path('data', 'ema')}"], PrepareSettings(out=out, jobs=1))
    return out


def test_ema_group_scores_the_bundle_and_the_loudness_baseline(ema_corpus, tiny_bundle_obj):
    from ventriloquist.training.corpus.manifest import load_manifest

    entries = load_manifest(ema_corpus)
    assert entries and all(e.ema for e in entries)
    result = evaluate(tiny_bundle_obj, entries, set())
    ema = result["groups"]["ema"]
    assert ema["model"]["utterances"] == len(entries)
    base_r = ema["loudness_baseline"]["opening_r_mean"]
    assert 0.2 < base_r < 0.7  # loudness follows lip aperture loosely (the issue measured ~0.44)
    assert ema["reference"]["bilabials"] > 0  # EMA label files carry phones
    assert "opening_r_ema" in result["goals"]
    sweep = ema["model"]["opening_r_by_level"]
    assert list(sweep) == ["-12 dB", "+0 dB", "+12 dB"]
    assert sweep["+0 dB"] == pytest.approx(ema["model"]["opening_r_mean"])  # the sweep's 0 dB is the plain run
    report = results_markdown({"tiny": result})
    assert "| ema |" in report and "- ema: -12 dB" in report


def test_goals_compare_with_the_baseline_and_the_thresholds():
    def who(eq1, r):
        return {"eq1_error": eq1, "opening_r_mean": r, "bilabial_closed": 0.8, "false_closure": 0.3}

    g = {"s1_closed": {"model": who(100.0, 0.9), "loudness_baseline": who(300.0, 0.5)},
         "s1_open": {"model": who(140.0, 0.85), "loudness_baseline": who(300.0, 0.5)},
         "other_speakers": {"model": who(None, 0.55), "loudness_baseline": who(None, 0.6)}}
    out = goals(g)
    assert out["open_over_closed_error"]["met"] and np.isclose(out["open_over_closed_error"]["value"], 1.4)
    assert out["opening_r_s1_open"]["met"] and not out["opening_r_other_speakers"]["met"]
    assert not out["beats_baseline"]["all"]
