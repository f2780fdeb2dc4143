"""Text as people type it, made safe to keep: one cleaning for every channel.

Whatever a participant, helper, facilitator or organiser types (forms, the JSON API, SMS,
plan files) goes through `clean` where it comes in, so no export ever meets a control
character (one \\x01 made the DOCX export fail) or a bidi override that makes a text
read differently from what it holds."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Line breaks of every kind become "\n" (vertical tab and form feed included).
LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# C0 and C1 controls but tab and line feed, DEL; the bidi embeddings, overrides and
# isolates (U+202A–U+202E, U+2066–U+2069) that reorder what a reader sees; lone
# surrogates (not text: they cannot even be written as UTF-8); two noncharacters.
# Joiners (ZWJ, ZWNJ) and the plain direction marks (LRM, RLM) stay: they are writing.
UNSAFE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                    "\ud800-\udfff\ufffe\uffff]")


def clean(raw: str) -> str:
    """Given typed text, return it in NFC, with "\\n" for line breaks and without control or
    bidi-override characters; tabs and line breaks stay (see `one_line`)."""
    text = UNSAFE.sub("", LINE_BREAKS.sub("\n", raw))
    return unicodedata.normalize("NFC", text)


def one_line(raw: str) -> str:
    """Clean text for a one-line field: trimmed, any run of white space one space."""
    return " ".join(clean(raw).split())


def clean_tree(value: Any) -> Any:
    """A parsed JSON or TOML value with every string in it cleaned, keys included.
    Iterative: a deeply nested body costs no recursion."""
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = clean(item)
        elif isinstance(item, dict):
            cleaned = {clean(k) if isinstance(k, str) else k: v for k, v in item.items()}
            container[key] = cleaned
            stack.extend((cleaned, k) for k in cleaned)
        elif isinstance(item, list):
            copied = list(item)
            container[key] = copied
            stack.extend((copied, i) for i in range(len(copied)))
    return root[0]
