"""One function per thing a person does, whatever the channel (phone page, JSON API,
helper, SMS, facilitator). Each checks the step and the role, validates, writes, and
announces the change; views only parse their input and render the outcome.

Announcing is part of the write: the memory of the séance and the live views follow
the committed change before the caller is answered, so a request made after an
acknowledgement always sees it (in every process: see live_redis.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from facilitation import security, steering
from facilitation.broadcast import Broadcaster
from facilitation.embedder import Embedder
from facilitation.i18n_keys import N_, UserError
from facilitation.limits import Client, Limits
from facilitation.memory import (
    Answered,
    Changed,
    Checked,
    Event,
    Excluded,
    Joined,
    Memory,
    Proposed,
    Retracted,
    SeanceMemory,
    Voted,
    Withdrawn,
)
from facilitation.paper import card_questions, paper_votes
from facilitation.polls import (
    AnswerError,
    Question,
    RawAnswer,
    Settings,
    blank,
    validate_answer,
)
from facilitation.proposals import ProposalError, StepSettings, check_limit, clean_text
from facilitation.relay import Relay
from facilitation.seances import MAX_NAME, Participant, clean_name
from facilitation.settings import Settings as AppSettings
from facilitation.store import Database, cards, deletion
from facilitation.store import crowd as sc
from facilitation.store import people as sp
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import steering as steering_store
from facilitation.store import votes as qv
from facilitation.store.report import set_headcount as set_headcount_in_store
from facilitation.store.steering import apply_walk
from facilitation.voting import Item, VoteError, VoteSettings, read_ballot, read_card_ballot

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
    """What actions need: the store, the séances in memory, the live views, the rate
    limits (none unless given), and the queue of proposals to embed (none unless given)."""

    db: Database
    memory: Memory
    broadcaster: Broadcaster
    limits: Limits = field(default_factory=lambda: Limits(AppSettings(rate_limits=False)))
    embedder: Embedder | None = None
    relay: Relay = field(init=False)

    def __post_init__(self) -> None:
        self.relay = Relay(self.broadcaster.hub, self.memory, self.broadcaster)

    def proposed(self, proposal_ids: Iterable[int]) -> None:
        """Proposals committed (or corrected): their vectors are made in the background."""
        if self.embedder is not None:
            self.embedder.later(proposal_ids)

    def announce(self, event: Event) -> None:
        """To the séance's memory and live views, in this process and every other."""
        self.relay.announce(event)

    async def write(self, op: Callable[[Any], T], event: Callable[[Any], Event | list[Event]],
                    *, refusable: bool = True) -> T:
        """Commit `op`; right after the commit, announce what `event(result)` says."""

        def after(value: T) -> None:
            if isinstance(value, sc.Replayed):
                return  # already announced the first time
            happened = event(value)
            for one in happened if isinstance(happened, list) else [happened]:
                self.announce(one)

        value = await self.db.write(op, after, refusable=refusable)
        await self.broadcaster.hub.settled()  # this process's memory follows it too
        return value

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
            await self.broadcaster.hub.settled()


# Joining -------------------------------------------------------------------------------


async def join(s: Services, memory: SeanceMemory, *, name: str, language: str,
               subgroup: int | None = None, channel: str = "phone",
               client: Client | None = None) -> tuple[Participant, str]:
    """A new participant: returns them and the token that is their only credential. A
    client past its address's budget of joins is refused (RateLimited)."""
    s.limits.join(memory.seance.id, client)
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
                        key: str | None = None, client: Client | None = None) -> Any:
    """A participant's answer to an open question; returns the stored value."""
    s.limits.send("answer", memory.seance.id, participant.id, client)
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


def _nothing() -> None:
    pass


def proposal_step(memory: SeanceMemory) -> tuple[int, StepSettings]:
    step = memory.state().step
    if step is None or step.kind != "proposals":
        raise ProposalError(N_("Proposals are closed: yours was not recorded."), 409)
    return step.id, StepSettings.from_json(step.settings)


async def submit_proposal(s: Services, memory: SeanceMemory, raw_text: object, *,
                          participant: Participant | None, channel: str,
                          subgroup: int | None = None, key: str | None = None,
                          scope: str = "", client: Client | None = None) -> int:
    """A proposal on the séance's current proposal step, from a phone or a helper.

    A person's limit per step would be bypassed by joining again, so the phone's address
    has one too: the limit times the people in the room (the facilitator's headcount, else
    the most one address may bring at once)."""
    pid = None if participant is None else participant.id
    scope = scope or f"p{pid}"
    if participant is not None:
        s.limits.send("proposal", memory.seance.id, participant.id, client)
    give_back: Callable[[], None] = _nothing
    try:
        still_open(memory)
        step_id, settings = proposal_step(memory)
        text = clean_text(raw_text, settings.max_length)
        if participant is not None:
            check_limit(memory.crowd.proposals[step_id, participant.id], settings)
            subgroup = participant.subgroup_id
            room = memory.structure.headcount or s.limits.room
            give_back = s.limits.reserve_proposals(
                step_id, client, None if settings.limit is None else settings.limit * room)
        elif subgroup is not None and subgroup not in {g for g, _ in memory.structure.subgroups}:
            raise ProposalError(N_("Choose your table from the list."))
    except UserError as error:
        return int(await s.replay(scope, key, error))
    sid = memory.seance.id
    try:
        result = await s.write(
            sc.idempotent(scope, key, qp.add_proposal_op(
                sid, step_id, text, channel, participant_id=pid, subgroup_id=subgroup,
                settings=settings if participant is not None else None,
                while_current=True)),
            lambda _: Proposed(sid, step_id, pid))
    except BaseException:
        give_back()
        raise
    if isinstance(result, sc.Replayed):
        give_back()  # counted the first time
        return int(result.result)
    s.proposed([int(result)])
    return int(result)


class LineError(UserError):
    """A refused line of a batch of paper proposals, and its number (shown with it)."""

    def __init__(self, error: UserError, line: int) -> None:
        super().__init__(error.message, error.status, **error.params)
        self.line = line


def paper_proposal_step(memory: SeanceMemory) -> tuple[int, StepSettings]:
    """Where proposals written on paper go: the current proposal step, or, while the
    facilitator groups them, the proposal step before it (cards are typed after they are
    collected)."""
    state = memory.state()
    step = state.step
    if step is not None and step.kind == "clustering":
        step = next((s for s in reversed(state.steps[:state.seance.current_step])
                     if s.kind == "proposals"), None)
    if step is None or step.kind != "proposals":
        raise ProposalError(N_("Proposals are closed: yours was not recorded."), 409)
    return step.id, StepSettings.from_json(step.settings)


async def submit_paper_proposals(s: Services, memory: SeanceMemory, raw_text: object, *,
                                 subgroup: int | None, key: str | None = None,
                                 scope: str = "") -> int:
    """Proposals from paper, typed in a batch: one per line, all from the same table. All
    are added in one write, or none (the line at fault is named). Returns how many."""
    try:
        still_open(memory)
        step_id, settings = paper_proposal_step(memory)
        lines = [line for line in str(raw_text or "").splitlines() if line.strip()]
        if not lines:
            raise ProposalError(N_("Write one proposal per line before adding them."))
        texts = []
        for number, line in enumerate(lines, start=1):
            try:
                texts.append(clean_text(line, settings.max_length))
            except ProposalError as error:
                raise LineError(error, number) from error
        if subgroup is not None and subgroup not in {g for g, _ in memory.structure.subgroups}:
            raise ProposalError(N_("Choose your table from the list."))
    except UserError as error:
        return int(await s.replay(scope, key, error))
    sid = memory.seance.id

    added: list[int] = []

    def op(conn: Any) -> int:
        current = conn.execute(
            "SELECT 1 FROM sessions s JOIN steps t ON t.session_id = s.id AND t.position"
            " = s.current_step WHERE s.id = ? AND s.closed_at IS NULL AND (t.id = ? OR"
            " t.kind = 'clustering')", (sid, step_id)).fetchone()
        if current is None:
            raise ProposalError(N_("Proposals are closed: yours was not recorded."), 409)
        added[:] = [qp.add_proposal_op(sid, step_id, text, "paper", subgroup_id=subgroup)(conn)
                    for text in texts]
        return len(texts)

    result = await s.write(sc.idempotent(scope, key, op), lambda _: Proposed(sid, step_id, None))
    if isinstance(result, sc.Replayed):
        return int(result.result)
    s.proposed(added)
    return int(result)


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
                    scope: str = "", client: Client | None = None) -> None:
    """Votes from a phone or the API: one item, or the whole ballot."""
    s.limits.send("vote", memory.seance.id, participant_id, client)
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
    if not raw.isdecimal() or len(raw) > 6 or not 1 <= int(raw) <= MAX_CARD:
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
        joined = card_joined(sid, saved, card)
        return [*joined, Answered(sid, question.id, saved.participant.id, value)]

    def op(conn: Any) -> sc.CardSaved:
        saved = sc.save_card(sid, card, language, question.id, value, correction=correction,
                             who=who)(conn)
        cards.log_entry(conn, sid, card, cards.POLL, cards.FIRST, {question.id: value}, who)
        return saved

    await s.write(sc.idempotent(f"card{sid}:{card}", key, op), announced)
    return value


def card_joined(sid: int, saved: sc.CardSaved, card: int) -> list[Event]:
    """A paper card's participant is announced with the card's first entry."""
    return [Joined(sid, saved.participant, None, card)] if saved.created else []


class CardError(UserError):
    """A refused answer on a paper card, and the question it belongs to (shown beside it)."""

    def __init__(self, error: UserError, question_id: int) -> None:
        super().__init__(error.message, error.status, **error.params)
        self.question_id = question_id


async def enter_card_sheet(s: Services, memory: SeanceMemory, card: int,
                           raws: Mapping[int, RawAnswer], *, correction: bool, who: str,
                           round_: int = cards.FIRST, key: str | None = None
                           ) -> dict[int, Any]:
    """A whole paper card as printed, typed by a helper: any question of the séance, open or
    already closed, until the séance closes; a question left blank is skipped. Returns the
    stored answers by question. The blind second entry (`round_` CHECK) is only kept, to be
    compared with the first."""
    sid, language = memory.seance.id, memory.seance.language
    values: dict[int, Any] = {}
    try:
        still_open(memory)
        questions = card_questions(memory)
        for question in questions:
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
    scope = f"card{sid}:{card}"
    if round_ == cards.CHECK:
        await s.write(sc.idempotent(scope, key, cards.save_check(
            sid, card, cards.POLL, values, correction=correction, who=who)),
            lambda _: Checked(sid))
        return values
    late = any(question.state == "closed" for question in questions if question.id in values)

    def op(conn: Any) -> sc.CardSaved:
        saved = sc.save_card_sheet(sid, card, language, values, correction=correction,
                                   who=who)(conn)
        cards.log_entry(conn, sid, card, cards.POLL, cards.FIRST, values, who, late=late)
        return saved

    def announced(saved: sc.CardSaved) -> list[Event]:
        joined = card_joined(sid, saved, card)
        return [*joined, *(Answered(sid, qid, saved.participant.id, value)
                           for qid, value in values.items())]

    await s.write(sc.idempotent(scope, key, op), announced)
    return values


async def enter_vote_card(s: Services, memory: SeanceMemory, step_id: int, card: int,
                          form: Mapping[str, Any], *, correction: bool, who: str,
                          round_: int = cards.FIRST, key: str | None = None) -> None:
    """A whole paper vote card, every item in one form, typed during the vote or after it
    closed, until the séance closes (a card typed after the vote is marked late)."""
    sid, language = memory.seance.id, memory.seance.language
    scope = f"card{sid}:{card}"
    try:
        still_open(memory)
        found = {step.id: (settings, items) for step, settings, items
                 in await paper_votes(s.db, memory)}
        if step_id not in found:
            raise VoteError(N_("This vote has no card to type: its items are not set."), 409)
        settings, items = found[step_id]
        values = read_card_ballot(settings, items, form)
    except UserError as error:
        await s.replay(scope, key, error)
        return
    if round_ == cards.CHECK:
        await s.write(sc.idempotent(scope, key, cards.save_check(
            sid, card, cards.vote_part(step_id), values, correction=correction, who=who)),
            lambda _: Checked(sid))
        return

    def announced(saved: sc.CardSaved) -> list[Event]:
        joined = card_joined(sid, saved, card)
        return [*joined, Voted(sid)]

    await s.write(sc.idempotent(scope, key, cards.save_vote_card(
        sid, step_id, card, language, values, correction=correction, who=who)), announced)


async def resolve_check(s: Services, memory: SeanceMemory, card: int, part: str, keep: str,
                        *, who: str) -> None:
    """The facilitator settles a card whose two entries differ: the first entry is confirmed
    (the check is aligned on it) or the second replaces it (as an audited correction).
    Either way both entries agree afterwards and the card counts as verified."""
    still_open(memory)
    sid = memory.seance.id
    questions = [question.id for question in card_questions(memory)]
    found = next((check for check in await cards.checks(s.db, sid, questions)
                  if check.card == card and check.part == part), None)
    if found is None or found.verified:
        return  # already settled (a double click, another tab): nothing to do
    if keep == "first":
        first = {int(k): v for k, v in (found.first or {}).items()}
        await s.write(lambda conn: cards.log_entry(conn, sid, card, part, cards.CHECK, first,
                                                   who), lambda _: Checked(sid))
        return
    second = {int(k): v for k, v in found.second.items()}
    if part == cards.POLL:
        language = memory.seance.language

        def replace_answers(conn: Any) -> sc.CardSaved:
            saved = sc.card_participant(conn, sid, card, language)
            conn.executemany("DELETE FROM answers WHERE question_id = ? AND participant_id = ?",
                             [(qid, saved.participant.id) for qid in questions
                              if qid not in second])
            sc.save_card_sheet(sid, card, language, second, correction=True, who=who)(conn)
            cards.log_entry(conn, sid, card, part, cards.FIRST, second, who)
            return saved

        def announced(saved: sc.CardSaved) -> list[Event]:
            person = saved.participant.id
            joined = card_joined(sid, saved, card)
            return [*joined,
                    *(Withdrawn(sid, qid, person) for qid in questions if qid not in second),
                    *(Answered(sid, qid, person, value) for qid, value in second.items())]

        await s.write(replace_answers, announced)
        return
    step_id = int(part.split(":", 1)[1])

    def voted(saved: sc.CardSaved) -> list[Event]:
        joined = card_joined(sid, saved, card)
        return [*joined, Voted(sid)]

    await s.write(cards.save_vote_card(sid, step_id, card, memory.seance.language, second,
                                       correction=True, who=who), voted)


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


async def exclude(s: Services, memory: SeanceMemory, participants: Iterable[int], *,
                  excluded: bool = True, minute: str | None = None,
                  who: str = "facilitator") -> int:
    """Exclude participants (or include them again): their answers, proposals and votes
    stay stored but count nowhere, live or in the report, until included again. Each
    change is audited. `minute` adds everyone who joined in that minute (UTC, as stored:
    "2026-03-05T18:42"). Returns how many changed."""
    still_open(memory)  # a closed séance's report is final
    sid = memory.seance.id
    known = [pid for pid in participants if pid in memory.crowd.participants]
    if not known and minute is None:
        return 0

    def announced(done: sp.Exclusion) -> list[Event]:
        events: list[Event] = [Excluded(sid, pid, excluded) for pid in done.changed]
        # Their proposals leave (or come back to) the wall and the vote's items.
        return [*events, Changed(sid)] if done.proposed else events

    done = await s.write(sp.set_excluded(sid, known, excluded, who, minute=minute),
                         announced)
    return len(done.changed)


# SMS -----------------------------------------------------------------------------------


async def answer_by_sms(s: Services, memory: SeanceMemory, number_hash: str,
                        question: Question, raw: RawAnswer, *,
                        client: Client | None = None) -> Any:
    """An answer sent by SMS: one per phone number and question; the number is known only
    by its keyed hash. `client` is the gateway: its budget is a room's."""
    s.limits.send("sms", memory.seance.id, number_hash, client)
    still_open(memory)
    value = validate_answer(question, raw)
    person = memory.participant(number_hash)
    sid = memory.seance.id
    if person is None:
        # A new number: the person and the answer in one transaction, so a crash between
        # them never leaves someone "present" with no answer.
        insert = sc.insert_participant(sid, number_hash, "", memory.seance.language, "sms")

        def both(conn: Any) -> Any:
            joined = insert(conn)
            return joined, sc.save_answer(question.id, joined.id, value, False)(conn)

        await s.write(both, lambda done: [Joined(sid, done[0], number_hash),
                                          Answered(sid, question.id, done[0].id, value)])
        return value
    if memory.answer(question.id, person.id) is not None:
        raise AnswerError(ALREADY, 409)
    await s.write(sc.save_answer(question.id, person.id, value, False),
                  lambda _: Answered(sid, question.id, person.id, value))
    return value


# Privacy -------------------------------------------------------------------------------


async def delete_contributions(s: Services, memory: SeanceMemory,
                               participant: Participant) -> deletion.Retraction:
    """A participant deletes their answers, proposals and votes, and their first name,
    while the séance is open: the live results lose them at once."""
    if memory.structure.closed:
        raise UserError(deletion.CLOSED, 409)
    sid = memory.seance.id
    return await s.write(deletion.retract(sid, participant.id),
                         lambda _: [Retracted(sid, participant.id), Voted(sid)])
