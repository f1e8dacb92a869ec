"""Sources: where audio comes from (file, stdin, microphone, playback), each yielding AudioChunks.

Every source meets the `Source` contract (ventriloquist.device.values): `rate_hz`, `live` (True:
t_capture_s is on time.monotonic(), so the engine can measure latency and drop stale chunks; False:
seconds from the audio start), `overflows` (chunks lost at the input), iteration over AudioChunks, and close().
"""

from __future__ import annotations

DEFAULT_CHUNK_S = 0.02
"""Two model frames of audio per chunk (a common ALSA period). Each wake-up costs a fixed amount of CPU
(caches refill whatever the work), so 20 ms halves that cost against 10 ms chunks; the extra wait is 0 or
10 ms per frame, and measured capture-to-display latency stays under 60 ms (`ventriloquist bench live`)."""
