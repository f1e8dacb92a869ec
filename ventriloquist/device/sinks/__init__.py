"""Sinks: where FAP frames go (files, network, memory); one registry from file suffix or stream URL to a sink.

The contract is `ventriloquist.device.values.Sink`; `BaseSink` fills in its defaults. The face
(`face.display.FaceSink`) and the servo outputs (`firmware_bridge`: `ServoLink`, `ServoCsvSink`) are
sinks too, living beside the hardware they drive.
"""

from __future__ import annotations

from pathlib import Path

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.sinks.base import BaseSink
from ventriloquist.device.sinks.csv import CsvSink
from ventriloquist.device.sinks.fap import FapFileSink
from ventriloquist.device.sinks.json import JsonSink
from ventriloquist.device.sinks.memory import FrameCollector
from ventriloquist.device.sinks.rhubarb import RhubarbSink
from ventriloquist.device.sinks.udp import DEFAULT_RATE_HZ as STREAM_RATE_HZ
from ventriloquist.device.sinks.udp import UdpSink
from ventriloquist.device.values import Sink

FILE_SINKS = {
    ".fap": lambda path, rate_hz, sound: FapFileSink(path, rate_hz),
    ".csv": lambda path, rate_hz, sound: CsvSink(path, rate_hz),
    ".rhubarb.json": lambda path, rate_hz, sound: RhubarbSink(path, "json", sound),
    ".json": lambda path, rate_hz, sound: JsonSink(path, rate_hz, sound),
    ".tsv": lambda path, rate_hz, sound: RhubarbSink(path, "tsv", sound),
}
"""File suffix -> sink factory (path, rate_hz, sound file name); the longest matching suffix wins."""


def file_sink(path: str | Path, rate_hz: float | None = None, sound_file: str = "") -> Sink:
    """The sink for `path`, chosen by its suffix (.fap, .csv, .json, .tsv, .rhubarb.json)."""
    name = Path(path).name.lower()
    for suffix in sorted(FILE_SINKS, key=len, reverse=True):
        if name.endswith(suffix):
            return FILE_SINKS[suffix](path, rate_hz, sound_file)
    raise VentriloquistError(f"{path}: unknown output format; use a name ending in {', '.join(FILE_SINKS)}")


def stream_sink(target: str, rate_hz: float | None = None) -> Sink:
    """A network sink for "HOST:PORT" (JSON lines), "udp://HOST:PORT" or "osc://HOST:PORT"."""
    return UdpSink.from_target(target, rate_hz if rate_hz is not None else STREAM_RATE_HZ)


__all__ = [
    "FILE_SINKS", "BaseSink", "CsvSink", "FapFileSink", "FrameCollector", "JsonSink", "RhubarbSink", "Sink", "UdpSink",
    "file_sink", "stream_sink",
]
