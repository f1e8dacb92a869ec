"""FAP patterns by the paper's improved ISODATA: seeded k-means with split, merge and discard steps.

Clustering runs in a weighted, standardised space (each FAP divided by its spread over the data,
times a weight: mouth 1, brows/cheeks 0.5, eyelids 0 — blinks are not speech-driven and the
device adds its own). Pattern centres are means in FAPU of every FAP, so the table drives all of
them. `split_p` and `merge_c` are in units of that standardised space: a class splits when its
widest standard deviation exceeds P, two classes merge when their centres are closer than C.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ventriloquist.device.fap import FAPS

GROUP_WEIGHTS: dict[int, float] = {2: 1.0, 8: 1.0, 4: 0.5, 5: 0.5, 3: 0.0}
"""Clustering weight of each MPEG-4 FAP group (2/8 lips and jaw, 4 brows, 5 cheeks, 3 eyes)."""
SPLIT_OFFSET = 0.5
"""A split places the two new centres this many standard deviations either side of the old one."""


@dataclass(frozen=True)
class IsodataSettings:
    """The paper's knobs (expected classes 64, at most 200 iterations, P in [0.5, 1], C in [1, 1.5])."""

    expected_classes: int = 64
    max_iterations: int = 200
    min_samples: int = 10
    """A class with fewer samples is discarded and its samples go to the nearest remaining class."""
    split_p: float = 0.9
    merge_c: float = 1.0
    max_merges: int = 2
    """Pairs merged per merge step."""
    initial_classes: int = 8
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class IsodataResult:
    centres: np.ndarray
    """(K, d) float32 pattern table in FAPU."""
    labels: np.ndarray
    """(n,) int class of every sample."""
    iterations: int
    error: float
    """Eq. (1) of the paper on the clustered data."""
    offset: np.ndarray
    """(d,) subtracted before clustering ..."""
    scale: np.ndarray
    """(d,) ... then multiplied: the weighted, standardised space the classes live in."""

    def assign(self, values: np.ndarray) -> np.ndarray:
        """Nearest pattern of each FAP frame (n, d), in the clustering space."""
        z = (np.asarray(values, np.float64) - self.offset) * self.scale
        return nearest_labels(z, (self.centres.astype(np.float64) - self.offset) * self.scale)


def eq1_error(real: np.ndarray, mapped: np.ndarray) -> float:
    """The paper's eq. (1): (X-Y)^T(X-Y) / |X| with |X| the number of entries, i.e. mean squared error."""
    real = np.asarray(real, np.float64)
    return float(np.sum((real - np.asarray(mapped, np.float64)) ** 2) / max(real.size, 1))


def fap_weights(faps: tuple[int, ...]) -> np.ndarray:
    return np.array([GROUP_WEIGHTS.get(FAPS[f].group, 0.5) for f in faps], np.float64)


def clustering_space(values: np.ndarray, faps: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) of the space FAP frames are compared in: each FAP minus its mean, times its
    group's weight over its spread (z = (values - offset) * scale)."""
    x = np.asarray(values, np.float64)
    spread = x.std(0)
    return x.mean(0), fap_weights(faps) / np.where(spread > 1e-9, spread, 1.0)


def nearest_labels(z: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of each row of z (both already in the clustering space)."""
    return _nearest(z, centres)[0]


def _nearest(z: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d2 = (z**2).sum(1)[:, None] - 2 * z @ centres.T + (centres**2).sum(1)[None, :]
    labels = d2.argmin(1)
    return labels, np.sqrt(np.maximum(d2[np.arange(len(z)), labels], 0))


def _init_centres(z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: deterministic for a given generator."""
    centres = [z[rng.integers(len(z))]]
    for _ in range(1, k):
        _, dist = _nearest(z, np.array(centres))
        p = dist**2
        centres.append(z[rng.choice(len(z), p=p / p.sum())] if p.sum() > 0 else z[rng.integers(len(z))])
    return np.array(centres)


def _split(z, labels, centres, s: IsodataSettings) -> np.ndarray:
    mean_dist = np.array([np.linalg.norm(z[labels == j] - c, axis=1).mean() for j, c in enumerate(centres)])
    overall = np.average(mean_dist, weights=np.bincount(labels, minlength=len(centres)))
    out: list[np.ndarray] = []
    for j, c in enumerate(centres):
        members = z[labels == j]
        sd = members.std(0)
        axis = int(sd.argmax())
        wide = sd[axis] > s.split_p
        big = len(members) > 2 * (s.min_samples + 1)
        few = len(centres) <= s.expected_classes // 2
        if wide and big and (mean_dist[j] > overall or few) and len(centres) + len(out) - j < 2 * s.expected_classes:
            step = np.zeros_like(c)
            step[axis] = SPLIT_OFFSET * sd[axis]
            out += [c + step, c - step]
        else:
            out.append(c)
    return np.array(out)


def _merge(z, labels, centres, s: IsodataSettings) -> np.ndarray:
    counts = np.bincount(labels, minlength=len(centres)).astype(np.float64)
    d = np.linalg.norm(centres[:, None] - centres[None], axis=2)
    iu = np.triu_indices(len(centres), 1)
    order = np.argsort(d[iu], kind="stable")
    used: set[int] = set()
    merged: list[np.ndarray] = []
    for idx in order:
        i, j = int(iu[0][idx]), int(iu[1][idx])
        if d[i, j] >= s.merge_c or len(merged) >= s.max_merges:
            break
        if i in used or j in used:
            continue
        used |= {i, j}
        merged.append((counts[i] * centres[i] + counts[j] * centres[j]) / max(counts[i] + counts[j], 1))
    keep = [c for k, c in enumerate(centres) if k not in used]
    return np.array(keep + merged) if merged else centres


def _discard(z, centres, s: IsodataSettings) -> tuple[np.ndarray, np.ndarray]:
    """Drop classes below min_samples (smallest first, one pass at a time) and reassign."""
    labels, _ = _nearest(z, centres)
    while len(centres) > 1:
        counts = np.bincount(labels, minlength=len(centres))
        small = np.flatnonzero(counts < s.min_samples)
        if not len(small):
            break
        centres = np.delete(centres, small, axis=0)
        labels, _ = _nearest(z, centres)
    centres = np.array([z[labels == j].mean(0) for j in range(len(centres))])
    return centres, _nearest(z, centres)[0]


def isodata(values: np.ndarray, faps: tuple[int, ...], settings: IsodataSettings = IsodataSettings()) -> IsodataResult:
    """Cluster FAP frames (n, len(faps)) in FAPU into patterns; same input and seed, same result."""
    x = np.asarray(values, np.float64)
    offset, scale = clustering_space(x, faps)
    z = (x - offset) * scale
    rng = np.random.default_rng(settings.seed)
    centres = _init_centres(z, min(settings.initial_classes, len(z)), rng)
    labels = _nearest(z, centres)[0]
    iteration = 0
    for iteration in range(1, settings.max_iterations + 1):
        centres, labels = _discard(z, centres, settings)
        before = centres
        last = iteration == settings.max_iterations
        if not last:
            grow = len(centres) <= settings.expected_classes // 2 or iteration % 2 == 1
            step = _split if grow else _merge
            centres = step(z, labels, centres, settings)
            if len(centres) == len(before):
                centres = (_merge if grow else _split)(z, labels, centres, settings)
        new_labels = _nearest(z, centres)[0]
        stable = len(centres) == len(before) and np.array_equal(new_labels, labels)
        labels = new_labels
        if stable:
            break
    centres, labels = _discard(z, centres, settings)
    table = np.array([x[labels == j].mean(0) for j in range(len(centres))], np.float32)
    order = np.argsort(_opening(table, faps), kind="stable")  # pattern 0 = most closed mouth
    table, labels = table[order], np.argsort(order)[labels]
    return IsodataResult(table, labels, iteration, eq1_error(x, table[labels]), offset, scale)


def _opening(table: np.ndarray, faps: tuple[int, ...]) -> np.ndarray:
    """Mouth opening -(FAP4 + FAP5) of each row, zero when those FAPs are absent."""
    cols = [faps.index(f) for f in (4, 5) if f in faps]
    return -table[:, cols].sum(1) if cols else np.zeros(len(table))


def sweep(values: np.ndarray, faps: tuple[int, ...], min_samples: tuple[int, ...], base: IsodataSettings) -> list[dict]:
    """Table 1: for each minimum class size, the classes found and the eq. (1) error."""
    rows = []
    for m in min_samples:
        r = isodata(values, faps, IsodataSettings(**{**base.as_dict(), "min_samples": m}))
        rows.append({"min_samples": m, "classes": len(r.centres), "error": r.error, "iterations": r.iterations})
    return rows
