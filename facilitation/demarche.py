"""The démarche synthesis: every séance in short, results over time, all consensus, and the
elements that recur across séances (suggested from the text, confirmed by the organiser).
Pure: reports in, synthesis out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from facilitation.i18n_keys import N_, UserError
from facilitation.report import Report
from facilitation.tallies import ChoiceResults
from facilitation.words import strip_accents

if TYPE_CHECKING:
    from facilitation.clustering import Suggestion

MAX_TITLE = 120
MAX_MEMBERS = 50  # a form carries at most 100 fields (web.MAX_FORM_FIELDS)


class CrossError(UserError):
    """A change to a cross-cutting element that cannot be made."""


def clean_title(raw: object) -> str:
    """An element's title as typed, spaces tidied; refused when empty or too long."""
    title = " ".join(str(raw or "").split())
    if not title:
        raise CrossError(N_("Give the element a title."))
    if len(title) > MAX_TITLE:
        raise CrossError(N_("A title has at most %(limit)s characters."), limit=MAX_TITLE)
    return title


@dataclass(frozen=True)
class Member:
    """A proposal or a theme name of a séance held, as the synthesis knows it. `id` is the
    proposal's or theme's own id; None for a member kept only as text (an element confirmed
    before members had ids, whose proposal was not found again)."""

    kind: str  # "proposal", "theme" or "text"
    id: int | None
    number: int  # séance number
    text: str

    @property
    def ref(self) -> tuple[str, int] | None:
        return None if self.id is None else (self.kind, self.id)


@dataclass(frozen=True)
class Recurring:
    """Proposals or themes that come back in several séances."""

    title: str
    members: tuple[tuple[int, str], ...]  # (séance number, text): what the exports print
    items: tuple[Member, ...] = ()  # the same members, each with its stable id

    @classmethod
    def of(cls, title: str, items: Sequence[Member]) -> Recurring:
        return cls(title, tuple((m.number, m.text) for m in items), tuple(items))

    @property
    def seances(self) -> tuple[int, ...]:
        return tuple(sorted({number for number, _ in self.members}))

    @property
    def refs(self) -> frozenset[tuple[str, int]]:
        """What it holds, by id (members kept only as text left out)."""
        return frozenset(m.ref for m in self.items if m.ref is not None)


@dataclass(frozen=True)
class OverTime:
    """A question asked in several séances: each choice's share, séance by séance."""

    text: str
    numbers: tuple[int, ...]  # séance numbers, in order
    n: tuple[int, ...]
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]  # choice, percent per séance


def _key(text: str) -> str:
    return " ".join(strip_accents(text.lower()).split())


def over_time(reports: Sequence[Report]) -> list[OverTime]:
    """Questions asked with the same words in two séances or more (choice kinds)."""
    by_text: dict[str, list[tuple[int, ChoiceResults]]] = {}
    titles: dict[str, str] = {}
    for report in reports:
        for poll in report.polls:
            if isinstance(poll.results, ChoiceResults) and poll.results.question.kind != "scale":
                key = _key(poll.results.question.text)
                titles.setdefault(key, poll.results.question.text)
                by_text.setdefault(key, []).append((report.seance.number, poll.results))
    found = []
    for key, asked in by_text.items():
        if len({number for number, _ in asked}) < 2:
            continue
        asked.sort(key=lambda pair: pair[0])
        labels: list[str] = []
        for _number, results in asked:
            labels += [b.choice.label for b in results.bars if b.choice.label not in labels]
        rows = tuple(
            (label, tuple(next((b.percent for b in r.bars if b.choice.label == label), None)
                          for _n, r in asked))
            for label in labels)
        found.append(OverTime(titles[key], tuple(n for n, _ in asked),
                              tuple(r.n for _n, r in asked), rows))
    return found


def recurring_candidates(members: Sequence[Member],
                         suggestions: Sequence[Suggestion] | None = None) -> list[Recurring]:
    """Groups of proposals (and theme names) from two séances or more.

    `members` are the originals of séances held (store.demarche.sources): a proposal carried
    over to the next séance is the same proposal, so it never makes an element by itself.
    `suggestions` groups them (themes.suggest: by meaning); without it, by shared words."""
    if len(members) < 2:
        return []
    if suggestions is None:
        from facilitation import clustering  # scikit-learn: loaded on first use (~100 MiB)

        suggestions = clustering.suggest([m.text for m in members])
    found = []
    for suggestion in suggestions:
        group = [members[i] for i in suggestion.members]
        if len({m.number for m in group}) >= 2:
            found.append(Recurring.of(suggestion.title, group))
    return found


def hidden_by(candidate: Recurring, decided: Sequence[Recurring]) -> bool:
    """A suggestion already settled: everything it holds is in one element the organiser
    confirmed, edited or rejected."""
    refs = candidate.refs
    return bool(refs) and any(refs <= element.refs for element in decided)
