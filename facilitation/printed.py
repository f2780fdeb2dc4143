"""What the printed cards carry, so that the helper's form can be laid out the same way: how
many cards, a vote card's rows and columns, a proposal card's slots. Pure, no I/O."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from facilitation.i18n_keys import N_
from facilitation.proposals import StepSettings
from facilitation.seances import Step
from facilitation.voting import AGREE_LABELS, GRADES, Item, VoteSettings

DEFAULT_CARDS, MAX_CARDS = 20, 300
PROPOSAL_SLOTS = 3  # proposals one paper card holds, at most
PROPOSAL_CARDS_A_PAGE = 3


def card_count(raw: str | None) -> int:
    """How many numbered cards to print: a whole number from 1 to MAX_CARDS, else the
    default (a GET link: there is no form to send an error back to)."""
    text = (raw or "").strip()
    if not text.isdecimal() or len(text) > 6:
        return DEFAULT_CARDS
    return min(max(int(text), 1), MAX_CARDS)


@dataclass(frozen=True)
class VoteCard:
    """One vote, as its paper card and the helper's form show it: numbered rows (the items,
    in the vote's order) and one column per box to fill in."""

    title: str
    method: str
    rows: tuple[tuple[int, Item], ...]
    columns: tuple[str, ...]  # msgids, translated where shown
    points: int
    max_per_item: int


def vote_columns(method: str) -> tuple[str, ...]:
    """The boxes of one row: agree / disagree / pass, the points given, or one per grade."""
    if method == "dots":
        return (N_("Points"),)
    if method == "judgment":
        return GRADES
    return tuple(AGREE_LABELS.values())


def halves(columns: int) -> str:
    """Two cards to a page: side by side on a landscape page while a card's boxes take little
    width; one above the other on a portrait page when they take much (a column per grade),
    so that the text keeps room beside them."""
    return "stack" if columns > 3 else "pair"


def settings_saved(step: Step) -> bool:
    """A vote step whose settings were saved once (from the plan, the editor or the
    facilitator): only then are its items known."""
    return step.kind == "vote" and bool(json.loads(step.settings or "{}"))


def vote_card(step: Step, items: Sequence[Item]) -> VoteCard | None:
    """The card of a vote step, or None while there is nothing to print."""
    if not settings_saved(step) or not items:
        return None
    settings = VoteSettings.from_json(step.settings)
    return VoteCard(title=step.title, method=settings.method,
                    rows=tuple(enumerate(items, 1)), columns=vote_columns(settings.method),
                    points=settings.points, max_per_item=settings.max_per_item)


def proposal_slots(step: Step) -> int:
    """Slots on a proposal card: the step's limit per person, at most PROPOSAL_SLOTS."""
    limit = StepSettings.from_json(step.settings).limit
    return min(limit, PROPOSAL_SLOTS) if limit else PROPOSAL_SLOTS


def proposal_card_count(cards: int) -> int:
    """As many proposal cards as ballot cards (one each for the people on paper), the last
    page filled."""
    return math.ceil(cards / PROPOSAL_CARDS_A_PAGE) * PROPOSAL_CARDS_A_PAGE
