"""Speaker adaptation end to end: one person's real videos -> an adapted, verified bundle with before/after."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, shared_path

from ventriloquist.device.bundle import SHIPPED_BUNDLE, load_bundle
from ventriloquist.device.errors import VentriloquistError

pytestmark = pytest.mark.slow  # fine-tunes a net with TensorFlow


def test_the_dequantised_net_is_the_shipped_int8_net():
    pytest.importorskip("keras")
    from ventriloquist.device.model import TfliteModel
    from ventriloquist.training.adapt import dequantised_scorer

    bundle = load_bundle(SHIPPED_BUNDLE)
    x = np.random.default_rng(0).normal(size=(400, bundle.frontend_settings().input_dim)).astype(np.float32)
    float_scores = dequantised_scorer(bundle).predict(x, verbose=0)
    int8_scores = TfliteModel(bundle.model_bytes).predict(x)
    assert np.abs(float_scores - int8_scores).mean() < 0.005  # int8 rounding, no more
    assert (float_scores.argmax(1) == int8_scores.argmax(1)).mean() > 0.8


def test_split_holds_out_whole_clips_or_the_end_of_one():
    from types import SimpleNamespace

    from ventriloquist.training.adapt import split_person

    clips = [SimpleNamespace(id=f"p/{i}", duration_s=20.0) for i in range(5)]
    fit, held = split_person(clips)
    assert [s.entry.id for s in held] == ["p/3", "p/4"] and len(fit) == 3
    fit, held = split_person(clips[:1])
    assert (fit[0].start_s, fit[0].end_s, held[0].start_s, held[0].end_s) == (0.0, 15.0, 15.0, 20.0)


def test_adapting_to_one_person_raises_their_held_out_score(tmp_path):
    """Three talks of a dev-set speaker the shipped model never heard (32 s): adapt on two, measure on the third.

    Measuring adaptation on an eval/ person is evaluation: the adapted bundle lives in tmp_path only.
    """
    from ventriloquist.training.corpus.tracker import track_python

    pytest.importorskip("keras")
    try:
        track_python()
    except VentriloquistError as e:
        pytest.skip(str(e))
    videos = shared_path("data", "talking_faces", "eval", "li")
    out = tmp_path / "bundle"
    done = subprocess.run([sys.executable, "-m", "ventriloquist", "adapt", str(videos), "--out", str(out),
                           "--speaker", "li"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    adapted = load_bundle(out)
    record = adapted.provenance["adapted"]
    assert [h[0] for h in record["heldout"]] == ["video/li/styletalk_feifeili_clip3"]
    assert "video/li/styletalk_feifeili_clip3" not in record["fit_clips"]
    assert record["heldout_r_after"] > record["heldout_r_before"] + 0.1
    assert "## Speaker adaptation" in (out / "MODEL_CARD.md").read_text()
    assert json.loads((out / "bundle.json").read_text())["name"] == f"{load_bundle(SHIPPED_BUNDLE).name}-adapted-li"
    assert "held-out lip-opening r" in done.stdout


def test_too_little_video_is_refused_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ventriloquist", "adapt", "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2 and done.stderr.startswith("ventriloquist: error: adapt:")
    assert done.stderr.count("\n") == 1
