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
