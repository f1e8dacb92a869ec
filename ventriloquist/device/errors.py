"""The one exception type for expected failures, so the CLI can print one line and exit 2."""


class VentriloquistError(Exception):
    """An expected failure (bad file, bad bundle, bad config, missing device) a user can act on."""
