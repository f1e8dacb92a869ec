"""Train FAP patterns and a pattern net on a prepared corpus; optionally export, evaluate and write a bundle.

Reproduce the shipped model (about 15 minutes on 2 cores; the bundle's MODEL_CARD.md has every command):
    ventriloquist corpus prepare grid:../shared/data/grid_s1 grid:../shared/data/grid_speakers ema:../shared/data/ema \\
        --out CORPUS
    ventriloquist corpus prepare video@train:../shared/data/talking_faces/train/PERSON ... --out PEOPLE \
        --sync-bundle VOICES2   # the ventriloquist-voices-2 bundle, the one shipped before (git history)
    ventriloquist train CORPUS PEOPLE --out RUN --preset voices --name ventriloquist-voices-3 --export BUNDLE
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ventriloquist.device.frontend import PRESETS
    from ventriloquist.training.train import PRESETS as TRAIN_PRESETS

    parser.epilog = "feature presets (algorithmic latency = half a window + future context):\n" + "\n".join(
        f"  {settings.describe()}" for settings in PRESETS.values()
    )
    parser.add_argument("corpus", nargs="+", type=Path, help="prepared corpus folder(s) (`corpus prepare`)")
    parser.add_argument("--out", required=True, type=Path, help="run folder to write (model, patterns, report)")
    parser.add_argument("--preset", default="default", choices=tuple(TRAIN_PRESETS),
                        help="default: MFCC, softmax pattern blend; voices: the same on running-normalised "
                             "features, speakers balanced, s1 re-voiced; paper: LPC + RASTA-PLP, 108-80-5 "
                             "binary BP net")
    parser.add_argument("--seed", type=int, default=0, help="seed for splits, clustering, augmentation, weights")
    parser.add_argument("--jobs", type=int, default=2, help="feature-extraction processes")
    parser.add_argument("--max-clips", type=int, help="use only the first N training clips (quick runs, tests)")
    parser.add_argument("--epochs", type=int, help="maximum epochs (early stopping usually ends sooner)")
    parser.add_argument("--copies", type=int, help="augmented copies per clip (overrides the preset)")
    parser.add_argument("--export", type=Path, metavar="BUNDLE",
                        help="also convert to int8, evaluate and write a bundle folder here (with MODEL_CARD.md)")
    parser.add_argument("--eval-corpus", type=Path, action="append", default=[],
                        help="extra corpus folder(s) for the evaluation of --export (e.g. EMA recordings)")
    parser.add_argument("--name", help="bundle name (default: ventriloquist-<preset>)")


def run(args: argparse.Namespace) -> int:
    import time

    from ventriloquist.training.train import settings_for, train

    started = time.monotonic()
    settings = settings_for(args.preset, seed=args.seed, max_clips=args.max_clips, max_epochs=args.epochs,
                            copies=args.copies)
    train(list(args.corpus), args.out, settings, jobs=args.jobs)
    from ventriloquist.training.report import write_run_report

    write_run_report(args.out)
    if args.export:
        from ventriloquist.training.export import export_and_evaluate

        export_and_evaluate(args.out, args.export, list(args.corpus) + list(args.eval_corpus), name=args.name,
                            started_s=started)
    print(f"run written to {args.out}" + (f", bundle to {args.export}" if args.export else ""))
    return 0
