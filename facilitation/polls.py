"""The consultation éclair: questions of every kind and answer validation. Pure, no I/O.

A stored answer is a JSON value whose shape depends on the kind:
single, multiple: [choice ids]; ranking: [choice ids, best first]; scale: a number;
text: a string; matrix: {"item id": level index}.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from facilitation.i18n_keys import N_, UserError
from facilitation.text import one_line

KINDS = ("single", "multiple", "matrix", "scale", "text", "ranking")
KIND_LABELS = {
    "single": N_("Single choice"),
    "multiple": N_("Multiple choice"),
    "matrix": N_("Frequency matrix"),
    "scale": N_("Scale"),
    "text": N_("Short free text"),
    "ranking": N_("Ranking"),
}
STATES = ("draft", "open", "closed")
RESULTS_MODES = ("live", "closed")
MAX_CHOICES = 20
MAX_RANKING = 7
MAX_LEVELS = 7
MAX_ITEMS = 15
MAX_TEXT = 500
MAX_LABEL = 120
MAX_TEXT_ANSWER = 120
SCALES = ((1, 5), (0, 10))


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class Settings:
    """What a question's kind needs beyond its choices, stored as JSON beside it."""

    levels: tuple[str, ...] = ()  # matrix: the scale every item is rated on
    order: str = "plan"  # matrix: items in the plan's order, or by "frequency"
    scale_min: int = 1
    scale_max: int = 5
    low_label: str = ""
    high_label: str = ""
    results: str = "live"  # "live", or "closed": the room sees results once closed
    allow_change: bool = True
    phone_results: bool = False  # phones see the results once the question is closed
    hidden_words: tuple[str, ...] = ()  # text: word groups the facilitator hid

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> Settings:
        data = json.loads(text or "{}")
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        for key in ("levels", "hidden_words"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


@dataclass(frozen=True)
class Question:
    id: int
    step_id: int
    kind: str
    text: str
    choices: tuple[Choice, ...]  # the items of a matrix, the options of a ranking
    max_choices: int | None = None
    state: str = "draft"
    settings: Settings = field(default_factory=Settings)

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def limit(self) -> int:
        """How many choices one answer may hold."""
        if self.kind == "single":
            return 1
        return min(self.max_choices or len(self.choices), len(self.choices))

    @property
    def results_visible(self) -> bool:
        """Whether the room may see results now (the facilitator always does)."""
        return self.settings.results == "live" or self.state == "closed"

    @property
    def scale_values(self) -> range:
        return range(self.settings.scale_min, self.settings.scale_max + 1)


class AnswerError(UserError):
    """An answer that cannot be stored."""


@dataclass(frozen=True)
class RawAnswer:
    """An answer as sent, before validation: from a form or from JSON."""

    choices: Sequence[object] = ()
    value: object = None
    text: object = None
    items: Mapping[str, object] = field(default_factory=dict)
    ranks: Mapping[str, object] = field(default_factory=dict)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal() and len(value) < 12:
        return int(value.strip())
    return None


def answer_words(question: Question, value: Any) -> str:
    """A stored answer as a person reads it (the facilitator comparing two entries of a
    paper card): the choices' labels, not their ids."""
    labels = {choice.id: choice.label for choice in question.choices}
    if value is None:
        return ""
    if question.kind in ("single", "multiple") and isinstance(value, list):
        return ", ".join(labels.get(int(v), "?") for v in value)
    if question.kind == "ranking" and isinstance(value, list):
        return ", ".join(f"{n}. {labels.get(int(v), '?')}" for n, v in enumerate(value, 1))
    if question.kind == "matrix" and isinstance(value, dict):
        levels = question.settings.levels
        return "; ".join(
            f"{labels.get(int(k), '?')} : "
            f"{levels[int(v)] if str(v).isdecimal() and int(v) < len(levels) else v}"
            for k, v in value.items())
    return str(value)


def raw_from_form(form: Any, prefix: str = "") -> RawAnswer:
    """What a participant's or helper's form sent (Starlette FormData or a dict of lists);
    `prefix` picks one question's fields in a form that holds several (a paper card)."""
    item, rank = prefix + "item-", prefix + "rank-"
    items = {key[len(item):]: str(value) for key, value in form.multi_items()
             if isinstance(key, str) and key.startswith(item)}
    ranks = {key[len(rank):]: str(value) for key, value in form.multi_items()
             if isinstance(key, str) and key.startswith(rank)}
    return RawAnswer(choices=[str(v) for v in form.getlist(prefix + "choice")],
                     value=form.get(prefix + "value"), text=form.get(prefix + "text"),
                     items=items, ranks=ranks)


def blank(raw: RawAnswer) -> bool:
    """Nothing was filled in (a question left empty on a paper card)."""
    return not raw.choices and not str(raw.value or "").strip() \
        and not str(raw.text or "").strip() \
        and not any(str(v).strip() for v in (raw.items or {}).values()) \
        and not any(str(v).strip() for v in (raw.ranks or {}).values())


def sent_back(question: Question, raw: RawAnswer) -> Any:
    """What was sent, in the shape of a stored answer, to show a refused form again as it
    was filled in (only what fits the question's choices and levels)."""
    ids = {choice.id for choice in question.choices}
    if question.kind in ("single", "multiple"):
        return [int(str(v)) for v in raw.choices if str(v).isdecimal() and int(str(v)) in ids]
    if question.kind == "scale":
        value = str(raw.value or "")
        return int(value) if value.isdecimal() else None
    if question.kind == "text":
        return str(raw.text or "")[:200]
    if question.kind == "matrix":
        return {key: int(str(value)) for key, value in (raw.items or {}).items()
                if str(value).isdecimal() and key.isdecimal() and int(key) in ids}
    if question.kind == "ranking":
        ranks = {int(key): int(str(value)) for key, value in (raw.ranks or {}).items()
                 if key.isdecimal() and int(key) in ids and str(value).isdecimal()}
        return sorted(ranks, key=ranks.__getitem__)
    return None


def raw_from_json(body: Mapping[str, Any]) -> RawAnswer:
    """What an API client sent: choices (a list; best first for a ranking), value (a scale),
    text, or items ({"item id": level index})."""
    choices = body.get("choices", ())
    items = body.get("items", {})
    return RawAnswer(choices=choices if isinstance(choices, list) else [object()],
                     value=body.get("value"), text=body.get("text"),
                     items=items if isinstance(items, dict) else {"x": None})


def validate_answer(question: Question, raw: RawAnswer | Sequence[object], *,
                    paper: bool = False) -> Any:
    """Given a question and what was sent, return the value to store or raise AnswerError.
    A paper card may be typed for any question, open or not: cards are collected during
    the poll and typed after it."""
    if not isinstance(raw, RawAnswer):
        raw = RawAnswer(choices=raw)
    if not question.is_open and not paper:
        raise AnswerError(N_("This question is closed: your answer was not recorded."), 409)
    if question.kind == "ranking":
        return _ranking(question, raw, partial=paper)
    validator = {"single": _choices, "multiple": _choices,
                 "scale": _scale, "text": _text, "matrix": _matrix}[question.kind]
    return validator(question, raw)


def _choice_ids(question: Question, raw: Sequence[object]) -> list[int]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise AnswerError(N_("This choice is not one of the question's choices."))
    if len(raw) > len(question.choices):
        raise AnswerError(N_("Too many choices were sent."))
    ids = [_int(item) for item in raw]
    known = {choice.id for choice in question.choices}
    if any(value is None or value not in known for value in ids):
        raise AnswerError(N_("This choice is not one of the question's choices."))
    if len(set(ids)) != len(ids):
        raise AnswerError(N_("The same choice was sent twice."))
    return [value for value in ids if value is not None]


def _choices(question: Question, raw: RawAnswer) -> list[int]:
    ids = _choice_ids(question, raw.choices)
    if not ids:
        raise AnswerError(N_("Choose an answer before sending."))
    if question.kind == "single" and len(ids) != 1:
        raise AnswerError(N_("Choose only one answer."))
    if len(ids) > question.limit:
        raise AnswerError(N_("Choose only one answer.") if question.limit == 1
                          else N_("Choose at most %(limit)s answers."), limit=question.limit)
    order = {choice.id: i for i, choice in enumerate(question.choices)}
    return sorted(ids, key=order.__getitem__)


def _ranking(question: Question, raw: RawAnswer, *, partial: bool = False) -> list[int]:
    """The options best first. On paper a person may number only their first choices
    (1, 2, 3 of 5): kept as typed, the others ranked by no one."""
    count = len(question.choices)
    given_ranks = {k: v for k, v in (raw.ranks or {}).items()
                   if not partial or str(v).strip()}
    if given_ranks:
        # Numbered selects: {"choice id": rank}; every option gets a distinct rank.
        ranked: dict[int, int] = {}
        for key, value in list(given_ranks.items())[: count + 1]:
            choice_id, rank = _int(key), _int(value)
            if choice_id is None or rank is None or not 1 <= rank <= count:
                raise AnswerError(N_("Give each option a rank from 1 to %(limit)s."),
                                  limit=count)
            ranked[choice_id] = rank
        if len(set(ranked.values())) != len(ranked):
            raise AnswerError(N_("Two options have the same rank: give each its own."))
        by_rank: list[int] = sorted(ranked, key=lambda choice_id: ranked[choice_id])
        ids = _choice_ids(question, by_rank)
    else:
        ids = _choice_ids(question, raw.choices)
    complete = len(ids) == count
    given = sorted(_int(v) or 0 for v in given_ranks.values())
    top = bool(ids) and given == list(range(1, len(ids) + 1))
    if not complete and not (partial and top):
        raise AnswerError(N_("Give each option a rank from 1 to %(limit)s."), limit=count)
    return ids


def _scale(question: Question, raw: RawAnswer) -> int:
    value = _int(raw.value)
    if value is None:
        raise AnswerError(N_("Choose a value on the scale."))
    if value not in question.scale_values:
        raise AnswerError(N_("Choose a value from %(low)s to %(high)s."),
                          low=question.settings.scale_min, high=question.settings.scale_max)
    return value


def _text(question: Question, raw: RawAnswer) -> str:
    if not isinstance(raw.text, str):
        raise AnswerError(N_("Write a few words before sending."))
    text = one_line(raw.text)
    if not text:
        raise AnswerError(N_("Write a few words before sending."))
    if len(text) > MAX_TEXT_ANSWER:
        raise AnswerError(N_("Keep it short: %(limit)s characters at most."),
                          limit=MAX_TEXT_ANSWER)
    return text


def _matrix(question: Question, raw: RawAnswer) -> dict[str, int]:
    items = {choice.id for choice in question.choices}
    levels = len(question.settings.levels)
    if not isinstance(raw.items, Mapping) or len(raw.items) > len(items):
        raise AnswerError(N_("This item is not one of the question's items."))
    stored: dict[str, int] = {}
    for key, value in raw.items.items():
        item, level = _int(key), _int(value)
        if item is None or item not in items:
            raise AnswerError(N_("This item is not one of the question's items."))
        if value in ("", None):
            continue  # an item left blank
        if level is None or not 0 <= level < levels:
            raise AnswerError(N_("Choose one of the proposed answers for each item."))
        stored[str(item)] = level
    if not stored:
        raise AnswerError(N_("Answer at least one item before sending."))
    order = {choice.id: i for i, choice in enumerate(question.choices)}
    return dict(sorted(stored.items(), key=lambda pair: order[int(pair[0])]))
