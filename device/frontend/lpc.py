"""All-pole models for many frames at once: Burg LPC (as librosa.lpc), Levinson-Durbin, LPC -> cepstra.

Convention: A(z) = 1 + a1 z^-1 + ... + ap z^-p, coefficient arrays are (n_frames, p + 1) with a0 = 1.
"""

from __future__ import annotations

import numpy as np

TINY = np.finfo(np.float64).tiny
"""Guards divisions by a zero error power (silent frames give a flat model, not NaN)."""


def burg_lpc(frames: np.ndarray, order: int) -> np.ndarray:
    """Burg's method per row of `frames` (n, N); the same recursion as librosa.lpc (Marple 1980)."""
    fwd = np.array(frames[:, 1:], np.float64)
    bwd = np.array(frames[:, :-1], np.float64)
    den = np.einsum("ij,ij->i", fwd, fwd) + np.einsum("ij,ij->i", bwd, bwd)
    a = np.zeros((len(frames), order + 1))
    a[:, 0] = 1.0
    a_prev = a.copy()
    for i in range(order):
        k = -2.0 * np.einsum("ij,ij->i", bwd, fwd) / (den + TINY)
        a_prev, a = a, a_prev
        a[:, 1 : i + 2] = a_prev[:, 1 : i + 2] + k[:, None] * a_prev[:, i::-1]
        k_col = k[:, None]
        new_bwd = k_col * fwd
        new_bwd += bwd
        fwd += k_col * bwd
        bwd = new_bwd
        den = (1.0 - k**2) * den - bwd[:, -1] ** 2 - fwd[:, 0] ** 2
        fwd = fwd[:, 1:]
        bwd = bwd[:, :-1]
    return a


def levinson(autocorr: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Levinson-Durbin per row of autocorrelations (n, >= order + 1): (A coefficients, prediction error power)."""
    a = np.zeros((len(autocorr), order + 1))
    a[:, 0] = 1.0
    err = autocorr[:, 0].astype(np.float64, copy=True)
    for i in range(1, order + 1):
        acc = autocorr[:, i] + np.sum(a[:, 1:i] * autocorr[:, i - 1 : 0 : -1], axis=1)
        k = -acc / (err + TINY)
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1 : 0 : -1]
        a[:, i] = k
        err = err * (1.0 - k**2)
    return a, err


def lpc_to_cepstra(a: np.ndarray, n_ceps: int) -> np.ndarray:
    """Cepstra c1..c_n_ceps of 1/A(z) (gain term c0 left out): c_n = -a_n - sum_k (k/n) c_k a_(n-k)."""
    order = a.shape[1] - 1
    ceps = np.zeros((len(a), n_ceps + 1))
    for n in range(1, n_ceps + 1):
        acc = -a[:, n] if n <= order else np.zeros(len(a))
        for k in range(max(1, n - order), n):
            acc = acc - (k / n) * ceps[:, k] * a[:, n - k]
        ceps[:, n] = acc
    return ceps[:, 1:]
