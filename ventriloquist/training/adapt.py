"""Speaker adaptation: the shipped bundle fine-tuned on one known voice's video, measured on held-out speech.

A puppeteer or a kiosk has one voice. A few minutes of that person's tracked video teach the net
their timbre and their mouth's own style. The bundle carries only the int8 model, so the float net is
rebuilt from it (weights dequantised) and trained on in the bundle's own output space: the same
pattern table, the same normalisation, the same front end; only the net's weights move.

Held out, never trained on: whole clips when the person has two or more (the last quarter, in id
order), else the last quarter of the single clip's time. The card reports lip-opening r on that part
for the bundle before and after, and for the loudness envelope.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.training.corpus.manifest import Entry
from ventriloquist.training.dataset import GAIN_ONLY, examples, load_clips

log = logging.getLogger(__name__)

HELDOUT_SHARE = 0.25
MIN_FIT_S = 20.0
"""Less tracked speech than this cannot teach a voice."""
VAL_SHARE = 0.15
"""Of each fit clip's frames (its end), kept for early stopping."""


@dataclass(frozen=True)
class AdaptSettings:
    """How hard to fine-tune."""

    learning_rate: float = 3e-4
    max_epochs: int = 40
    patience: int = 5
    batch_size: int = 128
    seed: int = 0


@dataclass(frozen=True)
class Span:
    """A part of one clip: [start_s, end_s) of its audio clock."""

    entry: Entry
    start_s: float
    end_s: float


def split_person(entries: list) -> tuple[list[Span], list[Span]]:
    """(fit spans, held-out spans) of one person's clips."""
    entries = sorted(entries, key=lambda e: e.id)
    if len(entries) >= 2:
        n_held = max(1, math.ceil(HELDOUT_SHARE * len(entries)))
        spans = [Span(e, 0.0, e.duration_s) for e in entries]
        return spans[:-n_held], spans[-n_held:]
    (e,) = entries
    cut_s = (1 - HELDOUT_SHARE) * e.duration_s
    return [Span(e, 0.0, cut_s)], [Span(e, cut_s, e.duration_s)]


def dequantised_scorer(bundle):
    """The bundle's int8 net as a float Keras model (Dense layers, weights = int8 x scale)."""
    import keras

    from ventriloquist.device.model import interpreter_class
    from ventriloquist.training.net import build_scorer

    scorer = build_scorer(bundle.frontend_settings().input_dim, bundle.n_patterns, _net(bundle))
    interpreter = interpreter_class()[1](model_content=bundle.model_bytes)
    interpreter.allocate_tensors()
    tensors = {d["index"]: d for d in interpreter.get_tensor_details()}
    kernels = [d for d in tensors.values() if len(d["shape"]) == 2 and d["dtype"] == np.int8 and d["shape"][0] > 1]
    biases = [d for d in tensors.values() if len(d["shape"]) == 1 and d["dtype"] == np.int32]
    dense = [layer for layer in scorer.layers if isinstance(layer, keras.layers.Dense)]
    by_units = {}
    for k in kernels:
        by_units.setdefault(int(k["shape"][0]), {})["kernel"] = k
    for b in biases:
        by_units.setdefault(int(b["shape"][0]), {})["bias"] = b
    for layer in dense:
        pair = by_units.get(layer.units)
        if not pair or set(pair) != {"kernel", "bias"}:
            raise VentriloquistError(f"{bundle.name}: cannot find the int8 weights of a {layer.units}-unit layer")
        w = _dequantise(interpreter, pair["kernel"])
        b = _dequantise(interpreter, pair["bias"])
        layer.set_weights([w.T.astype(np.float32), b.astype(np.float32)])
    return scorer


def _dequantise(interpreter, detail) -> np.ndarray:
    q = interpreter.get_tensor(detail["index"]).astype(np.float64)
    scales = detail["quantization_parameters"]["scales"]
    zero = detail["quantization_parameters"]["zero_points"]
    shape = (-1,) + (1,) * (q.ndim - 1)
    return (q - zero.reshape(shape)) * scales.reshape(shape)


def _frames(spans: list[Span], settings, cache_dir, jobs: int, aug):
    """Net inputs and FAP targets of the spans (valid frames inside each span)."""
    clips = load_clips([s.entry for s in spans], settings, aug, cache_dir=cache_dir, jobs=jobs, desc="adapt features")
    out = []
    for s in spans:
        for c in (c for c in clips if c.id == s.entry.id):
            inside = (c.times_s >= s.start_s) & (c.times_s < s.end_s)
            out.append(replace(c, valid=c.valid & inside))
    return out


def adapt(bundle, entries: list, *, settings: AdaptSettings = AdaptSettings(), cache_dir=None, jobs: int = 2):
    """(adapted bundle, measurements) from one person's corpus entries."""
    import keras

    from ventriloquist.training.export import to_int8_tflite
    from ventriloquist.training.isodata import clustering_space, nearest_labels
    from ventriloquist.training.net import fit

    fit_spans, held = split_person(entries)
    fit_s = sum(s.end_s - s.start_s for s in fit_spans)
    if fit_s < MIN_FIT_S:
        raise VentriloquistError(f"adapt: {fit_s:.0f} s of video to learn from after holding out "
                                 f"{HELDOUT_SHARE:.0%}; give at least {MIN_FIT_S / (1 - HELDOUT_SHARE):.0f} s")
    fs = bundle.frontend_settings()
    clips = _frames(fit_spans, fs, cache_dir, jobs, GAIN_ONLY)
    train_clips, val_clips = _time_split(clips)
    ex_fit, ex_val = (examples(c, fs, bundle.norm_mean, bundle.norm_std) for c in (train_clips, val_clips))
    offset, scale = clustering_space(ex_fit.targets, bundle.faps)
    patterns_z = (bundle.patterns - offset) * scale

    def part(ex):
        z = (ex.targets - offset) * scale
        return (ex.inputs, nearest_labels(z, patterns_z), z.astype(np.float32), np.ones(len(z), np.float32))

    keras.utils.set_random_seed(settings.seed)
    scorer = dequantised_scorer(bundle)
    net = replace(_net(bundle), learning_rate=settings.learning_rate)
    history = fit(scorer, patterns_z.astype(np.float32), net, part(ex_fit), part(ex_val), epochs=settings.max_epochs,
                  patience=settings.patience, batch_size=settings.batch_size, seed=settings.seed, verbose=0)
    model_bytes = to_int8_tflite(scorer, ex_fit.inputs, seed=settings.seed)
    adapted = replace(bundle, model_bytes=model_bytes)
    measured = measure(bundle, adapted, held)
    speakers = sorted({e.speaker for e in entries})
    provenance = {**bundle.provenance, "adapted": {
        "from": bundle.name, "speakers": speakers, "fit_s": round(fit_s, 1),
        "fit_clips": [s.entry.id for s in fit_spans], "heldout": [[s.entry.id, s.start_s, s.end_s] for s in held],
        "best_epoch": history["best_epoch"], "settings": settings.__dict__, **measured}}
    return replace(adapted, provenance=provenance), measured


def _net(bundle):
    from ventriloquist.training.net import NetSettings

    return NetSettings(**bundle.provenance["net"])


def _time_split(clips: list) -> tuple[list, list]:
    """Each clip's last VAL_SHARE of valid frames becomes validation (copies of a clip split alike)."""
    train, val = [], []
    for c in clips:
        idx = np.flatnonzero(c.valid)
        cut = idx[int(len(idx) * (1 - VAL_SHARE))] if len(idx) else 0
        early = np.arange(len(c.valid)) < cut
        train.append(replace(c, valid=c.valid & early))
        val.append(replace(c, valid=c.valid & ~early))
    return train, val


def measure(before, after, held: list[Span]) -> dict:
    """Mean lip-opening r on the held-out spans: the bundle before and after, and the loudness envelope."""
    from ventriloquist.training.baselines import JawFlapper
    from ventriloquist.training.evaluate import (
        ANIMATION_SUBSET,
        _pearson,
        bundle_predictor,
        flapper_predictor,
        opening_of,
        utterance,
    )

    predictors = {"before": bundle_predictor(before), "after": bundle_predictor(after),
                  "loudness": flapper_predictor(JawFlapper.untrained(ANIMATION_SUBSET))}
    rs: dict[str, list[float]] = {k: [] for k in predictors}
    for span in held:
        u = utterance(span.entry, "adapt")
        inside = (u.times_s >= span.start_s) & (u.times_s < span.end_s)
        for name, predict in predictors.items():
            t, faps = predict(u.samples, u.rate_hz)
            rs[name].append(_pearson(np.interp(u.times_s, t, opening_of(faps))[inside], u.opening[inside]))
    return {f"heldout_r_{k}": float(np.nanmean(v)) for k, v in rs.items()}
