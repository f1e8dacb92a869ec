"""Feature settings: one frozen value that fully fixes the numbers the front end produces.

A bundle stores `FrontendSettings.to_dict()`; training and the device rebuild the same front end
from it, so the net sees on the Pi exactly what it was trained on.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.values import SPEECH_RATE_HZ

MIN_RATE_HZ = 8_000
"""Lowest supported input and feature sample rate."""
MAX_RATE_HZ = 48_000
"""Highest supported input and feature sample rate."""
RESAMPLE_QUALITIES = ("LQ", "MQ", "HQ", "VHQ")
"""soxr recipes a preset may name."""
MAX_WINDOW_SAMPLES = 4096
"""Longest analysis window (256 ms at 16 kHz); settings come from bundles, which anyone may re-sign."""
MAX_FFT_SIZE = 8192
MAX_MEL_BANDS = 256
MAX_MODEL_ORDER = 64
"""Highest lpc_order / plp_order."""
MAX_CONTEXT_FRAMES = 100
"""Most past or future frames stacked."""
MAX_NAME_CHARS = 100
"""A preset name is shown by `verify` and `doctor`: printable text only."""
MAX_FRAME_RATE_HZ = 1000.0
"""Most frames per second (rate_hz / hop_samples); each frame is one run of the model."""

FEATURE_KINDS = {
    "lpc_cepstra": "cepstra c1.. of a Burg LPC model of the pre-emphasised, Hamming-windowed frame",
    "rasta_plp_cepstra": "cepstra c1.. of the RASTA-PLP all-pole model (Hermansky 1992/1994, Ellis rastaplp.m)",
    "mfcc": "c0.. of the DCT-II (orthonormal) of log HTK-mel band powers",
    "log_energy": "ln(mean square of the raw frame + 1e-10)",
    "f0_hz": "fundamental frequency in Hz (YIN + 3-frame voicing/median smoothing), 0 when unvoiced",
}
"""What each feature kind is, in the order of the columns a preset lists them."""
SINGLE_VALUE_KINDS = ("log_energy", "f0_hz")


@dataclass(frozen=True)
class FrontendSettings:
    """Everything that changes the feature numbers; a preset is one instance of this."""

    name: str
    """Preset name, e.g. "paper" or "default"."""
    rate_hz: int
    """Sample rate the features are computed at (input is resampled to it)."""
    window_samples: int
    """Analysis window length (Hamming), samples at rate_hz."""
    hop_samples: int
    """Frame shift, samples at rate_hz."""
    fft_size: int
    """FFT length for spectra (power of two >= window_samples)."""
    features: tuple[tuple[str, int], ...]
    """(kind, count) per feature block, in column order; kinds are the keys of FEATURE_KINDS."""
    context_past: int
    """Past frames stacked by ContextWindow."""
    context_future: int
    """Future frames stacked by ContextWindow (each costs one hop of latency)."""
    lpc_order: int = 10
    """Burg LPC model order for lpc_cepstra."""
    plp_order: int = 8
    """All-pole model order for rasta_plp_cepstra."""
    pre_emphasis: float = 0.97
    """First-order pre-emphasis coefficient for the LPC path only."""
    rasta_pole: float = 0.94
    """Pole of the RASTA band-pass IIR (Ellis rastafilt.m: 0.94; Hermansky's paper: 0.98)."""
    mel_bands: int = 40
    """HTK-mel triangular bands for mfcc."""
    mel_fmin_hz: float = 20.0
    mel_fmax_hz: float = 7_600.0
    f0_min_hz: float = 60.0
    """Lowest F0 the pitch tracker searches."""
    f0_max_hz: float = 400.0
    """Highest F0 the pitch tracker searches."""
    pitch_window_s: float = 0.030
    """YIN integration window; the pitch segment ends where the frame's window ends (no extra lookahead)."""
    yin_threshold: float = 0.15
    """YIN absolute threshold on the cumulative-mean-normalised difference."""
    voicing_threshold: float = 0.35
    """A frame is voiced when its best normalised difference is below this ..."""
    voicing_floor_dbfs: float = -55.0
    """... and its RMS (pitch segment) is above this level re full scale."""
    resample_quality: str = "HQ"
    """soxr recipe used when the input rate differs from rate_hz."""
    normalise_s: float = 0.0
    """Time constant of the causal running mean and spread every feature is normalised by (0: off)."""
    normalise_gate_db: float = 10.0
    """Frames more than this far below the running mean log energy count as silence ..."""
    normalise_silence_weight: float = 1.0
    """... and update the statistics with this weight (1: like speech, 0: not at all)."""
    normalise_prior_s: float = 0.0
    """Seconds of typical speech the normaliser's starting statistics count for (0: the stream's first frame)."""
    normalise_prior_mean: tuple[float, ...] = ()
    """Starting mean per feature (training speech), when normalise_prior_s > 0."""
    normalise_prior_std: tuple[float, ...] = ()
    """Starting spread per feature, when normalise_prior_s > 0."""

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def dim(self) -> int:
        """Values per frame."""
        return sum(count for _, count in self.features)

    @property
    def frame_rate_hz(self) -> float:
        return self.rate_hz / self.hop_samples

    @property
    def input_dim(self) -> int:
        """Values per net input: (past + current + future) frames x dim."""
        return (self.context_past + 1 + self.context_future) * self.dim

    @property
    def has_pitch(self) -> bool:
        return any(kind == "f0_hz" for kind, _ in self.features)

    @property
    def lookahead_frames(self) -> int:
        """Frames the front end itself waits for beyond a frame (pitch smoothing looks one frame ahead)."""
        return 1 if self.has_pitch else 0

    @property
    def algorithmic_latency_s(self) -> float:
        """Capture of a frame's centre -> its context-stacked net input can be computed, at native rate.

        Counts half the analysis window (from the centre to the window's last sample), the pitch
        smoother's one-frame lookahead (when f0_hz is used) and the future context frames. Not counted:
        compute time, audio buffering, and soxr's hold-back when the input rate differs from rate_hz
        (see device.frontend.resample.resampler_lag_s; capture at rate_hz to avoid it).
        """
        half_window_samples = (self.window_samples - 1) / 2
        future_samples = (self.context_future + self.lookahead_frames) * self.hop_samples
        return (half_window_samples + future_samples) / self.rate_hz

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for a bundle."""
        d = dataclasses.asdict(self)
        d["features"] = [[kind, count] for kind, count in self.features]
        for key in ("normalise_prior_mean", "normalise_prior_std"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrontendSettings:
        """Rebuild and validate; a bad key raises VentriloquistError naming it."""
        if not isinstance(d, dict):
            raise VentriloquistError(f"frontend settings: expected a table/dict, got {type(d).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise VentriloquistError(f"frontend settings: unknown key {unknown[0]!r}")
        missing = [n for n, f in fields.items() if n not in d and f.default is dataclasses.MISSING]
        if missing:
            raise VentriloquistError(f"frontend settings: missing key {missing[0]!r}")
        values = dict(d)
        if "features" in values:
            values["features"] = _parse_features(values["features"])
        for key in ("normalise_prior_mean", "normalise_prior_std"):
            if key in values:
                values[key] = _parse_numbers(key, values[key])
        for name, value in values.items():
            _check_type(name, value, str(fields[name].type))
        return cls(**values)

    def describe(self) -> str:
        """One line for --help and `verify`."""
        bands = f" (mel {self.mel_fmin_hz:g}-{self.mel_fmax_hz:g} Hz)"
        blocks = " + ".join(f"{count} {kind}" + (bands if kind == "mfcc" else "") for kind, count in self.features)
        return (
            f"{self.name}: {self.rate_hz} Hz, window {self.window_samples} / hop {self.hop_samples} samples "
            f"({self.frame_rate_hz:.1f} frames/s), {blocks} = {self.dim} per frame, context "
            f"{self.context_past} past + {self.context_future} future = {self.input_dim} inputs, "
            f"latency {self.algorithmic_latency_s * 1000:.1f} ms (+ resampler when input rate != {self.rate_hz} Hz)"
        )


def column_of(settings: FrontendSettings, kind: str) -> int:
    """First column of a feature kind, -1 when the settings do not compute it."""
    column = 0
    for k, count in settings.features:
        if k == kind:
            return column
        column += count
    return -1


def _parse_numbers(key: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise VentriloquistError(f"frontend settings: key {key!r} must be a list of finite numbers")
    return tuple(float(v) for v in value)


def _parse_features(value: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in value):
        raise VentriloquistError("frontend settings: key 'features' must be a list of [kind, count] pairs")
    return tuple((p[0], p[1]) for p in value)


def _check_type(name: str, value: Any, type_name: str) -> None:
    kinds: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "str": str}
    expected = kinds.get(type_name)
    if expected is None:
        return
    if isinstance(value, bool) or not isinstance(value, expected):
        raise VentriloquistError(f"frontend settings: key {name!r} must be {type_name}, got {value!r}")


def _fail(key: str, why: str) -> None:
    raise VentriloquistError(f"frontend settings: key {key!r} {why}")


def _validate(s: FrontendSettings) -> None:
    if not (s.name.isprintable() and 0 < len(s.name) <= MAX_NAME_CHARS):
        _fail("name", f"must be 1..{MAX_NAME_CHARS} printable characters")
    if not MIN_RATE_HZ <= s.rate_hz <= MAX_RATE_HZ:
        _fail("rate_hz", f"must be within {MIN_RATE_HZ}..{MAX_RATE_HZ}, got {s.rate_hz}")
    if not 16 <= s.window_samples <= MAX_WINDOW_SAMPLES:
        _fail("window_samples", f"must be within 16..{MAX_WINDOW_SAMPLES}, got {s.window_samples}")
    if not s.rate_hz / MAX_FRAME_RATE_HZ <= s.hop_samples <= s.window_samples:
        _fail("hop_samples", f"must be within rate_hz/{MAX_FRAME_RATE_HZ:g}..window_samples, got {s.hop_samples}")
    if not s.window_samples <= s.fft_size <= MAX_FFT_SIZE or s.fft_size & (s.fft_size - 1):
        _fail("fft_size", f"must be a power of two within window_samples..{MAX_FFT_SIZE}, got {s.fft_size}")
    for key in ("context_past", "context_future"):
        if not 0 <= getattr(s, key) <= MAX_CONTEXT_FRAMES:
            _fail(key, f"must be within 0..{MAX_CONTEXT_FRAMES}, got {getattr(s, key)}")
    if not s.features:
        _fail("features", "must list at least one [kind, count]")
    kinds = [kind for kind, _ in s.features]
    for kind, count in s.features:
        if kind not in FEATURE_KINDS:
            _fail("features", f"has unknown kind {kind!r} (known: {', '.join(FEATURE_KINDS)})")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            _fail("features", f"count for {kind!r} must be a positive integer, got {count!r}")
    if len(set(kinds)) != len(kinds):
        _fail("features", "lists a kind twice")
    counts = dict(s.features)
    limits = {"lpc_cepstra": s.lpc_order, "rasta_plp_cepstra": s.plp_order, "mfcc": s.mel_bands}
    limits.update({kind: 1 for kind in SINGLE_VALUE_KINDS})
    for kind, limit in limits.items():
        if counts.get(kind, 0) > limit:
            _fail("features", f"count for {kind!r} must be <= {limit}, got {counts[kind]}")
    if not 0 <= s.pre_emphasis < 1:
        _fail("pre_emphasis", f"must be within [0, 1), got {s.pre_emphasis}")
    if not 0 < s.rasta_pole < 1:
        _fail("rasta_pole", f"must be within (0, 1), got {s.rasta_pole}")
    if "mfcc" in counts and not 0 <= s.mel_fmin_hz < s.mel_fmax_hz <= s.rate_hz / 2:
        _fail("mel_fmax_hz", f"needs 0 <= mel_fmin_hz < mel_fmax_hz <= rate_hz/2, got {s.mel_fmax_hz}")
    if "f0_hz" in counts and not 20 <= s.f0_min_hz < s.f0_max_hz <= s.rate_hz / 4:
        _fail("f0_max_hz", f"needs 20 <= f0_min_hz < f0_max_hz <= rate_hz/4, got {s.f0_max_hz}")
    if not 0.005 <= s.pitch_window_s <= 0.1:
        _fail("pitch_window_s", f"must be within 0.005..0.1 s, got {s.pitch_window_s}")
    for key in ("yin_threshold", "voicing_threshold"):
        if not 0 < getattr(s, key) <= 1:
            _fail(key, f"must be within (0, 1], got {getattr(s, key)}")
    if not -200 <= s.voicing_floor_dbfs <= 0:
        _fail("voicing_floor_dbfs", f"must be within -200..0 dBFS, got {s.voicing_floor_dbfs}")
    if s.resample_quality not in RESAMPLE_QUALITIES:
        _fail("resample_quality", f"must be one of {RESAMPLE_QUALITIES}, got {s.resample_quality!r}")
    if not (s.normalise_s == 0 or 0.5 <= s.normalise_s <= 60):
        _fail("normalise_s", f"must be 0 (off) or within 0.5..60 s, got {s.normalise_s}")
    if not 0 < s.normalise_gate_db <= 60:
        _fail("normalise_gate_db", f"must be within (0, 60] dB, got {s.normalise_gate_db}")
    if not 0 <= s.normalise_prior_s <= 60:
        _fail("normalise_prior_s", f"must be within 0..60 s, got {s.normalise_prior_s}")
    if s.normalise_prior_s and not (len(s.normalise_prior_mean) == len(s.normalise_prior_std) == s.dim
                                    and min(s.normalise_prior_std) > 0):
        _fail("normalise_prior_mean", f"and normalise_prior_std need {s.dim} values each (spreads > 0)")
    if not 0 <= s.normalise_silence_weight <= 1:
        _fail("normalise_silence_weight", f"must be within 0..1, got {s.normalise_silence_weight}")
    for key, limit in (("lpc_order", MAX_MODEL_ORDER), ("plp_order", MAX_MODEL_ORDER), ("mel_bands", MAX_MEL_BANDS)):
        if not 1 <= getattr(s, key) <= limit:
            _fail(key, f"must be within 1..{limit}, got {getattr(s, key)}")


PAPER_RATE_HZ = 8_040
"""The paper's audio rate: 8 kHz x 201/200 (16 kHz x 201/400)."""

DEFAULT_SETTINGS = FrontendSettings(
    name="default",
    rate_hz=SPEECH_RATE_HZ,
    window_samples=320,
    hop_samples=160,
    fft_size=512,
    features=(("mfcc", 13), ("log_energy", 1)),
    context_past=10,
    context_future=3,
)

PRESETS: dict[str, FrontendSettings] = {
    # The seed paper exactly: 8,040 Hz, Hamming 156 / hop 90, 16 mixed coefficients split as
    # 8 LPC cepstra (order-10 Burg) + 8 RASTA-PLP cepstra (order-8 model), + log energy + F0 = 18,
    # 3 past + current + 2 future = 108 inputs.
    "paper": FrontendSettings(
        name="paper",
        rate_hz=PAPER_RATE_HZ,
        window_samples=156,
        hop_samples=90,
        fft_size=256,
        features=(("lpc_cepstra", 8), ("rasta_plp_cepstra", 8), ("log_energy", 1), ("f0_hz", 1)),
        context_past=3,
        context_future=2,
    ),
    # Ours: 16 kHz, 100 frames/s, 13 MFCC (c0..c12) + log energy. 20 ms window + 3 future frames keeps
    # latency at 39.97 ms, inside the product's 45 ms budget; more past context is free.
    "default": DEFAULT_SETTINGS,
    # "default" plus a causal running mean and spread per feature (3 s), so the net sees each voice and
    # channel relative to itself (device.frontend.normalise). Trained on GRID s1 alone it changed little
    # (dev-set r 0.171 -> 0.166); trained on several speakers it is what lets them help (0.183 -> 0.259).
    # Mel bands end at 6 kHz: above it web video's codecs and cheap microphones differ most, and studio
    # s1 teaches the net to lean on it. The `voices` recipe, 7.6 -> 6 kHz, mean of seeds 0 and 1: dev set
    # 0.226 -> 0.241, held-out s1 0.887 -> 0.890, GRID talkers 0.670 -> 0.693, EMA 0.605 -> 0.626 (5 kHz:
    # dev 0.244 but EMA 0.559; README "Every voice").
    "voice": dataclasses.replace(DEFAULT_SETTINGS, name="voice", normalise_s=3.0, mel_fmax_hz=6_000.0),
}
