"""Front end against well-known implementations: librosa (Burg LPC, mel, pYIN), scipy, spafe's RASTA filter.

spafe's rplp() itself is not a usable reference: it runs its RASTA filter across bands instead of along
time and applies equal loudness to band powers instead of band frequencies. Its rasta_filter() is right
when handed (bands, frames), so that is what we compare with.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from ventriloquist.device.frontend import PRESETS, Frontend, features_for_wav, read_wav, resampler_lag_s
from ventriloquist.device.frontend.bench import speech_like
from ventriloquist.device.frontend.lpc import burg_lpc, levinson, lpc_to_cepstra
from ventriloquist.device.frontend.mfcc import dct_matrix, mel_filterbank
from ventriloquist.device.frontend.pitch import Yin
from ventriloquist.device.frontend.rasta_plp import RastaFilter, RastaPlp, bark_filterbank, plp_cepstra
from ventriloquist.device.frontend.spectrum import hamming, power_spectra
from ventriloquist.device.values import AudioChunk

SHARED = Path(__file__).resolve().parents[2] / "shared"
SPEECH_WAVS = [
    SHARED / "data" / "phones" / "arctic" / "arctic_a0009.wav",
    SHARED / "data" / "ema" / "mocha" / "fsew0_001.wav",
]


def speech(path: Path = SPEECH_WAVS[0]) -> tuple[np.ndarray, int]:
    if not path.exists():
        pytest.skip(f"{path} absent")
    return read_wav(path)


def speech_frames(window_samples: int = 156, hop_samples: int = 90) -> np.ndarray:
    audio, _ = speech()
    frames = np.lib.stride_tricks.sliding_window_view(audio.astype(np.float64), window_samples)[::hop_samples]
    return frames[np.mean(frames**2, axis=1) > 1e-5]


def test_burg_lpc_matches_librosa():
    librosa = pytest.importorskip("librosa")
    frames = speech_frames() * hamming(156)
    for order in (8, 10, 16):
        np.testing.assert_allclose(
            burg_lpc(frames, order), librosa.lpc(frames, order=order, axis=-1), rtol=1e-9, atol=1e-12
        )


def test_lpc_cepstra_match_the_fft_cepstrum_of_the_model():
    frames = speech_frames() * hamming(156)
    a = burg_lpc(frames[:50], 10)
    fft_size = 8192
    log_magnitude = -np.log(np.abs(np.fft.rfft(a, fft_size, axis=1)))
    real_cepstrum = np.fft.irfft(log_magnitude, fft_size, axis=1)
    np.testing.assert_allclose(lpc_to_cepstra(a, 20), 2 * real_cepstrum[:, 1:21], atol=1e-9)


def test_levinson_solves_the_normal_equations():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    frames = speech_frames()[:20] * hamming(156)
    autocorr = np.array([np.correlate(f, f, "full")[len(f) - 1 : len(f) + 12] for f in frames])
    a, err = levinson(autocorr, 12)
    for row, r, e in zip(a, autocorr, err, strict=True):
        np.testing.assert_allclose(row[1:], scipy_linalg.solve_toeplitz(r[:12], -r[1:13]), rtol=1e-8, atol=1e-10)
        assert e == pytest.approx(r[0] + row[1:] @ r[1:13])


def test_mel_filterbank_and_dct_match_librosa_and_scipy():
    librosa = pytest.importorskip("librosa")
    scipy_fft = pytest.importorskip("scipy.fft")
    ours = mel_filterbank(16_000, 512, 40, 20.0, 7_600.0)
    theirs = librosa.filters.mel(sr=16_000, n_fft=512, n_mels=40, fmin=20.0, fmax=7_600.0, htk=True, norm=None)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    x = np.random.default_rng(0).standard_normal((5, 40))
    np.testing.assert_allclose(x @ dct_matrix(40, 13).T, scipy_fft.dct(x, norm="ortho", axis=1)[:, :13], atol=1e-12)


def test_rasta_filter_matches_spafe_along_time_after_the_start():
    filters = pytest.importorskip("spafe.utils.filters")
    settings = PRESETS["paper"]
    power = power_spectra(speech_frames(), settings.fft_size)
    log_bands = np.log(np.maximum(power @ bark_filterbank(settings.rate_hz, settings.fft_size).T, 1e-10))
    ours = RastaFilter(0.94).process(log_bands)
    theirs = filters.rasta_filter(log_bands.T).T  # spafe filters along axis 1: hand it (bands, frames)
    settled = 120  # the two differ only in their initial state, which decays as 0.94^n
    np.testing.assert_allclose(ours[settled:], theirs[settled:], atol=1e-3)
    assert np.abs(ours[settled:]).max() > 0.1


def test_rasta_plp_removes_gain_and_a_fixed_channel():
    settings = PRESETS["paper"]
    audio, rate_hz = speech()
    audio = audio + np.float32(1e-4) * np.random.default_rng(0).standard_normal(len(audio)).astype(np.float32)
    channel = np.convolve(audio, [1.0, -0.6])[: len(audio)].astype(np.float32)  # a tilted microphone
    column = slice(8, 16)
    base = features_for_wav(audio, rate_hz, settings).values[:, column]
    quiet = features_for_wav(audio * np.float32(0.05), rate_hz, settings).values[:, column]
    np.testing.assert_allclose(quiet, base, atol=2e-3)  # ln gain is a constant the band-pass removes
    rasta = features_for_wav(channel, rate_hz, settings).values[:, column]
    plain_plp = []
    for x in (audio, channel):
        frontend_rate = np.interp(np.arange(0, len(x), rate_hz / settings.rate_hz), np.arange(len(x)), x)
        frames = np.lib.stride_tricks.sliding_window_view(frontend_rate, settings.window_samples)[
            :: settings.hop_samples
        ]
        plp = RastaPlp(settings, 8)
        bands = power_spectra(frames, settings.fft_size) @ plp.filterbank_t
        plain_plp.append(plp_cepstra(bands, plp.loudness, 8, 8))
    settled = 60
    rasta_change = np.abs(rasta - base)[settled:].mean()
    plain_change = np.abs(plain_plp[1][: len(base)] - plain_plp[0][: len(base)])[settled:].mean()
    assert rasta_change < 0.5 * plain_change


@pytest.mark.slow  # librosa pyin
@pytest.mark.parametrize("wav", SPEECH_WAVS, ids=lambda p: p.name)
def test_pitch_agrees_with_pyin_on_real_speech(wav):
    librosa = pytest.importorskip("librosa")
    audio, rate_hz = speech(wav)
    settings = PRESETS["paper"]
    f0_hz = features_for_wav(audio, rate_hz, settings).values[:, -1].astype(np.float64)
    ref_hop = 32
    ref_f0, ref_voiced, _ = librosa.pyin(audio, fmin=60, fmax=400, sr=rate_hz, frame_length=1024, hop_length=ref_hop)
    ref_t = librosa.times_like(ref_f0, sr=rate_hz, hop_length=ref_hop)
    yin = Yin(settings)
    segment_start_s = np.arange(len(f0_hz)) * settings.hop_samples + settings.window_samples - yin.segment_samples
    period_samples = settings.rate_hz / np.maximum(f0_hz, settings.f0_min_hz)
    t_analysis_s = (segment_start_s + (yin.window_samples + period_samples) / 2) / settings.rate_hz
    ref_at = np.interp(t_analysis_s, ref_t, np.where(ref_voiced, ref_f0, 0.0))
    both = (f0_hz > 0) & (np.interp(t_analysis_s, ref_t, ref_voiced.astype(float)) > 0.99)
    assert both.sum() > 50
    within = np.abs(f0_hz[both] / ref_at[both] - 1) < 0.05
    assert within.mean() >= 0.90, f"{within.mean():.3f} of {both.sum()} frames within 5 %"


def test_rates_8k_to_48k_resample_to_the_same_features():
    settings = PRESETS["paper"]
    audio_16k = speech_like(1.0, 16_000)
    reference = features_for_wav(audio_16k, 16_000, settings).values
    for rate_hz in (8_000, 11_025, 22_050, 48_000):
        import soxr

        audio = soxr.resample(audio_16k, 16_000, rate_hz).astype(np.float32)
        values = features_for_wav(audio, rate_hz, settings).values
        assert abs(len(values) - len(reference)) <= 1
        n = min(len(values), len(reference))
        energy_gap = np.abs(values[5 : n - 5, 16] - reference[5 : n - 5, 16])
        assert np.median(energy_gap) < 0.1, rate_hz


def test_paper_rate_is_exact_and_resampler_lag_is_reported():
    frontend = Frontend(PRESETS["paper"])
    frontend.process(AudioChunk(np.zeros(8_000, np.float32), 8_000))
    frontend.flush()
    assert frontend.samples_seen == 0  # flush resets; count again without flushing
    frontend.process(AudioChunk(np.zeros(80_000, np.float32), 8_000))
    assert frontend.resampler.flush().size + frontend.samples_seen == 80_400  # 10 s x 201/200
    assert resampler_lag_s(16_000, 16_000) == 0.0
    assert 0.0 < resampler_lag_s(48_000, 16_000) < 0.1
    assert dataclasses.replace(PRESETS["default"], context_future=5).algorithmic_latency_s > 0.045
