"""Preparing a séance in the editor: what the organiser typed, read into plans with plain
messages (never a plan file's keys), and what may still change once people answered. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from facilitation import polls
from facilitation.i18n_keys import N_, UserError
from facilitation.plans import (
    MAX_LONG_TEXT,
    MAX_TITLE,
    STEP_KINDS,
    QuestionPlan,
    check_date,
    check_time,
)
from facilitation.polls import Question
from facilitation.proposals import MAX_LENGTH, MAX_LIMIT, StepSettings
from facilitation.seances import MAX_NAME
from facilitation.voting import METHODS, VoteSettings

MAX_SUBGROUPS = 30
CLOSED = N_("This séance is closed. Reopen it before changing it.")
LOCKED = N_("This question already has answers or has been opened: you may correct its "
            "wording, but not change its kind or its number of choices.")


class EditError(UserError):
    """Something the editor cannot do, said plainly."""


Form = Mapping[str, str]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text[:20_000].splitlines() if line.strip()]


def question_values(question: Question) -> dict[str, str]:
    """A stored question as the editor's form shows it."""
    s = question.settings
    labels = "\n".join(c.label for c in question.choices)
    return {
        "kind": question.kind, "text": question.text, "choices": labels,
        "levels": "\n".join(s.levels), "max": str(question.max_choices or ""),
        "scale": f"{s.scale_min}-{s.scale_max}", "low_label": s.low_label,
        "high_label": s.high_label, "results_closed": "1" if s.results == "closed" else "",
        "no_change": "" if s.allow_change else "1",
    }


def _labels(values: list[str], low: int, high: int, few: str, many: str) -> tuple[str, ...]:
    if len(values) < low:
        raise EditError(few, low=low)
    if len(values) > high:
        raise EditError(many, limit=high)
    if any(len(v) > polls.MAX_LABEL for v in values):
        raise EditError(N_("An answer choice has at most %(limit)s characters."),
                        limit=polls.MAX_LABEL)
    return tuple(values)


def question_from_form(form: Form) -> QuestionPlan:
    """Given the editor's question form, return the question or raise EditError."""
    kind = form.get("kind", "")
    if kind not in polls.KINDS:
        raise EditError(N_("Choose a kind of question from the list."))
    text = " ".join(form.get("text", "").split())
    if not text:
        raise EditError(N_("Write the question."))
    if len(text) > polls.MAX_TEXT:
        raise EditError(N_("A question has at most %(limit)s characters."), limit=polls.MAX_TEXT)
    results = "closed" if form.get("results_closed") == "1" else "live"
    allow_change = form.get("no_change") != "1"
    choices: tuple[str, ...] = ()
    settings = polls.Settings(results=results, allow_change=allow_change)
    if kind in ("single", "multiple", "ranking"):
        high = polls.MAX_RANKING if kind == "ranking" else polls.MAX_CHOICES
        choices = _labels(lines(form.get("choices", "")), 2, high,
                          N_("Give at least %(low)s answer choices, one per line."),
                          N_("Give at most %(limit)s answer choices."))
    elif kind == "matrix":
        choices = _labels(lines(form.get("choices", "")), 1, polls.MAX_ITEMS,
                          N_("Give at least %(low)s situation to rate, one per line."),
                          N_("Give at most %(limit)s situations to rate."))
        levels = _labels(lines(form.get("levels", "")), 2, polls.MAX_LEVELS,
                         N_("Give at least %(low)s levels for the answers, one per line "
                            "(for example Never, Sometimes, Often)."),
                         N_("Give at most %(limit)s levels for the answers."))
        settings = polls.Settings(levels=levels, order="plan", results=results,
                                  allow_change=allow_change)
    elif kind == "scale":
        bottom, _, top = form.get("scale", "1-5").partition("-")
        scale = (int(bottom), int(top)) if bottom.isdecimal() and top.isdecimal() else None
        if scale not in polls.SCALES:
            raise EditError(N_("A scale goes from 1 to 5 or from 0 to 10."))
        ends = [" ".join(form.get(k, "").split()) for k in ("low_label", "high_label")]
        if bool(ends[0]) != bool(ends[1]):
            raise EditError(N_("Name both ends of the scale, or neither."))
        if any(len(end) > polls.MAX_LABEL for end in ends):
            raise EditError(N_("An answer choice has at most %(limit)s characters."),
                            limit=polls.MAX_LABEL)
        assert scale is not None  # noqa: S101 - checked above
        settings = polls.Settings(scale_min=scale[0], scale_max=scale[1], low_label=ends[0],
                                  high_label=ends[1], results=results,
                                  allow_change=allow_change)
    most: int | None = None
    raw_max = form.get("max", "").strip()
    if kind == "multiple" and raw_max:
        if not raw_max.isdecimal() or not 1 <= int(raw_max[:4]) <= len(choices):
            raise EditError(N_("The most answers a person may tick is a number from 1 to "
                               "%(count)s (the number of choices)."), count=len(choices))
        most = int(raw_max)
    return QuestionPlan(kind, text, choices, most, settings)


def check_wording_only(old: Question, new: QuestionPlan) -> None:
    """A question with answers keeps its shape: only its wording may change."""
    shape = (old.kind, len(old.choices), len(old.settings.levels), old.max_choices,
             (old.settings.scale_min, old.settings.scale_max) if old.kind == "scale" else None)
    wanted = (new.kind, len(new.choices), len(new.settings.levels), new.max_choices,
              (new.settings.scale_min, new.settings.scale_max) if new.kind == "scale" else None)
    if shape != wanted:
        raise EditError(LOCKED, 409)


@dataclass(frozen=True)
class StepEdit:
    title: str
    prompt: str
    settings: str | None  # JSON of the kind's settings; None: unchanged


def step_from_form(kind: str, form: Form, current: str) -> StepEdit:
    """Given the step form and the step's stored settings (JSON), return what to store."""
    title = " ".join(form.get("title", "").split())
    if len(title) > MAX_TITLE:
        raise EditError(N_("A step's title has at most %(limit)s characters."), limit=MAX_TITLE)
    prompt = " ".join(form.get("prompt", "").split())
    if len(prompt) > polls.MAX_TEXT:
        raise EditError(N_("An instruction has at most %(limit)s characters."),
                        limit=polls.MAX_TEXT)
    settings: str | None = None
    if kind == "proposals":
        raw_limit, raw_length = form.get("limit", "").strip(), form.get("max_length", "").strip()
        if raw_limit and (not raw_limit.isdecimal() or not 1 <= int(raw_limit[:4]) <= MAX_LIMIT):
            raise EditError(N_("The number of proposals per person is from 1 to %(limit)s, "
                               "or empty for no limit."), limit=MAX_LIMIT)
        if raw_length and (not raw_length.isdecimal() or not 20 <= int(raw_length[:5]) <= 1000):
            raise EditError(N_("The length of a proposal is from 20 to 1000 characters."))
        old = StepSettings.from_json(current)
        settings = StepSettings(limit=int(raw_limit) if raw_limit else None,
                                max_length=int(raw_length) if raw_length else MAX_LENGTH,
                                wall_by_subgroup=old.wall_by_subgroup).to_json()
    elif kind == "vote":
        method = form.get("method", "")
        if method not in METHODS:
            raise EditError(N_("Choose a way of voting from the list."))
        old_vote = VoteSettings.from_json(current)
        if method != old_vote.method:
            settings = replace(old_vote, method=method).to_json()
    return StepEdit(title, prompt, settings)


def new_step(kind: str, title: str) -> tuple[str, str, str]:
    """A step added in the editor: (kind, title, settings JSON)."""
    if kind not in STEP_KINDS:
        raise EditError(N_("Choose a kind of step from the list."))
    title = " ".join(title.split())
    if len(title) > MAX_TITLE:
        raise EditError(N_("A step's title has at most %(limit)s characters."), limit=MAX_TITLE)
    settings = VoteSettings() if kind == "vote" else StepSettings()
    return kind, title, settings.to_json()


@dataclass(frozen=True)
class Details:
    title: str
    date: str
    time: str
    place: str
    objectives: str


def details_from_form(form: Form) -> Details:
    """The séance's title, date, time, place and objectives, checked."""
    title = " ".join(form.get("title", "").split())
    if not title:
        raise EditError(N_("Give the séance a title."))
    place = " ".join(form.get("place", "").split())
    objectives = form.get("objectives", "").strip()
    for value, limit in ((title, MAX_TITLE), (place, MAX_TITLE), (objectives, MAX_LONG_TEXT)):
        if len(value) > limit:
            raise EditError(N_("A field has at most %(limit)s characters."), limit=limit)
    date, time = form.get("date", "").strip()[:20], form.get("time", "").strip()[:10]
    return Details(title, check_date(date), check_time(time), place, objectives)


def subgroups_from_text(text: str) -> tuple[str, ...]:
    """Tables, one per line: trimmed, without repeats, in the order typed."""
    names: list[str] = []
    for name in lines(text):
        name = " ".join(name.split())
        if len(name) > MAX_NAME:
            raise EditError(N_("A table's name has at most %(limit)s characters."),
                            limit=MAX_NAME)
        if name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    if len(names) > MAX_SUBGROUPS:
        raise EditError(N_("A séance has at most %(limit)s tables."), limit=MAX_SUBGROUPS)
    return tuple(names)
