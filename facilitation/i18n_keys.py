"""Marker for messages translated later, where they are shown."""


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a message for extraction without translating it now."""
    return message
