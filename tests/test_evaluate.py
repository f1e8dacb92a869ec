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
         "other_speakers": {"model": who(None, 0.55), "loudness_baseline": who(None, 0.6)},
         "dev": {"model": who(None, 0.42), "loudness_baseline": who(None, 0.3)}}
    out = goals(g)
    assert out["open_over_closed_error"]["met"] and np.isclose(out["open_over_closed_error"]["value"], 1.4)
    assert not out["opening_r_s1_open"]["met"] and not out["opening_r_other_speakers"]["met"]  # 0.85 < 0.88
    assert out["opening_r_dev"]["met"] and not out["opening_r_dev_over_loudness"]["met"]  # 0.42 < 0.3 + 0.2
    assert not out["beats_baseline"]["all"]


def test_best_lag_finds_a_shifted_prediction():
    from ventriloquist.training.corpus.sync import lag_curve
    from ventriloquist.training.evaluate import EVAL_RATE_HZ, MAX_LAG_STEPS, lag_peak

    rng = np.random.default_rng(0)
    reference = np.convolve(rng.normal(size=600), np.ones(8) / 8, mode="same")
    late = np.roll(reference, 12)  # the prediction comes 120 ms late
    r, lag_s = lag_peak(lag_curve(late, reference, MAX_LAG_STEPS))
    assert r > 0.99 and lag_s == 12 / EVAL_RATE_HZ
    r_far, _ = lag_peak(lag_curve(np.roll(reference, 40), reference, MAX_LAG_STEPS))  # 400 ms: beyond the search
    assert r_far < 0.5


def test_the_common_lag_is_the_one_that_suits_the_clips_together():
    """Each clip alone peaks where its noise puts it; the group's timing is the peak of their mean curve."""
    from ventriloquist.training.corpus.sync import lag_curve
    from ventriloquist.training.evaluate import EVAL_RATE_HZ, MAX_LAG_STEPS, _common_lag

    rng = np.random.default_rng(1)
    curves = []
    for _ in range(8):
        reference = np.convolve(rng.normal(size=400), np.ones(10) / 10, mode="same")
        late = np.roll(reference, 3) + rng.normal(scale=0.3, size=400)  # 30 ms late, and noisy
        curves.append(lag_curve(late, reference, MAX_LAG_STEPS))
    common = _common_lag(curves)
    assert common["lag_s"] == 3 / EVAL_RATE_HZ
    assert common["r"] == pytest.approx(np.mean([c[MAX_LAG_STEPS + 3] for c in curves]))
    assert _common_lag([np.full(2 * MAX_LAG_STEPS + 1, np.nan)]) == {"r": None, "lag_s": 0.0}


@pytest.mark.slow  # the face tracker on real video
def test_dev_set_is_scored_per_person_with_a_picture(tmp_path, tiny_bundle_obj):
    """Two real eval-split videos of two people: per-person r, best-lag r and the lips plot."""
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.training.corpus.prepare import PrepareSettings, prepare
    from ventriloquist.training.corpus.tracker import track_python
    from ventriloquist.training.report import evaluation_report

    try:
        track_python()
    except VentriloquistError as e:
        pytest.skip(str(e))
    people = ("lrs2_deepavsr_00002", "vox_pcavs_P00067")
    sources = [f"video@eval:{shared_path('data', 'talking_faces', 'eval', who)}" for who in people]
    prepare(sources, PrepareSettings(out=tmp_path / "corpus", jobs=2))
    results = evaluation_report([tiny_bundle_obj], [tmp_path / "corpus"], tmp_path / "report")
    dev = next(iter(results.values()))["groups"]["dev"]
    assert dev["model"]["utterances"] == 2 and set(dev["model"]["opening_r_by_speaker"]) == set(people)
    for who in ("model", "loudness_baseline"):
        assert dev[who]["opening_r_best_lag_mean"] >= dev[who]["opening_r_mean"]  # lag 0 is among those searched
        common = dev[who]["opening_r_common_lag"]  # one lag for both clips: between lag 0 and each clip's own best
        assert dev[who]["opening_r_mean"] <= common["r"] <= dev[who]["opening_r_best_lag_mean"]
    report = (tmp_path / "report" / "report.md").read_text()
    assert "Dev set per person" in report and "| vox_pcavs_P00067 |" in report
    assert (tmp_path / "report" / "dev_lips.png").stat().st_size > 10_000
