"""Measure speed and latency; prints one JSON object per figure per line.

Each figure: {"name": ..., "value": ..., "unit": ..., ...}. Names are stable so a
Pi and a workstation can be compared run against run.
"""

from __future__ import annotations

import argparse
import importlib
import json

BENCHES: dict[str, str] = {
    "frontend": "ventriloquist.device.frontend.bench:bench_frontend",
    "bake": "ventriloquist.device.bench_runtime:bench_bake",
    "live": "ventriloquist.device.bench_runtime:bench_live",
    "soak": "ventriloquist.device.bench_runtime:bench_soak",
    "render": "ventriloquist.device.face.bench:bench_render",
    "photo": "ventriloquist.device.face.bench:bench_photo",
    "firmware": "ventriloquist.firmware_bridge.build:bench_firmware",
    "cost": "ventriloquist.device.bench_cost:bench_cost",
}
"""bench name -> "module:function" returning a list of figure dicts."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which benches (default: all): {', '.join(BENCHES)}")


def run(args: argparse.Namespace) -> int:
    from ventriloquist.device.errors import VentriloquistError

    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:
        raise VentriloquistError(f"unknown bench {unknown[0]!r}; choose from {', '.join(BENCHES)}")
    for name in args.names or list(BENCHES):
        module_name, func = BENCHES[name].split(":")
        for figure in getattr(importlib.import_module(module_name), func)():
            print(json.dumps({"bench": name, **figure}), flush=True)
    return 0
