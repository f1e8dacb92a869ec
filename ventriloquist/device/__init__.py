"""ventriloquist device runtime: speech in, MPEG-4 facial animation out (no TensorFlow).

Importing it changes nothing in the process; the program's start (`cli.main`) sets what the
process needs, such as one BLAS thread.
"""

__version__ = "0.1.0"
