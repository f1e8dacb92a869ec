"""Chatter of C libraries on fd 2 (ALSA and JACK probing devices, TFLite announcing its delegate): hidden."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Hide what the C libraries write to file descriptor 2 while PyAudio opens or looks for devices."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
