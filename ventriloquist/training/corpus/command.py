"""`ventriloquist corpus`: prepare an audio-visual corpus, and report on one."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SOURCES_HELP = """\
SOURCE forms (several may be given; all go into one corpus):
  PATH                  a video file or a folder of videos with a soundtrack
                        (mp4, mkv, mpg, webm, mov, avi), split train/heldout by clip
  video[@SPLIT]:PATH    the same, explicitly
  grid[@SPLIT]:PATH     GRID corpus folder (video/*.mp4 + align/*.align, or .mpg + .align side
                        by side); a folder named sN/grid_sN is one speaker split train/heldout
                        by sentence, any other folder is eval material, one speaker per video
  ema[@SPLIT]:PATH      EMA recordings (MOCHA .ema, Haskins .mat, XRMB .txy) -> lip aperture,
                        lip protrusion, jaw opening in mm; split eval
SPLIT is sentence (hash of the sentence id: ~10% heldout), train, heldout or eval.
Example:
  ventriloquist corpus prepare grid:../shared/data/grid_s1 grid:../shared/data/grid_speakers \\
      ema:../shared/data/ema --out corpus/
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `corpus` sub-actions: prepare, report."""
    actions = parser.add_subparsers(dest="corpus_action", required=True, metavar="ACTION")
    prep = actions.add_parser(
        "prepare",
        help="videos/GRID/EMA -> WAV + FAP tracks + manifest.jsonl (resumable)",
        description="Track faces, compute MPEG-4 FAPs and write a corpus; re-running skips finished clips.",
        epilog=SOURCES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prep.add_argument("sources", nargs="+", metavar="SOURCE", help="what to import (forms below)")
    prep.add_argument("--out", required=True, type=Path, help="corpus folder (created; outside the repository)")
    prep.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel tracker workers (default: cores)")
    prep.add_argument(
        "--engine", choices=("local", "dask", "ray"), default="local",
        help="local process pool, or a Dask/Ray cluster ($DASK_SCHEDULER_ADDRESS, $RAY_ADDRESS)",
    )  # fmt: skip
    prep.add_argument("--speaker", help="speaker name for plain video sources (default: the folder name)")
    prep.add_argument("--licence", help="licence to record for plain video sources")
    prep.add_argument("--min-face-found", type=float, default=0.5, help="skip clips with a face in fewer frames")
    prep.add_argument("--sync-bundle", type=Path, metavar="BUNDLE",
                      help="find each training clip's audio offset from this bundle's predicted lips instead of the "
                           "speech band's loudness (stronger on other people's speech); held-out and eval clips "
                           "keep the speech band")  # fmt: skip
    prep.add_argument("--plot", metavar="CLIP", action="append", default=[],
                      help="also write DIR/plots/CLIP.png for this clip id (repeatable)")  # fmt: skip
    rep = actions.add_parser("report", help="per-clip table (DIR/report.tsv) and PNGs of chosen clips")
    rep.add_argument("corpus", type=Path, help="prepared corpus folder")
    rep.add_argument("--clip", action="append", default=[], help="clip id to plot (repeatable)")
    rep.add_argument("--png", type=Path, help="where to write the PNG (one --clip only; default DIR/plots/ID.png)")


def _plots(root: Path, clips: list[str], png: Path | None) -> None:
    from ventriloquist.training.corpus.report import plot_clip

    for clip in clips:
        out = png if png and len(clips) == 1 else root / "plots" / f"{clip}.png"
        print(f"wrote {plot_clip(root, clip, out)}")


def run(args: argparse.Namespace) -> int:
    """Run the chosen corpus action; expected failures raise VentriloquistError."""
    from ventriloquist.device.bundle import load_bundle
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.device.outputs import make_output_folder
    from ventriloquist.training.corpus.report import write_report

    if args.corpus_action == "report":
        print(f"wrote {write_report(args.corpus)}")
        _plots(args.corpus, args.clip, args.png)
        return 0
    from ventriloquist.training.corpus.prepare import PrepareSettings, prepare
    from ventriloquist.training.corpus.videos import USER_LICENCE

    if args.jobs < 1:
        raise VentriloquistError(f"--jobs must be at least 1, not {args.jobs}")
    if args.sync_bundle:
        load_bundle(args.sync_bundle)  # a bundle that cannot be trusted stops the run before anything is written
    make_output_folder(args.out, "--out")
    settings = PrepareSettings(
        out=args.out, jobs=args.jobs, engine=args.engine, min_face_found=args.min_face_found,
        speaker=args.speaker, licence=args.licence or USER_LICENCE, sync_bundle=args.sync_bundle,
    )  # fmt: skip
    summary = prepare(args.sources, settings)
    for clip, reason in sorted(summary.skipped.items()):
        print(f"skipped {clip}: {reason}", file=sys.stderr)
    report = write_report(args.out)
    print(
        f"{len(summary.added)} new entries, {summary.already} already done, {len(summary.skipped)} skipped "
        f"in {summary.wall_s:.1f} s -> {args.out / 'manifest.jsonl'} (report: {report})"
    )
    _plots(args.out, args.plot, None)
    return 0
