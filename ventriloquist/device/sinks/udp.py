"""Live network stream over UDP, so a game engine, VTuber tool or show controller can follow the face.

Two wire formats, one datagram per frame:
  json  one JSON object + newline (time, t_capture, faps by MPEG-4 name, arkit, visemes)
  osc   one OSC 1.0 bundle: /ventriloquist/time f, /ventriloquist/fap/<name> f per FAP,
        /ventriloquist/viseme/<name> f per viseme, and VMC-protocol blendshapes (/VMC/Ext/Blend/Val s f per
        name, then /VMC/Ext/Blend/Apply) which VSeeFace-style tools read: the ARKit weights ("perfect sync"
        avatars) and the VRM 0.x preset clips A I U E O Blink_L Blink_R (every VRM avatar has those).
A send that fails (no route, buffer full) is counted and dropped; it never stops the face.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import struct
from typing import Any

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.sinks.base import BaseSink, check_rate
from ventriloquist.device.sinks.records import frame_records
from ventriloquist.device.values import FapFrames

log = logging.getLogger(__name__)
DEFAULT_RATE_HZ = 60.0
PROTOCOLS = ("json", "osc")
OSC_IMMEDIATE = 1
"""OSC time tag meaning 'now'."""
VRM_CLIPS = {
    "A": ("visemes", "aa"), "I": ("visemes", "ih"), "U": ("visemes", "ou"), "E": ("visemes", "E"),
    "O": ("visemes", "oh"), "Blink_L": ("arkit", "eyeBlinkLeft"), "Blink_R": ("arkit", "eyeBlinkRight"),
}
"""VRM 0.x preset clip -> the record field it follows, so an avatar without ARKit clips still talks and blinks."""


def _osc_pad(data: bytes) -> bytes:
    return data + b"\0" * (4 - len(data) % 4)


def osc_message(address: str, *args: float | str) -> bytes:
    """One OSC 1.0 message with float32 ('f') and string ('s') arguments."""
    tags = "," + "".join("s" if isinstance(a, str) else "f" for a in args)
    body = b"".join(_osc_pad(a.encode()) if isinstance(a, str) else struct.pack(">f", a) for a in args)
    return _osc_pad(address.encode()) + _osc_pad(tags.encode()) + body


def osc_bundle(messages: list[bytes]) -> bytes:
    """An OSC bundle to be applied at once."""
    return b"#bundle\0" + struct.pack(">Q", OSC_IMMEDIATE) + b"".join(struct.pack(">i", len(m)) + m for m in messages)


HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
"""One DNS label (RFC 1123): what a resolver accepts, checked here so a bad name is a message, not a crash."""
MAX_HOST_CHARS = 253


def _valid_host(host: str) -> bool:
    """An IPv4/IPv6 address or a DNS name of valid labels."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.removesuffix(".").split(".")
        return len(host) <= MAX_HOST_CHARS and all(HOST_LABEL.fullmatch(label) for label in labels)


def parse_target(target: str) -> tuple[str, str, int]:
    """"HOST:PORT" | "udp://HOST:PORT" | "osc://HOST:PORT" -> (protocol, host, port)."""
    protocol, _, rest = target.rpartition("://")
    protocol = {"": "json", "udp": "json"}.get(protocol, protocol)
    host, _, port = rest.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if protocol not in PROTOCOLS or not port.isdigit() or not 0 < int(port) < 65536:
        raise VentriloquistError(f"stream target {target!r}: expected HOST:PORT, udp://HOST:PORT or osc://HOST:PORT")
    if not _valid_host(host):
        raise VentriloquistError(f"stream target {target!r}: {host!r} is not an IP address or a valid host name")
    return protocol, host, int(port)


class UdpSink(BaseSink):
    """Sends every frame as one datagram (JSON line or OSC bundle) to host:port."""

    realtime = True

    def __init__(self, host: str, port: int, protocol: str = "json", rate_hz: float | None = DEFAULT_RATE_HZ) -> None:
        super().__init__()
        if protocol not in PROTOCOLS:
            raise VentriloquistError(f"stream protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}")
        self.rate_hz = check_rate(rate_hz, f"stream to {host}:{port}")
        self.protocol = protocol
        self.address: tuple[Any, ...]
        try:
            family, _, _, _, self.address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        except socket.gaierror as e:
            raise VentriloquistError(f"stream target {host}:{port}: cannot resolve ({e.strerror})") from None
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.target = f"{host}:{port}"
        self.sent = 0
        self.failed = 0
        self.last_error = ""

    @classmethod
    def from_target(cls, target: str, rate_hz: float | None = DEFAULT_RATE_HZ) -> UdpSink:
        protocol, host, port = parse_target(target)
        return cls(host, port, protocol, rate_hz)

    def encode(self, record: dict) -> bytes:
        if self.protocol == "json":
            return (json.dumps(record, separators=(",", ":")) + "\n").encode()
        messages = [osc_message("/ventriloquist/time", float(record["time"]))]
        messages += [osc_message(f"/ventriloquist/fap/{k}", float(v)) for k, v in record["faps"].items()]
        messages += [osc_message(f"/ventriloquist/viseme/{k}", float(v)) for k, v in record["visemes"].items()]
        messages += [osc_message("/VMC/Ext/Blend/Val", k, float(v)) for k, v in record["arkit"].items()]
        messages += [osc_message("/VMC/Ext/Blend/Val", clip, float(record[part][name]))
                     for clip, (part, name) in VRM_CLIPS.items()]
        messages.append(osc_message("/VMC/Ext/Blend/Apply"))
        return osc_bundle(messages)

    def write(self, frames: FapFrames) -> None:
        for record in frame_records(frames, self.t_origin_s):
            try:
                self.sock.sendto(self.encode(record), self.address)
                self.sent += 1
            except OSError as e:
                self.failed += 1
                self.last_error = e.strerror or type(e).__name__

    def close(self, t_end_s: float | None = None) -> None:
        """A stream that lost frames says so: a run whose every send failed is not a normal run."""
        self.sock.close()
        if self.failed:
            log.warning("stream to %s: %d of %d frames could not be sent (%s)", self.target, self.failed,
                        self.sent + self.failed, self.last_error)
