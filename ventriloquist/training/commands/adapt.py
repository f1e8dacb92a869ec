"""Fine-tune a bundle on one known voice: a few minutes of that person's video -> an adapted bundle.

    ventriloquist adapt me1.mp4 me2.mp4 --out my_bundle          # videos with their soundtrack
    ventriloquist adapt --corpus CORPUS --speaker ng --out BUNDLE  # a person of a prepared corpus

The videos are tracked like `corpus prepare` does (train extra + face tracker). A quarter of the
person's speech is held out (whole clips when there are two or more, else the end of the one clip)
and the model card gives lip-opening r on it before and after.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ventriloquist.device.bundle import SHIPPED_BUNDLE

    parser.add_argument("source", nargs="*", help="the person's videos or folders of videos")
    parser.add_argument("--out", required=True, type=Path, help="adapted bundle folder to write")
    parser.add_argument("--bundle", type=Path, default=SHIPPED_BUNDLE, help="bundle to start from (default: shipped)")
    parser.add_argument("--corpus", type=Path, help="take the person's clips from this prepared corpus instead")
    parser.add_argument("--speaker", help="the person's name (with --corpus: which speaker's clips)")
    parser.add_argument("--work", type=Path, help="where the videos' corpus is prepared (default: OUT-work)")
    parser.add_argument("--epochs", type=int, default=40, help="most fine-tuning epochs (early stopping ends sooner)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", help="bundle name (default: BASE-NAME-adapted-SPEAKER)")


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.bundle import load_bundle, write_bundle
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.training.adapt import AdaptSettings, adapt
    from ventriloquist.training.corpus.manifest import load_manifest
    from ventriloquist.training.export import model_card

    if bool(args.source) == bool(args.corpus):
        raise VentriloquistError("adapt: give the person's videos, or --corpus with --speaker (not both)")
    base = load_bundle(args.bundle)
    corpus = args.corpus or _prepare(args)
    entries = [e for e in load_manifest(corpus) if e.faps is not None]
    speaker = args.speaker or (entries[0].speaker if entries else None)
    entries = [e for e in entries if e.speaker == speaker]
    if not entries:
        raise VentriloquistError(f"adapt: {corpus} has no tracked clip of speaker {speaker!r}")
    settings = AdaptSettings(max_epochs=args.epochs, seed=args.seed)
    adapted, measured = adapt(base, entries, settings=settings, cache_dir=corpus / ".feature_cache")
    adapted = replace(adapted, name=args.name or f"{base.name}-adapted-{speaker}")
    card = model_card(adapted, None, None) + _adaptation_card(adapted.provenance["adapted"])
    write_bundle(args.out, adapted, {"MODEL_CARD.md": card})
    print(f"{speaker}: held-out lip-opening r {measured['heldout_r_before']:.3f} -> {measured['heldout_r_after']:.3f} "
          f"(loudness {measured['heldout_r_loudness']:.3f}); bundle written to {args.out}")
    return 0


def _prepare(args) -> Path:
    from ventriloquist.training.corpus.prepare import PrepareSettings, prepare

    work = args.work or args.out.with_name(args.out.name + "-work")
    prepare([f"video@train:{s}" for s in args.source], PrepareSettings(out=work, speaker=args.speaker))
    return work


def _adaptation_card(a: dict) -> str:
    return "\n".join([
        "## Speaker adaptation", "",
        f"Fine-tuned from `{a['from']}` on {a['fit_s']} s of {', '.join(a['speakers'])} "
        f"({len(a['fit_clips'])} clip(s); best epoch {a['best_epoch']}).", "",
        "| held-out speech of the person | lip-opening r |", "|---|---:|",
        f"| before (the bundle it started from) | {a['heldout_r_before']:.3f} |",
        f"| after | {a['heldout_r_after']:.3f} |",
        f"| loudness envelope | {a['heldout_r_loudness']:.3f} |", "",
    ])
