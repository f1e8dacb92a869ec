"""Bundle: round trip, and refusal of every kind of broken bundle with a clear message."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import edit_json, rewrite_checksums

from ventriloquist.device.bundle import load_bundle, write_bundle
from ventriloquist.device.cli import main
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.model import load_model


def test_round_trip(tiny_bundle, tiny_bundle_obj):
    b = load_bundle(tiny_bundle)
    assert b.faps == tiny_bundle_obj.faps
    np.testing.assert_allclose(b.patterns, tiny_bundle_obj.patterns, atol=1e-3)
    assert b.model_bytes == tiny_bundle_obj.model_bytes
    assert b.features == tiny_bundle_obj.features
    assert b.coding == "softmax" and b.n_outputs == 4


def test_verify_command_ok(tiny_bundle, capsys):
    assert main(["verify", str(tiny_bundle)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok tiny-test") and "4 patterns" in out


def _refused(path, *needles):
    """Opening the bundle the way the pipeline does (files verified, then the one model check) fails so."""
    with pytest.raises(VentriloquistError) as e:
        load_model(load_bundle(path))
    msg = str(e.value)
    assert "\n" not in msg
    for n in needles:
        assert n in msg, msg
    return msg


def test_tampered_file_is_refused(tiny_bundle):
    p = tiny_bundle / "patterns.csv"
    p.write_text(p.read_text().replace("1", "2", 1))
    _refused(tiny_bundle, "patterns.csv", "sha256")


def test_missing_file_is_refused(tiny_bundle):
    (tiny_bundle / "model.tflite").unlink()
    _refused(tiny_bundle, "model.tflite", "missing")


def test_missing_checksums_is_refused(tiny_bundle):
    (tiny_bundle / "SHA256SUMS").unlink()
    _refused(tiny_bundle, "SHA256SUMS", "cannot be verified")


def test_unlisted_file_is_refused(tiny_bundle):
    (tiny_bundle / "extra.bin").write_bytes(b"x")
    _refused(tiny_bundle, "extra.bin", "not listed")


def test_wrong_schema_version_is_refused(tiny_bundle):
    edit_json(tiny_bundle / "bundle.json", schema_version=2)
    rewrite_checksums(tiny_bundle)
    _refused(tiny_bundle, "bundle.json", "schema version 2", "reads version 1")


def test_truncated_model_is_refused_even_with_matching_checksum(tiny_bundle):
    m = tiny_bundle / "model.tflite"
    m.write_bytes(m.read_bytes()[: len(m.read_bytes()) // 2])
    rewrite_checksums(tiny_bundle)
    _refused(tiny_bundle, "model.tflite", "not a loadable TFLite model")


def test_model_shape_mismatch_is_refused(tiny_bundle):
    p = tiny_bundle / "patterns.csv"
    lines = p.read_text().splitlines()
    p.write_text("\n".join(lines[:-1]) + "\n")  # 3 patterns, model still gives 4 scores
    edit_json(tiny_bundle / "bundle.json", output={"coding": "softmax", "patterns": 3, "faps": list(load_faps(p))})
    rewrite_checksums(tiny_bundle)
    _refused(tiny_bundle, "model.tflite", "-> 4 values", "-> 3")


def load_faps(patterns_csv):
    from ventriloquist.device.fap import FAP_BY_NAME

    return [FAP_BY_NAME[n].number for n in patterns_csv.read_text().splitlines()[0].split(",")[1:]]


def test_verify_command_refuses_with_one_line_and_exit_2(tiny_bundle, capsys):
    (tiny_bundle / "bundle.json").write_text("{}")
    assert main(["verify", str(tiny_bundle)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ventriloquist: error: ") and err.count("\n") == 1 and "bundle.json" in err


def test_interrupted_write_keeps_the_old_bundle(tiny_bundle, tiny_bundle_obj):
    before = {p.name: p.read_bytes() for p in tiny_bundle.iterdir()}
    with pytest.raises(OSError):
        write_bundle(tiny_bundle, tiny_bundle_obj, {"no/such/dir.md": "x"})
    assert {p.name: p.read_bytes() for p in tiny_bundle.iterdir()} == before
    assert [p.name for p in tiny_bundle.parent.iterdir()] == [tiny_bundle.name]  # no temp folder left
    load_bundle(tiny_bundle)


def test_overwrite_replaces_whole_bundle(tiny_bundle, tiny_bundle_obj):
    (tiny_bundle / "MODEL_CARD.md").unlink()  # now broken (listed but missing)
    write_bundle(tiny_bundle, tiny_bundle_obj)
    assert load_bundle(tiny_bundle).name == "tiny-test"
    assert not (tiny_bundle / "MODEL_CARD.md").exists()


def test_starting_a_pipeline_checks_the_model_once(tiny_bundle, monkeypatch):
    """One interpreter built and one shape check at start-up; reading a bundle needs no interpreter at all."""
    import subprocess
    import sys

    from ventriloquist.device import app, model

    probe = "import sys, ventriloquist.device.bundle; print('ventriloquist.device.model' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout == "False\n"
    built = []

    class Counted(model.TfliteModel):
        def check_shapes(self, input_dim, output_dim):
            built.append((input_dim, output_dim))
            super().check_shapes(input_dim, output_dim)

    monkeypatch.setattr(model, "TfliteModel", Counted)
    pipeline = app.build_pipeline(app.PipelineOptions(bundle=tiny_bundle))
    assert built == [(pipeline.settings.input_dim, 4)]
