"""The OSC stream as the tools users have read it: python-osc as the receiving server, vmcp as a VMC receiver."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from vmcp.events import BlendShapeApplyEvent, BlendShapeEvent
from vmcp.facades import on_receive
from vmcp.osc import OSC
from vmcp.osc.backend.osc4py3 import as_eventloop

from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.device.sinks import stream_sink
from ventriloquist.device.sinks.records import frame_records
from ventriloquist.device.sinks.udp import VRM_CLIPS
from ventriloquist.device.values import FapFrames

T0_S = 50.0
N_FRAMES = 4


def talking_frames() -> FapFrames:
    """Frames where every FAP has its own value and the mouth opens towards an /a/ (jaw, both midlips)."""
    rng = np.random.default_rng(3)
    values = rng.normal(0, 20, (N_FRAMES, len(ANIMATION_SUBSET))).astype(np.float32)
    jaw = np.array([0, 90, 180, 270], np.float32)
    for fap, per_jaw in ((3, 1.0), (4, -0.23), (5, -1.98)):  # the /a/ prototype's proportions
        values[:, ANIMATION_SUBSET.index(fap)] = per_jaw * jaw
    return FapFrames(T0_S + np.arange(N_FRAMES) / 60, values, ANIMATION_SUBSET)


def expected_messages(record: dict) -> list[tuple[str, list]]:
    """Every OSC message of one frame, in order, as the sink's docstring promises it."""
    out = [("/ventriloquist/time", [record["time"]])]
    out += [(f"/ventriloquist/fap/{k}", [v]) for k, v in record["faps"].items()]
    out += [(f"/ventriloquist/viseme/{k}", [v]) for k, v in record["visemes"].items()]
    out += [("/VMC/Ext/Blend/Val", [k, v]) for k, v in record["arkit"].items()]
    out += [("/VMC/Ext/Blend/Val", [clip, record[part][name]]) for clip, (part, name) in VRM_CLIPS.items()]
    return [*out, ("/VMC/Ext/Blend/Apply", [])]


def same_message(got: tuple[str, list], want: tuple[str, list]) -> bool:
    """Same address and arguments; floats travel as float32."""
    (address, args), (want_address, want_args) = got, want
    return address == want_address and len(args) == len(want_args) and all(
        a == b if isinstance(b, str) else isinstance(a, float) and a == float(np.float32(b))
        for a, b in zip(args, want_args, strict=True)
    )


def send(port: int, frames: FapFrames) -> None:
    with stream_sink(f"osc://127.0.0.1:{port}") as sink:
        sink.open(T0_S)
        sink.write(frames)


def test_python_osc_server_reads_every_address_and_value():
    got: list[tuple[str, list]] = []
    dispatcher = Dispatcher()
    dispatcher.set_default_handler(lambda address, *args: got.append((address, list(args))))
    frames = talking_frames()
    with BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher) as server:
        server.timeout = 2.0
        send(server.server_address[1], frames)
        for _ in range(N_FRAMES):
            server.handle_request()
    want = [m for record in frame_records(frames, T0_S) for m in expected_messages(record)]
    assert len(got) == len(want)
    mismatched = [(g, w) for g, w in zip(got, want, strict=True) if not same_message(g, w)]
    assert not mismatched, mismatched[:3]
    assert {a for a, _ in got} >= {"/ventriloquist/fap/open_jaw", "/ventriloquist/viseme/aa", "/VMC/Ext/Blend/Apply"}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_vmc_receiver_reads_blendshapes_then_apply_per_frame():
    events: list = []
    port = free_udp_port()
    frames = talking_frames()
    osc = OSC(as_eventloop)
    with osc.open():
        receiver = osc.create_receiver("127.0.0.1", port, "vmc").open()
        on_receive(receiver, BlendShapeEvent, events.append)
        on_receive(receiver, BlendShapeApplyEvent, events.append)
        send(port, frames)
        deadline = time.monotonic() + 3.0
        while sum(isinstance(e, BlendShapeApplyEvent) for e in events) < N_FRAMES and time.monotonic() < deadline:
            osc.run()
    applies = [i for i, e in enumerate(events) if isinstance(e, BlendShapeApplyEvent)]
    assert len(applies) == N_FRAMES
    starts = [0] + [i + 1 for i in applies[:-1]]
    records = frame_records(frames, T0_S)
    for record, start, apply in zip(records, starts, applies, strict=True):
        blends = {e.key: e.value for e in events[start:apply]}
        want = {**record["arkit"], **{clip: record[part][name] for clip, (part, name) in VRM_CLIPS.items()}}
        assert blends.keys() == want.keys()
        assert all(blends[k] == pytest.approx(v, abs=1e-6) for k, v in want.items())
    last = {e.key: e.value for e in events[starts[-1]:applies[-1]]}
    assert last["jawOpen"] > 0.5 and last["A"] + last["O"] + last["E"] > last["I"] + last["U"]  # wide open
