"""Front end: settings round trip, input checks, streaming == batch, context stacking, latency."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.frontend import (
    PRESETS,
    ContextWindow,
    Frontend,
    FrontendSettings,
    features_for_wav,
    to_mono_float32,
)
from ventriloquist.device.frontend.bench import speech_like
from ventriloquist.device.values import AudioChunk, FeatureFrames

SHARED = Path(__file__).resolve().parents[2] / "shared"
ALL_KINDS = dataclasses.replace(
    PRESETS["default"],
    name="all_kinds",
    features=(("mfcc", 13), ("lpc_cepstra", 12), ("rasta_plp_cepstra", 8), ("log_energy", 1), ("f0_hz", 1)),
    lpc_order=12,
)
CHUNK_SIZES = (1, 17, 160, 1024)


def stream(settings: FrontendSettings, audio: np.ndarray, rate_hz: int, sizes, t0_s: float = 0.0) -> FeatureFrames:
    frontend = Frontend(settings)
    parts, i, k = [], 0, 0
    while i < len(audio):
        n = sizes[k % len(sizes)]
        parts.append(frontend.process(AudioChunk(audio[i : i + n], rate_hz, t0_s + i / rate_hz)))
        i, k = i + n, k + 1
    parts.append(frontend.flush())
    return FeatureFrames.concat(parts, settings.dim)


def test_paper_preset_is_the_papers_numbers():
    paper = PRESETS["paper"]
    assert (paper.rate_hz, paper.window_samples, paper.hop_samples) == (8040, 156, 90)
    assert paper.dim == 18 and paper.input_dim == 108
    assert paper.frame_rate_hz == pytest.approx(89.33, abs=0.01)
    assert dict(paper.features) == {"lpc_cepstra": 8, "rasta_plp_cepstra": 8, "log_energy": 1, "f0_hz": 1}
    assert PRESETS["default"].frame_rate_hz == 100.0 and PRESETS["default"].rate_hz == 16_000
    assert PRESETS["default"].algorithmic_latency_s <= 0.045
    assert "108 inputs" in paper.describe() and "latency" in paper.describe()


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_settings_round_trip_through_json(name):
    settings = PRESETS[name]
    assert FrontendSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"hop_sample": 90}, "hop_sample"),
        ({"rate_hz": 96_000}, "rate_hz"),
        ({"rate_hz": "8040"}, "rate_hz"),
        ({"features": [["mfcc", 13], ["wavelets", 3]]}, "features"),
        ({"features": [["lpc_cepstra", 11]]}, "features"),
        ({"fft_size": 200}, "fft_size"),
        ({"resample_quality": "best"}, "resample_quality"),
    ],
)
def test_from_dict_names_the_bad_key(change, key):
    d = PRESETS["paper"].to_dict() | change
    with pytest.raises(VentriloquistError, match=repr(key)):
        FrontendSettings.from_dict(d)
    missing = PRESETS["paper"].to_dict()
    del missing["hop_samples"]
    with pytest.raises(VentriloquistError, match="'hop_samples'"):
        FrontendSettings.from_dict(missing)


def test_to_mono_float32_scales_and_mixes():
    stereo16 = np.array([[32767, -32768], [16384, 16384]], np.int16)
    assert np.allclose(to_mono_float32(stereo16), [-0.5 / 32768, 0.5], atol=1e-6)
    assert to_mono_float32(np.array([2**31 - 1], np.int32))[0] == pytest.approx(1.0, abs=1e-6)
    planar = np.ones((2, 5), np.float64)
    assert to_mono_float32(planar, channels_axis=0).shape == (5,)
    for bad in (np.array([0.0, np.nan]), np.array([1 + 1j]), np.zeros((2, 2, 2)), np.array([1, 2], np.int64)):
        with pytest.raises(VentriloquistError):
            to_mono_float32(bad)


def test_frontend_rejects_bad_chunks():
    frontend = Frontend(PRESETS["default"])
    with pytest.raises(VentriloquistError, match="outside the supported"):
        frontend.process(AudioChunk(np.zeros(100, np.float32), 96_000))
    with pytest.raises(VentriloquistError, match="NaN"):
        frontend.process(AudioChunk(np.array([0.0, np.inf], np.float32), 16_000))
    with pytest.raises(VentriloquistError, match="to_mono_float32"):
        frontend.process(AudioChunk(np.zeros(100, np.int16), 16_000))
    frontend.process(AudioChunk(np.zeros(100, np.float32), 16_000))
    with pytest.raises(VentriloquistError, match="changed mid-stream"):
        frontend.process(AudioChunk(np.zeros(100, np.float32), 8_000))
    with pytest.raises(VentriloquistError, match="no audio"):
        features_for_wav(np.zeros(0, np.float32), 16_000, PRESETS["default"])
    with pytest.raises(VentriloquistError, match="cannot read"):
        features_for_wav(Path(__file__), None, PRESETS["default"])


@pytest.mark.parametrize("settings", [PRESETS["paper"], PRESETS["default"], PRESETS["voice"], ALL_KINDS],
                         ids=lambda s: s.name)
@pytest.mark.slow  # 16 feature settings x rates; the fast tier keeps the engine chunk test
@pytest.mark.parametrize("rate_hz", [16_000, 44_100])
def test_random_chunking_equals_batch(settings, rate_hz):
    audio = speech_like(1.0, rate_hz, seed=rate_hz)
    batch = stream(settings, audio, rate_hz, [len(audio)], t0_s=5.0)
    assert batch.values.shape[1] == settings.dim and np.isfinite(batch.values).all()
    expected_frames = int(np.ceil((1.0 * settings.rate_hz - (settings.window_samples - 1) / 2) / settings.hop_samples))
    assert abs(len(batch) - expected_frames) <= 1
    rng = np.random.default_rng(1)
    for sizes in [[n] for n in CHUNK_SIZES] + [list(rng.integers(1, 3000, 50))]:
        streamed = stream(settings, audio, rate_hz, sizes, t0_s=5.0)
        np.testing.assert_allclose(streamed.values, batch.values, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(streamed.times_s, batch.times_s)
    first_centre_s = (settings.window_samples - 1) / 2 / settings.rate_hz
    assert batch.times_s[0] == pytest.approx(5.0 + first_centre_s)
    assert np.diff(batch.times_s) == pytest.approx(1 / settings.frame_rate_hz)


@pytest.mark.parametrize("settings", [PRESETS["paper"], ALL_KINDS], ids=lambda s: s.name)
def test_silence_and_clipping_give_finite_features(settings):
    for audio in (np.zeros(8000, np.float32), np.sign(speech_like(0.5, 16_000)).astype(np.float32)):
        frames = features_for_wav(audio, 16_000, settings)
        assert len(frames) > 0 and np.isfinite(frames.values).all()
    silent = features_for_wav(np.zeros(8000, np.float32), 16_000, settings).values
    assert (silent[:, -1] == 0).all()  # no pitch in silence


def test_input_formats_agree():
    audio = speech_like(0.5, 16_000)
    pcm = np.round(audio * 32767).astype(np.int16)
    stereo = np.stack([pcm, pcm], axis=1)
    reference = features_for_wav(audio, 16_000, PRESETS["default"]).values
    from_pcm = features_for_wav(stereo, 16_000, PRESETS["default"]).values
    np.testing.assert_allclose(from_pcm[:, -1], reference[:, -1], atol=1e-2)


def test_context_window_stacks_with_edge_repeats_in_batch_and_stream():
    settings = PRESETS["paper"]
    n = 10
    values = np.arange(n * settings.dim, dtype=np.float32).reshape(n, settings.dim)
    frames = FeatureFrames(values, np.arange(n) * 0.1)
    window = ContextWindow(settings)
    batch = FeatureFrames.concat([window.process(frames), window.flush()], settings.input_dim)
    assert batch.values.shape == (n, 108)
    np.testing.assert_array_equal(batch.times_s, frames.times_s)
    rows = batch.values.reshape(n, 6, settings.dim)
    np.testing.assert_array_equal(rows[0, :4], np.repeat(values[:1], 4, axis=0))  # 3 past = first frame
    np.testing.assert_array_equal(rows[5], values[2:8])
    np.testing.assert_array_equal(rows[-1, 3:], np.repeat(values[-1:], 3, axis=0))  # 2 future = last frame
    for size in (1, 3, 7):
        parts = [
            window.process(FeatureFrames(values[i : i + size], frames.times_s[i : i + size])) for i in range(0, n, size)
        ]
        streamed = FeatureFrames.concat([*parts, window.flush()], settings.input_dim)
        np.testing.assert_array_equal(streamed.values, batch.values)
        np.testing.assert_array_equal(streamed.times_s, batch.times_s)
    assert len(window.flush()) == 0


def test_real_wav_file_batch_and_stream():
    wav = SHARED / "data" / "phones" / "arctic" / "arctic_a0009.wav"
    if not wav.exists():
        pytest.skip(f"{wav} absent")
    batch = features_for_wav(wav, None, PRESETS["paper"])
    assert len(batch) == pytest.approx(3.095 * PRESETS["paper"].frame_rate_hz, abs=2)
    assert (batch.values[:, -1] > 0).mean() > 0.3  # voiced speech found
    with pytest.raises(VentriloquistError, match="16000 Hz, not 8000"):
        features_for_wav(wav, 8_000, PRESETS["paper"])
