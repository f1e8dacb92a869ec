"""EMA importers (MOCHA-TIMIT, Haskins, Wisconsin XRMB): lip aperture, lip protrusion and jaw opening in mm.

These recordings have no face video; they are evaluation ground truth for lips and jaw.
Definitions, the same for every source (midsagittal plane, +anterior, +up):
- lip_aperture: distance between the upper- and lower-lip sensors;
- lip_protrusion: how far the lips' midpoint lies in front of the upper incisors (or the
  recording's origin, which sits at the upper incisors in XRMB and near them in Haskins);
- jaw_opening: how far the lower-incisor (jaw) sensor lies below the upper incisors / origin.
The offsets differ between set-ups; compare them with scale-free measures (correlation).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.training.corpus.grid import SILENCE_LABELS
from ventriloquist.training.corpus.manifest import AUDIO_RATE_HZ, read_wav

MOCHA_RATE_HZ = 500.0
MOCHA_UNIT_MM = 0.01
"""MOCHA channels are in 1/100 mm."""
MOCHA_CHANNELS = ("ui_x", "li_x", "ul_x", "ll_x", "tt_x", "ui_y", "li_y", "ul_y", "ll_y", "tt_y",
                  "tb_x", "td_x", "v_x", "unused_x", "bn_x", "tb_y", "td_y", "v_y", "unused_y", "bn_y")  # fmt: skip
XRMB_PELLETS = ("UL", "LL", "T1", "T2", "T3", "T4", "MNI", "MNM")
XRMB_MISSING = 1000000
XRMB_UNIT_MM = 1e-3
"""XRMB pellets are in µm, times in µs."""
LICENCES = {
    "mocha": "MOCHA-TIMIT: research/education only, no commercial use (LICENCE.txt stays with the files)",
    "haskins": "Haskins IEEE-sentence EMA: GPL-3 (as redistributed by its source repository)",
    "xrmb": "Wisconsin X-ray Microbeam: research use",
}


@dataclass(frozen=True)
class EmaRecording:
    """One EMA utterance ready for the corpus."""

    id: str
    source: str
    speaker: str
    samples: np.ndarray
    """float32 mono audio at AUDIO_RATE_HZ."""
    tracks: dict[str, np.ndarray]
    """lip_aperture, lip_protrusion, jaw_opening in mm (NaN where missing)."""
    rate_hz: float
    words: tuple[tuple[float, float, str], ...] = ()
    phones: tuple[tuple[float, float, str], ...] = ()

    @property
    def licence(self) -> str:
        return LICENCES[self.source]


def _tracks(ul: np.ndarray, ll: np.ndarray, jaw_y: np.ndarray, ref: np.ndarray) -> dict[str, np.ndarray]:
    """Tracks from (n, 2) anterior/up positions of the lips, jaw height and the upper-incisor reference."""
    return {
        "lip_aperture": np.linalg.norm(ul - ll, axis=1).astype(np.float32),
        "lip_protrusion": ((ul[:, 0] + ll[:, 0]) / 2 - ref[:, 0]).astype(np.float32),
        "jaw_opening": (ref[:, 1] - jaw_y).astype(np.float32),
    }


def _to_16k(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if rate_hz == AUDIO_RATE_HZ:
        return samples.astype(np.float32)
    g = np.gcd(int(rate_hz), AUDIO_RATE_HZ)
    return resample_poly(samples, AUDIO_RATE_HZ // g, int(rate_hz) // g).astype(np.float32)


def _labels(path: Path) -> tuple[tuple[float, float, str], ...]:
    """'start end label' lines in seconds."""
    if not path.exists():
        return ()
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return tuple((float(a), float(b), label) for a, b, label, *_ in rows)


def read_mocha(ema_file: Path) -> EmaRecording:
    """MOCHA-TIMIT ASCII .ema (time, valid flag, 20 channels in 1/100 mm; +x posterior) with its .wav/.lab."""
    table = np.loadtxt(ema_file, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 2 + len(MOCHA_CHANNELS):
        raise VentriloquistError(f"{ema_file}: expected {2 + len(MOCHA_CHANNELS)} columns of MOCHA EMA")
    ch = {name: table[:, 2 + i] * MOCHA_UNIT_MM for i, name in enumerate(MOCHA_CHANNELS)}
    invalid = table[:, 1] == 0
    for values in ch.values():
        values[invalid] = np.nan

    def point(name: str) -> np.ndarray:  # MOCHA +x points backwards: anterior = -x
        return np.stack([-ch[f"{name}_x"], ch[f"{name}_y"]], axis=1)

    samples, rate_hz = read_wav(ema_file.with_suffix(".wav"))
    speaker = ema_file.stem.split("_")[0]
    return EmaRecording(
        id=ema_id(ema_file), source="mocha", speaker=speaker, samples=_to_16k(samples, rate_hz),
        tracks=_tracks(point("ul"), point("ll"), ch["li_y"], point("ui")), rate_hz=MOCHA_RATE_HZ,
        phones=_labels(ema_file.with_suffix(".lab")),
    )  # fmt: skip


def read_xrmb(txy_file: Path) -> EmaRecording:
    """Wisconsin XRMB .txy (time µs, then x,y µm per pellet; origin at the upper incisors, +x anterior)."""
    table = np.loadtxt(txy_file, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 1 + 2 * len(XRMB_PELLETS):
        raise VentriloquistError(f"{txy_file}: expected {1 + 2 * len(XRMB_PELLETS)} columns of XRMB pellets")
    xy = table[:, 1:].reshape(len(table), len(XRMB_PELLETS), 2)
    xy[xy == XRMB_MISSING] = np.nan
    xy *= XRMB_UNIT_MM
    pellet = {name: xy[:, i] for i, name in enumerate(XRMB_PELLETS)}
    rate_hz = 1e6 / float(np.median(np.diff(table[:, 0])))
    samples, audio_rate_hz = read_wav(txy_file.with_suffix(".wav"))
    return EmaRecording(
        id=ema_id(txy_file), source="xrmb", speaker=txy_file.stem.split("_")[0],
        samples=_to_16k(samples, audio_rate_hz),
        tracks=_tracks(pellet["UL"], pellet["LL"], pellet["MNI"][:, 1], np.zeros((len(table), 2))), rate_hz=rate_hz,
        phones=_labels(txy_file.with_suffix(".lab")),
    )  # fmt: skip


def read_haskins(mat_file: Path) -> EmaRecording:
    """Haskins IEEE-sentence EMA (MATLAB struct: AUDIO + sensors x anterior, y lateral, z up, in mm)."""
    from scipy.io import loadmat

    data = loadmat(mat_file, squeeze_me=True, struct_as_record=False)
    structs = [v for k, v in data.items() if not k.startswith("__")]
    if len(structs) != 1:
        raise VentriloquistError(f"{mat_file}: expected one Haskins struct array, found {len(structs)}")
    channels = {str(s.NAME): s for s in np.atleast_1d(structs[0])}
    missing = [name for name in ("AUDIO", "UL", "LL", "JAW") if name not in channels]
    if missing:
        raise VentriloquistError(f"{mat_file}: lacks channel(s) {', '.join(missing)}")
    audio = channels["AUDIO"]

    def sagittal(name: str) -> np.ndarray:
        return np.asarray(channels[name].SIGNAL, np.float64)[:, [0, 2]]

    def spans(items) -> tuple[tuple[float, float, str], ...]:
        rows = [(float(s.OFFS[0]), float(s.OFFS[1]), str(s.LABEL)) for s in np.atleast_1d(items)]
        return tuple(r for r in rows if r[2] not in SILENCE_LABELS)

    ul = sagittal("UL")
    return EmaRecording(
        id=ema_id(mat_file), source="haskins", speaker=mat_file.stem.split("_")[0],
        samples=_to_16k(np.asarray(audio.SIGNAL, np.float64), int(audio.SRATE)),
        tracks=_tracks(ul, sagittal("LL"), sagittal("JAW")[:, 1], np.zeros_like(ul)),
        rate_hz=float(channels["UL"].SRATE), words=spans(audio.WORDS), phones=spans(audio.PHONES),
    )  # fmt: skip


READERS = {".ema": read_mocha, ".txy": read_xrmb, ".mat": read_haskins}
SOURCES = {".ema": "mocha", ".txy": "xrmb", ".mat": "haskins"}


def ema_id(path: Path) -> str:
    """Corpus id of an EMA recording file, e.g. ema/mocha/fsew0_001."""
    return f"ema/{SOURCES[path.suffix]}/{path.stem}"


def find_ema(root: Path) -> list[Path]:
    """EMA recordings under `root` (a folder searched recursively, or one file)."""
    root = Path(root)
    if root.is_file():
        files = [root] if root.suffix in READERS else []
    else:
        files = sorted(p for p in root.rglob("*") if p.suffix in READERS and p.is_file())
    if not files:
        raise VentriloquistError(f"{root}: no EMA recordings ({', '.join(READERS)})")
    return files


def read_ema(path: Path) -> EmaRecording:
    """One EMA recording, by its file type."""
    try:
        return READERS[path.suffix](path)
    except (OSError, ValueError, AttributeError, KeyError, IndexError) as e:
        raise VentriloquistError(f"{path}: cannot read EMA recording ({type(e).__name__}: {e})") from None
