"""Projector pages: what does not fit on one screen is cut into pages the room reads in turn.

Pure. The projector's type scales with the viewport (16:9), so a page holds the same number
of lines at 1920 × 1080 and 1280 × 720: lengths are counted in characters and lines of the
projector's base text, estimated on the generous side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def text_lines(text: str, per_line: int) -> int:
    """Lines `text` takes when wrapped at `per_line` characters, words kept whole (a word
    longer than a line is broken, as the projector's CSS does)."""
    lines, used = 1, 0
    for word in text.split():
        size = len(word)
        if used and used + 1 + size > per_line:
            lines, used = lines + 1, 0
        if used:
            used += 1
        while size > per_line:
            lines, size = lines + 1, size - per_line
        used += size
    return lines


def paginate(items: Sequence[T], texts: Sequence[str], per_line: int, budget: float,
             extra: float = 0.0, floor: float = 1.0, line: float = 1.0) -> list[list[T]]:
    """Cut `items` (each shown as its text in `texts`) into pages of at most `budget` lines;
    an item costs its wrapped lines (`line` each, at least `floor` in all) plus `extra`. An
    item larger than a page gets a page of its own. Always at least one page, maybe empty."""
    pages: list[list[T]] = [[]]
    used = 0.0
    for item, text in zip(items, texts, strict=True):
        cost = max(text_lines(text, per_line) * line, floor) + extra
        if pages[-1] and used + cost > budget:
            pages.append([])
            used = 0.0
        pages[-1].append(item)
        used += cost
    return pages


def paginate_groups(groups: Sequence[tuple[str, Sequence[T], Sequence[str]]], per_line: int,
                    budget: float, extra: float = 0.0, heading: float = 1.5,
                    empty: float = 1.0, floor: float = 1.0, line: float = 1.0,
                    heading_per_line: int = 0) -> list[list[tuple[str, list[T], bool]]]:
    """Like `paginate`, for named groups (a heading, then its items): a group may go on over
    the next page, where its heading is shown again, marked as continued (the third value).
    A group without items still takes `empty` lines under its heading (for its "nothing
    here" line). A heading takes `heading` lines, and 1.4 more for each line it wraps to at
    `heading_per_line` characters (headings are set larger than the text)."""
    pages: list[list[tuple[str, list[T], bool]]] = [[]]
    used = 0.0
    for name, items, texts in groups:
        lines = text_lines(name + " (continued)", heading_per_line) if heading_per_line else 1
        head = heading + (lines - 1) * 1.4
        first = max(text_lines(texts[0], per_line) * line, floor) + extra if items else empty
        if pages[-1] and used + head + first > budget:
            pages.append([])
            used = 0.0
        pages[-1].append((name, [], False))
        used += head + (0 if items else empty)
        for item, text in zip(items, texts, strict=True):
            cost = max(text_lines(text, per_line) * line, floor) + extra
            if pages[-1][-1][1] and used + cost > budget:
                pages.append([(name, [], True)])
                used = head
            pages[-1][-1][1].append(item)
            used += cost
    return pages
