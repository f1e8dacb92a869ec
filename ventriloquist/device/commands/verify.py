"""Check a model bundle: every checksum, the settings, the pattern table, and that the model loads.

Exit 0 with a one-line summary, or a one-line reason and exit 2.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle folder (e.g. ventriloquist/device/default_bundle)")
    parser.add_argument("--backend", choices=("litert", "tflite-runtime"), help="TFLite interpreter to load it with")


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.bundle import load_bundle
    from ventriloquist.device.model import load_model

    bundle = load_bundle(args.bundle)
    model = load_model(bundle, args.backend)
    print(f"ok {bundle.summary()} [{model.backend}]")
    return 0
