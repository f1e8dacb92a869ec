"""Tell systemd we started, are alive, or are stopping (sd_notify), so a hung main loop gets restarted.

The protocol is one datagram of `KEY=value` lines to the unix socket named by $NOTIFY_SOCKET
(a leading "@" means the abstract namespace); no library is needed. Without $NOTIFY_SOCKET
(run by hand, in tests) every call is a no-op. `ping()` may be called on every loop turn: it
sends WATCHDOG=1 at most once per half of $WATCHDOG_USEC.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

PINGS_PER_TIMEOUT = 2
"""Pings sent per watchdog period (systemd suggests at least two)."""


class SystemdNotifier:
    """sd_notify over a plain datagram socket; no-ops where systemd did not ask for it."""

    def __init__(self, environ: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic):
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = ("\0" + address[1:] if address.startswith("@") else address) or None
        self.watchdog_s = _watchdog_s(env)
        """The watchdog period systemd set for this process, or None (no watchdog)."""
        self.clock = clock
        self.last_ping_s: float | None = None
        self.failed = False
        self.sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *assignments: str) -> bool:
        """Send `KEY=value` lines in one datagram; False where there is no socket or sending failed."""
        if self.address is None:
            return False
        try:
            if self.sock is None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self.sock.sendto("\n".join(assignments).encode(), self.address)
            return True
        except OSError as e:
            if not self.failed:  # once: the watchdog will restart us if this keeps failing
                log.warning("cannot notify systemd at %s: %s", self.address.replace("\0", "@"), e)
            self.failed = True
            return False

    def ready(self, status: str | None = None) -> bool:
        """Startup is done (Type=notify units count as started from here)."""
        sent = self.notify("READY=1", *([f"STATUS={status}"] if status else []))
        self.last_ping_s = self.clock()
        return sent

    def ping(self) -> bool:
        """The main loop is alive; rate-limited, so call it every turn. True when a ping went out."""
        if self.address is None or self.watchdog_s is None:
            return False
        now = self.clock()
        if self.last_ping_s is not None and now - self.last_ping_s < self.watchdog_s / PINGS_PER_TIMEOUT:
            return False
        self.last_ping_s = now
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        """A one-line status shown by `systemctl status`."""
        return self.notify(f"STATUS={text}")

    def stopping(self) -> bool:
        """A clean shutdown has begun."""
        return self.notify("STOPPING=1")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _watchdog_s(env: Mapping[str, str]) -> float | None:
    """$WATCHDOG_USEC in seconds when it is meant for this process ($WATCHDOG_PID, if set, is ours)."""
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid.isdigit() and int(pid) != os.getpid()):
        return None
    return int(usec) / 1e6
