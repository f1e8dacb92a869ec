"""Convert a training run to a full-integer int8 bundle (checked against the float net), with its model card."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="training run folder (`ventriloquist train --out`)")
    parser.add_argument("--out", required=True, type=Path, help="bundle folder to write (replaced atomically)")
    parser.add_argument("--name", help="bundle name (default: ventriloquist-<preset>)")
    parser.add_argument("--corpus", type=Path, action="append", default=[],
                        help="evaluate on these corpora too and quote the figures in MODEL_CARD.md")


def run(args: argparse.Namespace) -> int:
    from ventriloquist.training.export import export_and_evaluate

    bundle_path = export_and_evaluate(args.run_dir, args.out, list(args.corpus), name=args.name)
    print(f"bundle written to {bundle_path}")
    return 0
