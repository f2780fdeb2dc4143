"""Proposals and their moderation: text rules, merges, themes on the board. Pure, no I/O."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from facilitation.i18n_keys import N_, UserError
from facilitation.text import one_line

MAX_LENGTH = 280
MAX_LIMIT = 50
MAX_THEME_NAME = 80


class ProposalError(UserError):
    """A proposal or moderation action that cannot be done."""


@dataclass(frozen=True)
class StepSettings:
    """A proposal step's rules, stored as JSON beside the step."""

    limit: int | None = None  # proposals per participant; None: no limit
    max_length: int = MAX_LENGTH
    wall_by_subgroup: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> StepSettings:
        data = json.loads(text or "{}")
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Proposal:
    id: int
    text: str
    channel: str
    subgroup: str = ""
    participant_id: int | None = None
    hidden: bool = False
    pinned: bool = False
    merged_into: int | None = None
    theme_id: int | None = None
    merged: tuple[int, ...] = ()  # ids of the proposals merged into this one
    originals: tuple[str, ...] = field(default=(), compare=False)  # their texts

    @property
    def count(self) -> int:
        """How many proposals this card stands for (itself and those merged into it)."""
        return 1 + len(self.merged)

    @property
    def on_board(self) -> bool:
        return self.merged_into is None and not self.hidden


@dataclass(frozen=True)
class Theme:
    id: int
    name: str
    position: int


def clean_text(raw: object, max_length: int = MAX_LENGTH) -> str:
    """Given what was typed, return the proposal's text or raise ProposalError."""
    if not isinstance(raw, str):
        raise ProposalError(N_("Write your proposal before sending."))
    text = one_line(raw)
    if not text:
        raise ProposalError(N_("Write your proposal before sending."))
    if len(text) > max_length:
        raise ProposalError(N_("A proposal has at most %(limit)s characters."), limit=max_length)
    return text


def check_limit(already: int, settings: StepSettings) -> None:
    if settings.limit is not None and already >= settings.limit:
        raise ProposalError(N_("You have already sent your proposal.") if settings.limit == 1
                            else N_("You have reached the limit of %(limit)s proposals."), 409,
                            limit=settings.limit)


def clean_theme_name(raw: object) -> str:
    name = one_line(raw) if isinstance(raw, str) else ""
    if not name:
        raise ProposalError(N_("Give the theme a name."))
    if len(name) > MAX_THEME_NAME:
        raise ProposalError(N_("A theme name has at most %(limit)s characters."),
                            limit=MAX_THEME_NAME)
    return name


def check_merge(target: Proposal, sources: Sequence[Proposal]) -> list[int]:
    """Return the ids to merge into `target`, or raise: a proposal is never merged into
    itself, and only cards still on their own (not already merged) can be merged."""
    if not sources:
        raise ProposalError(N_("Choose the proposals to merge."))
    if target.merged_into is not None:
        raise ProposalError(N_("This proposal is already merged into another one."), 409)
    ids = []
    for source in sources:
        if source.id == target.id:
            raise ProposalError(N_("A proposal cannot be merged into itself."))
        if source.merged_into is not None:
            raise ProposalError(N_("This proposal is already merged into another one."), 409)
        ids.append(source.id)
    return ids


def group_merged(rows: Iterable[Proposal]) -> list[Proposal]:
    """Attach to each proposal the ids and texts of those merged into it (also through
    proposals that were themselves merged: a merge of merges keeps every original)."""
    proposals = {p.id: p for p in rows}

    def root(p: Proposal) -> int:
        seen = set()
        while p.merged_into is not None and p.merged_into in proposals and p.id not in seen:
            seen.add(p.id)
            p = proposals[p.merged_into]
        return p.id

    children: dict[int, list[Proposal]] = {}
    for p in proposals.values():
        # Merged into a proposal not listed (its author excluded): it leaves with it.
        if p.merged_into is not None and root(p) != p.id:
            children.setdefault(root(p), []).append(p)
    result = []
    for p in proposals.values():
        kids = sorted(children.get(p.id, []), key=lambda c: c.id)
        result.append(Proposal(p.id, p.text, p.channel, p.subgroup, p.participant_id, p.hidden,
                               p.pinned, p.merged_into, p.theme_id,
                               tuple(c.id for c in kids), tuple(c.text for c in kids)))
    return sorted(result, key=lambda p: p.id)


def wall(proposals: Iterable[Proposal]) -> list[Proposal]:
    """What the room sees: cards on their own and not hidden, pinned first, then newest."""
    cards = [p for p in proposals if p.on_board]
    return sorted(cards, key=lambda p: (not p.pinned, -p.id))


def wall_pages(cards: Sequence[Proposal], by_subgroup: bool = False,
               size: int = 9) -> list[tuple[str, list[Proposal]]]:
    """The wall cut into projector pages of `size` cards, each page with its table's name
    when the wall is shown by subgroup (cards without a table come last)."""
    if not by_subgroup:
        groups = [("", list(cards))]
    else:
        names: list[str] = []
        for card in cards:
            if card.subgroup not in names:
                names.append(card.subgroup)
        names.sort(key=lambda name: (name == "", name))
        groups = [(name, [c for c in cards if c.subgroup == name]) for name in names]
    result = [(name, group[i:i + size]) for name, group in groups
              for i in range(0, len(group), size)]
    return result or [("", [])]
