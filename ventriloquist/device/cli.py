"""`ventriloquist` entry point: parses, builds settings, hands over to one command module.

Each command lives in its own module with `add_arguments(parser)` and `run(args) -> int`;
only the chosen command's module is imported, and modules import heavy things (TensorFlow,
pygame) inside `run`, so start-up is fast and a device install can still describe the
training commands.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from typing import NoReturn

from ventriloquist.device.errors import VentriloquistError, plain_text

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("demo", "ventriloquist.device.commands.demo",
     "the main job on the shipped bundle: live face, else a video of sample speech"),
    ("run", "ventriloquist.device.commands.run", "drive the face live: microphone, file or stdin"),
    ("bake", "ventriloquist.device.commands.bake", "animate an audio file offline (.fap, .csv, .json, Rhubarb .tsv)"),
    ("render", "ventriloquist.device.commands.render",
     "animate an audio file into a talking-face MP4 (cartoon style or photo)"),
    ("verify", "ventriloquist.device.commands.verify", "check a model bundle's checksums and contents"),
    ("bench", "ventriloquist.device.commands.bench", "print speed/latency figures as JSON lines"),
    ("doctor", "ventriloquist.device.commands.doctor", "check the box: config, bundle, audio, display, servos, CPU"),
    ("corpus", "ventriloquist.training.corpus.command",
     "prepare an audio-visual corpus: videos -> audio + MPEG-4 FAP tracks"),
    ("train", "ventriloquist.training.commands.train",
     "find FAP patterns (ISODATA) and train the net on a corpus (train extra)"),
    ("evaluate", "ventriloquist.training.commands.evaluate",
     "score a bundle: paper protocol, lip-opening r, bilabial closure"),
    ("photo-points", "ventriloquist.training.commands.photo_points",
     "find a face photo's neutral feature points for render --photo (face tracker)"),
    ("export", "ventriloquist.training.commands.export", "turn a training run into a verified int8 model bundle"),
    ("adapt", "ventriloquist.training.commands.adapt",
     "fine-tune a bundle on one known voice from a few minutes of video (train extra)"),
    ("calibrate", "ventriloquist.firmware_bridge.calibrate",
     "jog each servo and set its min/neutral/max, saved to CONFIG"),
)
"""(name, module, one-line help), in the order `--help` lists them."""

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

TRAINING_MODULES = {"tensorflow": "train", "keras": "train", "matplotlib": "train", "mediapipe": "track"}
"""Import names that only a workstation extra provides -> that extra."""


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so it unwinds as Ctrl-C does: temporary files go, children stop."""


def _terminate(signum, frame) -> None:
    raise Terminated


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors on one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("ventriloquist").strip()
        raise VentriloquistError(f"{where + ': ' if where else ''}{message} (see --help)")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; given `argv`, only the chosen command's module is imported and described."""
    parser = _Parser(prog="ventriloquist", description="Speech in, MPEG-4 face motion out: offline, in real time.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, module_name, help_text in COMMANDS:
        if chosen is not None and name != chosen:
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def pin_blas_threads() -> None:
    """One BLAS thread unless the environment says otherwise. The runtime works on small matrices, one stream at
    a time: a multi-threaded BLAS only adds hand-over cost there (20x slower frames measured with 2 threads on a
    busy 2-core machine). It must run before numpy is first imported: main() does it first."""
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def main(argv: list[str] | None = None) -> int:
    pin_blas_threads()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None  # `run` has its own
    try:
        return _dispatch(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _dispatch(argv: list[str] | None) -> int:
    """Parse, run the command, and turn expected failures and stops into one line and an exit status."""
    try:
        argv = sys.argv[1:] if argv is None else argv
        args = build_parser(argv).parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO, format="ventriloquist: %(message)s"
        )
        return int(args._run(args) or 0)
    except VentriloquistError as e:
        print(f"ventriloquist: error: {plain_text(str(e))}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        extra = TRAINING_MODULES.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"ventriloquist: error: this command needs the '{extra}' extra ({e.name} is not installed): "
            f"pip install 'ventriloquist[{extra}]'",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Terminated:
        return 128 + signal.SIGTERM


if __name__ == "__main__":
    sys.exit(main())
