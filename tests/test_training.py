"""Training pieces: target alignment, augmentation, class codes, the loudness baseline, bilabial closure."""

from __future__ import annotations

import numpy as np
import pytest

from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.training.baselines import JawFlapper, loudness_envelope
from ventriloquist.training.dataset import Augmentation, align_targets, augment, reorder_faps
from ventriloquist.training.evaluate import bilabial_closure, phones_from_words
from ventriloquist.training.net import binary_codes

RATE_HZ = 16000


def test_targets_are_interpolated_to_frame_times_and_invalid_next_to_lost_frames():
    video_t = np.arange(6) / 25.0
    values = np.arange(6, dtype=np.float32)[:, None] * np.array([[1.0, 10.0]], np.float32)
    mask = np.array([True, True, True, False, True, True])
    values[3] = np.nan
    frame_t = np.array([0.02, 0.05, 0.10, 0.13, 0.18, 0.5])
    targets, valid = align_targets(values, mask, video_t, frame_t)
    np.testing.assert_allclose(targets[:2, 0], [0.5, 1.25])
    np.testing.assert_allclose(targets[1, 1], 12.5)
    # 0.10 and 0.13 s lie next to the lost frame at 0.12 s; 0.5 s is past the track's end (0.2 s)
    np.testing.assert_array_equal(valid, [True, True, False, False, True, False])
    assert np.all(targets[~valid] == 0)


def test_reorder_faps_follows_the_animation_subset_and_names_missing_ones():
    faps = tuple(reversed(ANIMATION_SUBSET))
    values = np.array([list(faps)], np.float32)
    np.testing.assert_array_equal(reorder_faps(values, faps, "x")[0], ANIMATION_SUBSET)
    with pytest.raises(Exception, match="lacks FAPs"):
        reorder_faps(values[:, 1:], faps[1:], "x")


def test_augmentation_is_seeded_and_speed_changes_duration_as_reported():
    t = np.arange(RATE_HZ) / RATE_HZ
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    aug = Augmentation(speed=(1.2, 1.2), noise_probability=0.0, reverb_probability=0.0, gain_db=(0.0, 0.0))
    y, speed = augment(x, RATE_HZ, aug, np.random.default_rng(0))
    assert speed == pytest.approx(1.2) and len(y) == pytest.approx(len(x) / 1.2, abs=2)
    spectrum = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(len(y), 1 / RATE_HZ)[spectrum.argmax()] == pytest.approx(264, abs=3)
    a, _ = augment(x, RATE_HZ, Augmentation(), np.random.default_rng(5))
    b, _ = augment(x, RATE_HZ, Augmentation(), np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_binary_codes_are_the_papers_bit_code():
    codes = binary_codes(np.array([0, 5, 28]), 29)
    np.testing.assert_array_equal(codes, [[0, 0, 0, 0, 0], [0, 0, 1, 0, 1], [1, 1, 1, 0, 0]])


def test_loudness_envelope_follows_syllable_rate_amplitude():
    t = np.arange(2 * RATE_HZ) / RATE_HZ
    gate = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)  # 4 Hz syllables pass the 8 Hz low-pass
    x = gate * np.random.default_rng(0).normal(0, 0.1, len(t))
    times_s, env = loudness_envelope(x, RATE_HZ)
    assert abs(len(times_s) - 200) <= 2
    assert np.corrcoef(env, np.interp(times_s, t, gate))[0, 1] > 0.9


def test_jaw_flapper_fit_recovers_a_linear_map_from_loudness():
    rng = np.random.default_rng(1)
    clips = []
    for _ in range(3):
        x = rng.normal(0, 0.1, RATE_HZ) * np.repeat(rng.uniform(0.1, 1, 10), RATE_HZ // 10)
        t_env, env = loudness_envelope(x, RATE_HZ)
        targets = env[:, None] * np.linspace(-300, 300, len(ANIMATION_SUBSET))[None] + 5.0
        clips.append((x, RATE_HZ, t_env, targets))
    flapper = JawFlapper.fit(clips, ANIMATION_SUBSET)
    np.testing.assert_allclose(flapper.gain, np.linspace(-300, 300, len(ANIMATION_SUBSET)), atol=1e-2)
    np.testing.assert_allclose(flapper.offset, 5.0, atol=1e-3)


def test_bilabial_closure_counts_closed_bilabials_and_false_closures_within_speech():
    times_s = np.arange(0, 1.0, 0.01)
    opening = 100.0 + 20 * times_s
    opening[(times_s >= 0.3) & (times_s < 0.45)] = 0.0  # closed during /b/ (over 20 % of the speech span)
    opening[times_s < 0.1] = -50.0  # leading silence: lower still, must not set the threshold
    phones = [(0.0, 0.1, "sil"), (0.1, 0.3, "a"), (0.3, 0.45, "b"), (0.45, 0.6, "i"), (0.6, 0.8, "m"),
              (0.8, 1.0, "sil")]
    closed_b, n_b, closed_other, n_other = bilabial_closure(opening, times_s, phones)
    assert (closed_b, n_b) == (1, 2) and (closed_other, n_other) == (0, 2)


def test_word_alignments_become_even_phone_spans():
    phones = phones_from_words([(0.0, 0.3, "bin")])
    if phones[0][2] == "bin":
        pytest.skip("espeak-ng is not installed")
    assert [p for _, _, p in phones] == ["b", "ɪ", "n"]
    assert phones[0][:2] == (0.0, pytest.approx(0.1))


def _entries(counts: dict[str, int]) -> list:
    from types import SimpleNamespace

    return [SimpleNamespace(id=f"{who}/{i}", speaker=who) for who, n in counts.items() for i in range(n)]


def test_validation_holds_whole_small_speakers_and_other_sentences_of_large_ones():
    from ventriloquist.training.train import split_clips

    entries = _entries({"s1": 100, **{f"p{i}": 2 for i in range(10)}})
    fit, val = split_clips(entries, 0.2, seed=0)
    assert len(fit) + len(val) == len(entries)
    small_fit = {e.speaker for e in fit if e.speaker != "s1"}
    small_val = {e.speaker for e in val if e.speaker != "s1"}
    assert len(small_val) == 2 and not small_fit & small_val  # a person is in one part only
    assert sum(e.speaker == "s1" for e in val) == 20  # the large speaker's sentences are split
    assert split_clips(entries, 0.2, seed=0) == (fit, val)


def test_a_corpus_too_small_to_hold_out_a_person_still_validates_on_a_clip():
    from ventriloquist.training.train import split_clips

    fit, val = split_clips(_entries({"only": 3}), 0.1, seed=0)
    assert len(val) == 1 and len(fit) == 2


@pytest.mark.parametrize("balance", [1.0, 0.5, 0.0])
def test_speaker_weights_share_the_loss_by_a_power_of_each_speakers_frames(balance):
    from ventriloquist.training.train import speaker_weights

    speakers = np.array(["s1"] * 900 + ["a"] * 90 + ["b"] * 10)
    w = speaker_weights(speakers, balance)
    assert w.mean() == pytest.approx(1.0)
    totals = {s: w[speakers == s].sum() for s in ("s1", "a", "b")}
    assert totals["s1"] / totals["b"] == pytest.approx(90.0**balance)
    assert totals["a"] / totals["b"] == pytest.approx(9.0**balance)


def test_revoicing_scales_pitch_and_tempo_and_keeps_loudness():
    pyworld = pytest.importorskip("pyworld")
    from ventriloquist.device.frontend.bench import speech_like
    from ventriloquist.training.voice import convert

    x = speech_like(2.0, RATE_HZ, seed=2)
    y = convert(x, RATE_HZ, f0_scale=1.5, formant_scale=1.1, tempo=1.25)
    assert abs(len(y) - len(x) / 1.25) < 0.01 * RATE_HZ
    assert np.sqrt(np.mean(y**2)) == pytest.approx(np.sqrt(np.mean(x**2)), rel=0.05)

    def median_f0(a):
        f0, _ = pyworld.dio(a.astype(np.float64), RATE_HZ)
        return np.median(f0[f0 > 0])

    assert median_f0(y) / median_f0(x) == pytest.approx(1.5, rel=0.08)


def test_each_speakers_targets_are_mapped_onto_the_largest_speakers_scale():
    import dataclasses

    from ventriloquist.training.train import match_targets

    @dataclasses.dataclass(frozen=True)
    class Clip:
        id: str
        copy: int
        targets: np.ndarray
        valid: np.ndarray

    rng = np.random.default_rng(0)
    big = Clip("big/1", 0, rng.normal(10.0, 5.0, size=(2000, 2)).astype(np.float32), np.ones(2000, bool))
    small = Clip("small/1", 0, rng.normal(-3.0, 0.5, size=(300, 2)).astype(np.float32), np.ones(300, bool))
    first, rest = match_targets([big, small], {"big/1": "big", "small/1": "small"}, 1)
    np.testing.assert_allclose(first[0].targets, big.targets, atol=1e-4)  # the reference stays as it was
    np.testing.assert_allclose(rest[0].targets.mean(0), big.targets.mean(0), atol=1e-3)
    np.testing.assert_allclose(rest[0].targets.std(0), big.targets.std(0), rtol=1e-3)
