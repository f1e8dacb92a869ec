"""Sources: where audio comes from (file, stdin, microphone, playback), each yielding AudioChunks.

Every source has `rate_hz`, `live` (True: t_capture_s is on time.monotonic(), so the engine can
measure latency and drop stale chunks; False: seconds from the audio start), `overflows`
(chunks lost at the input), iteration over AudioChunks, and close().
"""

from __future__ import annotations

DEFAULT_CHUNK_S = 0.01
"""One model frame of audio per chunk: the lowest latency at a modest per-chunk cost."""
