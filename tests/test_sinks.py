"""Sinks and mappings: file formats, the UDP/OSC stream on a real loopback socket, ARKit/viseme/Rhubarb readings."""

from __future__ import annotations

import json
import socket
import struct

import numpy as np
import pytest

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.device.fap_resample import FapResampler
from ventriloquist.device.mapping.arkit import ARKIT_NAMES, arkit_weights
from ventriloquist.device.mapping.mouth_shapes import mouth_shapes, shape_cues
from ventriloquist.device.mapping.visemes import VISEME_NAMES, viseme_weights
from ventriloquist.device.sinks import file_sink, stream_sink
from ventriloquist.device.sinks.udp import parse_target
from ventriloquist.device.values import FapFrames


def mouth(**faps: float) -> FapFrames:
    """One frame with the given FAPs (by number key like f3=...) and the rest neutral."""
    values = np.zeros((1, len(ANIMATION_SUBSET)), np.float32)
    for key, v in faps.items():
        values[0, ANIMATION_SUBSET.index(int(key[1:]))] = v
    return FapFrames(np.zeros(1), values, ANIMATION_SUBSET)


def test_arkit_weights_follow_jaw_lids_and_rounding():
    names = list(ARKIT_NAMES)
    rest = arkit_weights(mouth())[0]
    assert np.all(rest == 0)
    open_a = arkit_weights(mouth(f3=266, f4=-62, f5=-527))[0]
    assert open_a[names.index("jawOpen")] > 0.6 and open_a[names.index("mouthClose")] == 0
    blink = arkit_weights(mouth(f19=1024, f20=512))[0]
    assert blink[names.index("eyeBlinkLeft")] == 1 and blink[names.index("eyeBlinkRight")] == 0.5
    u = arkit_weights(mouth(f3=136, f4=-31, f5=-263, f6=-52, f7=-52, f16=85, f17=118))[0]
    assert u[names.index("mouthPucker")] > u[names.index("mouthFunnel")] > 0


@pytest.mark.parametrize(("faps", "viseme", "shape"), [
    ({}, "sil", "X"),
    ({"f3": 45, "f4": 8, "f5": 70, "f16": 20, "f17": 19}, "PP", "A"),
    ({"f3": 70, "f4": -3, "f5": -29, "f6": -8, "f7": -8, "f16": -116, "f17": 17}, "FF", "G"),
    ({"f3": 266, "f4": -62, "f5": -527, "f6": 11, "f7": 11}, "aa", "D"),
    ({"f3": 136, "f4": -31, "f5": -263, "f6": -52, "f7": -52, "f16": 85, "f17": 118}, "ou", "F"),
    ({"f3": 186, "f4": -42, "f5": -350, "f6": 22, "f7": 22, "f16": -35, "f17": -53}, "ih", "C"),
    ({"f3": 124, "f4": -26, "f5": -222, "f6": -7, "f7": -7, "f16": 8, "f17": 2}, "kk", "B"),
])
def test_prototype_mouths_map_to_their_viseme_and_rhubarb_shape(faps, viseme, shape):
    frame = mouth(**faps)
    w = viseme_weights(frame)[0]
    assert abs(w.sum() - 1) < 1e-5
    assert VISEME_NAMES[int(np.argmax(w))] == viseme
    assert mouth_shapes(frame)[0] == shape


def test_short_shape_runs_join_the_previous_cue():
    times = np.arange(10) / 100
    shapes = np.array(list("XXXXBXXCCC"))
    assert shape_cues(times, shapes, 0.12, 0.04) == [(0.0, 0.07, "X"), (0.07, 0.12, "C")]


def test_resampler_puts_frames_on_the_sink_grid_for_any_chunking():
    times = 0.01 + np.arange(300) / 100
    values = np.sin(times * 7)[:, None].astype(np.float32)
    fr = FapFrames(times, values, (3,))
    outs = []
    for size in (1, 17, 300):
        r = FapResampler(30.0, t_origin_s=0.0)
        parts = [r.process(FapFrames(times[i : i + size], values[i : i + size], (3,))) for i in range(0, 300, size)]
        outs.append(FapFrames.concat(parts, (3,)))
    for out in outs:
        np.testing.assert_allclose(out.times_s, np.arange(len(out)) / 30)
        np.testing.assert_allclose(out.values, outs[-1].values)
    assert len(outs[-1]) == 91  # grid points 0 .. 3.0 s (the last frame is at 3.0 s)
    np.testing.assert_allclose(outs[-1].values[1:, 0], np.interp(outs[-1].times_s[1:], fr.times_s, values[:, 0]))


def test_live_grid_starts_at_the_first_frame_so_points_sit_on_frames():
    """A display's 30 fps grid anchored at the first model frame: every third point is a model frame exactly,
    and no grid point is further than 2/3 of a frame period behind the frame that released it."""
    times = 0.00997 + np.arange(100) / 100
    values = np.cos(times * 5)[:, None].astype(np.float32)
    r = FapResampler(30.0, t_origin_s=None)
    released = [(t, r.process(FapFrames(times[i : i + 1], values[i : i + 1], (3,)))) for i, t in enumerate(times)]
    out = FapFrames.concat([o for _, o in released], (3,))
    np.testing.assert_allclose(out.times_s, times[0] + np.arange(len(out)) / 30)
    on_frames = out.values[::3, 0]  # grid point 3q is t0 + q / 10 s: model frame 10q
    np.testing.assert_allclose(on_frames, values[::10, 0][: len(on_frames)], rtol=1e-6)
    waits = [t - o.times_s[-1] for t, o in released if len(o)]
    assert max(waits) < 0.0067 + 1e-9 and min(waits) == 0.0
    anchored_at_audio = FapResampler(30.0, t_origin_s=0.0)
    late = [t - o.times_s[-1] for t in times if len(o := anchored_at_audio.process(
        FapFrames(np.array([t]), values[:1], (3,))))]
    assert np.mean(late) > np.mean(waits) + 0.002  # the audio-anchored grid waits longer on average


def test_csv_contract_and_atomic_abort(tmp_path):
    frames = FapFrames(10.0 + np.array([0.01, 0.02]), np.ones((2, len(ANIMATION_SUBSET)), np.float32), ANIMATION_SUBSET)
    with file_sink(tmp_path / "t.csv") as sink:
        sink.open(10.0)
        sink.write(frames)
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0].split(",")[:4] == ["time", "open_jaw", "lower_t_midlip", "raise_b_midlip"]
    assert lines[1].startswith("0.0100,1.00,")
    with pytest.raises(RuntimeError), file_sink(tmp_path / "u.csv") as sink:
        sink.write(frames)
        raise RuntimeError("engine failed")
    assert list(tmp_path.iterdir()) == [tmp_path / "t.csv"]  # no half-written file, no temp left


def receive(sock: socket.socket, n: int) -> list[bytes]:
    sock.settimeout(2.0)
    return [sock.recv(65536) for _ in range(n)]


def osc_strings_and_floats(bundle: bytes) -> list[tuple[str, list]]:
    """Decode our OSC bundle (a small independent reader for the test)."""
    assert bundle.startswith(b"#bundle\0")
    pos, out = 16, []
    while pos < len(bundle):
        (size,) = struct.unpack(">i", bundle[pos : pos + 4])
        msg = bundle[pos + 4 : pos + 4 + size]
        pos += 4 + size
        addr, rest = msg.split(b"\0", 1)
        i = (len(addr) // 4 + 1) * 4
        tags_end = msg.index(b"\0", i)
        tags = msg[i + 1 : tags_end].decode()
        j = (tags_end // 4 + 1) * 4
        args = []
        for t in tags:
            if t == "f":
                args.append(struct.unpack(">f", msg[j : j + 4])[0])
                j += 4
            else:
                end = msg.index(b"\0", j)
                args.append(msg[j:end].decode())
                j = (end // 4 + 1) * 4
        out.append((addr.decode(), args))
    return out


@pytest.mark.parametrize("protocol", ["json", "osc"])
def test_udp_stream_reaches_a_real_loopback_socket(protocol):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    port = rx.getsockname()[1]
    values = np.zeros((3, len(ANIMATION_SUBSET)), np.float32)
    values[:, 0] = [0, 200, 400]
    frames = FapFrames(100 + np.arange(3) / 60, values, ANIMATION_SUBSET)
    target = f"127.0.0.1:{port}" if protocol == "json" else f"osc://127.0.0.1:{port}"
    with stream_sink(target) as sink:
        sink.open(100.0)
        sink.write(frames)
    got = receive(rx, 3)
    rx.close()
    if protocol == "json":
        records = [json.loads(g) for g in got]
        assert [r["faps"]["open_jaw"] for r in records] == [0, 200, 400]
        assert records[2]["arkit"]["jawOpen"] == 1.0 and abs(records[1]["time"] - 1 / 60) < 1e-4
        assert abs(sum(records[0]["visemes"].values()) - 1) < 1e-3
    else:
        msgs = dict((a, v) for a, v in osc_strings_and_floats(got[2]) if a != "/VMC/Ext/Blend/Val")
        assert msgs["/ventriloquist/fap/open_jaw"] == [400.0]
        blends = {v[0]: v[1] for a, v in osc_strings_and_floats(got[2]) if a == "/VMC/Ext/Blend/Val"}
        assert blends["jawOpen"] == 1.0 and "/VMC/Ext/Blend/Apply" in msgs


def test_stream_targets_are_checked():
    assert parse_target("osc://10.0.0.2:9000") == ("osc", "10.0.0.2", 9000)
    assert parse_target("localhost:7000") == ("json", "localhost", 7000)
    with pytest.raises(VentriloquistError, match="HOST:PORT"):
        parse_target("localhost")
