"""Audio files (WAV, FLAC, OGG, anything libsndfile reads) as a source, paced at real time or as fast as possible."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.frontend import to_mono_float32
from ventriloquist.device.frontend.audio import check_rate
from ventriloquist.device.quiet import quiet_stderr
from ventriloquist.device.sources import DEFAULT_CHUNK_S
from ventriloquist.device.values import AudioChunk

log = logging.getLogger(__name__)
TRUNCATED = re.compile(r"^data\s*:\s*(?P<declared>\d+) \(should be (?P<present>\d+)\)", re.MULTILINE)
"""libsndfile's note on a WAV whose data chunk is shorter than its header declares."""
READ_BLOCK_S = 1.0
"""Audio decoded per file read; chunks are slices of it (one libsndfile call per second, not per chunk)."""


def _soundfile():
    try:
        import soundfile
    except ImportError:
        raise VentriloquistError("reading audio files needs the soundfile package: pip install soundfile") from None
    return soundfile


class FileSource:
    """Chunks of an audio file; realtime=True waits until each chunk would have been captured live."""

    def __init__(self, path: str | Path, *, realtime: bool = False, chunk_s: float = DEFAULT_CHUNK_S) -> None:
        sf = _soundfile()
        self.path = Path(path)
        if not self.path.exists():
            raise VentriloquistError(f"{self.path}: no such audio file")
        if not self.path.is_file():
            raise VentriloquistError(f"{self.path}: not a regular file (for a pipe or stream use `run --source -`)")
        try:
            with quiet_stderr():
                info = sf.info(str(self.path))
        except (RuntimeError, OSError) as e:  # soundfile raises LibsndfileError (a RuntimeError)
            reason = str(e).strip() or type(e).__name__
            raise VentriloquistError(f"{self.path}: cannot read as audio ({reason})") from None
        try:
            check_rate(int(info.samplerate))
        except VentriloquistError as e:
            raise VentriloquistError(f"{self.path}: {e}") from None
        self.rate_hz = int(info.samplerate)
        self.frames_total = int(info.frames)
        if self.frames_total == 0:
            raise VentriloquistError(f"{self.path}: holds no audio samples (only a header?)")
        short = TRUNCATED.search(info.extra_info or "")
        if short and int(short["present"]) < int(short["declared"]):
            log.warning("%s: shorter than its header says (%d of %d bytes of audio; truncated?): using what is there",
                        self.path, int(short["present"]), int(short["declared"]))
        self.duration_s = self.frames_total / self.rate_hz
        self.chunk_samples = max(1, round(chunk_s * self.rate_hz))
        self.live = realtime
        self.overflows = 0

    def __iter__(self) -> Iterator[AudioChunk]:
        sf = _soundfile()
        t_start_s = time.monotonic() if self.live else 0.0
        rate_hz, chunk = self.rate_hz, self.chunk_samples
        read_samples = chunk * max(1, round(READ_BLOCK_S * rate_hz / chunk))
        n = 0
        with quiet_stderr():  # libmpg123 prints its repairs of many ordinary MP3s, on opening and reading
            sound = sf.SoundFile(str(self.path))
        with sound as f:
            blocks = f.blocks(blocksize=read_samples, dtype="float32", always_2d=True)
            while True:
                with quiet_stderr():
                    block = next(blocks, None)
                if block is None:
                    break
                try:
                    block = to_mono_float32(block)
                except VentriloquistError as e:  # e.g. NaN samples: say which file, and where
                    where = f"between {n / rate_hz:.1f} and {(n + len(block)) / rate_hz:.1f} s"
                    raise VentriloquistError(f"{self.path}: {e} ({where})") from None
                for i in range(0, len(block), chunk):
                    samples = block[i : i + chunk]
                    if self.live:
                        wait_s = t_start_s + (n + len(samples)) / rate_hz - time.monotonic()
                        if wait_s > 0:
                            time.sleep(wait_s)
                    yield AudioChunk(samples, rate_hz, t_start_s + n / rate_hz)
                    n += len(samples)

    def close(self) -> None:
        """Nothing held between iterations."""
