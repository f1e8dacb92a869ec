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
    from ventriloquist.device.model import TfliteModel

    bundle = load_bundle(args.bundle, check_model=False)
    model = TfliteModel(bundle.model_bytes, backend=args.backend, where=f"bundle {args.bundle}: model.tflite")
    model.check_shapes(bundle.frontend_settings().input_dim, bundle.n_outputs)
    print(f"ok {bundle.summary()} [{model.backend}]")
    return 0
