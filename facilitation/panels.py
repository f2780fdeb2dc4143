"""What a participant's screen shows now: one task per screen.

The same panel serves the page a phone asks for and the panel pushed to every phone on a
step change. A pushed panel is rendered once per language and sent to every phone whose
panel does not depend on what it sent before; the others get a small "sync" fragment and
fetch their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facilitation.memory import Crowd, SeanceMemory
from facilitation.polls import Question
from facilitation.proposals import Proposal, StepSettings
from facilitation.seances import Seance, State, Step
from facilitation.store import Database
from facilitation.store import proposals as qp
from facilitation.store import votes as qv
from facilitation.tallies import Results
from facilitation.voting import Item, Synthesis, VoteSettings, order_for

# Stand-ins in a panel rendered once for every phone: each connection puts in its own.
CSRF_SLOT = "\x00csrf\x00"
KEY_SLOT = "\x00key\x00"


@dataclass(frozen=True)
class Ballot:
    settings: VoteSettings
    items: tuple[Item, ...]  # in this participant's order
    own: dict[int, int]
    current: Item | None  # agree/disagree/pass: the next item to vote on


@dataclass(frozen=True)
class Panel:
    """What one participant's screen shows now."""

    kind: str  # "question", "thanks", "propose", "vote", "decided", "results" or "waiting"
    question: Question | None = None
    chosen: Any = None
    answered: tuple[Question, ...] = ()
    proposals: tuple[Proposal, ...] = ()  # the participant's own, on a proposal step
    settings: StepSettings = StepSettings()
    ballot: Ballot | None = None  # on a vote step
    summary: Synthesis | None = None  # on the synthesis and closing steps
    next_seance: Seance | None = None
    results: Results | None = None  # a closed question's, when phones may see them


async def ballot_for(db: Database, memory: SeanceMemory, step: Step, participant_id: int,
                     item: int | None = None) -> Ballot:
    settings = VoteSettings.from_json(step.settings)
    items = memory.structure.vote_items.get(step.id)
    if items is None:
        items = await qv.vote_items(db, memory.seance.id, settings)
    by_id = {i.id: i for i in items}
    ordered = [by_id[i] for i in order_for(participant_id, list(by_id))]
    own = await qv.own_votes(db, step.id, participant_id)
    current = by_id.get(item) if item is not None else next(
        (i for i in ordered if i.id not in own), None)
    return Ballot(settings, tuple(ordered), own, current)


async def panel_for(db: Database, memory: SeanceMemory, participant_id: int,
                    edit: int | None = None, item: int | None = None) -> Panel:
    state = memory.state()
    if memory.structure.closed:
        return await decided(db, state)  # read-only: what was decided, and what comes next
    answered: list[Question] = []
    for question in state.open_questions:
        chosen = memory.answer(question.id, participant_id)
        if question.id == edit and question.settings.allow_change:
            return Panel("question", question, chosen)
        if chosen is None:
            return Panel("question", question)
        answered.append(question)
    if answered:
        return Panel("thanks", answered=tuple(answered))
    step = state.step
    if step is not None and step.kind == "proposals":
        own = (await qp.own_proposals(db, memory.seance.id, participant_id)
               if memory.crowd.proposals[step.id, participant_id] else [])
        return Panel("propose", proposals=tuple(own),
                     settings=StepSettings.from_json(step.settings))
    if step is not None and step.kind == "vote":
        return Panel("vote", ballot=await ballot_for(db, memory, step, participant_id, item))
    if step is not None and step.kind in ("synthesis", "closing"):
        return await decided(db, state)
    return waiting(memory)


def shown_results(memory: SeanceMemory) -> Question | None:
    """The closed question whose results phones are shown, if the facilitator chose so."""
    state = memory.state()
    shown = state.screen_question
    if state.open_questions or shown is None or shown.is_open \
            or not shown.settings.phone_results:
        return None
    return shown


def waiting(memory: SeanceMemory) -> Panel:
    shown = shown_results(memory)
    if shown is None:
        return Panel("waiting")
    return Panel("results", question=shown, results=memory.results(shown))


async def decided(db: Database, state: State) -> Panel:
    return Panel("decided", summary=await qv.synthesis_of(db, state),
                 next_seance=await qv.next_seance(db, state.seance.id))


async def shared_panel(db: Database, memory: SeanceMemory) -> Panel | None:
    """The panel of a phone that has sent nothing for this step yet, or None when every
    phone's panel is its own (a vote: each phone has its own order of items)."""
    state = memory.state()
    if state.open_questions:
        return Panel("question", state.open_questions[0])
    step = state.step
    if step is not None and step.kind == "proposals":
        return Panel("propose", settings=StepSettings.from_json(step.settings))
    if step is not None and step.kind == "vote":
        return None
    if step is not None and step.kind in ("synthesis", "closing"):
        return await decided(db, state)
    return waiting(memory)


@dataclass(frozen=True)
class Personal:
    """Which phones' panels depend on what they already sent during the step: of the state
    a pushed panel was rendered from, checked against each phone's own sendings."""

    questions: tuple[int, ...] = ()  # open questions: a phone that answered one
    proposal_step: int | None = None  # a proposal step: a phone that sent one
    every: bool = False  # a vote: every ballot is its own

    @classmethod
    def of(cls, memory: SeanceMemory) -> Personal:
        if memory.structure.closed:
            return cls()
        state = memory.state()
        if state.open_questions:
            return cls(questions=tuple(q.id for q in state.open_questions))
        step = state.step
        if step is not None and step.kind == "proposals":
            return cls(proposal_step=step.id)
        return cls(every=step is not None and step.kind == "vote")

    def applies(self, crowd: Crowd, participant_id: int) -> bool:
        if self.questions:
            return any(crowd.answers.get(qid, {}).get(participant_id) is not None
                       for qid in self.questions)
        if self.proposal_step is not None:
            return crowd.proposals[self.proposal_step, participant_id] > 0
        return self.every


def version(state: State) -> str:
    """A fingerprint of what a participant's page depends on: step, open questions, and the
    closed question whose results phones may be shown."""
    opened = ",".join(str(question.id) for question in state.open_questions)
    shown = state.screen_question
    results = f"-r{shown.id}" if shown is not None and shown.settings.phone_results else ""
    return f"{state.seance.current_step}-{opened}{results}"
