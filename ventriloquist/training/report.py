"""Pictures and tables a person reads: Table 1 sweep, the pattern gallery, Fig. 6, the evaluation report."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ventriloquist.device.fap import ANIMATION_SUBSET, FAPS

GALLERY_COLUMNS = 8
FACE_SIZE_PX = (200, 200)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def table1_markdown(rows: list[dict], chosen: int | None = None) -> str:
    """The Table 1 sweep as markdown, with the paper's numbers beside ours."""
    paper = {32: (18, 3.559787), 20: (21, 4.813459), 10: (23, 2.947106), 5: (29, 2.916784), 3: (33, 2.997993)}
    lines = ["| min samples per class | classes (ours) | eq. (1) error, FAPU² (ours) | classes (paper) "
             "| error (paper) |",
             "|---:|---:|---:|---:|---:|"]
    for r in rows:
        p = paper.get(r["min_samples"], ("", ""))
        mark = " ←" if chosen is not None and r["min_samples"] == chosen else ""
        lines.append(f"| {r['min_samples']}{mark} | {r['classes']} | {r['error']:.1f} | {p[0]} | {p[1]} |")
    return "\n".join(lines) + "\n"


def _face_images(patterns: np.ndarray, faps: tuple[int, ...]) -> list[np.ndarray] | None:
    """Each pattern rendered by the cartoon face as an RGB array; None when pygame cannot render here."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    try:
        import pygame

        from ventriloquist.device.face.cartoon import CartoonFace

        pygame.init()
        face = CartoonFace(size=FACE_SIZE_PX)
        images = []
        for row in patterns:
            surface = face.render_frame({f: float(v) for f, v in zip(faps, row, strict=True)})
            images.append(np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2)).copy())
        return images
    except (ImportError, pygame.error):
        return None


def gallery_png(patterns: np.ndarray, faps: tuple[int, ...], path: Path, title: str) -> Path:
    """Every pattern as a rendered face (falls back to a mouth/brow sketch without the renderer)."""
    plt = _pyplot()
    k = len(patterns)
    cols = min(GALLERY_COLUMNS, k)
    rows = int(np.ceil(k / cols))
    images = _face_images(patterns, faps)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.3 + 0.4), squeeze=False)
    opening = -(patterns[:, faps.index(4)] + patterns[:, faps.index(5)])
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= k:
            continue
        if images is not None:
            ax.imshow(images[i])
        else:
            _sketch(ax, patterns[i], faps)
        ax.set_title(f"{i}: open {opening[i]:.0f}", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _sketch(ax, row: np.ndarray, faps: tuple[int, ...]) -> None:
    """Lips and brows as points moved by the FAPs (fallback when the renderer is unavailable)."""
    v = dict(zip(faps, row, strict=True))
    scale = 1 / 1024
    top = np.array([[-1, 0], [0, 0.15 - v.get(4, 0) * scale * 2], [1, 0]])
    bottom = np.array([[-1, 0], [0, -0.15 + v.get(5, 0) * scale * 2], [1, 0]])
    ax.plot(*top.T, "r-")
    ax.plot(*bottom.T, "r-")
    for side, (inner, outer) in ((-1, (31, 35)), (1, (32, 36))):
        ax.plot([side * 0.3, side * 1.0], [1.2 + v.get(inner, 0) * scale, 1.2 + v.get(outer, 0) * scale], "k-")
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-0.8, 1.6)


def fig6_png(times_s, real, model, baseline, path: Path, title: str) -> Path:
    """The paper's Fig. 6: upper-lip height (-lower_t_midlip, FAPU) of one held-out sentence."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(times_s, real, "k-", label="tracked (real)")
    ax.plot(times_s, model, "C0-", label="model (int8 bundle)")
    if baseline is not None:
        ax.plot(times_s, baseline, "C1--", label="loudness baseline", alpha=0.8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("upper-lip height (FAPU)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summary_png(results: dict[str, dict], path: Path) -> Path:
    """Mean lip-opening r and bilabial closure per group, for each predictor of each evaluated bundle."""
    plt = _pyplot()
    series: dict[str, dict[str, dict]] = {}
    for label, res in results.items():
        for group, d in res["groups"].items():
            series.setdefault(f"{label}", {})[group] = d["model"]
            series.setdefault("loudness baseline", {})[group] = d["loudness_baseline"]
    group_names = list(dict.fromkeys(g for res in results.values() for g in res["groups"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    width = 0.8 / max(len(series), 1)
    panels = (("opening_r_mean", "mean lip-opening r"),
              ("closure_contrast", "closure contrast: /p b m/ closed - other phones closed"))
    for j, (key, name) in enumerate(panels):
        ax = axes[j]
        for i, (label, per_group) in enumerate(series.items()):
            vals = [per_group.get(g, {}).get(key) or 0.0 for g in group_names]
            ax.bar(np.arange(len(group_names)) + i * width, vals, width, label=label)
        ax.set_xticks(np.arange(len(group_names)) + width * (len(series) - 1) / 2, group_names, fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.set_ylim(-0.1, 1)
        ax.axhline(0, color="k", lw=0.5)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fap_names(faps: tuple[int, ...] = ANIMATION_SUBSET) -> list[str]:
    return [FAPS[f].name for f in faps]


def write_run_report(run_dir: Path) -> None:
    """table1.md and patterns.png of a run folder."""
    from ventriloquist.training.train import load_run

    run = load_run(run_dir)
    iso = run["isodata"]
    (run_dir / "table1.md").write_text(table1_markdown(iso["table1"], iso["settings"]["min_samples"]))
    gallery_png(np.asarray(run["patterns"], np.float32), tuple(run["faps"]), run_dir / "patterns.png",
                f"{iso['classes']} FAP patterns (ISODATA, {run['preset']['name']} preset, "
                f"min {iso['settings']['min_samples']} samples/class)")


def evaluation_report(bundles: list, corpora: list[Path], out_dir: Path, *, seed: int = 0) -> dict:
    """Evaluate each bundle on the corpora; writes report.json, report.md, summary.png and fig6_<name>.png."""
    from ventriloquist.training.corpus.manifest import load_manifest, write_json
    from ventriloquist.training.evaluate import evaluate

    entries = [e for c in corpora for e in load_manifest(c)]
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    for b in bundles:
        label = b.name if b.name not in results else f"{b.name} ({b.path.name if b.path else len(results)})"
        speakers = set(b.provenance.get("speakers", []))
        results[label] = evaluate(b, entries, speakers, seed=seed)
        _fig6(b, entries, speakers, out_dir / f"fig6_{label.replace(' ', '_').replace('(', '').replace(')', '')}.png")
    trained_on = {speaker for b in bundles for speaker in b.provenance.get("speakers", [])}
    _dev_lips(bundles, entries, trained_on, out_dir / "dev_lips.png")
    write_json(out_dir / "report.json", results)
    (out_dir / "report.md").write_text(results_markdown(results))
    summary_png(results, out_dir / "summary.png")
    return results


def _fig6(bundle, entries, speakers: set[str], path: Path) -> None:
    from ventriloquist.training.evaluate import bundle_predictor, fit_flapper, flapper_predictor, utterance

    held = [e for e in entries if e.faps is not None and e.split == "heldout" and e.speaker in speakers]
    train = [e for e in entries if e.faps is not None and e.split == "train" and e.speaker in speakers]
    if not held or not train:
        return
    u = utterance(held[0], "s1_open")
    assert u.faps is not None  # a held-out sentence of the corpus, with its FAP track
    col = ANIMATION_SUBSET.index(4)
    curves = []
    for predict in (bundle_predictor(bundle), flapper_predictor(fit_flapper(train))):
        t, faps = predict(u.samples, u.rate_hz)
        curves.append(-np.interp(u.times_s, t, faps[:, col]))
    fig6_png(u.times_s, -u.faps[:, col], curves[0], curves[1], path,
             f"upper-lip height, held-out sentence {u.id}: real vs {bundle.name}")


DEV_PLOT_CLIPS = 4
"""Dev-set clips drawn in dev_lips.png (the longest ones, so each shows running speech) ..."""
DEV_PLOT_S = 8.0
"""... their first seconds, so single movements stay visible."""


def _dev_lips(bundles: list, entries, speakers: set[str], path: Path) -> None:
    """Tracked vs each bundle's lip opening (each curve scaled to mean 0, spread 1) on a few dev-set clips."""
    from ventriloquist.training.evaluate import bundle_predictor, groups, opening_of, utterance

    dev = sorted(groups(entries, speakers)["dev"], key=lambda e: -e.duration_s)[:DEV_PLOT_CLIPS]
    if not dev:
        return
    predictors = [(b.name, bundle_predictor(b)) for b in bundles]
    plt = _pyplot()
    fig, axes = plt.subplots(len(dev), 1, figsize=(9, 1.9 * len(dev)), squeeze=False)
    for ax, entry in zip(axes[:, 0], dev, strict=True):
        u = utterance(entry, "dev")
        curves = [(u.opening, "k-", "tracked lips")]
        for i, (name, predict) in enumerate(predictors):
            t, faps = predict(u.samples, u.rate_hz)
            curves.append((np.interp(u.times_s, t, opening_of(faps)), f"C{i}-", name))
        for values, style, label in curves:
            ok = np.isfinite(values) & (u.times_s < DEV_PLOT_S)
            z = (values - np.nanmean(values)) / (np.nanstd(values) + 1e-9)
            ax.plot(u.times_s[ok], z[ok], style, lw=1, label=label)
        ax.set_title(f"{u.speaker}: {u.id}", fontsize=8)
        ax.set_yticks([])
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time (s); lip opening, each curve scaled to mean 0 and spread 1")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}" if abs(v) < 100 else f"{v:.0f}"


def _closure(m: dict) -> str:
    return f"{_fmt(m['bilabial_closed'])} | {_fmt(m['false_closure'])} | {_fmt(m['closure_contrast'])}"


def _common(m: dict) -> str:
    """r at the group's common lag, with the lag (+: the prediction comes late); older results lack it."""
    c = m.get("opening_r_common_lag")
    return "–" if not c or c["r"] is None else f"{c['r']:.3f} ({c['lag_s'] * 1000:+.0f} ms)"


def results_markdown(results: dict) -> str:
    """One table per bundle: groups x (eq. 1, r, bilabial closure, false closure) for model and baseline."""
    out = []
    for name, res in results.items():
        out += [f"### {name}", "", "| group | n | who | eq. (1) FAPU² | eq. (1) mouth | mean lip-opening r "
                "| r at best lag (±200 ms) | r at the group's best common lag | bilabials closed | false closures "
                "| contrast |",
                "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for group, d in res["groups"].items():
            for who in ("model", "loudness_baseline"):
                m = d[who]
                eq1 = f"{_fmt(m['eq1_error'])} | {_fmt(m['eq1_error_mouth'])}"
                out.append(f"| {group} | {m['utterances']} | {who} | {eq1} | "
                           f"{_fmt(m['opening_r_mean'])} | {_fmt(m['opening_r_best_lag_mean'])} | {_common(m)} | "
                           f"{_closure(m)} |")
            ref = d["reference"]
            out.append(f"| {group} | | reference track | | | | | | {_closure(ref)} |")
        dev = res["groups"].get("dev")
        if dev:
            out += ["", "Dev set per person (mean lip-opening r over the person's clips, lag 0):", "",
                    "| person | model | loudness |", "|---|---:|---:|"]
            base = dev["loudness_baseline"]["opening_r_by_speaker"]
            out += [f"| {who} | {_fmt(r)} | {_fmt(base.get(who))} |"
                    for who, r in dev["model"]["opening_r_by_speaker"].items()]
        sweeps = {g: d["model"]["opening_r_by_level"] for g, d in res["groups"].items()
                  if "opening_r_by_level" in d["model"]}
        if sweeps:
            out += ["", "Lip-opening r with the input played quieter or louder (the loudness baseline's r does not "
                    "change with gain):", ""]
            out += [f"- {g}: " + ", ".join(f"{level} {_fmt(r)}" for level, r in sweep.items())
                    for g, sweep in sweeps.items()]
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
