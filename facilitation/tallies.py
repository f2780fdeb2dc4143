"""Results of each kind of question, always with n = respondents. Pure, no I/O."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from facilitation.polls import Choice, Question
from facilitation.words import WordGroup, word_groups


@dataclass(frozen=True)
class Bar:
    choice: Choice
    count: int
    percent: float  # of respondents, 0..100


@dataclass(frozen=True)
class ChoiceResults:
    """Single and multiple choice; also the distribution of a scale."""

    question: Question
    n: int
    bars: tuple[Bar, ...]
    mean: float | None = None  # scale only
    median: float | None = None  # scale only

    @property
    def top(self) -> int:
        return max((bar.count for bar in self.bars), default=0)


@dataclass(frozen=True)
class MatrixRow:
    item: Choice
    n: int  # respondents who rated this item
    counts: tuple[int, ...]  # per level
    percents: tuple[float, ...]
    score: float  # mean level index, for ordering by frequency


@dataclass(frozen=True)
class MatrixResults:
    question: Question
    n: int
    rows: tuple[MatrixRow, ...]


@dataclass(frozen=True)
class TextResults:
    question: Question
    n: int
    groups: tuple[WordGroup, ...]

    @property
    def visible(self) -> tuple[WordGroup, ...]:
        return tuple(group for group in self.groups if not group.hidden)


@dataclass(frozen=True)
class RankingRow:
    choice: Choice
    points: int  # Borda: an option ranked r among k gets k - r points
    mean_rank: float
    percent: float  # of the most points any option could get


@dataclass(frozen=True)
class RankingResults:
    question: Question
    n: int
    rows: tuple[RankingRow, ...]  # most points first; ties keep the plan's order


Results = ChoiceResults | MatrixResults | TextResults | RankingResults


def aggregate(question: Question, values: Iterable[Any]) -> Results:
    """Given a question and each respondent's stored answer, return its results."""
    answers = list(values)
    if question.kind in ("single", "multiple"):
        return _choices(question, answers)
    if question.kind == "scale":
        return _scale(question, answers)
    if question.kind == "matrix":
        return _matrix(question, answers)
    if question.kind == "ranking":
        return _ranking(question, answers)
    return TextResults(question, len(answers), tuple(
        word_groups((str(a) for a in answers), question.settings.hidden_words)))


def tally(question: Question, answers: Iterable[Any]) -> Results:
    """The same as `aggregate`; kept as the name the domain uses for counting."""
    return aggregate(question, answers)


def _percent(count: int, n: int) -> float:
    return 100.0 * count / n if n else 0.0


def _choices(question: Question, answers: list[Any]) -> ChoiceResults:
    counts = {choice.id: 0 for choice in question.choices}
    for answer in answers:
        for choice_id in set(answer):
            if choice_id in counts:
                counts[choice_id] += 1
    n = len(answers)
    bars = tuple(Bar(c, counts[c.id], _percent(counts[c.id], n)) for c in question.choices)
    return ChoiceResults(question, n, bars)


def _scale(question: Question, answers: list[Any]) -> ChoiceResults:
    values = [int(a) for a in answers]
    n = len(values)
    bars = tuple(
        Bar(Choice(v, str(v)), values.count(v), _percent(values.count(v), n))
        for v in question.scale_values
    )
    mean = statistics.fmean(values) if values else None
    median = float(statistics.median(values)) if values else None
    return ChoiceResults(question, n, bars, mean, median)


def _matrix(question: Question, answers: list[Any]) -> MatrixResults:
    levels = len(question.settings.levels)
    rows = []
    for item in question.choices:
        rated = [int(a[str(item.id)]) for a in answers if str(item.id) in a]
        counts = tuple(rated.count(level) for level in range(levels))
        n = len(rated)
        rows.append(MatrixRow(item, n, counts, tuple(_percent(c, n) for c in counts),
                              statistics.fmean(rated) if rated else -1.0))
    if question.settings.order == "frequency":
        rows.sort(key=lambda row: -row.score)  # stable: ties keep the plan's order
    return MatrixResults(question, len(answers), tuple(rows))


def _ranking(question: Question, answers: list[Any]) -> RankingResults:
    k = len(question.choices)
    points = {choice.id: 0 for choice in question.choices}
    ranks: dict[int, list[int]] = {choice.id: [] for choice in question.choices}
    for answer in answers:
        for rank, choice_id in enumerate(answer, start=1):
            if choice_id in points:
                points[choice_id] += k - rank
                ranks[choice_id].append(rank)
    n = len(answers)
    best = (k - 1) * n
    rows = [
        RankingRow(c, points[c.id], statistics.fmean(ranks[c.id]) if ranks[c.id] else 0.0,
                   _percent(points[c.id], best) if best else 0.0)
        for c in question.choices
    ]
    rows.sort(key=lambda row: -row.points)
    return RankingResults(question, n, tuple(rows))
