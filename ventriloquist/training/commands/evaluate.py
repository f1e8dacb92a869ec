"""Evaluate bundles (paper protocol, lip-opening r, bilabial closure) against the loudness baseline: JSON + PNGs."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", nargs="+", type=Path, help="bundle folder(s) to evaluate side by side")
    parser.add_argument("--corpus", required=True, type=Path, action="append",
                        help="prepared corpus folder (repeat for more, e.g. GRID and EMA)")
    parser.add_argument("--out", required=True, type=Path, help="report folder (report.json, report.md, PNGs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the closed-set clip sample")


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.bundle import load_bundle
    from ventriloquist.training.report import evaluation_report

    bundles = [load_bundle(p) for p in args.bundle]
    results = evaluation_report(bundles, list(args.corpus), args.out, seed=args.seed)
    for name, res in results.items():
        g = res["groups"]
        line = ", ".join(f"{k} r={v['model']['opening_r_mean']:.3f}" for k, v in g.items()
                         if v["model"]["opening_r_mean"] is not None)
        print(f"{name}: {line}")
    print(f"report written to {args.out}")
    return 0
