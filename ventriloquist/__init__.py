"""ventriloquist: speech in, MPEG-4 face motion out, offline on a Raspberry Pi.

One import package with three rooms: `ventriloquist.device` (the Pi runtime, no TensorFlow),
`ventriloquist.training` (workstation) and `ventriloquist.firmware_bridge` (servo link).
Importing this package imports none of them, so the face tracker's venv can load
`ventriloquist.training.corpus.tracker` without numpy 2 or scipy.
"""
