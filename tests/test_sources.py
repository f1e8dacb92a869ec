"""File and stdin sources: every container libsndfile reads gives the same samples; PCM on a real pipe."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import soundfile

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.sources import DEFAULT_CHUNK_S
from ventriloquist.device.sources.file import FileSource
from ventriloquist.device.sources.stdin import StdinSource

RATE_HZ = 16_000


@pytest.fixture
def tone() -> np.ndarray:
    t = np.arange(RATE_HZ // 2) / RATE_HZ
    return (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.mark.parametrize(("suffix", "subtype", "atol"), [
    ("wav", "PCM_16", 1e-4), ("flac", "PCM_16", 1e-4), ("ogg", "VORBIS", 0.05),
])
def test_wav_flac_ogg_read_in_chunks_with_file_times(tmp_path, tone, suffix, subtype, atol):
    path = tmp_path / f"tone.{suffix}"
    stereo = np.stack([tone, tone], axis=1)
    soundfile.write(path, stereo, RATE_HZ, subtype=subtype)
    source = FileSource(path, chunk_s=0.01)
    chunks = list(source)
    assert not source.live and source.rate_hz == RATE_HZ
    assert [c.t_capture_s for c in chunks[:3]] == [0.0, 0.01, 0.02]
    got = np.concatenate([c.samples for c in chunks])
    assert got.dtype == np.float32 and len(got) == len(tone)
    np.testing.assert_allclose(got, tone, atol=atol)


def test_realtime_file_source_is_on_the_monotonic_clock(tmp_path, tone):
    import time

    path = tmp_path / "tone.wav"
    soundfile.write(path, tone[:1600], RATE_HZ)
    before = time.monotonic()
    chunks = list(FileSource(path, realtime=True, chunk_s=0.01))
    assert all(before <= c.t_capture_s <= time.monotonic() for c in chunks)
    np.testing.assert_allclose(np.diff([c.t_capture_s for c in chunks]), 0.01)


def test_unsupported_rate_names_the_file(tmp_path, tone):
    path = tmp_path / "hi.wav"
    soundfile.write(path, tone, 96_000)
    with pytest.raises(VentriloquistError, match="hi.wav.*96000"):
        FileSource(path)


def test_stdin_pcm_through_a_real_pipe(tone):
    pcm = np.round(np.stack([tone, -tone], axis=1) * 32767).astype("<i2").tobytes()
    read_fd, write_fd = os.pipe()

    def feed():  # odd-sized writes: a pipe delivers whatever is there
        with os.fdopen(write_fd, "wb", buffering=0) as w:
            for i in range(0, len(pcm), 333):
                w.write(pcm[i : i + 333])

    writer = threading.Thread(target=feed)
    writer.start()
    with os.fdopen(read_fd, "rb") as r:
        source = StdinSource(r, rate_hz=RATE_HZ, channels=2)
        chunks = list(source)
    writer.join()
    got = np.concatenate([c.samples for c in chunks])
    assert len(got) == len(tone) and source.duration_s == 0.5
    np.testing.assert_allclose(got, 0, atol=1e-4)  # the two channels cancel: they were averaged
    assert chunks[1].t_capture_s == DEFAULT_CHUNK_S  # chunks count time from the stream start


def test_playback_volume_scales_the_speaker_only():
    """audio.volume: the sound played at half volume is half the PCM; the face follows the file as read."""
    from ventriloquist.device.sources.playback import speaker_pcm

    samples = np.array([0.5, -0.25, 1.0, -1.0], np.float32)
    full = np.frombuffer(speaker_pcm(samples), "<i2")
    half = np.frombuffer(speaker_pcm(samples, volume=0.5), "<i2")
    assert list(full) == [16384, -8192, 32767, -32768]
    assert list(half) == [8192, -4096, 16384, -16384]
    assert not np.frombuffer(speaker_pcm(samples, volume=0.0), "<i2").any()
