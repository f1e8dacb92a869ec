"""Any folder of videos with a soundtrack: find the clips, probe them and pull out 16 kHz mono audio."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.training.corpus.manifest import AUDIO_RATE_HZ

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mpg", ".mpeg", ".webm", ".mov", ".avi")
HELDOUT_PERCENT = 10
"""Share of sentences held out when a source is split by sentence."""
SPLIT_RULE = f"held out when int(sha1(sentence id), 16) % 100 < {HELDOUT_PERCENT}, else train"
USER_LICENCE = "unknown: the user's own recording"
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Clip:
    """One video utterance to prepare."""

    id: str
    """Corpus id, e.g. grid/s1/bbaf2n."""
    video: Path
    speaker: str
    source: str
    """Importer name: grid, video."""
    licence: str
    split: str
    words: tuple[tuple[float, float, str], ...] = ()
    """(start_s, end_s, word) from an alignment, when there is one."""


def split_of(sentence: str, policy: str) -> str:
    """The split of a sentence: policy 'sentence' hashes it to train/heldout; otherwise the policy is the split."""
    if policy != "sentence":
        return policy
    bucket = int(hashlib.sha1(sentence.encode()).hexdigest(), 16) % 100
    return "heldout" if bucket < HELDOUT_PERCENT else "train"


def safe_name(text: str) -> str:
    """A string usable as one path component of an id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "clip"


def find_videos(path: Path, speaker: str | None, split_policy: str, licence: str = USER_LICENCE) -> list[Clip]:
    """Clips from a video file or a folder (searched recursively); speaker defaults to the folder name."""
    path = Path(path)
    if path.is_file():
        files, base = [path], path.parent
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
        base = path
        if not files:
            raise VentriloquistError(f"{path}: no video files ({', '.join(VIDEO_SUFFIXES)})")
    else:
        raise VentriloquistError(f"{path}: no such video file or folder")
    who = safe_name(speaker or base.resolve().name)
    clips = []
    for file in files:
        stem = "/".join(safe_name(part) for part in file.relative_to(base).with_suffix("").parts)
        clips.append(Clip(f"video/{who}/{stem}", file.resolve(), who, "video", licence, split_of(stem, split_policy)))
    return clips


@dataclass(frozen=True)
class VideoInfo:
    """What ffprobe says about a file."""

    has_video: bool
    has_audio: bool
    fps: float
    duration_s: float


def probe_video(video: Path) -> VideoInfo:
    """Streams of `video`; a VentriloquistError for a file ffprobe cannot read."""
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(video)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise VentriloquistError(f"{video}: unreadable (corrupt or unsupported): {_first_line(done.stderr)}")
    info = json.loads(done.stdout or "{}")
    streams = info.get("streams", [])
    videos = [s for s in streams if s.get("codec_type") == "video"]
    fps = 0.0
    if videos:
        num, _, den = videos[0].get("avg_frame_rate", "0/0").partition("/")
        fps = float(num) / float(den) if den and float(den) else 0.0
    duration = float(info.get("format", {}).get("duration") or 0.0)
    return VideoInfo(bool(videos), any(s.get("codec_type") == "audio" for s in streams), fps, duration)


def extract_audio(video: Path, wav: Path) -> None:
    """The soundtrack as 16 kHz mono 16-bit WAV, written to a temporary name and renamed into place."""
    wav.parent.mkdir(parents=True, exist_ok=True)
    tmp = wav.with_name(f".{wav.name}.{os.getpid()}.tmp")
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(video), "-vn", "-ac", "1", "-ar", str(AUDIO_RATE_HZ),
         "-c:a", "pcm_s16le", "-f", "wav", str(tmp)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise VentriloquistError(f"{video}: audio cannot be decoded: {_first_line(done.stderr)}")
    os.replace(tmp, wav)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["no message"])[0][:MAX_ERROR_CHARS]
