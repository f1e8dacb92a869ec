"""The running normaliser: each voice and microphone level comes out mean 0, spread 1, causally and chunk-exact."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.frontend import PRESETS, features_for_wav
from ventriloquist.device.frontend.bench import speech_like
from ventriloquist.device.frontend.normalise import RunningNormaliser
from ventriloquist.device.values import FeatureFrames

VOICE = PRESETS["voice"]
RATE_HZ = 16_000


def test_a_louder_microphone_gives_the_same_features():
    """Gain moves log energy and c0 by a constant, which the running mean takes away exactly."""
    room = 0.01 * np.random.default_rng(3).standard_normal(4 * RATE_HZ)  # keeps every frame far above the log floor
    audio = (speech_like(4.0, RATE_HZ, seed=3) + room).astype(np.float32)
    quiet = features_for_wav(audio * 0.05, RATE_HZ, VOICE).values
    loud = features_for_wav(audio, RATE_HZ, VOICE).values
    np.testing.assert_allclose(quiet, loud, atol=2e-3)
    raw = PRESETS["default"]
    assert np.abs(features_for_wav(audio * 0.05, RATE_HZ, raw).values - features_for_wav(audio, RATE_HZ, raw).values
                  ).max() > 1.0  # without it, the level is in the features


def test_output_settles_to_mean_zero_spread_one():
    rng = np.random.default_rng(0)
    n = 3000  # 30 s of frames
    values = rng.normal(loc=np.arange(VOICE.dim) * 5.0, scale=np.linspace(0.5, 4.0, VOICE.dim), size=(n, VOICE.dim))
    out = RunningNormaliser(VOICE).process(FeatureFrames(values.astype(np.float32), np.arange(n) / 100.0)).values
    later = out[n // 2 :]
    assert np.abs(later.mean(0)).max() < 0.15
    assert np.abs(later.std(0) - 1.0).max() < 0.15


def test_it_looks_only_back():
    """Changing the future leaves every earlier output as it was (the device cannot wait)."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, VOICE.dim)).astype(np.float32)
    b = a.copy()
    b[300:] += 10.0
    t = np.arange(500) / 100.0
    out_a = RunningNormaliser(VOICE).process(FeatureFrames(a, t)).values
    out_b = RunningNormaliser(VOICE).process(FeatureFrames(b, t)).values
    np.testing.assert_array_equal(out_a[:300], out_b[:300])
    assert not np.allclose(out_a[300:], out_b[300:])


def test_silence_counts_with_its_weight():
    """Long silence after speech moves the statistics only as much as its weight says."""
    speech = speech_like(3.0, RATE_HZ, seed=5)
    audio = np.concatenate([speech, np.full(RATE_HZ * 10, 1e-4, np.float32) * np.sign(speech_like(10.0, RATE_HZ))])
    energy_column = dict(VOICE.features)["mfcc"]
    drift = {}
    for weight in (1.0, 0.0):
        settings = dataclasses.replace(VOICE, normalise_silence_weight=weight)
        frames = features_for_wav(audio, RATE_HZ, settings).values
        drift[weight] = frames[-1, energy_column]  # the silence's own energy, in units of the running spread
    assert drift[0.0] < -3.0 < drift[1.0]  # weight 0 keeps silence far below speech; weight 1 adopts it


@pytest.mark.parametrize(("key", "value"), [("normalise_s", 0.1), ("normalise_s", -1.0), ("normalise_gate_db", 0.0),
                                            ("normalise_silence_weight", 1.5)])
def test_bad_settings_name_their_key(key, value):
    with pytest.raises(VentriloquistError, match=key):
        dataclasses.replace(VOICE, **{key: value})


def test_a_prior_starts_the_stream_from_typical_speech():
    """With a prior, the first frames are scaled by the training speech's statistics, not by themselves."""
    settings = dataclasses.replace(VOICE, normalise_prior_s=1.0, normalise_prior_mean=(0.0,) * VOICE.dim,
                                   normalise_prior_std=(2.0,) * VOICE.dim)
    first = FeatureFrames(np.full((1, VOICE.dim), 10.0, np.float32), np.zeros(1))
    out = RunningNormaliser(settings).process(first).values[0]
    assert np.all((4.0 < out) & (out < 5.0))  # about 10 / 2: the prior of 100 frames barely moves
    assert not RunningNormaliser(VOICE).process(first).values.any()  # without: the first frame is its own mean
    again = type(settings).from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings  # a bundle carries its prior


def test_a_prior_of_the_wrong_size_is_refused():
    with pytest.raises(VentriloquistError, match="normalise_prior_mean"):
        dataclasses.replace(VOICE, normalise_prior_s=1.0, normalise_prior_mean=(0.0,), normalise_prior_std=(1.0,))


def _west_reference(settings, values: np.ndarray) -> np.ndarray:
    """The normaliser's definition written the plain way: West's weighted mean/scatter update, frame by frame."""
    decay = np.exp(-1.0 / (settings.normalise_s * settings.frame_rate_hz))
    column = dict(settings.features).get("mfcc", 0)  # log_energy follows the 13 MFCCs in VOICE
    gate = settings.normalise_gate_db * np.log(10) / 10
    weight = settings.normalise_prior_s * settings.frame_rate_hz
    mean = np.array(settings.normalise_prior_mean, np.float64)
    scatter = np.array(settings.normalise_prior_std, np.float64) ** 2 * weight
    out = np.empty(values.shape)
    for i, x in enumerate(values.astype(np.float64)):
        w = 1.0 if x[column] > mean[column] - gate else settings.normalise_silence_weight
        if w:
            weight = decay**w * weight + w
            delta = x - mean
            mean = mean + w * delta / weight
            scatter = decay**w * scatter + w * delta * (x - mean)
        out[i] = (x - mean) / np.sqrt(np.maximum(scatter / weight, 1e-4))
    return out


GATED = dataclasses.replace(VOICE, normalise_silence_weight=0.3, normalise_prior_s=1.0,
                            normalise_prior_mean=(-20.0,) + (0.0,) * (VOICE.dim - 2) + (-6.0,),
                            normalise_prior_std=(10.0,) + (2.0,) * (VOICE.dim - 1))


def _raw_features(seconds: float):
    """Un-normalised VOICE features of speech with pauses (so the silence gate opens and closes)."""
    audio = np.concatenate([speech_like(seconds, RATE_HZ, seed=7), np.full(RATE_HZ, 1e-4, np.float32)])
    return features_for_wav(audio, RATE_HZ, dataclasses.replace(VOICE, normalise_s=0.0))


def test_it_computes_the_weighted_running_mean_and_spread():
    """Sums of weight, x and x^2 give what West's update gives, to float rounding, silence gate included."""
    frames = _raw_features(4.0)
    assert dict(VOICE.features)["mfcc"] == VOICE.dim - 1  # _west_reference's energy column
    out = RunningNormaliser(GATED).process(frames).values
    np.testing.assert_allclose(out, _west_reference(GATED, frames.values), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("settings", [VOICE, GATED], ids=["voice", "gated"])
def test_any_chunking_gives_the_same_frames_bit_for_bit(settings):
    frames = _raw_features(3.0)
    whole = RunningNormaliser(settings).process(frames).values
    for size in (1, 2, 17, 160):
        normaliser = RunningNormaliser(settings)
        parts = [normaliser.process(FeatureFrames(frames.values[i : i + size], frames.times_s[i : i + size])).values
                 for i in range(0, len(frames), size)]
        np.testing.assert_array_equal(np.concatenate(parts), whole)
