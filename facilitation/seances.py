"""A séance and its déroulé (the ordered steps). Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from facilitation.i18n_keys import N_
from facilitation.polls import Question
from facilitation.text import one_line
from facilitation.timer import Timer, timer_of

STEP_LABELS = {
    "welcome": N_("Welcome"),
    "poll": N_("Flash poll"),
    "proposals": N_("Proposals"),
    "clustering": N_("Themes"),
    "vote": N_("Vote"),
    "synthesis": N_("Synthesis"),
    "closing": N_("Closing"),
}
CHANNELS = ("phone", "paper", "aloud", "sms", "other")
CHANNEL_LABELS = {
    "phone": N_("phone"),
    "paper": N_("paper"),
    "aloud": N_("said aloud"),
    "sms": N_("SMS"),
    "other": N_("other"),
}


def in_channel_order(counts: dict[str, int]) -> dict[str, int]:
    """Counts by channel, always listed phone, paper, said aloud, SMS, other."""
    order = list(CHANNEL_LABELS)
    return dict(sorted(counts.items(),
                       key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
MAX_NAME = 40


@dataclass(frozen=True)
class Workshop:
    id: int
    title: str
    organisation: str = ""
    objectives: str = ""


@dataclass(frozen=True)
class Step:
    id: int
    position: int
    kind: str
    title: str
    prompt: str = ""
    started_at: str | None = None
    settings: str = "{}"  # JSON, read by the step's kind (proposals.StepSettings)
    timer_minutes: int | None = None  # the facilitator's countdown, if one was started
    timer_ends_at: str | None = None

    @property
    def timer(self) -> Timer | None:
        return timer_of(self.timer_minutes, self.timer_ends_at)


@dataclass(frozen=True)
class Seance:
    id: int
    workshop_id: int
    number: int
    title: str
    code: str
    objectives: str = ""
    date: str = ""
    time: str = ""
    place: str = ""
    language: str = "fr-FR"
    current_step: int = 0
    screen_question_id: int | None = None


@dataclass(frozen=True)
class Participant:
    id: int
    session_id: int
    name: str
    language: str
    channel: str
    subgroup_id: int | None = None


@dataclass(frozen=True)
class Presence:
    """People present: those who joined, by channel, and the facilitator's own count of the
    room when they made one. The room count wins: it includes people who take part by
    voice or who have not been entered yet."""

    by_channel: dict[str, int] = field(default_factory=dict)
    headcount: int | None = None

    @property
    def joined(self) -> int:
        return sum(self.by_channel.values())

    @property
    def total(self) -> int:
        return self.joined if self.headcount is None else self.headcount


@dataclass(frozen=True)
class State:
    """What a séance shows right now: its step and that step's questions."""

    seance: Seance
    steps: tuple[Step, ...]
    questions: tuple[Question, ...]  # of the current step

    @property
    def step(self) -> Step | None:
        if not self.steps:
            return None
        return self.steps[clamp_step(self.seance.current_step, len(self.steps))]

    @property
    def open_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.is_open)

    @property
    def screen_question(self) -> Question | None:
        """The question the projector shows: the open one, else the one last opened."""
        opened = self.open_questions
        if opened:
            return opened[0]
        for question in self.questions:
            if question.id == self.seance.screen_question_id:
                return question
        return None


def clamp_step(position: int, count: int) -> int:
    """Return `position` kept within a déroulé of `count` steps."""
    return max(0, min(position, count - 1)) if count else 0


def clean_name(raw: str) -> str:
    """Return an optional first name as it will be stored: trimmed, single-spaced, short."""
    return one_line(raw)[:MAX_NAME]
