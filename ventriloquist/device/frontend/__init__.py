"""Streaming speech front end: the one code path from audio to the features the net sees, training and device."""

from ventriloquist.device.frontend.audio import to_mono_float32
from ventriloquist.device.frontend.context import ContextWindow
from ventriloquist.device.frontend.pipeline import Frontend, features_for_wav, read_wav
from ventriloquist.device.frontend.resample import resampler_lag_s
from ventriloquist.device.frontend.settings import FEATURE_KINDS, PRESETS, FrontendSettings

__all__ = [
    "FEATURE_KINDS",
    "PRESETS",
    "ContextWindow",
    "Frontend",
    "FrontendSettings",
    "features_for_wav",
    "read_wav",
    "resampler_lag_s",
    "to_mono_float32",
]
