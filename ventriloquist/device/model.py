"""The one place that picks a TFLite interpreter, and the stage that turns features into FAPs.

Backends, in order of preference: ai-edge-litert (maintained, fast), then tflite-runtime
(older Pi images; needs numpy<2). Set VENTRILOQUIST_TFLITE=litert|tflite-runtime to force
one. Nothing else in the project imports an interpreter, and nothing here imports TensorFlow.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

import numpy as np

from ventriloquist.device.bundle import MODEL, Bundle
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.quiet import quiet_stderr
from ventriloquist.device.values import FapFrames, FeatureFrames

BACKENDS: dict[str, str] = {
    "litert": "ai_edge_litert.interpreter",
    "tflite-runtime": "tflite_runtime.interpreter",
}
BACKEND_ENV = "VENTRILOQUIST_TFLITE"


def interpreter_class(backend: str | None = None) -> tuple[str, type]:
    """(backend name, Interpreter class) of the requested or the first installed backend."""
    backend = backend or os.environ.get(BACKEND_ENV) or None
    if backend is not None and backend not in BACKENDS:
        raise VentriloquistError(f"unknown TFLite backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    for name in [backend] if backend else list(BACKENDS):
        try:
            return name, importlib.import_module(BACKENDS[name]).Interpreter
        except ImportError:
            continue
    raise VentriloquistError(
        "no TFLite interpreter is installed: pip install ai-edge-litert (or tflite-runtime on older Pi images)"
        if backend is None
        else f"TFLite backend {backend!r} is not installed ({BACKENDS[backend]} does not import)"
    )


INT8_MIN, INT8_MAX = -128, 127
MAX_BATCH_INTERPRETERS = 4
"""Interpreters kept per batch size (live chunks give 1-2 frames, bake 100): no re-allocation between calls."""


class TfliteModel:
    """An int8 TFLite model with float in/out: quantises inputs, dequantises outputs."""

    def __init__(self, model_bytes: bytes, *, backend: str | None = None, where: str = "model"):
        self.backend, self._cls = interpreter_class(backend)
        self.where = where
        self._model_bytes = model_bytes
        try:
            self._interp = self._new_interpreter()
        except (ValueError, RuntimeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise VentriloquistError(f"{where}: not a loadable TFLite model ({first})") from None
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]
        self.input_dim = int(self._in["shape"][-1])
        self.output_dim = int(self._out["shape"][-1])
        self._in_scale, self._in_zero = self._in["quantization"]
        self._out_scale, self._out_zero = self._out["quantization"]
        codes = np.arange(256).astype(np.uint8).view(np.int8).astype(np.float64)
        self._dequantised = ((codes - self._out_zero) * self._out_scale).astype(np.float32)
        """Float value of every int8 output code, indexed by the code's bits as uint8: dequantising is one lookup."""
        self._by_batch = {int(self._in["shape"][0]): self._interp}
        """Batch size -> interpreter allocated for it (at most MAX_BATCH_INTERPRETERS)."""

    def _new_interpreter(self):
        with quiet_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate"; failures still raise
            interp = self._cls(model_content=self._model_bytes, num_threads=1)
            interp.allocate_tensors()
        return interp

    def check_shapes(self, input_dim: int, output_dim: int) -> None:
        """Refuse a model whose input/output widths or types differ from what the bundle says."""
        if self._in["dtype"] != np.int8 or self._out["dtype"] != np.int8:
            raise VentriloquistError(f"{self.where}: expected a full-integer int8 model (input and output int8)")
        if (self.input_dim, self.output_dim) != (input_dim, output_dim):
            raise VentriloquistError(
                f"{self.where}: model maps {self.input_dim} -> {self.output_dim} values, "
                f"but the bundle settings need {input_dim} -> {output_dim}"
            )

    def _interpreter(self, n: int):
        """The interpreter for batch size n: cached, else the oldest cached one (or a new one) resized."""
        interp = self._by_batch.get(n)
        if interp is None:
            full = len(self._by_batch) >= MAX_BATCH_INTERPRETERS
            interp = self._by_batch.pop(next(iter(self._by_batch))) if full else self._new_interpreter()
            interp.resize_tensor_input(self._in["index"], [n, self.input_dim])
            interp.allocate_tensors()
            self._by_batch[n] = interp
        return interp

    def input_affine(self, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gain, offset) with x * gain + offset = ((x - mean) / std) / scale + zero: normalise and quantise in one."""
        gain = 1.0 / (np.asarray(std, np.float64) * self._in_scale)
        return gain, self._in_zero - np.asarray(mean, np.float64) * gain

    def quantise(self, x: np.ndarray, affine: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """int8 model input: round(x / scale + zero), or round(x * gain + offset) for an input_affine()."""
        if affine is None:
            q = np.divide(x, self._in_scale)
            q += self._in_zero
        else:
            q = np.multiply(x, affine[0])
            q += affine[1]
        np.rint(q, out=q)
        np.maximum(q, INT8_MIN, out=q)
        np.minimum(q, INT8_MAX, out=q)
        return q.astype(np.int8)

    def run(self, q: np.ndarray) -> np.ndarray:
        """(n, input_dim) int8 -> (n, output_dim) float32 dequantised outputs, one invoke for the whole batch."""
        n = q.shape[0]
        if n == 0:
            return np.zeros((0, self.output_dim), np.float32)
        interp = self._interpreter(n)
        interp.set_tensor(self._in["index"], q)
        interp.invoke()
        return self._dequantised[interp.get_tensor(self._out["index"]).view(np.uint8)]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(n, input_dim) float -> (n, output_dim) float32, one invoke for the whole batch."""
        return self.run(self.quantise(x))


def load_model(bundle: Bundle, backend: str | None = None) -> TfliteModel:
    """The bundle's interpreter, refused (naming the bundle's model file) unless it loads and its input and output
    widths are what the bundle's settings say: the one model check."""
    model = TfliteModel(bundle.model_bytes, backend=backend, where=f"bundle {bundle.path or bundle.name}: {MODEL}")
    model.check_shapes(bundle.frontend_settings().input_dim, bundle.n_outputs)
    return model


def decoder(bundle: Bundle) -> Callable[[np.ndarray], np.ndarray]:
    """Model outputs -> FAP values: softmax blends patterns by probability; binary picks one."""
    patterns = bundle.patterns
    if bundle.coding == "softmax":
        weighted_sums = np.concatenate([patterns, np.ones((len(patterns), 1))], axis=1).astype(np.float32)
        """Pattern table plus a column of ones: one product gives the blend and the total weight."""

        def blend(scores: np.ndarray) -> np.ndarray:
            sums = np.maximum(scores, np.float32(0.0)) @ weighted_sums
            return sums[:, :-1] / np.maximum(sums[:, -1:], np.float32(1e-6))

        return blend
    weights = 2 ** np.arange(bundle.n_outputs)[::-1]

    def pick(scores: np.ndarray) -> np.ndarray:
        idx = (scores > 0.5).astype(np.int64) @ weights
        return patterns[np.minimum(idx, len(patterns) - 1)]

    return pick


class PatternModel:
    """Stage: context-stacked feature frames -> FAP frames (normalise, infer, decode)."""

    def __init__(self, bundle: Bundle, *, backend: str | None = None):
        self.bundle = bundle
        settings = bundle.frontend_settings()
        context = settings.input_dim // settings.dim
        self.model = load_model(bundle, backend)
        self.affine = self.model.input_affine(np.tile(bundle.norm_mean, context), np.tile(bundle.norm_std, context))
        """Normalisation and input quantisation as one x * gain + offset."""
        self.decode = decoder(bundle)

    def process(self, frames: FeatureFrames) -> FapFrames:
        scores = self.model.run(self.model.quantise(frames.values, self.affine))
        return FapFrames(frames.times_s, self.decode(scores), self.bundle.faps)

    def flush(self) -> FapFrames:
        return FapFrames.empty(self.bundle.faps)

    def reset(self) -> None:
        """Stateless between calls: nothing to clear."""
