"""ventriloquist.device.watchdog: sd_notify datagrams on a real unix socket, the ping rate limit, and
no-ops without systemd."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from ventriloquist.device.watchdog import SystemdNotifier


class Clock:
    """A hand-moved clock (a fake: the rate limit is about elapsed time, not the wall)."""

    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def listener(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def received(sock: socket.socket) -> list[str]:
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        return out
    finally:
        sock.settimeout(2)


def test_ready_ping_status_stopping(listener):
    sock, path = listener
    clock = Clock()
    n = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000"}, clock=clock)
    assert n.enabled and n.watchdog_s == 10.0
    assert n.ready("listening")
    assert sock.recv(4096) == b"READY=1\nSTATUS=listening"
    assert not n.ping()  # right after READY: not due yet
    sent = []
    for _ in range(40):  # 40 loop turns, 0.5 s apart = 20 s: one ping per 5 s (half the watchdog)
        clock.now_s += 0.5
        sent.append(n.ping())
    assert sum(sent) == 4
    assert received(sock) == ["WATCHDOG=1"] * 4
    assert n.status("3 frames late") and n.stopping()
    assert received(sock) == ["STATUS=3 frames late", "STOPPING=1"]
    n.close()


def test_abstract_socket_address():
    name = f"ventriloquist-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        n = SystemdNotifier({"NOTIFY_SOCKET": "@" + name})
        assert n.ready()
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_without_systemd_everything_is_a_noop():
    n = SystemdNotifier({})
    assert not n.enabled
    assert not any((n.ready(), n.ping(), n.status("x"), n.stopping()))


def test_watchdog_meant_for_another_process_is_ignored(listener):
    _, path = listener
    n = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid() + 1)})
    assert n.watchdog_s is None and not n.ping()
    mine = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())})
    assert mine.watchdog_s == 4.0 and mine.ping()


def test_a_vanished_socket_does_not_raise(tmp_path, caplog):
    n = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone"), "WATCHDOG_USEC": "1000000"})
    assert not n.ready()
    assert not n.ping()
    assert sum("cannot notify systemd" in r.message for r in caplog.records) == 1
