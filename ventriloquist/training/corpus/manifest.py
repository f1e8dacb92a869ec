"""The corpus on disk: one manifest line per utterance, atomic entry files, and a loader for training."""

from __future__ import annotations

import io
import json
import logging
import os
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ventriloquist.device import atomic
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import SPEECH_RATE_HZ

log = logging.getLogger(__name__)
MANIFEST = "manifest.jsonl"
CORPUS_INFO = "corpus.json"
SKIPPED = "skipped.jsonl"
AUDIO_RATE_HZ = SPEECH_RATE_HZ
"""Every corpus WAV is 16 kHz mono int16."""
INT16_FULL_SCALE = 32768.0
SPLITS = ("train", "heldout", "eval")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` through a temporary sibling renamed into place, creating the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(path, data)


def save_npz(path: Path, **arrays) -> None:
    """An .npz written atomically (compressed)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def write_json(path: Path, data: dict) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


def wav_bytes(samples: np.ndarray, rate_hz: int) -> bytes:
    """16-bit mono WAV bytes from float samples in [-1, 1]."""
    pcm = np.clip(np.round(np.asarray(samples, np.float64) * (INT16_FULL_SCALE - 1)), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(float32 mono samples in [-1, 1], rate_hz) of a 16-bit PCM WAV."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                raise VentriloquistError(f"{path}: expected 16-bit PCM WAV, got {8 * w.getsampwidth()}-bit")
            channels, rate_hz = w.getnchannels(), w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    except (wave.Error, EOFError, FileNotFoundError) as e:
        raise VentriloquistError(f"{path}: cannot read WAV ({e})") from None
    samples = pcm.reshape(-1, channels).mean(axis=1) / INT16_FULL_SCALE
    return samples.astype(np.float32), rate_hz


@dataclass(frozen=True)
class Entry:
    """One utterance of the corpus, as its manifest line says; paths resolved against the corpus folder."""

    root: Path
    id: str
    speaker: str
    source: str
    licence: str
    split: str
    audio: str
    """WAV path relative to `root`."""
    faps: str | None
    """FAP track .npz relative to `root` (None for EMA recordings)."""
    fps: float | None
    n_frames: int | None
    face_found: float | None
    """Fraction of video frames with a tracked face."""
    duration_s: float
    words: tuple[tuple[float, float, str], ...] = ()
    phones: tuple[tuple[float, float, str], ...] = ()
    ema: str | None = None
    """EMA track .npz relative to `root` (EMA recordings only)."""
    extra: dict = field(default_factory=dict)
    """Any other manifest keys (video, landmarks, ...)."""

    @classmethod
    def from_json(cls, root: Path, data: dict) -> Entry:
        known = {f for f in cls.__dataclass_fields__ if f not in ("root", "extra")}
        missing = [k for k in ("id", "speaker", "source", "licence", "split", "audio", "duration_s") if k not in data]
        if missing:
            raise VentriloquistError(f"{root / MANIFEST}: entry {data.get('id')!r} lacks {', '.join(missing)}")
        spans: dict[str, Any] = {
            k: tuple((float(a), float(b), str(w)) for a, b, w in data.get(k) or ()) for k in ("words", "phones")}
        values: dict[str, Any] = {k: data.get(k) for k in known if k not in spans}
        return cls(root=root, **values, **spans, extra={k: v for k, v in data.items() if k not in known})

    def load_audio(self) -> tuple[np.ndarray, int]:
        """(float32 mono samples in [-1, 1], rate_hz)."""
        return read_wav(self.root / self.audio)

    def load_faps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
        """(values (n, k) float32 in FAPU, NaN where missing; mask (n,) bool; times_s (n,); FAP numbers)."""
        if self.faps is None:
            raise VentriloquistError(f"corpus entry {self.id} has no FAP track (source {self.source})")
        with np.load(self.root / self.faps) as z:
            return z["values"], z["mask"], z["times_s"], tuple(int(f) for f in z["faps"])

    def load_ema(self) -> dict[str, np.ndarray | float]:
        """EMA tracks in mm (lip_aperture, lip_protrusion, jaw_opening; NaN where missing) and rate_hz."""
        if self.ema is None:
            raise VentriloquistError(f"corpus entry {self.id} has no EMA tracks (source {self.source})")
        with np.load(self.root / self.ema) as z:
            return {k: (float(z[k]) if z[k].ndim == 0 else z[k]) for k in z.files}


def entry_paths(entry_id: str) -> dict[str, str]:
    """Where an entry's files live, relative to the corpus folder."""
    return {
        "audio": f"audio/{entry_id}.wav",
        "faps": f"faps/{entry_id}.npz",
        "landmarks": f"landmarks/{entry_id}.npz",
        "ema": f"ema/{entry_id}.npz",
    }


def _entry_after_fragment(line: str) -> dict | None:
    """The whole entry at the end of `line` that an older writer appended straight after a torn one."""
    for start in (i for i, c in enumerate(line) if c == "{" and i > 0):
        try:
            row = json.loads(line[start:])
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "id" in row:  # not a table nested in the fragment
            return row
    return None


def read_manifest_lines(root: Path) -> list[dict]:
    """Manifest lines as dicts; a torn last line (a crash mid-write) is ignored, and a torn fragment in front
    of a whole entry (what appending after a crash used to leave) is dropped with a note."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return []
    rows = []
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
            continue
        except json.JSONDecodeError:
            row = _entry_after_fragment(line)
        if row is None and number == len(lines):
            break
        if row is None:
            raise VentriloquistError(f"{path}: line {number} is not JSON")
        log.warning("%s: line %d starts with a torn entry (an interrupted write); kept the whole one after it",
                    path, number)
        rows.append(row)
    return rows


def load_manifest(root: str | Path) -> list[Entry]:
    """All entries of a prepared corpus folder."""
    root = Path(root)
    if not (root / MANIFEST).exists():
        raise VentriloquistError(f"{root} is not a prepared corpus (no {MANIFEST}); run `ventriloquist corpus prepare`")
    return [Entry.from_json(root, row) for row in read_manifest_lines(root)]


def _end_torn_line(f) -> None:
    """A manifest not ending in a newline was cut mid-write (a crash, a power cut): end its last line first.

    A torn line that is still whole JSON only lost its newline and gets it back; a fragment is cut off
    (its entry is redone, since it never counted as done), and the log says so.
    """
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return
    f.seek(0)
    data = f.read()
    start = data.rfind(b"\n") + 1
    try:
        json.loads(data[start:])
        f.write(b"\n")
        log.warning("%s: its last line had lost its newline (an interrupted write); ended it", f.name)
    except ValueError:
        f.truncate(start)
        log.warning("%s: dropped a torn last line of %d bytes (an interrupted write); its entry is redone",
                    f.name, size - start)


def append_manifest(root: Path, row: dict) -> None:
    """Append one entry line; call only after the entry's files are in place.

    The line goes out in one write with its newline, after any torn last line is ended, so a good line
    never follows a fragment.
    """
    path = Path(root) / MANIFEST
    with open(path, "r+b" if path.exists() else "wb") as f:
        _end_torn_line(f)
        f.seek(0, os.SEEK_END)
        f.write((json.dumps(row, sort_keys=True) + "\n").encode())
        f.flush()
        os.fsync(f.fileno())


def load_corpus_info(root: str | Path) -> dict:
    """corpus.json: splits, speakers' FAPU, creation settings (empty dict for a new folder)."""
    path = Path(root) / CORPUS_INFO
    return json.loads(path.read_text()) if path.exists() else {}
