"""Argument types and the options that several commands share, so each is spelled and checked once."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from ventriloquist.device.app import PipelineOptions
from ventriloquist.device.bundle import SHIPPED_BUNDLE
from ventriloquist.device.config import MAX_EXAGGERATION


def exaggeration(text: str) -> float:
    """--exaggerate GAIN: a number from 0 to MAX_EXAGGERATION."""
    try:
        gain = float(text)
    except ValueError:
        gain = -1.0
    if not 0 <= gain <= MAX_EXAGGERATION:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to {MAX_EXAGGERATION:g}, not {text!r}")
    return gain


def positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type: a finite number > 0 of `kind`, so 0, -5 or nan never stand in for a default."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number > 0, not {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be a number > 0, not {text!r}")
        return value
    return parse


def add_look_arguments(parser: argparse.ArgumentParser, *, photo: bool = True, live: bool = False) -> None:
    """--exaggerate, --photo and --points: how the face looks, the same for a video (render, demo: no photo) and
    live (run, where a config file may give them too and --photo turns the face on)."""
    configured = "the config's, else " if live else ""
    default = f"{configured}the style's for the cartoon, 1 for a photo" if photo else "the style's"
    parser.add_argument("--exaggerate", type=exaggeration, metavar="GAIN",
                        help=f"mouth and jaw gain: 1 = as measured (default: {default})")
    if photo:
        parser.add_argument("--photo", metavar="IMAGE", help="warp this frontal face photo instead of the cartoon"
                            + (" (turns the face on)" if live else ""))
        parser.add_argument("--points", metavar="JSON", help="the photo's neutral feature points, from `ventriloquist "
                            f"photo-points` (default: {configured}found by the face tracker, on a workstation)")


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by run, bake, render and demo."""
    parser.add_argument("--bundle", default=None,
                        help=f"model bundle folder (default: {SHIPPED_BUNDLE})")
    parser.add_argument("--no-idle", action="store_true", help="no blinks or brow drift")
    parser.add_argument("--no-smoothing", action="store_true", help="raw model frames (for analysis)")
    parser.add_argument("--seed", type=int, default=0, help="idle behaviour seed (default: %(default)s)")


def pipeline_options(args: argparse.Namespace) -> PipelineOptions:
    """What add_pipeline_arguments' options ask for."""
    return PipelineOptions(bundle=Path(args.bundle) if args.bundle else None, idle=not args.no_idle,
                           smoothing=not args.no_smoothing, seed=args.seed)
