"""The front end as one streaming stage: AudioChunk at any rate -> per-frame features at the preset's rate.

Training imports this very code (features_for_wav), so the device computes the numbers the net learnt.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.frontend.audio import check_chunk, check_rate, to_mono_float32
from ventriloquist.device.frontend.lpc import burg_lpc, lpc_to_cepstra
from ventriloquist.device.frontend.mfcc import Mfcc
from ventriloquist.device.frontend.normalise import RunningNormaliser
from ventriloquist.device.frontend.pitch import PitchSmoother, Yin
from ventriloquist.device.frontend.rasta_plp import RastaPlp
from ventriloquist.device.frontend.resample import StreamResampler
from ventriloquist.device.frontend.settings import FrontendSettings, column_of
from ventriloquist.device.frontend.spectrum import frame_view, hamming, log_energy, power_spectra
from ventriloquist.device.values import AudioChunk, FeatureFrames

PRE_EMPHASIS_HISTORY_SAMPLES = 1
"""The LPC path's pre-emphasis needs the sample before each window."""
BLOCK_FRAMES = 256
"""Frames analysed per numpy pass: large enough to amortise Python, small enough to stay in cache."""


class Frontend:
    """process(AudioChunk) -> FeatureFrames, flush(), reset(); per-frame features, no context stacking.

    Frame i covers samples [i*hop, i*hop + window) of the stream at rate_hz; its time is the first
    chunk's t_capture_s + (i*hop + (window - 1) / 2) / rate_hz (chunks are taken as contiguous). A frame
    is emitted once its window (and, with f0_hz, the next frame) is complete; flush zero-pads the end
    and emits every frame whose centre lies inside the audio, then starts a new stream.
    """

    def __init__(self, settings: FrontendSettings) -> None:
        self.settings = settings
        self.window_samples = settings.window_samples
        self.hop_samples = settings.hop_samples
        counts = dict(settings.features)
        self.mfcc = Mfcc(settings, counts["mfcc"]) if "mfcc" in counts else None
        self.rasta_plp = RastaPlp(settings, counts["rasta_plp_cepstra"]) if "rasta_plp_cepstra" in counts else None
        self.yin = Yin(settings) if settings.has_pitch else None
        self.pitch_smoother = PitchSmoother()
        pitch_samples = self.yin.segment_samples if self.yin else 0
        self.frame_span_samples = max(self.window_samples + PRE_EMPHASIS_HISTORY_SAMPLES, pitch_samples)
        """Samples each frame reads, ending at its window's end (pre-emphasis / pitch history before it)."""
        self.history_samples = self.frame_span_samples - self.window_samples
        self.f0_column = column_of(settings, "f0_hz")
        self.dim = settings.dim
        starts = [column_of(settings, kind) for kind, _ in settings.features]
        self.columns = [slice(start, start + n) for start, (_, n) in zip(starts, settings.features, strict=True)]
        """Column range of each feature block, in the order of settings.features."""
        self.resampler: StreamResampler | None = None
        """Created for the first chunk's rate."""
        self.t_start_s = 0.0
        """Capture time of the stream's first sample."""
        self.buffer = np.zeros(self.history_samples)
        """Samples at rate_hz from the first one the next frame reads (zeros before the stream starts)."""
        self.samples_seen = 0
        """Samples at rate_hz received so far."""
        self.frames_done = 0
        """Frames whose samples have been analysed."""
        self.pending_values = np.zeros((0, self.dim), np.float32)
        """Analysed frames waiting for the pitch smoother's lookahead."""
        self.pending_times_s = np.zeros(0)
        self.normaliser = RunningNormaliser(settings) if settings.normalise_s else None

    def process(self, chunk: AudioChunk) -> FeatureFrames:
        samples = check_chunk(chunk)
        if self.resampler is None:
            self.resampler = StreamResampler(chunk.rate_hz, self.settings.rate_hz, self.settings.resample_quality)
            self.t_start_s = float(chunk.t_capture_s)
        elif chunk.rate_hz != self.resampler.in_rate_hz:
            raise VentriloquistError(
                f"frontend: sample rate changed mid-stream ({self.resampler.in_rate_hz} -> {chunk.rate_hz} Hz); "
                "call flush() or reset() first"
            )
        self._append(self.resampler.process(samples))
        n_ready = (len(self.buffer) - self.frame_span_samples) // self.hop_samples + 1
        return self._analyse(max(n_ready, 0), final=False)

    def flush(self) -> FeatureFrames:
        if self.resampler is None:
            return FeatureFrames.empty(self.dim)
        self._append(self.resampler.flush())
        centre_offset = (self.window_samples - 1) / 2
        n_total = max(math.ceil((self.samples_seen - centre_offset) / self.hop_samples), 0)
        n_left = n_total - self.frames_done
        if n_left > 0:
            needed = (n_left - 1) * self.hop_samples + self.frame_span_samples
            self.buffer = np.concatenate([self.buffer, np.zeros(max(needed - len(self.buffer), 0))])
        out = self._analyse(max(n_left, 0), final=True)
        self.reset()
        return out

    def reset(self) -> None:
        self.resampler = None
        self.t_start_s = 0.0
        self.buffer = np.zeros(self.history_samples)
        self.samples_seen = 0
        self.frames_done = 0
        self.pending_values = np.zeros((0, self.dim), np.float32)
        self.pending_times_s = np.zeros(0)
        self.pitch_smoother.reset()
        if self.normaliser:
            self.normaliser.reset()
        if self.rasta_plp:
            self.rasta_plp.reset()

    def _append(self, samples: np.ndarray) -> None:
        if len(samples):
            self.buffer = np.concatenate([self.buffer, samples])
            self.samples_seen += len(samples)

    def _analyse(self, n_frames: int, *, final: bool) -> FeatureFrames:
        values = np.empty((n_frames, self.dim), np.float32)
        if n_frames:
            spans = frame_view(self.buffer, n_frames, self.frame_span_samples, self.hop_samples)
            for i in range(0, n_frames, BLOCK_FRAMES):
                self._features(spans[i : i + BLOCK_FRAMES], values[i : i + BLOCK_FRAMES])
        rate_hz = self.settings.rate_hz
        first_centre_s = self.t_start_s + (self.window_samples - 1) / 2 / rate_hz
        times_s = np.arange(self.frames_done, self.frames_done + n_frames) * (self.hop_samples / rate_hz)
        times_s += first_centre_s  # a function of the frame's index alone: the same for any chunking
        self.buffer = self.buffer[n_frames * self.hop_samples :]
        self.frames_done += n_frames
        if self.yin is not None:
            values, times_s = self._smooth_pitch(values, times_s, final=final)
        frames = FeatureFrames(values, times_s)
        return self.normaliser.process(frames) if self.normaliser else frames

    def _features(self, spans: np.ndarray, out: np.ndarray) -> None:
        """Features of the frames whose samples are the rows of `spans`, written into `out` (n, dim)."""
        s = self.settings
        frames = spans[:, self.history_samples :]
        power = power_spectra(frames, s.fft_size) if self.mfcc or self.rasta_plp else None
        for (kind, count), column in zip(s.features, self.columns, strict=True):
            if kind == "lpc_cepstra":
                before = spans[:, self.history_samples - 1 : -1]
                emphasised = (frames - s.pre_emphasis * before) * hamming(self.window_samples)
                out[:, column] = lpc_to_cepstra(burg_lpc(emphasised, s.lpc_order), count)
            elif kind == "rasta_plp_cepstra":
                assert self.rasta_plp is not None and power is not None  # made in __init__ for this kind
                out[:, column] = self.rasta_plp(power)
            elif kind == "mfcc":
                assert self.mfcc is not None and power is not None
                out[:, column] = self.mfcc(power)
            elif kind == "log_energy":
                out[:, column] = log_energy(frames)[:, None]
            else:  # f0_hz: raw YIN value and voicing, smoothed in _smooth_pitch
                assert self.yin is not None
                f0_hz, voiced = self.yin(spans[:, -self.yin.segment_samples :])
                out[:, column] = np.where(voiced, f0_hz, -f0_hz)[:, None]

    def _smooth_pitch(self, values: np.ndarray, times_s: np.ndarray, *, final: bool):
        """Hold each frame until the next one is known; the raw F0 column carries voicing as its sign."""
        raw = values[:, self.f0_column]
        smoothed = self.pitch_smoother.process(np.abs(raw), raw > 0)
        if final:
            smoothed = np.concatenate([smoothed, self.pitch_smoother.flush()])
        values = np.concatenate([self.pending_values, values])
        times_s = np.concatenate([self.pending_times_s, times_s])
        n_out = len(smoothed)
        self.pending_values, self.pending_times_s = values[n_out:], times_s[n_out:]
        out = values[:n_out].copy()
        out[:, self.f0_column] = smoothed
        return out, times_s[:n_out]


def features_for_wav(path_or_array: str | Path | np.ndarray, rate_hz: int | None, settings: FrontendSettings):
    """Batch features (process(whole) + flush()) of a WAV file or a sample array, for training.

    For a path, rate_hz may be None (the file's rate is used) or must match it. Returns FeatureFrames
    with times from 0 s.
    """
    if isinstance(path_or_array, str | Path):
        samples, file_rate_hz = read_wav(Path(path_or_array))
        if rate_hz is not None and rate_hz != file_rate_hz:
            raise VentriloquistError(f"{path_or_array}: sample rate is {file_rate_hz} Hz, not {rate_hz} Hz")
        rate_hz = file_rate_hz
    else:
        if rate_hz is None:
            raise VentriloquistError("features_for_wav: rate_hz is required for a sample array")
        samples = to_mono_float32(path_or_array)
    check_rate(rate_hz)
    if len(samples) == 0:
        raise VentriloquistError(f"features_for_wav: no audio samples in {_label(path_or_array)}")
    frontend = Frontend(settings)
    frames = [frontend.process(AudioChunk(samples, int(rate_hz))), frontend.flush()]
    return FeatureFrames.concat(frames, settings.dim)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """float32 mono samples and rate of a PCM/float WAV file, or a VentriloquistError naming it."""
    from scipy.io import wavfile

    try:
        rate_hz, data = wavfile.read(path)
    except (OSError, ValueError) as exc:
        raise VentriloquistError(f"{path}: cannot read as WAV ({exc})") from exc
    try:
        return to_mono_float32(data), int(rate_hz)
    except VentriloquistError as exc:
        raise VentriloquistError(f"{path}: {exc}") from exc


def _label(path_or_array) -> str:
    return str(path_or_array) if isinstance(path_or_array, str | Path) else "the array"
