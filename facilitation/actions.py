"""One function per thing a person does, whatever the channel (phone page, JSON API,
helper, SMS, facilitator). Each checks the step and the role, validates, writes, and
announces the change; views only parse their input and render the outcome.

Announcing is part of the write: the memory of the séance and the live views follow
the committed change before the caller is answered, so a request made after an
acknowledgement always sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from facilitation import security, steering
from facilitation.broadcast import Broadcaster
from facilitation.i18n_keys import N_, UserError
from facilitation.memory import (
    Answered,
    Changed,
    Event,
    Joined,
    Memory,
    Proposed,
    SeanceMemory,
    Voted,
)
from facilitation.polls import (
    AnswerError,
    Question,
    RawAnswer,
    Settings,
    blank,
    validate_answer,
)
from facilitation.proposals import ProposalError, StepSettings, check_limit, clean_text
from facilitation.seances import MAX_NAME, Participant, clean_name
from facilitation.store import Database
from facilitation.store import crowd as sc
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import steering as steering_store
from facilitation.store import votes as qv
from facilitation.store.report import set_headcount as set_headcount_in_store
from facilitation.store.steering import apply_walk
from facilitation.voting import Item, VoteError, VoteSettings, read_ballot

T = TypeVar("T")
MAX_CARD = 99_999
ALREADY = N_("You have already answered this question.")
CLOSED_SEANCE = N_("This séance is closed: nothing can be changed any more.")


def still_open(memory: SeanceMemory) -> None:
    """A closed séance is read-only: its report is final."""
    if memory.structure.closed:
        raise UserError(CLOSED_SEANCE, 409)


@dataclass
class Services:
    """What actions need: the store, the séances in memory, and the live views."""

    db: Database
    memory: Memory
    broadcaster: Broadcaster

    def announce(self, event: Event) -> None:
        self.memory.apply(event)
        if isinstance(event, Changed):
            self.broadcaster.state_changed(event.session_id)
        else:
            self.broadcaster.answers_changed(event.session_id)

    async def write(self, op: Callable[[Any], T], event: Callable[[Any], Event | list[Event]],
                    *, refusable: bool = True) -> T:
        """Commit `op`; right after the commit, announce what `event(result)` says."""

        def after(value: T) -> None:
            if isinstance(value, sc.Replayed):
                return  # already announced the first time
            happened = event(value)
            for one in happened if isinstance(happened, list) else [happened]:
                self.announce(one)

        return await self.db.write(op, after, refusable=refusable)

    async def replay(self, scope: str, key: str | None, error: UserError) -> Any:
        """A request refused now may be the retry of one committed before (its answer was
        lost on the way back): give back what it gave then, else the refusal."""
        found = await sc.done_before(self.db, scope, key) if key else None
        if found is None:
            raise error
        return found.result

    async def change(self, session_id: int, store_call: Awaitable[T]) -> T:
        """A change made by the facilitator or the organiser through the store: the séance
        is read again and every view redrawn."""
        try:
            return await store_call
        finally:
            self.announce(Changed(session_id))


# Joining -------------------------------------------------------------------------------


async def join(s: Services, memory: SeanceMemory, *, name: str, language: str,
               subgroup: int | None = None, channel: str = "phone") -> tuple[Participant, str]:
    """A new participant: returns them and the token that is their only credential."""
    if len(" ".join(name.split())) > MAX_NAME:
        raise UserError(N_("A first name has at most %(limit)s characters."), limit=MAX_NAME)
    if subgroup is not None and subgroup not in {sid for sid, _ in memory.structure.subgroups}:
        raise UserError(N_("Choose your table from the list."))
    token = security.new_token()
    token_hash = security.hash_token(token)
    sid = memory.seance.id
    person = await s.write(
        sc.insert_participant(sid, token_hash, clean_name(name), language, channel, subgroup),
        lambda p: Joined(sid, p, token_hash))
    return person, token


# The consultation éclair ---------------------------------------------------------------


def open_question(memory: SeanceMemory, question_id: int | None) -> Question:
    question = None if question_id is None else memory.question(question_id)
    if question is None or not question.is_open:
        raise AnswerError(sc.CLOSED, 409)
    return question


async def submit_answer(s: Services, memory: SeanceMemory, participant: Participant,
                        question_id: int | None, raw: RawAnswer, *,
                        key: str | None = None) -> Any:
    """A participant's answer to an open question; returns the stored value."""
    scope = f"p{participant.id}"
    try:
        still_open(memory)
        question = open_question(memory, question_id)
        value = validate_answer(question, raw)
        allow_change = question.settings.allow_change
        if not allow_change and memory.answer(question.id, participant.id) is not None:
            raise AnswerError(ALREADY, 409)
    except UserError as error:
        return await s.replay(scope, key, error)
    sid = memory.seance.id
    result = await s.write(
        sc.idempotent(scope, key,
                      sc.save_answer(question.id, participant.id, value, allow_change)),
        lambda _: Answered(sid, question.id, participant.id, value))
    return result.result if isinstance(result, sc.Replayed) else value


# Proposals -----------------------------------------------------------------------------


def proposal_step(memory: SeanceMemory) -> tuple[int, StepSettings]:
    step = memory.state().step
    if step is None or step.kind != "proposals":
        raise ProposalError(N_("Proposals are closed: yours was not recorded."), 409)
    return step.id, StepSettings.from_json(step.settings)


async def submit_proposal(s: Services, memory: SeanceMemory, raw_text: object, *,
                          participant: Participant | None, channel: str,
                          subgroup: int | None = None, key: str | None = None,
                          scope: str = "") -> int:
    """A proposal on the séance's current proposal step, from a phone or a helper."""
    pid = None if participant is None else participant.id
    scope = scope or f"p{pid}"
    try:
        still_open(memory)
        step_id, settings = proposal_step(memory)
        text = clean_text(raw_text, settings.max_length)
        if participant is not None:
            check_limit(memory.crowd.proposals[step_id, participant.id], settings)
            subgroup = participant.subgroup_id
        elif subgroup is not None and subgroup not in {g for g, _ in memory.structure.subgroups}:
            raise ProposalError(N_("Choose your table from the list."))
    except UserError as error:
        return int(await s.replay(scope, key, error))
    sid = memory.seance.id
    result = await s.write(
        sc.idempotent(scope, key, qp.add_proposal_op(
            sid, step_id, text, channel, participant_id=pid, subgroup_id=subgroup,
            settings=settings if participant is not None else None, while_current=True)),
        lambda _: Proposed(sid, step_id, pid))
    return int(result.result if isinstance(result, sc.Replayed) else result)


# Votes ---------------------------------------------------------------------------------


def current_vote(memory: SeanceMemory) -> tuple[int, VoteSettings, list[Item]]:
    step = memory.state().step
    if step is None or step.kind != "vote":
        raise VoteError(N_("The vote is closed: your vote was not recorded."), 409)
    settings = VoteSettings.from_json(step.settings)
    if not settings.open:
        raise VoteError(N_("The vote is closed: your vote was not recorded."), 409)
    return step.id, settings, memory.structure.vote_items.get(step.id, [])


async def cast_vote(s: Services, memory: SeanceMemory, participant_id: int,
                    ballot: Mapping[str, Any], *, key: str | None = None,
                    scope: str = "") -> None:
    """Votes from a phone, the API or a paper card: one item, or the whole ballot."""
    scope = scope or f"p{participant_id}"
    try:
        still_open(memory)
        step_id, settings, items = current_vote(memory)
        values, replace_all = read_ballot(settings, items, ballot)
    except UserError as error:
        await s.replay(scope, key, error)
        return
    kind = "theme" if settings.target == "themes" else "proposal"
    sid = memory.seance.id
    await s.write(sc.idempotent(scope, key, qv.save_votes_op(
        step_id, participant_id, kind, values, replace_all=replace_all)),
        lambda _: Voted(sid))


# Paper cards ---------------------------------------------------------------------------


def card_number(raw: str) -> int:
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= MAX_CARD:
        raise AnswerError(N_("A card number is a whole number from 1 to %(limit)s."),
                          limit=MAX_CARD)
    return int(raw)


async def enter_card(s: Services, memory: SeanceMemory, card: int, question_id: int | None,
                     raw: RawAnswer, *, correction: bool, who: str,
                     key: str | None = None) -> Any:
    """A paper ballot card's answer, typed by a helper; returns the stored value."""
    sid, language = memory.seance.id, memory.seance.language
    try:
        still_open(memory)
        question = open_question(memory, question_id)
        value = validate_answer(question, raw)
    except UserError as error:
        await s.replay(f"card{sid}:{card}", key, error)
        return memory.answer(question_id or 0, memory.crowd.by_card.get(card, 0))

    def announced(saved: sc.CardSaved) -> list[Event]:
        joined: list[Event] = [Joined(sid, saved.participant, None, card)] if saved.created \
            else []
        return [*joined, Answered(sid, question.id, saved.participant.id, value)]

    await s.write(sc.idempotent(f"card{sid}:{card}", key, sc.save_card(
        sid, card, language, question.id, value, correction=correction, who=who)), announced)
    return value


class CardError(UserError):
    """A refused answer on a paper card, and the question it belongs to (shown beside it)."""

    def __init__(self, error: UserError, question_id: int) -> None:
        super().__init__(error.message, error.status, **error.params)
        self.question_id = question_id


def card_questions(memory: SeanceMemory) -> list[Question]:
    """The questions printed on a paper card: every poll question of the séance, in the
    order of the déroulé."""
    state = memory.state()
    return [question for step in state.steps if step.kind == "poll"
            for question in memory.structure.by_step.get(step.id, ())]


async def enter_card_sheet(s: Services, memory: SeanceMemory, card: int,
                           raws: Mapping[int, RawAnswer], *, correction: bool, who: str,
                           key: str | None = None) -> dict[int, Any]:
    """A whole paper card as printed, typed by a helper: any question of the séance, open or
    already closed, until the séance closes; a question left blank is skipped. Returns the
    stored answers by question."""
    sid, language = memory.seance.id, memory.seance.language
    values: dict[int, Any] = {}
    try:
        still_open(memory)
        for question in card_questions(memory):
            raw = raws.get(question.id)
            if raw is None or blank(raw):
                continue
            try:
                values[question.id] = validate_answer(question, raw, paper=True)
            except UserError as error:
                raise CardError(error, question.id) from error
        if not values:
            raise UserError(N_("Nothing was ticked or written for this card."))
    except UserError as error:
        await s.replay(f"card{sid}:{card}", key, error)
        return values

    def announced(saved: sc.CardSaved) -> list[Event]:
        joined: list[Event] = [Joined(sid, saved.participant, None, card)] if saved.created \
            else []
        return [*joined, *(Answered(sid, qid, saved.participant.id, value)
                           for qid, value in values.items())]

    await s.write(sc.idempotent(f"card{sid}:{card}", key, sc.save_card_sheet(
        sid, card, language, values, correction=correction, who=who)), announced)
    return values


async def enter_card_vote(s: Services, memory: SeanceMemory, card: int,
                          ballot: Mapping[str, Any], *, key: str | None = None) -> None:
    """A paper vote card: the card's participant is created on its first entry."""
    sid, language = memory.seance.id, memory.seance.language
    try:
        still_open(memory)
        step_id, settings, items = current_vote(memory)
        values, replace_all = read_ballot(settings, items, ballot)
    except UserError as error:
        await s.replay(f"card{sid}:{card}", key, error)
        return
    kind = "theme" if settings.target == "themes" else "proposal"

    def op(conn: Any) -> sc.CardSaved:
        saved = sc.card_participant(conn, sid, card, language)
        qv.save_votes_op(step_id, saved.participant.id, kind, values,
                         replace_all=replace_all)(conn)
        return saved

    def announced(saved: sc.CardSaved) -> list[Event]:
        joined: list[Event] = [Joined(sid, saved.participant, None, card)] if saved.created \
            else []
        return [*joined, Voted(sid)]

    await s.write(sc.idempotent(f"card{sid}:{card}", key, op), announced)


# Steering the séance -------------------------------------------------------------------


def step_target(current: int, move: str) -> int:
    return current + 1 if move == "next" else max(current - 1, 0)


async def go_to_step(s: Services, memory: SeanceMemory, position: int) -> int:
    """Move the séance to a step (kept within the déroulé); every screen and phone follows."""
    still_open(memory)
    sid = memory.seance.id
    return await s.change(sid, q.go_to_step(s.db, sid, position))


async def walk(s: Services, memory: SeanceMemory, move: str,
               expected: int | None = None) -> steering.Walk:
    """One press of a clicker, or "close and open the next question". With `expected`, only
    if that question is still the open one: a double click or a stale tab does not skip the
    question after."""
    still_open(memory)
    state = memory.state()
    if expected is not None:
        shown = state.screen_question
        if shown is None or shown.id != expected or not shown.is_open:
            return steering.Walk()
    planned = steering.walk(state, move)
    sid = memory.seance.id
    await s.change(sid, apply_walk(s.db, sid, planned))
    return planned


async def set_timer(s: Services, memory: SeanceMemory, minutes: int | None) -> None:
    """Start the current step's timer for `minutes`, or stop it: the projector and phones
    count down; nothing closes when it ends."""
    still_open(memory)
    sid = memory.seance.id
    await s.change(sid, steering_store.set_timer(s.db, sid, memory.seance.current_step,
                                                 minutes))


async def set_question_state(s: Services, memory: SeanceMemory, question_id: int,
                             state: str) -> None:
    """Open or close a question; opening also moves to its step. LookupError if unknown."""
    still_open(memory)
    sid = memory.seance.id
    await s.change(sid, q.set_question_state(s.db, sid, question_id, state))


async def change_question(s: Services, memory: SeanceMemory, question_id: int,
                          change: Callable[[Settings], Settings]) -> None:
    """A question's settings (results shown live or once closed, hidden words)."""
    sid = memory.seance.id
    await s.change(sid, q.update_settings(s.db, sid, question_id, change))


async def set_headcount(s: Services, memory: SeanceMemory, count: int | None) -> None:
    sid = memory.seance.id
    await s.change(sid, set_headcount_in_store(s.db, sid, count))


# SMS -----------------------------------------------------------------------------------


async def answer_by_sms(s: Services, memory: SeanceMemory, number_hash: str,
                        question: Question, raw: RawAnswer) -> Any:
    """An answer sent by SMS: one per phone number and question; the number is known only
    by its keyed hash."""
    still_open(memory)
    value = validate_answer(question, raw)
    person = memory.participant(number_hash)
    if person is None:
        sid = memory.seance.id
        person = await s.write(
            sc.insert_participant(sid, number_hash, "", memory.seance.language, "sms"),
            lambda p: Joined(sid, p, number_hash))
    if memory.answer(question.id, person.id) is not None:
        raise AnswerError(ALREADY, 409)
    sid = memory.seance.id
    await s.write(sc.save_answer(question.id, person.id, value, False),
                  lambda _: Answered(sid, question.id, person.id, value))
    return value
