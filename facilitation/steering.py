"""Where "next" and "previous" lead: a presenter clicker walks through the questions of a
poll step, one after the other, then on to the next step. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from facilitation.polls import Question
from facilitation.seances import State

MOVES = ("next", "previous")


@dataclass(frozen=True)
class Walk:
    """One press of the clicker: what closes, what opens or is shown, where the séance goes.
    Applied in one write, so the room never sees two questions open nor none in between."""

    close: int | None = None  # the question that was open
    open: int | None = None  # the question opened next
    show: int | None = None  # a question shown again on the projector, left as it is
    step: int | None = None  # the step the séance moves to

    @property
    def still(self) -> bool:
        return self == Walk()


def reveals(question: Question) -> bool:
    """Whether closing this question is a moment of its own: its results wait for the close
    (on the projector or on phones), so the room must see them before the next opens."""
    return question.settings.results == "closed" or question.settings.phone_results


def walk(state: State, move: str) -> Walk:
    """Next: close the open question and open the following one; after the last question,
    first leave its results on the projector, then go to the next step. A question whose
    results wait for its close is closed alone first. A question already closed is shown
    again, never reopened. Previous: show the question before, else go back one step.
    Nothing is ever reopened by a clicker."""
    if move not in MOVES:
        raise ValueError(move)
    position = state.seance.current_step
    questions = state.questions if state.step and state.step.kind == "poll" else ()
    shown = state.screen_question
    index = next((i for i, q in enumerate(questions) if shown and q.id == shown.id), -1)
    if move == "previous":
        if shown is not None and not shown.is_open and index > 0:
            return Walk(show=questions[index - 1].id)
        return Walk(step=max(position - 1, 0))
    following = questions[index + 1] if index + 1 < len(questions) else None
    close = shown.id if shown is not None and shown.is_open else None
    if close is not None and shown is not None and reveals(shown):
        return Walk(close=close)
    if following is None:
        return Walk(close=close) if close is not None else Walk(step=position + 1)
    if following.state == "closed":
        return Walk(close=close, show=following.id)
    return Walk(close=close, open=following.id)


def next_question(state: State) -> int | None:
    """The question "close and open the next" would open, if there is one."""
    result = walk(state, "next")
    return result.open
