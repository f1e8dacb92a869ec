"""End to end on real GRID clips: prepare a tiny corpus, train a few epochs, export int8, reload, agree."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, shared_path

pytestmark = pytest.mark.slow  # trains and exports a model end to end

TRAIN_CLIPS = ("bbaf2n", "bbaf3s", "bbaf4p", "bbaf5a")
HELDOUT_CLIPS = ("bbal6n",)


def _copy_clips(src: Path, dst: Path, names) -> None:
    dst.mkdir(parents=True)
    for name in names:
        shutil.copy(src / "video" / f"{name}.mp4", dst)
        shutil.copy(src / "align" / f"{name}.align", dst)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    grid = shared_path("data", "grid_s1")
    if not (REPO / ".venv-track" / "bin" / "python").exists() and "VENTRILOQUIST_TRACK_VENV" not in os.environ:
        pytest.skip("the face tracker venv (.venv-track) is absent; `make setup` builds it")
    from ventriloquist.training.corpus.prepare import PrepareSettings, prepare

    base = tmp_path_factory.mktemp("grid")
    _copy_clips(grid, base / "train" / "s1", TRAIN_CLIPS)
    _copy_clips(grid, base / "held" / "s1", HELDOUT_CLIPS)
    out = base / "corpus"
    summary = prepare([f"grid@train:{base / 'train' / 's1'}", f"grid@heldout:{base / 'held' / 's1'}"],
                      PrepareSettings(out=out, jobs=2))
    assert not summary.skipped, summary.skipped
    return out


def test_train_export_reload_and_int8_agrees_with_float(tiny_corpus, tmp_path):
    import keras

    from ventriloquist.device.bundle import load_bundle
    from ventriloquist.device.model import PatternModel
    from ventriloquist.training.export import export_and_evaluate
    from ventriloquist.training.report import write_run_report
    from ventriloquist.training.train import MODEL_FILE, settings_for, train

    settings = settings_for("default", max_epochs=3, copies=1)
    run = train([tiny_corpus], tmp_path / "run", settings, jobs=1, verbose=0)
    assert run["isodata"]["classes"] >= 2 and run["frames"]["fit"] > 100
    write_run_report(tmp_path / "run")
    assert (tmp_path / "run" / "patterns.png").stat().st_size > 1000

    path = export_and_evaluate(tmp_path / "run", tmp_path / "bundle", [tiny_corpus])
    bundle = load_bundle(path)
    assert len(bundle.model_bytes) <= 64 * 1024
    check = bundle.provenance["quantisation_check"]
    assert check["held_out_frames"] > 50 and check["class_agreement"] >= 0.8
    assert "GRID" in (path / "MODEL_CARD.md").read_text()

    # the device interpreter on the bundle vs the float Keras net on the same normalised windows
    with np.load(tmp_path / "run" / "check.npz") as z:
        x = z["inputs"]
    scorer = keras.models.load_model(tmp_path / "run" / MODEL_FILE, compile=False)
    float_probs = scorer.predict(x, verbose=0)
    int8_probs = PatternModel(bundle).model.predict(x)
    assert np.mean(float_probs.argmax(1) == int8_probs.argmax(1)) >= 0.8
    assert np.abs(float_probs - int8_probs).mean() < 0.02
