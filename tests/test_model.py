"""Interpreter shim and decoding: real int8 TFLite models through each installed backend."""

from __future__ import annotations

import importlib.util
import subprocess

import numpy as np
import pytest
from conftest import REPO, tiny_model_bytes

from ventriloquist.device.bundle import Bundle
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.model import TfliteModel, decoder, interpreter_class


def _bundle(patterns, coding):
    return Bundle("t", {}, np.zeros(1), np.ones(1), coding, np.asarray(patterns, np.float32), (3, 4), b"")


def test_softmax_decoding_blends_patterns_by_probability():
    decode = decoder(_bundle([[0, 0], [100, -50], [200, 10]], "softmax"))
    out = decode(np.array([[1, 0, 0], [0, 0.5, 0.5], [0, 0, 2]], np.float32))
    np.testing.assert_allclose(out, [[0, 0], [150, -20], [200, 10]])


def test_binary_decoding_picks_the_coded_class_and_clamps():
    decode = decoder(_bundle([[k, -k] for k in range(5)], "binary"))  # 5 classes -> 3 bits
    out = decode(np.array([[0, 0, 1], [0.9, 0, 0], [1, 1, 1]], np.float32))
    np.testing.assert_array_equal(out[:, 0], [1, 4, 4])


@pytest.mark.slow  # builds a model with TensorFlow
@pytest.mark.parametrize("backend", ["litert", "tflite-runtime"])
def test_backend_runs_int8_model(backend):
    module = {"litert": "ai_edge_litert", "tflite-runtime": "tflite_runtime"}[backend]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed in this environment")
    model = TfliteModel(tiny_model_bytes(12, 5), backend=backend)
    assert model.backend == backend and (model.input_dim, model.output_dim) == (12, 5)
    x = np.random.default_rng(0).normal(size=(40, 12)).astype(np.float32)
    y = model.predict(x)
    assert y.shape == (40, 5) and np.allclose(y.sum(1), 1, atol=0.05)
    np.testing.assert_array_equal(model.predict(x[:7]), y[:7])  # batch size does not change results


@pytest.mark.slow  # a second venv
def test_tflite_runtime_in_the_numpy1_venv_matches_litert(tmp_path):
    """Older Pi images run tflite-runtime (numpy<2): the same model must give the same int8 outputs.

    tflite-runtime cannot load beside numpy 2, so it runs in the tracker venv (numpy 1.26).
    """
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.training.corpus.tracker import track_python

    try:
        python = track_python()
    except VentriloquistError as e:
        pytest.skip(str(e))
    model_path, x_path, y_path = tmp_path / "m.tflite", tmp_path / "x.npy", tmp_path / "y.npy"
    model_path.write_bytes(tiny_model_bytes(12, 5))
    x = np.random.default_rng(3).normal(size=(30, 12)).astype(np.float32)
    np.save(x_path, x)
    script = (
        "import sys, numpy as np; from ventriloquist.device.model import TfliteModel\n"
        "m = TfliteModel(open(sys.argv[1], 'rb').read(), backend='tflite-runtime')\n"
        "np.save(sys.argv[3], m.predict(np.load(sys.argv[2])))"
    )
    done = subprocess.run([str(python), "-c", script, str(model_path), str(x_path), str(y_path)],
                          capture_output=True, text=True, cwd=REPO)
    if "tflite_runtime" in done.stderr and "not installed" in done.stderr:
        pytest.skip("tflite-runtime is not installed in the tracker venv")
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_array_equal(np.load(y_path), TfliteModel(model_path.read_bytes(), backend="litert").predict(x))


@pytest.mark.slow  # TensorFlow
def test_int8_model_agrees_with_keras_float_model():
    import sys

    script = (
        "import numpy as np, keras; from ventriloquist.training.export import to_int8_tflite, compare_with_float\n"
        "keras.utils.set_random_seed(0)\n"
        "m = keras.Sequential([keras.Input((20,)), keras.layers.Dense(16, activation='relu'),"
        " keras.layers.Dense(6, activation='softmax')])\n"
        "x = np.random.default_rng(1).normal(size=(500, 20)).astype('float32')\n"
        "c = compare_with_float(m, to_int8_tflite(m, x[:300]), x[300:])\n"
        "print(c.argmax_agreement, c.max_abs_output_error)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    agreement, max_err = float(out[-2]), float(out[-1])
    assert agreement >= 0.9 and max_err < 0.05


def test_unknown_or_missing_backend_is_a_clear_error():
    with pytest.raises(VentriloquistError, match="unknown TFLite backend"):
        interpreter_class("onnx")
    if importlib.util.find_spec("tflite_runtime") is None:
        with pytest.raises(VentriloquistError, match="not installed"):
            interpreter_class("tflite-runtime")


def test_garbage_model_is_refused():
    with pytest.raises(VentriloquistError, match="not a loadable TFLite model"):
        TfliteModel(b"\x00" * 64, where="junk.tflite")
