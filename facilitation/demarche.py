"""The démarche synthesis: every séance in short, results over time, all consensus, and the
elements that recur across séances (suggested from the text, confirmed by the organiser).
Pure: reports in, synthesis out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facilitation.report import Report
from facilitation.tallies import ChoiceResults
from facilitation.words import strip_accents


@dataclass(frozen=True)
class Recurring:
    """Proposals or themes that come back in several séances."""

    title: str
    members: tuple[tuple[int, str], ...]  # (séance number, text)

    @property
    def seances(self) -> tuple[int, ...]:
        return tuple(sorted({number for number, _ in self.members}))


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


def recurring_candidates(reports: Sequence[Report]) -> list[Recurring]:
    """Groups of proposals (and theme names) from two séances or more, by their text."""
    members: list[tuple[int, str]] = []
    for report in reports:
        number = report.seance.number
        members += [(number, block.name) for block in report.themes]
        members += [(number, p.text) for block in report.themes for p in block.proposals]
        members += [(number, p.text) for p in report.unsorted]
    if len(members) < 2:
        return []
    from facilitation import clustering  # scikit-learn: loaded on first use (~100 MiB)

    found = []
    for suggestion in clustering.suggest([text for _, text in members]):
        group = tuple(members[i] for i in suggestion.members)
        if len({number for number, _ in group}) >= 2:
            found.append(Recurring(suggestion.title, group))
    return found
