"""Join codes: short, typed on a phone, read from the back of a room."""

from __future__ import annotations

import secrets

# No 0/O/Q/D, 1/I/L, 2/Z, 5/S, 8/B, U/V: pairs people confuse on a projector or a phone keyboard.
ALPHABET = "ACEFGHJKMNPRTWXY34679"
LENGTH = 5
MIN_LENGTH, MAX_LENGTH = 4, 6


def new_code(length: int = LENGTH) -> str:
    """Return a random join code of `length` unambiguous characters."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError("a join code has 4 to 6 characters")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(typed: str) -> str | None:
    """Given what someone typed, return the code it means, or None if it cannot be one."""
    cleaned = "".join(ch for ch in typed.upper() if not ch.isspace() and ch not in "-._")
    if not MIN_LENGTH <= len(cleaned) <= MAX_LENGTH:
        return None
    if any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned
