"""The consultation éclair: questions, answer validation and tallies. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from facilitation.i18n_keys import N_

KINDS = ("single", "multiple")
STATES = ("draft", "open", "closed")
MAX_CHOICES = 20
MAX_TEXT = 500
MAX_LABEL = 120


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class Question:
    id: int
    step_id: int
    kind: str
    text: str
    choices: tuple[Choice, ...]
    max_choices: int | None = None
    state: str = "draft"

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def limit(self) -> int:
        """How many choices one answer may hold."""
        if self.kind == "single":
            return 1
        return min(self.max_choices or len(self.choices), len(self.choices))


class AnswerError(ValueError):
    """An answer that cannot be stored; `message` is a msgid for the person's language."""

    def __init__(self, message: str, status: int = 422, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        self.status = status


def validate_answer(question: Question, raw: Sequence[object]) -> tuple[int, ...]:
    """Given a question and submitted choice ids, return the stored form or raise AnswerError."""
    if not question.is_open:
        raise AnswerError(N_("This question is closed: your answer was not recorded."), 409)
    if len(raw) > len(question.choices):
        raise AnswerError(N_("Too many choices were sent."))
    ids: list[int] = []
    for item in raw:
        try:
            value = int(str(item).strip()) if not isinstance(item, bool) else None
        except ValueError:
            value = None
        if value is None:
            raise AnswerError(N_("This choice is not one of the question's choices."))
        ids.append(value)
    if not ids:
        raise AnswerError(N_("Choose an answer before sending."))
    known = {choice.id for choice in question.choices}
    if any(value not in known for value in ids):
        raise AnswerError(N_("This choice is not one of the question's choices."))
    if len(set(ids)) != len(ids):
        raise AnswerError(N_("The same choice was sent twice."))
    if question.kind == "single" and len(ids) != 1:
        raise AnswerError(N_("Choose only one answer."))
    if len(ids) > question.limit:
        raise AnswerError(N_("Choose at most %(limit)s answers."), limit=question.limit)
    order = {choice.id: i for i, choice in enumerate(question.choices)}
    return tuple(sorted(ids, key=order.__getitem__))


@dataclass(frozen=True)
class Bar:
    choice: Choice
    count: int
    percent: float  # of respondents, 0..100


@dataclass(frozen=True)
class Results:
    question: Question
    n: int
    bars: tuple[Bar, ...]

    @property
    def top(self) -> int:
        return max((bar.count for bar in self.bars), default=0)


def tally(question: Question, answers: Iterable[Sequence[int]]) -> Results:
    """Given a question and each respondent's choices, return counts and n = respondents."""
    counts = {choice.id: 0 for choice in question.choices}
    n = 0
    for answer in answers:
        n += 1
        for choice_id in set(answer):
            if choice_id in counts:
                counts[choice_id] += 1
    return results_from_counts(question, n, counts)


def results_from_counts(question: Question, n: int, counts: dict[int, int]) -> Results:
    """Given per-choice counts and n (as the store aggregates them), return the results."""
    bars = tuple(
        Bar(choice, counts.get(choice.id, 0), 100.0 * counts.get(choice.id, 0) / n if n else 0.0)
        for choice in question.choices
    )
    return Results(question, n, bars)
