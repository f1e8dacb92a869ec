"""ventriloquist device runtime: speech in, MPEG-4 facial animation out (no TensorFlow).

The runtime works on small matrices, one stream at a time: a multi-threaded BLAS only adds
hand-over cost there (20x slower frames measured with 2 threads on a busy 2-core machine), so
one BLAS thread is the default unless the user's environment says otherwise. This must run
before numpy is first imported, hence here.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
