"""Numbered paper cards printed to PDF, in the largest type and the fewest pages that hold
them: two cards to a page when one card fits on half of it, else a card to a page (or to
several, its number on each). Only WeasyPrint knows whether a card fits, so it is asked, on
one sample sheet, before the whole print."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2

from facilitation import i18n
from facilitation.web import render_string

# Type sizes tried for two cards to a page, largest first; a card that fits at none of
# them gets a page of its own (or more) in WHOLE_SIZE.
PAIR_SIZES = (13, 12, 11.5, 11, 10.5)
WHOLE_SIZE = 12
WHOLE_LAYOUTS = ("portrait", "landscape")


def _pages(html: str) -> int:
    import weasyprint

    return len(weasyprint.HTML(string=html).render().pages)


def choose_layout(env: jinja2.Environment, template: str, tr: i18n.Translator,
                  largest: int, halves: str, **context: Any) -> tuple[str, float]:
    """The layout and type size for cards numbered up to `largest` (the widest number):
    two to a page as `halves` says ("pair" or "stack") in the largest size that fits, else
    a card to a page in the orientation that takes fewer pages."""

    def sample(layout: str, size: float, numbers: Sequence[int]) -> int:
        only_cards = {**context, "poster": False, "proposal_cards": 0}
        return _pages(render_string(env, template, tr, layout=layout, size=size,
                                    numbers=numbers, **only_cards))

    for size in PAIR_SIZES:
        if sample(halves, size, [largest, largest]) == 1:
            return halves, size
    pages = {layout: sample(layout, WHOLE_SIZE, [largest]) for layout in WHOLE_LAYOUTS}
    return min(WHOLE_LAYOUTS, key=lambda layout: pages[layout]), WHOLE_SIZE


def cards_pdf(env: jinja2.Environment, template: str, tr: i18n.Translator, cards: int,
              *, numbered: bool = True, halves: str = "pair", **context: Any) -> bytes:
    """`template` rendered with cards 1..`cards`, laid out to fit, as PDF; without
    `numbered` cards (a séance without questions), only the rest of the template."""
    import weasyprint

    layout, size = (choose_layout(env, template, tr, cards, halves, **context) if numbered
                    else (halves, WHOLE_SIZE))
    html = render_string(env, template, tr, layout=layout, size=size,
                         numbers=range(1, cards + 1), **context)
    return weasyprint.HTML(string=html).write_pdf()  # type: ignore[no-any-return]
