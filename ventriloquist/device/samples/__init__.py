"""Sample speech for `ventriloquist demo` (synthesised with espeak-ng, so free of any corpus licence)."""
