"""Convert a training run to a full-integer int8 bundle (checked against the float net), with its model card."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="training run folder (`ventriloquist train --out`)")
    parser.add_argument("--out", required=True, type=Path, help="bundle folder to write (replaced atomically)")
    parser.add_argument("--name", help="bundle name (default: ventriloquist-<preset>)")
    parser.add_argument("--corpus", type=Path, action="append", default=[],
                        help="evaluate on these corpora too and quote the figures in MODEL_CARD.md")


def run(args: argparse.Namespace) -> int:
    bundle_path = export_and_evaluate(args.run_dir, args.out, list(args.corpus), name=args.name)
    print(f"bundle written to {bundle_path}")
    return 0


def write_run_report(run_dir: Path) -> None:
    """table1.md and patterns.png of a run folder."""
    import numpy as np

    from training.report import gallery_png, table1_markdown
    from training.train import load_run

    run = load_run(run_dir)
    iso = run["isodata"]
    (run_dir / "table1.md").write_text(table1_markdown(iso["table1"], iso["settings"]["min_samples"]))
    gallery_png(np.asarray(run["patterns"], np.float32), tuple(run["faps"]), run_dir / "patterns.png",
                f"{iso['classes']} FAP patterns (ISODATA, {run['preset']['name']} preset, "
                f"min {iso['settings']['min_samples']} samples/class)")


def evaluation_report(bundles: list, corpora: list[Path], out_dir: Path, *, seed: int = 0) -> dict:
    """Evaluate each bundle on the corpora; writes report.json, report.md, summary.png and fig6_<name>.png."""
    from training.corpus.manifest import load_manifest, write_json
    from training.evaluate import evaluate
    from training.report import summary_png

    entries = [e for c in corpora for e in load_manifest(c)]
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for b in bundles:
        label = b.name if b.name not in results else f"{b.name} ({b.path.name if b.path else len(results)})"
        speakers = set(b.provenance.get("speakers", []))
        results[label] = evaluate(b, entries, speakers, seed=seed)
        _fig6(b, entries, speakers, out_dir / f"fig6_{label.replace(' ', '_').replace('(', '').replace(')', '')}.png")
    write_json(out_dir / "report.json", results)
    (out_dir / "report.md").write_text(results_markdown(results))
    summary_png(results, out_dir / "summary.png")
    return results


def _fig6(bundle, entries, speakers: set[str], path: Path) -> None:
    import numpy as np

    from device.fap import ANIMATION_SUBSET
    from training.evaluate import bundle_predictor, fit_flapper, flapper_predictor, utterance
    from training.report import fig6_png

    held = [e for e in entries if e.faps is not None and e.split == "heldout" and e.speaker in speakers]
    train = [e for e in entries if e.faps is not None and e.split == "train" and e.speaker in speakers]
    if not held or not train:
        return
    u = utterance(held[0], "s1_open")
    col = ANIMATION_SUBSET.index(4)
    curves = []
    for predict in (bundle_predictor(bundle), flapper_predictor(fit_flapper(train))):
        t, faps = predict(u.samples, u.rate_hz)
        curves.append(-np.interp(u.times_s, t, faps[:, col]))
    fig6_png(u.times_s, -u.faps[:, col], curves[0], curves[1], path,
             f"upper-lip height, held-out sentence {u.id}: real vs {bundle.name}")


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}" if abs(v) < 100 else f"{v:.0f}"


def _closure(m: dict) -> str:
    return f"{_fmt(m['bilabial_closed'])} | {_fmt(m['false_closure'])} | {_fmt(m['closure_contrast'])}"


def results_markdown(results: dict) -> str:
    """One table per bundle: groups x (eq. 1, r, bilabial closure, false closure) for model and baseline."""
    out = []
    for name, res in results.items():
        out += [f"### {name}", "", "| group | n | who | eq. (1) FAPU² | eq. (1) mouth | mean lip-opening r "
                "| bilabials closed | false closures | contrast |", "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
        for group, d in res["groups"].items():
            for who in ("model", "loudness_baseline"):
                m = d[who]
                eq1 = f"{_fmt(m['eq1_error'])} | {_fmt(m['eq1_error_mouth'])}"
                out.append(f"| {group} | {m['utterances']} | {who} | {eq1} | "
                           f"{_fmt(m['opening_r_mean'])} | {_closure(m)} |")
            ref = d["reference"]
            out.append(f"| {group} | | reference track | | | | {_closure(ref)} |")
        out += ["", "Goals:", ""]
        for key, goal in res["goals"].items():
            if key == "beats_baseline":
                lost = [f"{x['group']}/{x['measure']}" for x in goal["each"] if not x["better"]]
                out.append(f"- better than the loudness baseline on every measure: {goal['all']}"
                           + (f" (not on: {', '.join(lost)})" if lost else ""))
            else:
                out.append(f"- {key}: {goal['value']:.3f} (goal {goal['goal']}): {'met' if goal['met'] else 'NOT met'}")
        out.append("")
    return "\n".join(out)


def export_and_evaluate(run_dir: Path, out: Path, corpora: list[Path], *, name: str | None = None,
                        started_s: float | None = None) -> Path:
    """int8 bundle from a run; evaluated on `corpora` (when given) and written with MODEL_CARD.md."""
    from device.bundle import write_bundle
    from training.export import bundle_from_run, model_card

    bundle, check = bundle_from_run(run_dir, name)
    evaluation = None
    if corpora:
        evaluation = evaluation_report([bundle], corpora, run_dir / "report")[bundle.name]
    wall_s = time.monotonic() - started_s if started_s is not None else None
    card = model_card(bundle, evaluation, wall_s)
    return write_bundle(out, bundle, {"MODEL_CARD.md": card})
