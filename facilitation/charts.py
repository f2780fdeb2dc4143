"""Presentation helpers for charts: colour-blind-safe fills and word sizes. Pure."""

from __future__ import annotations

# Viridis: colour-blind safe, and its lightness rises steadily, so ordered levels stay
# ordered when printed in black and white. Text on each fill keeps 4.5:1 contrast.
VIRIDIS = (
    ("#46327e", "#ffffff"), ("#365c8d", "#ffffff"), ("#277f8e", "#ffffff"),
    ("#1fa187", "#000000"), ("#4ac16d", "#000000"), ("#a0da39", "#000000"),
    ("#fde725", "#000000"),
)


def level_colors(count: int) -> list[tuple[str, str]]:
    """(fill, text colour) for `count` ordered levels, light (first level) to dark (last)."""
    if count <= 0:
        return []
    if count == 1:
        return [VIRIDIS[3]]
    picks = [round(i * (len(VIRIDIS) - 1) / (count - 1)) for i in range(count)]
    return [VIRIDIS[len(VIRIDIS) - 1 - p] for p in picks]


def word_size(count: int, top: int) -> int:
    """A size class from 1 to 5 for a word used by `count` respondents, `top` being the most."""
    if top <= 0:
        return 1
    return 1 + round(4 * count / top) if top > 1 else 3
