"""Audio-visual corpus preparation: videos, GRID and EMA recordings -> WAV + FAP tracks + a manifest."""
