"""The clicker walks through the questions of a poll step, then the steps; "close and open
the next question" is one action that a double click or a stale tab cannot repeat."""

from __future__ import annotations

from dataclasses import replace

import pytest

from facilitation.polls import Question, Settings
from facilitation.seances import Seance as SeanceRow
from facilitation.seances import State, Step
from facilitation.steering import Walk, walk
from facilitation.store import queries as q
from tests.conftest import Seance, go


def state(states: list[str], shown: int | None = None, kind: str = "poll") -> State:
    steps = (Step(id=1, position=0, kind="welcome", title=""),
             Step(id=2, position=1, kind=kind, title=""),
             Step(id=3, position=2, kind="proposals", title=""))
    questions = tuple(Question(id=10 + i, step_id=2, kind="single",
                               text=f"Q{i}", choices=(), state=s) for i, s in enumerate(states))
    seance = SeanceRow(id=1, workshop_id=1, number=1, title="t", code="ABCDE",
                       current_step=1, screen_question_id=shown)
    return State(seance, steps, questions)


def test_next_opens_the_first_question_then_closes_and_opens_the_following():
    assert walk(state(["draft", "draft"]), "next") == Walk(open=10)
    assert walk(state(["open", "draft"], shown=10), "next") == Walk(close=10, open=11)


def test_after_the_last_question_the_results_stay_then_the_step_moves():
    assert walk(state(["closed", "open"], shown=11), "next") == Walk(close=11)
    assert walk(state(["closed", "closed"], shown=11), "next") == Walk(step=2)


def test_a_closed_question_is_shown_again_never_reopened():
    assert walk(state(["open", "closed"], shown=10), "next") == Walk(close=10, show=11)
    assert walk(state(["closed", "closed"], shown=11), "previous") == Walk(show=10)


def test_previous_goes_back_a_step_from_the_first_question_or_an_open_one():
    assert walk(state(["closed", "draft"], shown=10), "previous") == Walk(step=0)
    assert walk(state(["closed", "open"], shown=11), "previous") == Walk(step=0)


def test_a_question_whose_results_wait_for_its_close_is_closed_alone_first():
    hidden = state(["open", "draft"], shown=10)
    questions = (replace(hidden.questions[0], settings=Settings(results="closed")),
                 hidden.questions[1])
    assert walk(replace(hidden, questions=questions), "next") == Walk(close=10)
    for_phones = (replace(hidden.questions[0], settings=Settings(phone_results=True)),
                  hidden.questions[1])
    assert walk(replace(hidden, questions=for_phones), "next") == Walk(close=10)
    # Once closed, the next press opens the next question.
    closed = (replace(questions[0], state="closed"), questions[1])
    assert walk(replace(hidden, questions=closed), "next") == Walk(open=11)


def test_steps_without_questions_move_steps():
    assert walk(state([], kind="poll"), "next") == Walk(step=2)
    assert walk(state(["draft"], kind="proposals"), "next") == Walk(step=2)
    with pytest.raises(ValueError):
        walk(state([]), "sideways")


async def poll_questions(db, session_id):
    steps = await q.list_steps(db, session_id)
    poll = next(s for s in steps if s.kind == "poll")
    return await q.list_questions(db, poll.id)


def last_hides(seance: Seance) -> bool:
    return seance.call(poll_questions, seance.id)[-1].settings.results == "closed"


def questions_state(seance: Seance) -> list[str]:
    steps = seance.call(q.list_steps, seance.id)
    poll = next(s for s in steps if s.kind == "poll")
    return [one.state for one in seance.call(q.list_questions, poll.id)]


def test_close_and_open_the_next_is_one_action_a_double_click_cannot_repeat(seance):
    go(seance, "poll")
    seance.open(0)
    first = str(seance.questions[0]["id"])
    for _ in range(2):  # the second is a double click, or a tab that had not seen the first
        r = seance.facilitator_post("/walk", move="next", question=first)
        assert r.status_code == 200
    assert questions_state(seance)[:3] == ["closed", "open", "draft"]


def test_the_projector_clicker_walks_the_questions_then_the_steps(seance):
    go(seance, "poll")
    screen = f"/screen/{seance.links['screen']}"
    page = seance.client.get(screen)

    assert page.status_code == 200

    def press(move: str) -> int:
        return seance.client.post(f"{screen}/step", data={
            "move": move, "csrf": seance.client.cookies["eclair_csrf"]}).status_code

    count = len(seance.questions)
    assert press("next") == 204
    assert questions_state(seance)[0] == "open"
    seen = [questions_state(seance)]
    while "draft" in seen[-1] or "open" in seen[-1]:
        assert press("next") == 204
        seen.append(questions_state(seance))
        assert seen[-1].count("open") <= 1 and len(seen) < 3 * count
    # One press per question, and one more for each whose results wait for its close (the
    # room sees them before the next opens) and for the last: nothing is skipped.
    hidden = sum(1 for one in seance.call(poll_questions, seance.id)
                 if one.settings.results == "closed")
    assert len(seen) == count + hidden + (0 if last_hides(seance) else 1)
    session = seance.call(q.get_session, seance.id)
    assert session.current_step == seance.poll_position
    assert press("next") == 204
    assert seance.call(q.get_session, seance.id).current_step == seance.poll_position + 1
    assert press("sideways") == 422
