"""GRID audio-visual corpus importer: videos + word alignments, speaker from the folder, split by sentence."""

from __future__ import annotations

import re
from pathlib import Path

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.training.corpus.videos import VIDEO_SUFFIXES, Clip, safe_name, split_of

GRID_LICENCE = (
    "CC BY 4.0; credit: Cooke, Barker, Cunningham, Shao (2006), An audio-visual corpus for speech "
    "perception and automatic speech recognition"
)
ALIGN_TICKS_PER_S = 25000.0
"""GRID .align times are in 1/25,000 s."""
SILENCE_LABELS = ("sil", "sp")
SENTENCE_ID = re.compile(r"([a-z]{4}[0-9a-z][a-z])$")
"""GRID sentence ids: command, colour, preposition, letter, digit, adverb initials (e.g. bbaf2n)."""
SPEAKER_FOLDER = re.compile(r"(?:^|_)(s\d{1,2})$")
"""A folder named for one GRID speaker (s1, grid_s1)."""


def read_align(path: Path) -> tuple[tuple[float, float, str], ...]:
    """Words of a GRID .align file as (start_s, end_s, word), silences dropped."""
    words = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise VentriloquistError(f"{path}: line {number} is not 'start end word'")
        start, end, word = parts
        if word not in SILENCE_LABELS:
            words.append((int(start) / ALIGN_TICKS_PER_S, int(end) / ALIGN_TICKS_PER_S, word))
    return tuple(words)


def _alignment_for(video: Path, sentence: str, root: Path) -> Path | None:
    for folder in (video.parent, root / "align", video.parent.parent / "align"):
        for name in (video.stem, sentence):
            candidate = folder / f"{name}.align"
            if candidate.exists():
                return candidate
    return None


def find_grid(root: Path, split_policy: str | None = None) -> list[Clip]:
    """GRID clips under `root` (video/*.mp4 + align/*.align, or videos and .align files side by side).

    A folder named for a speaker (s1, grid_s1) gives that speaker to every clip; otherwise each
    video is taken to be its own speaker, named after the file. Unless `split_policy` says
    otherwise, a named speaker is split by sentence (train/heldout) and other speakers are "eval".
    """
    root = Path(root)
    if not root.is_dir():
        raise VentriloquistError(f"{root}: no such GRID folder")
    videos = sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not videos:
        raise VentriloquistError(f"{root}: no GRID videos ({', '.join(VIDEO_SUFFIXES)})")
    folder_speaker = SPEAKER_FOLDER.search(root.resolve().name)
    split_policy = split_policy or ("sentence" if folder_speaker else "eval")
    clips = []
    for video in videos:
        match = SENTENCE_ID.search(video.stem)
        sentence = match.group(1) if match else safe_name(video.stem)
        speaker = folder_speaker.group(1) if folder_speaker else f"grid-{safe_name(video.stem)}"
        align = _alignment_for(video, sentence, root)
        words = read_align(align) if align else ()
        clips.append(
            Clip(
                id=f"grid/{speaker}/{sentence}",
                video=video.resolve(),
                speaker=speaker,
                source="grid",
                licence=GRID_LICENCE,
                split=split_of(sentence, split_policy),
                words=words,
            )
        )
    return clips
