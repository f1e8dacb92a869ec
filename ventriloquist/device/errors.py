"""The one exception type for expected failures, so the CLI can print one line and exit 2."""


class VentriloquistError(Exception):
    """An expected failure (bad file, bad bundle, bad config, missing device) a user can act on."""


def plain_text(text: str) -> str:
    """`text` with control characters (newlines, terminal escapes) shown as escapes, so it prints as one plain line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
