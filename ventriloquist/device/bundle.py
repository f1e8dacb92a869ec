"""Model bundle: the one folder a device needs (int8 model, FAP patterns, feature settings), verified.

Layout (schema 1):
    bundle.json    schema_version, name, features, normalisation, output coding, provenance
    model.tflite   full-integer int8 TFLite model: (n, input_dim) -> (n, K) or (n, bits)
    patterns.csv   K FAP patterns (rows) x the FAP subset (columns, MPEG-4 names), in FAPU
    MODEL_CARD.md  what it was trained on, credits, metrics (optional but shipped)
    SHA256SUMS     sha256 of every other file, `sha256sum -c` compatible
Loading checks every checksum first, then the content, and refuses with the file and the
reason. Checksums only catch corruption (whoever edits a bundle can re-sign it), so the content is
also held to bounds of its own: file sizes, no symbolic links, a printable name, pattern and
normalisation values (MAX_* below) and every front-end setting (frontend/settings.py, MAX_*).
Writing goes through `atomic.replace_dir`, so an interrupted export leaves the old bundle in place.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ventriloquist.device import atomic
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import FAP_BY_NAME, FAPS

SCHEMA_VERSION = 1
CHECKSUMS = "SHA256SUMS"
MANIFEST = "bundle.json"
MODEL = "model.tflite"
PATTERNS = "patterns.csv"
REQUIRED_FILES = (MANIFEST, MODEL, PATTERNS)
SHIPPED_BUNDLE = Path(__file__).resolve().parent / "default_bundle"
"""The default model that ships inside the package."""
CODINGS = ("softmax", "binary")
"""softmax: one score per pattern, blended by probability; binary: the paper's bit code of the class."""

# A bundle is trusted only as far as its checksums, and anyone who can edit one can re-sign it, so every
# number and size below is checked by itself: a bundle outside them is refused, never run.
MAX_FILE_BYTES = 64 * 2**20
"""Largest file a bundle may hold (the shipped model is 33 KB); never read beyond this."""
MAX_TEXT_BYTES = 2**20
"""Largest bundle.json, patterns.csv and SHA256SUMS."""
MAX_PATTERNS = 1024
MAX_PATTERN_FAPU = 2000.0
"""Largest |value| of a FAP pattern (MPEG-4 faces move within about +-1000 FAPU; the shipped table peaks at 563)."""
MAX_NORM_ABS = 1e6
"""Largest |mean| and std of the feature normalisation."""
MIN_NORM_STD = 1e-6
MAX_NAME_CHARS = 100
"""A bundle name is printable text of at most this many characters (it is shown on screens and in logs)."""


def code_bits(n_patterns: int) -> int:
    """Bits of the paper's binary class code (29 patterns -> 5 bits)."""
    return max(1, math.ceil(math.log2(n_patterns)))


@dataclass(frozen=True)
class Bundle:
    """A verified model bundle, in memory."""

    name: str
    features: dict[str, Any]
    """Front-end settings (device.frontend.FrontendSettings.to_dict())."""
    norm_mean: np.ndarray
    """(dim,) per-feature mean subtracted before the model."""
    norm_std: np.ndarray
    """(dim,) per-feature scale divided before the model."""
    coding: str
    patterns: np.ndarray
    """(K, len(faps)) float32, FAPU."""
    faps: tuple[int, ...]
    model_bytes: bytes = field(repr=False)
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def n_patterns(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_outputs(self) -> int:
        return self.n_patterns if self.coding == "softmax" else code_bits(self.n_patterns)

    def frontend_settings(self):  # -> device.frontend.FrontendSettings
        from ventriloquist.device.frontend import FrontendSettings

        return FrontendSettings.from_dict(self.features)

    def summary(self) -> str:
        fs = self.frontend_settings()
        return (
            f"{self.name}: schema {self.schema_version}, {len(self.model_bytes) / 1024:.1f} KiB int8 model, "
            f"{self.n_patterns} patterns x {len(self.faps)} FAPs ({self.coding}), features: {fs.describe()}"
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_limited(path: Path, limit: int, where: str) -> bytes:
    """A regular file (not a link) of at most `limit` bytes, read in blocks."""
    if path.is_symlink():
        raise VentriloquistError(f"{where}: {path.name} is a symbolic link (a bundle holds only its own files)")
    if not path.is_file():
        raise VentriloquistError(f"{where}: {path.name} is missing")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise VentriloquistError(f"{where}: {path.name} is larger than {limit // 2**20} MiB")
    return data


def _patterns_csv(patterns: np.ndarray, faps: tuple[int, ...]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["pattern", *(FAPS[f].name for f in faps)])
    for k, row in enumerate(patterns):
        w.writerow([k, *(f"{v:.3f}" for v in row)])
    return out.getvalue()


def write_bundle(path: str | Path, bundle: Bundle, extra_files: dict[str, str] | None = None) -> Path:
    """Write `bundle` as a folder at `path`, atomically; returns the path."""
    _check_consistent(bundle, "bundle to write")
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "name": bundle.name,
        "features": bundle.features,
        "normalisation": {"mean": [float(v) for v in bundle.norm_mean], "std": [float(v) for v in bundle.norm_std]},
        "output": {"coding": bundle.coding, "patterns": bundle.n_patterns, "faps": list(bundle.faps)},
        "provenance": bundle.provenance,
    }
    files: dict[str, bytes] = {
        MANIFEST: (json.dumps(manifest, indent=2) + "\n").encode(),
        MODEL: bundle.model_bytes,
        PATTERNS: _patterns_csv(bundle.patterns, bundle.faps).encode(),
    }
    files.update({k: v.encode() for k, v in (extra_files or {}).items()})
    sums = "".join(f"{_sha256(data)}  {name}\n" for name, data in sorted(files.items()))
    with atomic.replace_dir(path) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / CHECKSUMS).write_text(sums)
    return Path(path)


def _read_checked_files(path: Path) -> dict[str, bytes]:
    """Every file of the bundle, each verified against SHA256SUMS."""
    if not path.is_dir():
        raise VentriloquistError(f"bundle {path}: not a folder (a bundle is a folder with {CHECKSUMS})")
    where = f"bundle {path}"
    sums_path = path / CHECKSUMS
    if not sums_path.is_file():
        raise VentriloquistError(f"{where}: {CHECKSUMS} is missing, so the bundle cannot be verified")
    expected: dict[str, str] = {}
    sums = _read_limited(sums_path, MAX_TEXT_BYTES, where).decode(errors="replace")
    for n, line in enumerate(sums.splitlines(), 1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or "/" in name or name.startswith("."):
            raise VentriloquistError(f"bundle {path}: {CHECKSUMS} line {n} is malformed")
        expected[name] = digest
    for name in REQUIRED_FILES:
        if name not in expected:
            raise VentriloquistError(f"bundle {path}: {name} is not listed in {CHECKSUMS}")
    links = sorted(p.name for p in path.iterdir() if p.is_symlink())
    if links:
        raise VentriloquistError(f"{where}: {links[0]} is a symbolic link (a bundle holds only its own files)")
    present = {p.name for p in path.iterdir() if p.is_file() and p.name != CHECKSUMS and not p.name.startswith(".")}
    unlisted = sorted(present - set(expected))
    if unlisted:
        raise VentriloquistError(f"bundle {path}: {unlisted[0]} is not listed in {CHECKSUMS} (unknown file)")
    files = {}
    for name, digest in expected.items():
        limit = MAX_FILE_BYTES if name == MODEL or not name.endswith((".json", ".csv")) else MAX_TEXT_BYTES
        data = _read_limited(path / name, limit, where)
        if _sha256(data) != digest:
            raise VentriloquistError(f"bundle {path}: {name} does not match its sha256 (tampered or corrupt)")
        files[name] = data
    return files


def _parse_patterns(data: bytes, where: str) -> tuple[np.ndarray, tuple[int, ...]]:
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except UnicodeDecodeError:
        raise VentriloquistError(f"{where}: not UTF-8 text") from None
    if len(rows) < 2 or rows[0][:1] != ["pattern"]:
        raise VentriloquistError(f"{where}: expected a header 'pattern,<FAP names>' and at least one row")
    try:
        faps = tuple(FAP_BY_NAME[n].number for n in rows[0][1:])
    except KeyError as e:
        raise VentriloquistError(f"{where}: unknown FAP name {e.args[0]!r} in the header") from None
    try:
        values = np.array([[float(v) for v in r[1:]] for r in rows[1:]], np.float32)
    except ValueError as e:
        raise VentriloquistError(f"{where}: {e}") from None
    if values.ndim != 2 or values.shape[1] != len(faps) or not np.all(np.isfinite(values)):
        raise VentriloquistError(f"{where}: every row needs {len(faps)} finite values")
    return values, faps


def _check_consistent(b: Bundle, where: str) -> None:
    """Content checks shared by reading and writing: shapes, codes, settings."""
    if b.coding not in CODINGS:
        raise VentriloquistError(f"{where}: output coding {b.coding!r} is not one of {', '.join(CODINGS)}")
    if b.patterns.ndim != 2 or b.patterns.shape[1] != len(b.faps) or b.n_patterns < 2:
        raise VentriloquistError(f"{where}: the pattern table must be K>=2 rows x {len(b.faps)} FAPs")
    if b.n_patterns > MAX_PATTERNS or not np.all(np.abs(b.patterns) <= MAX_PATTERN_FAPU):
        raise VentriloquistError(
            f"{where}: the pattern table needs at most {MAX_PATTERNS} rows, values within +-{MAX_PATTERN_FAPU:g} FAPU")
    unknown = [f for f in b.faps if f not in FAPS or f < 3]
    if unknown:
        raise VentriloquistError(f"{where}: FAP numbers {unknown} are not low-level MPEG-4 FAPs (3..68)")
    if not (b.name.isprintable() and 0 < len(b.name) <= MAX_NAME_CHARS):
        raise VentriloquistError(f"{where}: name must be 1..{MAX_NAME_CHARS} printable characters")
    try:
        fs = b.frontend_settings()
    except VentriloquistError as e:
        raise VentriloquistError(f"{where}: features: {e}") from None
    for label, stat in (("mean", b.norm_mean), ("std", b.norm_std)):
        if stat.shape != (fs.dim,) or not np.all(np.isfinite(stat)) or np.any(np.abs(stat) > MAX_NORM_ABS):
            raise VentriloquistError(
                f"{where}: normalisation {label} needs {fs.dim} finite values within +-{MAX_NORM_ABS:g}")
    if np.any(b.norm_std < MIN_NORM_STD):
        raise VentriloquistError(f"{where}: normalisation std must be >= {MIN_NORM_STD:g}")


def load_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle folder (checksums, manifest, patterns, settings); any failure is a
    VentriloquistError naming file and reason. The model itself is checked once, where its interpreter is
    built (`model.load_model`), so starting up builds one interpreter."""
    path = Path(path)
    files = _read_checked_files(path)
    where = f"bundle {path}: {MANIFEST}"
    try:
        m = json.loads(files[MANIFEST])
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise VentriloquistError(f"{where}: not valid JSON ({e})") from None
    except RecursionError:
        raise VentriloquistError(f"{where}: nested too deeply to be a bundle manifest") from None
    version = m.get("schema_version") if isinstance(m, dict) else None
    if version != SCHEMA_VERSION:
        raise VentriloquistError(
            f"{where}: schema version {version!r} is not supported (this runtime reads version {SCHEMA_VERSION})"
        )
    try:
        patterns, faps = _parse_patterns(files[PATTERNS], f"bundle {path}: {PATTERNS}")
        out = m["output"]
        bundle = Bundle(
            name=str(m["name"]),
            features=dict(m["features"]),
            norm_mean=np.asarray(m["normalisation"]["mean"], np.float32),
            norm_std=np.asarray(m["normalisation"]["std"], np.float32),
            coding=str(out["coding"]),
            patterns=patterns,
            faps=faps,
            model_bytes=files[MODEL],
            provenance=dict(m.get("provenance", {})),
            path=path,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise VentriloquistError(f"{where}: missing or malformed field {e}") from None
    if list(faps) != list(out.get("faps", [])) or out.get("patterns") != bundle.n_patterns:
        raise VentriloquistError(f"{where}: output.faps/patterns disagree with {PATTERNS}")
    _check_consistent(bundle, where)
    return bundle
