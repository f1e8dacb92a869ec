"""Training examples from a corpus: device front-end features, context windows and FAP targets on one clock.

Features come from `ventriloquist.device.frontend.features_for_wav` and are stacked by `ContextWindow`, the
very code the device runs. FAP tracks (video rate, with a validity mask) are interpolated to the
feature frame times; a frame counts only when the video frames either side of it were tracked.
Augmented copies (gain, noise, reverberation, speed/vocal-tract warping) are made on the audio,
before the front end, with the targets' clock stretched to match the speed change.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt
from tqdm import tqdm

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.training import voice

TILT_CORNER_HZ = 2000.0


@dataclass(frozen=True)
class Augmentation:
    """Random audio changes for speaker independence; each copy draws every knob from its range."""

    copies: int = 3
    """Augmented copies per clip (the clean clip is always kept as well)."""
    gain_db: tuple[float, float] = (-24.0, 6.0)
    snr_db: tuple[float, float] = (10.0, 40.0)
    """Additive pink-ish noise; drawn per copy."""
    noise_probability: float = 0.5
    speed: tuple[float, float] = (0.8, 1.25)
    """Resampling factor: >1 raises pitch and formants (shorter vocal tract) and speaks faster."""
    treble_db: tuple[float, float] = (-10.0, 8.0)
    """Spectral tilt (microphone, distance): gain of everything above TILT_CORNER_HZ, drawn per copy."""
    reverb_probability: float = 0.3
    reverb_t60_s: tuple[float, float] = (0.15, 0.5)
    voice_probability: float = 0.0
    """Share of copies re-voiced by the WORLD vocoder (training.voice) instead of the resampling speed change."""
    f0_scale: tuple[float, float] = (0.7, 1.8)
    """Pitch factor of a re-voiced copy (s1 speaks at about 120 Hz: up to a child's 220 Hz)."""
    formant_scale: tuple[float, float] = (0.9, 1.2)
    """Vocal-tract factor of a re-voiced copy (> 1: shorter tract, higher formants)."""
    tempo: tuple[float, float] = (0.8, 1.25)
    """Speaking-rate factor of a re-voiced copy (pitch and formants kept)."""

    def as_dict(self) -> dict:
        return asdict(self)


NO_AUGMENTATION = Augmentation(copies=0)
GAIN_ONLY = Augmentation(copies=1, gain_db=(-30.0, 6.0), noise_probability=0.0, speed=(1.0, 1.0),
                         treble_db=(0.0, 0.0), reverb_probability=0.0)
"""One copy of each clip at a random level: the net stops reading absolute microphone level as mouth opening."""
REVOICED = Augmentation(copies=2, gain_db=(-30.0, 6.0), noise_probability=0.0, speed=(1.0, 1.0),
                        treble_db=(0.0, 0.0), reverb_probability=0.0, voice_probability=0.75)
"""Two copies at random levels, most of them spoken by another voice (training.voice) at another tempo."""


@dataclass(frozen=True)
class ClipFeatures:
    """One (possibly augmented) clip: per-frame features and the aligned targets."""

    id: str
    copy: int
    """0 = the clean clip, 1.. augmented copies."""
    features: np.ndarray
    """(n, dim) float32 front-end output, not normalised, not stacked."""
    times_s: np.ndarray
    targets: np.ndarray
    """(n, k) float32 FAPU on ANIMATION_SUBSET columns (0 where invalid)."""
    valid: np.ndarray
    """(n,) bool."""


def align_targets(values, mask, video_times_s, frame_times_s) -> tuple[np.ndarray, np.ndarray]:
    """FAP track (video rate) -> (targets at frame times, valid); invalid where a neighbouring video frame is."""
    values = np.asarray(values, np.float32)
    ok = np.asarray(mask, bool) & np.isfinite(values).all(1)
    n = len(video_times_s)
    if n == 0 or not ok.any():
        return np.zeros((len(frame_times_s), values.shape[1]), np.float32), np.zeros(len(frame_times_s), bool)
    right = np.clip(np.searchsorted(video_times_s, frame_times_s), 0, n - 1)
    left = np.clip(right - 1, 0, n - 1)
    inside = (frame_times_s >= video_times_s[0]) & (frame_times_s <= video_times_s[-1])
    valid = inside & ok[left] & ok[right]
    good_t, good_v = video_times_s[ok], values[ok]
    targets = np.stack([np.interp(frame_times_s, good_t, good_v[:, j]) for j in range(values.shape[1])], 1)
    targets[~valid] = 0.0
    return targets.astype(np.float32), valid


def reorder_faps(values: np.ndarray, faps: tuple[int, ...], where: str) -> np.ndarray:
    """Columns of `values` (on `faps`) in ANIMATION_SUBSET order."""
    missing = [f for f in ANIMATION_SUBSET if f not in faps]
    if missing:
        raise VentriloquistError(f"{where}: FAP track lacks FAPs {missing} of the animation subset")
    return values[:, [faps.index(f) for f in ANIMATION_SUBSET]]


def _pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(size=n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, n)
    return noise / (noise.std() + 1e-12)


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(*np.log(bounds))))


def augment(samples: np.ndarray, rate_hz: int, aug: Augmentation, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One augmented copy of `samples` and its speed factor (targets' times divide by it)."""
    import soxr

    if aug.voice_probability and rng.random() < aug.voice_probability:
        speed = _log_uniform(rng, aug.tempo)
        x = voice.convert(samples, rate_hz, f0_scale=_log_uniform(rng, aug.f0_scale),
                          formant_scale=_log_uniform(rng, aug.formant_scale), tempo=speed)
    else:
        speed = _log_uniform(rng, aug.speed)
        x = soxr.resample(samples.astype(np.float64), rate_hz * speed, rate_hz, "HQ") if speed != 1.0 else samples
    x = np.asarray(x, np.float64)
    treble = 10 ** (rng.uniform(*aug.treble_db) / 20)
    x = x + (treble - 1.0) * sosfilt(butter(2, TILT_CORNER_HZ, "highpass", fs=rate_hz, output="sos"), x)
    if rng.random() < aug.reverb_probability:
        t60 = rng.uniform(*aug.reverb_t60_s)
        t = np.arange(int(t60 * rate_hz)) / rate_hz
        rir = rng.normal(size=len(t)) * np.exp(-6.9 * t / t60)
        rir[0] = 1.0 / 0.3  # direct path dominates
        wet = fftconvolve(x, rir)[: len(x)]
        x = wet * (np.sqrt(np.mean(x**2)) / (np.sqrt(np.mean(wet**2)) + 1e-12))
    if rng.random() < aug.noise_probability:
        snr_db = rng.uniform(*aug.snr_db)
        x = x + _pink_noise(len(x), rng) * np.sqrt(np.mean(x**2)) * 10 ** (-snr_db / 20)
    x = x * 10 ** (rng.uniform(*aug.gain_db) / 20)
    return np.clip(x, -1.0, 1.0).astype(np.float32), speed


def _clip_job(job: tuple) -> list[ClipFeatures]:
    """All copies of one corpus entry (runs in a worker process)."""
    from ventriloquist.device.frontend import FrontendSettings, features_for_wav
    from ventriloquist.training.corpus.manifest import Entry

    root, row, settings_dict, aug_dict, seed = job
    settings = FrontendSettings.from_dict(settings_dict)
    aug_values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in aug_dict.items()}
    aug = Augmentation(**aug_values)
    entry = Entry.from_json(Path(root), row)
    samples, rate_hz = entry.load_audio()
    values, mask, video_t, faps = entry.load_faps()
    values = reorder_faps(values, faps, f"corpus entry {entry.id}")
    rng = np.random.default_rng([seed, int(hashlib.sha1(entry.id.encode()).hexdigest()[:8], 16)])
    out = []
    for copy in range(aug.copies + 1):
        x, speed = (samples, 1.0) if copy == 0 else augment(samples, rate_hz, aug, rng)
        frames = features_for_wav(x, rate_hz, settings)
        targets, valid = align_targets(values, mask, video_t, np.asarray(frames.times_s) * speed)
        out.append(ClipFeatures(entry.id, copy, frames.values.astype(np.float32), frames.times_s, targets, valid))
    return out


def _cache_key(root: Path, row: dict, settings_dict: dict, aug: Augmentation, seed: int) -> str:
    """Changes with the clip's files (path, size, mtime), the front end, the augmentation and the seed."""
    files = [(str(root / row[k]), (root / row[k]).stat().st_size, (root / row[k]).stat().st_mtime_ns)
             for k in ("audio", "faps") if row.get(k)]
    key = [row["id"], files, settings_dict, aug.as_dict(), seed]
    text = json.dumps(key, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def load_clips(entries, settings, aug: Augmentation = NO_AUGMENTATION, *, seed: int = 0,
               cache_dir: Path | None = None, jobs: int = 2, desc: str = "features") -> list[ClipFeatures]:
    """Features + targets for every entry (with `aug.copies` augmented copies each), cached per clip."""
    settings_dict = settings.to_dict()
    rows = [{**e.extra, **asdict_entry(e)} for e in entries]
    results: dict[int, list[ClipFeatures]] = {}
    todo = []
    for i, (entry, row) in enumerate(zip(entries, rows, strict=True)):
        path = cache_dir / f"{_cache_key(Path(entry.root), row, settings_dict, aug, seed)}.npz" if cache_dir else None
        if path is not None and path.exists():
            results[i] = _read_cache(path)
        else:
            todo.append((i, path, (str(entry.root), row, settings_dict, aug.as_dict(), seed)))
    if todo:
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            done = pool.map(_clip_job, [t[2] for t in todo], chunksize=4)
            for (i, path, _), clips in tqdm(zip(todo, done, strict=True), total=len(todo), desc=desc, unit="clip"):
                results[i] = clips
                if path is not None:
                    _write_cache(path, clips)
    return [c for i in range(len(entries)) for c in results[i]]


def asdict_entry(entry) -> dict:
    """The manifest line of an Entry, back as a dict."""
    keys = ("id", "speaker", "source", "licence", "split", "audio", "faps", "fps", "n_frames", "face_found",
            "duration_s", "ema")
    row = {k: getattr(entry, k) for k in keys}
    row["words"] = [list(w) for w in entry.words]
    row["phones"] = [list(p) for p in entry.phones]
    return row


def _write_cache(path: Path, clips: list[ClipFeatures]) -> None:
    from ventriloquist.training.corpus.manifest import save_npz

    arrays = {}
    for c in clips:
        for name in ("features", "times_s", "targets", "valid"):
            arrays[f"{c.copy}_{name}"] = getattr(c, name)
    save_npz(path, ids=np.array([clips[0].id]), copies=np.array([c.copy for c in clips]), **arrays)


def _read_cache(path: Path) -> list[ClipFeatures]:
    with np.load(path) as z:
        clip_id = str(z["ids"][0])
        return [
            ClipFeatures(clip_id, int(k), z[f"{k}_features"], z[f"{k}_times_s"], z[f"{k}_targets"], z[f"{k}_valid"])
            for k in z["copies"]
        ]


@dataclass(frozen=True)
class Examples:
    """Stacked, normalised net inputs with their targets (valid frames only)."""

    inputs: np.ndarray
    """(N, input_dim) float32."""
    targets: np.ndarray
    """(N, k) float32 FAPU."""
    clip: np.ndarray
    """(N,) int index into `ids`."""
    ids: tuple[str, ...]


def norm_stats(clips: list[ClipFeatures]) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std over all frames of `clips`."""
    allf = np.concatenate([c.features for c in clips]).astype(np.float64)
    return allf.mean(0).astype(np.float32), np.maximum(allf.std(0), 1e-6).astype(np.float32)


def stack(features: np.ndarray, times_s: np.ndarray, settings) -> np.ndarray:
    """Context windows exactly as the device builds them (ContextWindow, batch = process + flush)."""
    from ventriloquist.device.frontend import ContextWindow
    from ventriloquist.device.values import FeatureFrames

    window = ContextWindow(settings)
    frames = FeatureFrames(features, times_s)
    parts = [window.process(frames), window.flush()]
    return np.concatenate([p.values for p in parts])


def examples(clips: list[ClipFeatures], settings, mean: np.ndarray, std: np.ndarray) -> Examples:
    """Stack, normalise (tiled across the window, like device.model.PatternModel) and keep valid frames."""
    context = settings.input_dim // settings.dim
    m, s = np.tile(mean, context), np.tile(std, context)
    ids = tuple(dict.fromkeys(c.id for c in clips))
    index = {clip_id: i for i, clip_id in enumerate(ids)}
    xs, ys, cs = [], [], []
    for c in clips:
        x = ((stack(c.features, c.times_s, settings) - m) / s)[c.valid]
        xs.append(x.astype(np.float32))
        ys.append(c.targets[c.valid])
        cs.append(np.full(len(x), index[c.id]))
    if not xs:
        raise VentriloquistError("no training frames: every clip lacks a tracked face")
    return Examples(np.concatenate(xs), np.concatenate(ys), np.concatenate(cs), ids)
