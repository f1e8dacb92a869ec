"""Keras model -> full-integer int8 TFLite bytes, calibrated on real features, checked against float."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np


def to_int8_tflite(model, calibration: np.ndarray, *, max_calibration_rows: int = 2000, seed: int = 0) -> bytes:
    """Convert a Keras model (float input already normalised) to an int8-in/int8-out TFLite model.

    `calibration` are real model inputs (n, input_dim); a seeded sample of them sets the
    quantisation ranges. The batch dimension stays dynamic so the device can infer many
    frames in one invoke.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    rows = calibration[rng.permutation(len(calibration))[:max_calibration_rows]].astype(np.float32)

    def representative():
        for row in rows:
            yield [row[None, :]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


@dataclass(frozen=True)
class QuantisationCheck:
    """How the int8 model compares with the float one on held-out inputs."""

    argmax_agreement: float
    """Share of frames whose top output is the same."""
    max_abs_output_error: float
    mean_abs_output_error: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 5) for k, v in self.__dict__.items()}


def compare_with_float(model, tflite_bytes: bytes, inputs: np.ndarray) -> QuantisationCheck:
    """Run both models on `inputs` through the device interpreter shim and compare outputs."""
    from ventriloquist.device.model import TfliteModel

    ref = np.asarray(model.predict(inputs, verbose=0), np.float32)
    got = TfliteModel(tflite_bytes).predict(inputs)
    err = np.abs(ref - got)
    agreement = float(np.mean(ref.argmax(1) == got.argmax(1)))
    return QuantisationCheck(agreement, float(err.max(initial=0)), float(err.mean()) if err.size else 0.0)


MAX_MODEL_BYTES = 64 * 1024
"""The int8 model must stay within 64 KiB (microcontroller-class budget, fast load on a Pi)."""


def fap_check(bundle, scorer, inputs: np.ndarray, targets: np.ndarray) -> dict:
    """Float vs int8 on held-out inputs: output agreement, decoded-FAP difference and eq. (1) of each."""
    from ventriloquist.device.model import TfliteModel, decoder
    from ventriloquist.training.isodata import eq1_error

    if len(inputs) == 0:
        return {"held_out_frames": 0}
    decode = decoder(bundle)
    ref = np.asarray(scorer.predict(inputs, verbose=0, batch_size=4096), np.float32)
    got = TfliteModel(bundle.model_bytes).predict(inputs)
    if bundle.coding == "binary":
        ref_class, got_class = (ref > 0.5).astype(int) @ 2 ** np.arange(ref.shape[1])[::-1], (
            (got > 0.5).astype(int) @ 2 ** np.arange(got.shape[1])[::-1]
        )
    else:
        ref_class, got_class = ref.argmax(1), got.argmax(1)
    f_ref, f_got = decode(ref), decode(got)
    return {
        "held_out_frames": int(len(inputs)),
        "class_agreement": round(float(np.mean(ref_class == got_class)), 4),
        "mean_abs_output_error": round(float(np.abs(ref - got).mean()), 5),
        "mean_abs_fap_difference_fapu": round(float(np.abs(f_ref - f_got).mean()), 3),
        "eq1_error_float": round(eq1_error(targets, f_ref), 2),
        "eq1_error_int8": round(eq1_error(targets, f_got), 2),
    }


def default_name(preset: str) -> str:
    """A bundle's name when `train --name` does not give one."""
    return f"ventriloquist-{preset}"


def bundle_from_run(run_dir, name: str | None = None):
    """(Bundle in memory, quantisation check) from a training run folder: int8 conversion + check."""
    from pathlib import Path

    import keras

    from ventriloquist.device.bundle import Bundle
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.training.train import MODEL_FILE, load_run

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    scorer = keras.models.load_model(run_dir / MODEL_FILE, compile=False)
    model_bytes = to_int8_tflite(scorer, np.load(run_dir / "calibration.npy"), seed=run["preset"]["seed"])
    if len(model_bytes) > MAX_MODEL_BYTES:
        raise VentriloquistError(f"{run_dir}: int8 model is {len(model_bytes)} bytes, over {MAX_MODEL_BYTES}")
    provenance = {
        "preset": run["preset"]["name"],
        "seed": run["preset"]["seed"],
        "trained_on": run["corpus"],
        **_prepared_with(run["corpus"]),
        "speakers": run["speakers"],
        "licences": run["licences"],
        "clips": {k: len(v) for k, v in run["clips"].items()},
        "frames": run["frames"],
        "isodata": {k: run["isodata"][k] for k in ("settings", "classes", "error", "samples", "table1")},
        "net": run["preset"]["net"],
        "augmentation": run["preset"]["augmentation"],
        "best_epoch": run["history"]["best_epoch"],
        "train_wall_s": run["train_wall_s"],
        "model_bytes": len(model_bytes),
    }
    bundle = Bundle(
        name=name or default_name(run["preset"]["name"]),
        features=run["frontend"],
        norm_mean=np.asarray(run["norm_mean"], np.float32),
        norm_std=np.asarray(run["norm_std"], np.float32),
        coding=run["preset"]["net"]["coding"],
        patterns=np.asarray(run["patterns"], np.float32),
        faps=tuple(run["faps"]),
        model_bytes=model_bytes,
        provenance=provenance,
    )
    with np.load(run_dir / "check.npz") as z:
        check = fap_check(bundle, scorer, z["inputs"], z["targets"])
    return replace(bundle, provenance={**provenance, "quantisation_check": check}), check


def _prepared_with(corpora: list[str]) -> dict:
    """Per corpus, the `corpus prepare` sources it was made from and the options (licence, speaker, sync bundle)
    each was prepared with; empty where a corpus.json is gone."""
    from ventriloquist.training.corpus.manifest import load_corpus_info

    infos = {c: load_corpus_info(c) if Path(c).is_dir() else {} for c in corpora}
    return {"sources": {c: list(i.get("sources", [])) for c, i in infos.items()},
            "source_options": {c: dict(i.get("source_options", {})) for c, i in infos.items()}}


GRID_CREDIT = ("GRID audio-visual corpus, CC BY 4.0 — Cooke, Barker, Cunningham, Shao (2006), "
               "An audio-visual corpus for speech perception and automatic speech recognition")


def model_card(bundle, evaluation: dict | None, wall_s: float | None) -> str:
    """MODEL_CARD.md: what the model is, what it was trained on (with credits), how it measures."""
    from ventriloquist.training.report import results_markdown, table1_markdown

    p = bundle.provenance
    fs = bundle.frontend_settings()
    q = p.get("quantisation_check", {})
    lines = [
        f"# {bundle.name}",
        "",
        "Speech -> MPEG-4 FAP pattern model for ventriloquist (offline, int8 TFLite, runs on a Raspberry Pi).",
        "",
        "## What it is",
        f"- Features: {fs.describe()}",
        f"- Net: {p.get('net')}; output coding `{bundle.coding}` over {bundle.n_patterns} FAP patterns "
        f"x {len(bundle.faps)} FAPs; int8 model {len(bundle.model_bytes)} bytes.",
        f"- Augmentation: {p.get('augmentation')}",
        f"- Trained on: {', '.join(p.get('trained_on', []))} — speakers {', '.join(p.get('speakers', []))}; "
        f"clips {p.get('clips')}; frames {p.get('frames')}; best epoch {p.get('best_epoch')}; "
        f"training {p.get('train_wall_s')} s" + (f"; whole command {wall_s / 60:.1f} min" if wall_s else "") + ".",
        "",
        "## Reproduce",
        "```",
        *_reproduce(p, bundle.name),
        "```",
        "",
        "## Credits and licence of the training data",
        *(f"- {GRID_CREDIT}" if "Cooke" in lic else f"- {lic}" for lic in p.get("licences", [])),
        "",
        "## Limits",
        f"- {len(p.get('speakers', []))} training speaker(s), most of the speech from GRID s1 (male, British "
        "English, studio audio); other voices remain the weak spot (see the goals below; four EMA utterances and "
        "five GRID speakers make small, noisy test sets, the dev set 32 clips of 23 people).",
        "- eq. (1) is in FAPU² over all FAPs, eyelids included (blinks dominate it; 'mouth' is jaw and lips only).",
        "- GRID has word alignments only: its phones are espeak-ng pronunciations spread evenly over each word.",
        "",
        "## FAP patterns (improved ISODATA, the paper's Table 1 on our corpus)",
        "",
        table1_markdown(p.get("isodata", {}).get("table1", []), p.get("isodata", {}).get("settings", {}).get(
            "min_samples")),
        "## int8 vs float (held-out frames)",
        "",
        *(f"- {k}: {v}" for k, v in q.items()),
        "",
    ]
    if evaluation is not None:
        lines += ["## Evaluation (device pipeline, vs the loudness 'jaw flapper')", "",
                  results_markdown({bundle.name: evaluation})]
    return "\n".join(lines) + "\n"


def _reproduce(p: dict, name: str) -> list[str]:
    """`corpus prepare` per training corpus (from its recorded sources, synced by a bundle where it was), then
    `train` (naming the bundle when its name is not the preset's default)."""
    from ventriloquist.training.corpus.prepare import option_flags

    sources, options = p.get("sources") or {}, p.get("source_options") or {}
    names = [f"CORPUS{i + 1}" for i in range(len(sources))] or ["CORPUS"]
    lines, prepares = [], []
    for folder, (corpus, srcs) in zip(names, sources.items(), strict=False):
        groups: dict[str, list[str]] = {}  # sources prepared with the same options: one command
        for src in srcs:
            o = options.get(corpus, {}).get(src, {})
            sync = o.get("sync_bundle")
            groups.setdefault(option_flags({**o, "sync_bundle": "SYNC_BUNDLE" if sync else None}), []).append(src)
            if sync and f"# SYNC_BUNDLE: the bundle {sync}" not in lines:
                lines.append(f"# SYNC_BUNDLE: the bundle {sync}")
        for flags, group in groups.items():
            prepares.append(f"ventriloquist corpus prepare {' '.join(map(shlex.quote, group))} --out {folder}"
                            + (f" {flags}" if flags else ""))
    lines += prepares
    named = "" if name == default_name(str(p.get("preset"))) else f" --name {name}"
    lines.append(f"ventriloquist train {' '.join(names)} --out RUN --preset {p.get('preset')} "
                 f"--seed {p.get('seed', 0)}{named} --export BUNDLE")
    return lines


def export_and_evaluate(run_dir: Path, out: Path, corpora: list[Path], *, name: str | None = None,
                        started_s: float | None = None) -> Path:
    """int8 bundle from a run; evaluated on `corpora` (when given) and written with MODEL_CARD.md."""
    from ventriloquist.device.bundle import write_bundle
    from ventriloquist.training.report import evaluation_report

    bundle, _ = bundle_from_run(run_dir, name)
    evaluation = None
    if corpora:
        evaluation = evaluation_report([bundle], corpora, run_dir / "report")[bundle.name]
    wall_s = time.monotonic() - started_s if started_s is not None else None
    card = model_card(bundle, evaluation, wall_s)
    return write_bundle(out, bundle, {"MODEL_CARD.md": card})
