"""Presentation helpers for charts: colour-blind-safe fills and word sizes. Pure."""

from __future__ import annotations

from collections.abc import Sequence

# Viridis: colour-blind safe, and its lightness rises steadily, so ordered levels stay
# ordered when printed in black and white. Text on each fill keeps 4.5:1 contrast.
VIRIDIS = (
    ("#46327e", "#ffffff"), ("#365c8d", "#ffffff"), ("#277f8e", "#ffffff"),
    ("#1fa187", "#000000"), ("#4ac16d", "#000000"), ("#a0da39", "#000000"),
    ("#fde725", "#000000"),
)


def level_indexes(count: int) -> list[int]:
    """Which VIRIDIS entry each of `count` ordered levels takes, light (first) to dark."""
    if count <= 0:
        return []
    if count == 1:
        return [3]
    picks = [round(i * (len(VIRIDIS) - 1) / (count - 1)) for i in range(count)]
    return [len(VIRIDIS) - 1 - p for p in picks]


def level_colors(count: int) -> list[tuple[str, str]]:
    """(fill, text colour) for `count` ordered levels, light (first level) to dark (last)."""
    return [VIRIDIS[i] for i in level_indexes(count)]


def segment_widths(counts: Sequence[int]) -> list[int]:
    """Whole percents of a stacked bar, one per count, adding up to 100 (largest remainder);
    a count above zero never gets 0 (the projector gives every segment room for its figure)."""
    total = sum(counts)
    if total <= 0:
        return [0 for _ in counts]
    exact = [100 * c / total for c in counts]
    widths = [int(x) for x in exact]
    order = sorted(range(len(counts)), key=lambda i: exact[i] - widths[i], reverse=True)
    for i in order[:100 - sum(widths)]:
        widths[i] += 1
    return [max(w, 1) if c else 0 for w, c in zip(widths, counts, strict=True)]


def word_size(count: int, top: int) -> int:
    """A size class from 1 to 5 for a word used by `count` respondents, `top` being the most."""
    if top <= 0:
        return 1
    return 1 + round(4 * count / top) if top > 1 else 3
