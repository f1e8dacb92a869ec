"""The plain-text MPEG-4 `.fap` file, so a FAP stream can be exchanged with other MPEG-4 players.

Layout: `#` comments; header `<version> <name> <fps> <nframes>`; then per frame a mask
line of 68 0/1 flags and a value line (frame number, the 4 viseme fields if FAP 1 is
masked, the 6 expression fields if FAP 2 is, then one integer per masked FAP 3..68).
We write version 2.1 with a constant mask (every FAP we animate, in every frame) and
integer values, which every known player reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ventriloquist.device import atomic
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import FapFrames

VERSION = "2.1"
N_FAPS = 68
_HIGH_LEVEL_FIELDS = {1: 4, 2: 6}
"""FAP 1 (viseme) and FAP 2 (expression) carry 4 and 6 fields on a value line."""


def format_fap(values: np.ndarray, faps: tuple[int, ...], fps: float, name: str = "ventriloquist") -> str:
    """Text of a .fap file: `values` (n, k) in FAPU, one column per FAP number in `faps`."""
    if any(f < 3 or f > N_FAPS for f in faps):
        raise VentriloquistError("a .fap file carries low-level FAPs 3..68 only")
    if not name or any(c.isspace() for c in name):
        raise VentriloquistError(f".fap name must be one token without spaces, not {name!r}")
    order = np.argsort(faps)
    cols = np.round(np.asarray(values, np.float64)[:, order]).astype(np.int64)
    mask = " ".join("1" if k in faps else "0" for k in range(1, N_FAPS + 1))
    fps_text = f"{fps:g}"
    lines = [f"{VERSION} {name} {fps_text} {len(cols)}"]
    for i, row in enumerate(cols):
        lines.append(mask)
        lines.append(" ".join([str(i), *map(str, row)]))
    return "\n".join(lines) + "\n"


def write_fap(path: str | Path, frames: FapFrames, fps: float, name: str = "ventriloquist") -> None:
    """Write FAP frames sampled at `fps` (frames.times_s are taken as i/fps) atomically."""
    atomic.write_text(path, format_fap(frames.values, frames.faps, fps, name))


def parse_fap(text: str, where: str = ".fap") -> tuple[FapFrames, float, str]:
    """Parse .fap text -> (frames with every FAP masked anywhere, fps, name).

    A FAP masked out in a frame reads as 0 (neutral), as MPEG-4 players do.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise VentriloquistError(f"{where}: empty file")
    header = lines[0].split()
    try:
        _version, name, fps, n_frames = header[0], header[1], float(header[2]), int(header[3])
    except (IndexError, ValueError):
        raise VentriloquistError(f"{where}: header must be '<version> <name> <fps> <nframes>'") from None
    if fps <= 0 or n_frames < 0 or len(lines) - 1 < 2 * n_frames:
        raise VentriloquistError(f"{where}: header promises {n_frames} frames at {fps} fps; file has fewer")
    table = np.zeros((n_frames, N_FAPS + 1), np.float32)
    used = np.zeros(N_FAPS + 1, bool)
    for i in range(n_frames):
        mask_line, value_line = lines[1 + 2 * i].split(), lines[2 + 2 * i].split()
        if len(mask_line) < N_FAPS or any(m not in "01" for m in mask_line[:N_FAPS]):
            raise VentriloquistError(f"{where}: frame {i}: mask line needs {N_FAPS} flags 0/1")
        mask = [m == "1" for m in mask_line[:N_FAPS]]
        try:
            fields = [float(v) for v in value_line]
        except ValueError:
            raise VentriloquistError(f"{where}: frame {i}: value line has a non-number") from None
        frame_no, pos = int(fields[0]), 1 + sum(_HIGH_LEVEL_FIELDS[k] for k in (1, 2) if mask[k - 1])
        if not 0 <= frame_no < n_frames:
            raise VentriloquistError(f"{where}: frame number {frame_no} outside 0..{n_frames - 1}")
        wanted = [k for k in range(3, N_FAPS + 1) if mask[k - 1]]
        if len(fields) - pos != len(wanted):
            raise VentriloquistError(f"{where}: frame {i}: {len(wanted)} FAPs masked, {len(fields) - pos} values")
        table[frame_no, wanted] = fields[pos:]
        used[wanted] = True
    faps = tuple(int(k) for k in np.flatnonzero(used))
    frames = FapFrames(np.arange(n_frames) / fps, table[:, list(faps)], faps)
    return frames, fps, name


def read_fap(path: str | Path) -> tuple[FapFrames, float, str]:
    """Read a .fap file; see parse_fap."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise VentriloquistError(f"{path}: cannot read ({e})") from None
    return parse_fap(text, str(path))
