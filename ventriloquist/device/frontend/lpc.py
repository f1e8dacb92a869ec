"""All-pole models for many frames at once: Burg LPC (as librosa.lpc), Levinson-Durbin, LPC -> cepstra.

Convention: A(z) = 1 + a1 z^-1 + ... + ap z^-p, coefficient arrays are (n_frames, p + 1) with a0 = 1.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

TINY = np.finfo(np.float64).tiny
"""Guards divisions by a zero error power (silent frames give a flat model, not NaN)."""


def burg_lpc(frames: np.ndarray, order: int) -> np.ndarray:
    """Burg's method per row of `frames` (n, N); the same recursion as librosa.lpc (Marple 1980).

    Works on the errors laid out (samples, frames): each step drops a whole row, so every array stays
    contiguous and each update is one pass over memory.
    """
    samples = np.ascontiguousarray(np.asarray(frames, np.float64).T)
    fwd = samples[1:].copy()
    bwd = samples[:-1].copy()
    den = np.einsum("ij,ij->j", fwd, fwd) + np.einsum("ij,ij->j", bwd, bwd)
    a = np.zeros((len(frames), order + 1))
    a[:, 0] = 1.0
    a_prev = a.copy()
    for i in range(order):
        k = -2.0 * np.einsum("ij,ij->j", bwd, fwd) / (den + TINY)
        a_prev, a = a, a_prev
        a[:, 1 : i + 2] = a_prev[:, 1 : i + 2] + k[:, None] * a_prev[:, i::-1]
        new_bwd = np.multiply(k, fwd)
        new_bwd += bwd
        bwd *= k  # the old backward error is not needed again: reuse it for k * bwd
        fwd += bwd
        bwd = new_bwd
        den = (1.0 - k**2) * den - bwd[-1] ** 2 - fwd[0] ** 2
        fwd = fwd[1:]
        bwd = bwd[:-1]
    return a


def levinson(autocorr: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Levinson-Durbin per row of autocorrelations (n, >= order + 1): (A coefficients, prediction error power)."""
    r = np.ascontiguousarray(np.asarray(autocorr, np.float64)[:, : order + 1].T)  # (lag, frame): rows contiguous
    a = np.zeros((order + 1, len(r[0])))
    a[0] = 1.0
    err = r[0].copy()
    for i in range(1, order + 1):
        acc = r[i] + np.einsum("ij,ij->j", a[1:i], r[i - 1 : 0 : -1])
        k = -acc / (err + TINY)
        a[1:i] = a[1:i] + k * a[i - 1 : 0 : -1]
        a[i] = k
        err = err * (1.0 - k**2)
    return np.ascontiguousarray(a.T), err


def lpc_to_cepstra(a: np.ndarray, n_ceps: int) -> np.ndarray:
    """Cepstra c1..c_n_ceps of 1/A(z) (gain term c0 left out): c_n = -a_n - sum_k (k/n) c_k a_(n-k).

    Runs on (coefficient, frame) rows, so each step is one small weighted sum of contiguous rows.
    """
    order = a.shape[1] - 1
    a_t = np.ascontiguousarray(a.T)
    ceps = np.zeros((n_ceps + 1, len(a)))
    for n, (low, weights) in enumerate(_cepstrum_weights(order, n_ceps), start=1):
        if n <= order:
            ceps[n] = -a_t[n]
        if low < n:
            ceps[n] -= weights @ (ceps[low:n] * a_t[n - low : 0 : -1])
    return ceps[1:].T


@lru_cache(maxsize=16)
def _cepstrum_weights(order: int, n_ceps: int) -> tuple[tuple[int, np.ndarray], ...]:
    """(first k, weights k / n for k = first .. n - 1) of each cepstrum c_n, n = 1 .. n_ceps (k runs back <= order)."""
    steps = []
    for n in range(1, n_ceps + 1):
        low = max(1, n - order)
        steps.append((low, np.arange(low, n) / n))
    return tuple(steps)
