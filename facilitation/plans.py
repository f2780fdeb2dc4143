"""Workshop plans: a démarche and its séances as a TOML file (see sessions/). Pure."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from typing import Any

from facilitation import polls
from facilitation.i18n_keys import N_, UserError
from facilitation.proposals import MAX_LENGTH, MAX_LIMIT, StepSettings
from facilitation.text import clean, clean_tree
from facilitation.voting import METHODS, VoteSettings

STEP_KINDS = ("welcome", "poll", "proposals", "clustering", "vote", "synthesis", "closing")
LANGUAGES = ("fr-FR", "fr-CA", "en")
MAX_PLAN_BYTES = 200_000
MAX_TITLE = 200
MAX_LONG_TEXT = 4000


class PlanError(UserError):
    """A plan that cannot be imported."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message, 422, **params)


@dataclass(frozen=True)
class QuestionPlan:
    kind: str
    text: str
    choices: tuple[str, ...]  # options; the items of a matrix; none for text and scale
    max_choices: int | None = None
    settings: polls.Settings = field(default_factory=polls.Settings)


@dataclass(frozen=True)
class StepPlan:
    kind: str
    title: str
    prompt: str = ""
    questions: tuple[QuestionPlan, ...] = ()
    settings: StepSettings | VoteSettings = field(default_factory=StepSettings)


@dataclass(frozen=True)
class SessionPlan:
    title: str
    date: str = ""
    time: str = ""
    place: str = ""
    objectives: str = ""
    language: str = "fr-FR"
    subgroups: tuple[str, ...] = ()
    steps: tuple[StepPlan, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class WorkshopPlan:
    title: str
    organisation: str = ""
    objectives: str = ""
    sessions: tuple[SessionPlan, ...] = ()


def _text(table: dict[str, Any], key: str, where: str, *, required: bool = False,
          limit: int = MAX_TITLE) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise PlanError(N_("%(where)s: “%(key)s” must be text."), where=where, key=key)
    value = clean(value).strip()
    if required and not value:
        raise PlanError(N_("%(where)s: “%(key)s” is missing."), where=where, key=key)
    if len(value) > limit:
        raise PlanError(N_("%(where)s: “%(key)s” is longer than %(limit)s characters."),
                        where=where, key=key, limit=limit)
    return value


def check_date(value: str) -> str:
    """Return an ISO date (YYYY-MM-DD) unchanged, or raise PlanError."""
    if value:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise PlanError(N_("“%(value)s” is not a date like 2026-12-03."), value=value) from None
    return value


def check_time(value: str) -> str:
    """Return a time (HH:MM) unchanged, or raise PlanError."""
    if value:
        try:
            dt.time.fromisoformat(value)
        except ValueError:
            raise PlanError(N_("“%(value)s” is not a time like 18:30."), value=value) from None
    return value


def _labels(table: dict[str, Any], key: str, where: str, low: int, high: int) -> tuple[str, ...]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise PlanError(N_("%(where)s: “%(key)s” must be a list of texts."), where=where, key=key)
    if not low <= len(values) <= high:
        raise PlanError(N_("%(where)s: “%(key)s” needs %(low)s to %(high)s entries."),
                        where=where, key=key, low=low, high=high)
    if any(len(v) > polls.MAX_LABEL for v in values):
        raise PlanError(N_("%(where)s: a choice is longer than %(limit)s characters."),
                        where=where, limit=polls.MAX_LABEL)
    return tuple(v.strip() for v in values)


def _flag(table: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise PlanError(N_("%(where)s: “%(key)s” must be true or false."), where=where, key=key)
    return value


def parse_question(table: Any, where: str) -> QuestionPlan:
    if not isinstance(table, dict):
        raise PlanError(N_("%(where)s: a question must be a table."), where=where)
    kind = table.get("kind", "single")
    if kind not in polls.KINDS:
        raise PlanError(N_("%(where)s: unknown question kind “%(kind)s”."), where=where, kind=kind)
    text = _text(table, "text", where, required=True, limit=polls.MAX_TEXT)
    results = table.get("results", "live")
    if results not in polls.RESULTS_MODES:
        raise PlanError(N_("%(where)s: “results” must be “live” or “closed”."), where=where)
    common = {"results": results, "allow_change": _flag(table, "allow_change", where, True)}
    choices: tuple[str, ...] = ()
    settings = polls.Settings(**common)
    if kind in ("single", "multiple"):
        choices = _labels(table, "choices", where, 2, polls.MAX_CHOICES)
    elif kind == "ranking":
        choices = _labels(table, "choices", where, 2, polls.MAX_RANKING)
    elif kind == "matrix":
        choices = _labels(table, "items", where, 1, polls.MAX_ITEMS)
        order = table.get("order", "plan")
        if order not in ("plan", "frequency"):
            raise PlanError(N_("%(where)s: “order” must be “plan” or “frequency”."),
                            where=where)
        settings = polls.Settings(levels=_labels(table, "levels", where, 2, polls.MAX_LEVELS),
                                  order=order, **common)
    elif kind == "scale":
        low, high = table.get("min", 1), table.get("max", 5)
        if (low, high) not in polls.SCALES:
            raise PlanError(N_("%(where)s: a scale goes from 1 to 5 or from 0 to 10."),
                            where=where)
        labels = _labels(table, "labels", where, 0, 2) if "labels" in table else ()
        if len(labels) == 1:
            raise PlanError(N_("%(where)s: “labels” names both ends: [low, high]."), where=where)
        settings = polls.Settings(scale_min=low, scale_max=high,
                                  low_label=labels[0] if labels else "",
                                  high_label=labels[1] if labels else "", **common)
    max_choices = table.get("max")
    if kind != "scale" and max_choices is not None and (
        kind != "multiple" or not isinstance(max_choices, int) or isinstance(max_choices, bool)
        or not 1 <= max_choices <= len(choices)
    ):
        raise PlanError(N_("%(where)s: “max” must be a number of choices, for a multiple choice."),
                        where=where)
    return QuestionPlan(kind, text, choices, max_choices if kind == "multiple" else None,
                        settings)


def parse_step(table: Any, where: str) -> StepPlan:
    if not isinstance(table, dict):
        raise PlanError(N_("%(where)s: a step must be a table."), where=where)
    kind = table.get("kind")
    if kind not in STEP_KINDS:
        raise PlanError(N_("%(where)s: unknown step kind “%(kind)s”."), where=where, kind=kind)
    title = _text(table, "title", where)
    prompt = _text(table, "prompt", where, limit=polls.MAX_TEXT)
    raw_questions = table.get("questions", [])
    if not isinstance(raw_questions, list):
        raise PlanError(N_("%(where)s: “questions” must be a list."), where=where)
    if raw_questions and kind != "poll":
        raise PlanError(N_("%(where)s: only a poll step has questions."), where=where)
    questions = tuple(
        parse_question(q, f"{where}, question {i}") for i, q in enumerate(raw_questions, 1)
    )
    settings = StepSettings()
    if kind == "proposals":
        limit, length = table.get("limit"), table.get("max_length", MAX_LENGTH)
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                                  or not 1 <= limit <= MAX_LIMIT):
            raise PlanError(N_("%(where)s: “limit” must be a number of proposals from 1 to "
                               "%(limit)s."), where=where, limit=MAX_LIMIT)
        if not isinstance(length, int) or isinstance(length, bool) or not 20 <= length <= 1000:
            raise PlanError(N_("%(where)s: “max_length” must be from 20 to 1000 characters."),
                            where=where)
        settings = StepSettings(limit=limit, max_length=length)
    if kind == "vote":
        return StepPlan(kind, title, prompt, questions, parse_vote(table, where))
    return StepPlan(kind, title, prompt, questions, settings)


def parse_vote(table: dict[str, Any], where: str) -> VoteSettings:
    method, target = table.get("method", "agree"), table.get("target", "proposals")
    if method not in METHODS:
        raise PlanError(N_("%(where)s: unknown vote method “%(kind)s”."), where=where,
                        kind=method)
    if target not in ("proposals", "themes"):
        raise PlanError(N_("%(where)s: “target” must be “proposals” or “themes”."),
                        where=where)
    points, most = table.get("points", 5), table.get("max_per_item", 3)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (points, most)) or \
            not 1 <= most <= points <= 100:
        raise PlanError(N_("%(where)s: “points” and “max_per_item” must be whole numbers, "
                           "1 ≤ max_per_item ≤ points ≤ 100."), where=where)
    return VoteSettings(method=method, target=target, points=points, max_per_item=most)


def parse_session(table: Any, where: str) -> SessionPlan:
    if not isinstance(table, dict):
        raise PlanError(N_("%(where)s: a séance must be a table."), where=where)
    language = table.get("language", "fr-FR")
    if language not in LANGUAGES:
        raise PlanError(N_("%(where)s: unknown language “%(kind)s”."), where=where, kind=language)
    subgroups = table.get("subgroups", [])
    if not isinstance(subgroups, list) or not all(isinstance(s, str) and s.strip()
                                                  for s in subgroups):
        raise PlanError(N_("%(where)s: “subgroups” must be a list of names."), where=where)
    raw_steps = table.get("steps", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PlanError(N_("%(where)s: a séance needs at least one step."), where=where)
    return SessionPlan(
        title=_text(table, "title", where, required=True),
        date=check_date(_text(table, "date", where)),
        time=check_time(_text(table, "time", where)),
        place=_text(table, "place", where),
        objectives=_text(table, "objectives", where, limit=MAX_LONG_TEXT),
        language=language,
        subgroups=tuple(s.strip()[:MAX_TITLE] for s in subgroups),
        steps=tuple(parse_step(s, f"{where}, step {i}") for i, s in enumerate(raw_steps, 1)),
    )


def parse_plan(source: str | bytes) -> WorkshopPlan:
    """Given the text of a plan file, return the démarche it describes or raise PlanError."""
    if isinstance(source, bytes):
        if len(source) > MAX_PLAN_BYTES:
            raise PlanError(N_("The plan file is too large."))
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            raise PlanError(N_("The plan file is not UTF-8 text.")) from None
    if len(source) > MAX_PLAN_BYTES:
        raise PlanError(N_("The plan file is too large."))
    try:
        data = clean_tree(tomllib.loads(source))
    except tomllib.TOMLDecodeError as error:
        raise PlanError(N_("The plan file is not valid TOML: %(detail)s"),
                        detail=str(error)) from None
    workshop = data.get("workshop")
    if not isinstance(workshop, dict):
        raise PlanError(N_("The plan file has no [workshop] table."))
    sessions = data.get("sessions", [])
    if not isinstance(sessions, list) or not sessions:
        raise PlanError(N_("The plan file has no [[sessions]]."))
    return WorkshopPlan(
        title=_text(workshop, "title", "[workshop]", required=True),
        organisation=_text(workshop, "organisation", "[workshop]"),
        objectives=_text(workshop, "objectives", "[workshop]", limit=MAX_LONG_TEXT),
        sessions=tuple(parse_session(s, f"séance {i}") for i, s in enumerate(sessions, 1)),
    )
