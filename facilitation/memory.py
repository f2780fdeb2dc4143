"""What every request needs of a séance, held in memory: the database stays the truth.

A séance's structure (its row, déroulé, questions, tables, links) is read once and read
again only after a change to it; its crowd (participants by token, each answer) is read
once and then follows the committed writes, event by event, in commit order. So an
answer costs one queued write and no query. Events are plain data, so that between
processes the same events can keep every process's memory fresh.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from facilitation import tallies
from facilitation.polls import Question
from facilitation.seances import Participant, Presence, Seance, State, Step, in_channel_order
from facilitation.store import Database
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.tallies import Results
from facilitation.voting import Item, VoteSettings

# Events: what a committed write changed ------------------------------------------------


@dataclass(frozen=True)
class Joined:
    session_id: int
    participant: Participant
    token_hash: str | None  # None for a paper card: it carries no credential
    card: int | None = None


@dataclass(frozen=True)
class Answered:
    session_id: int
    question_id: int
    participant_id: int
    value: Any


@dataclass(frozen=True)
class Proposed:
    session_id: int
    step_id: int
    participant_id: int | None


@dataclass(frozen=True)
class Voted:
    session_id: int


@dataclass(frozen=True)
class Withdrawn:
    """An answer taken back (a paper card settled on an entry that left it blank)."""

    session_id: int
    question_id: int
    participant_id: int


@dataclass(frozen=True)
class Excluded:
    """The facilitator excluded a participant (or included them again): what they sent
    stays stored and counts nowhere while excluded."""

    session_id: int
    participant_id: int
    excluded: bool = True


@dataclass(frozen=True)
class Checked:
    """A paper card was typed again, blind (double entry): nothing counted has moved."""

    session_id: int


@dataclass(frozen=True)
class Retracted:
    """A participant deleted what they sent (answers, proposals, votes) and their first
    name; they stay joined."""

    session_id: int
    participant_id: int


@dataclass(frozen=True)
class Erased:
    """The séance's people and all they sent were deleted (its purge, or the séance
    itself): nothing of them stays in memory."""

    session_id: int


@dataclass(frozen=True)
class Changed:
    """Anything else about the séance moved (step, questions, settings, links…)."""

    session_id: int


Event = (Joined | Answered | Withdrawn | Proposed | Voted | Checked | Excluded | Changed
         | Retracted | Erased)


# One séance ----------------------------------------------------------------------------


@dataclass
class Structure:
    seance: Seance
    steps: tuple[Step, ...]
    questions: dict[int, Question]  # every question of the séance, by id
    by_step: dict[int, tuple[Question, ...]]
    subgroups: list[tuple[int, str]]
    links: dict[str, str]  # role -> active secret
    headcount: int | None
    closed: bool
    vote_items: dict[int, list[Item]]  # of the current step, when it is a vote

    def state(self) -> State:
        bare = State(self.seance, self.steps, ())
        step = bare.step
        return State(self.seance, self.steps, self.by_step.get(step.id, ()) if step else ())


@dataclass
class Crowd:
    participants: dict[int, Participant] = field(default_factory=dict)
    by_token: dict[str, int] = field(default_factory=dict)
    by_card: dict[int, int] = field(default_factory=dict)
    answers: dict[int, dict[int, Any]] = field(default_factory=dict)  # question -> who -> value
    # Proposals sent, by (step, participant): a limit holds per proposal step.
    proposals: Counter[tuple[int, int]] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)  # present: excluded ones are not
    excluded: set[int] = field(default_factory=set)

    def apply(self, event: Event) -> None:
        if isinstance(event, Joined):
            person = event.participant
            if person.id not in self.participants:
                self.channels[person.channel] += 1
            self.participants[person.id] = person
            if event.token_hash is not None:
                self.by_token[event.token_hash] = person.id
            if event.card is not None:
                self.by_card[event.card] = person.id
        elif isinstance(event, Answered):
            self.answers.setdefault(event.question_id, {})[event.participant_id] = event.value
        elif isinstance(event, Withdrawn):
            self.answers.get(event.question_id, {}).pop(event.participant_id, None)
        elif isinstance(event, Proposed) and event.participant_id is not None:
            self.proposals[event.step_id, event.participant_id] += 1
        elif isinstance(event, Excluded):
            # Idempotent like every event: the set says whether it was already done.
            pid = event.participant_id
            if event.excluded == (pid in self.excluded):
                return
            (self.excluded.add if event.excluded else self.excluded.discard)(pid)
            known = self.participants.get(pid)
            if known is not None:
                self.channels[known.channel] += -1 if event.excluded else 1
                if self.channels[known.channel] <= 0:
                    del self.channels[known.channel]
        elif isinstance(event, Retracted):
            who = event.participant_id
            for answers in self.answers.values():
                answers.pop(who, None)
            for key in [key for key in self.proposals if key[1] == who]:
                del self.proposals[key]
            known = self.participants.get(who)
            if known is not None:
                self.participants[who] = replace(known, name="")
        elif isinstance(event, Erased):
            # Also a crowd being read while the séance was erased: what it read may be gone.
            for part in (self.participants, self.by_token, self.by_card, self.answers,
                         self.proposals, self.channels, self.excluded):
                part.clear()

    def counted(self, question_id: int) -> dict[int, Any]:
        """A question's answers that count: by participant, the excluded left out."""
        answers = self.answers.get(question_id, {})
        if not self.excluded:
            return answers
        return {pid: value for pid, value in answers.items() if pid not in self.excluded}


@dataclass
class SeanceMemory:
    structure: Structure
    crowd: Crowd

    @property
    def seance(self) -> Seance:
        return self.structure.seance

    def state(self) -> State:
        return self.structure.state()

    def question(self, question_id: int) -> Question | None:
        return self.structure.questions.get(question_id)

    def participant(self, token_hash: str) -> Participant | None:
        pid = self.crowd.by_token.get(token_hash)
        return None if pid is None else self.crowd.participants.get(pid)

    def answer(self, question_id: int, participant_id: int) -> Any | None:
        return self.crowd.answers.get(question_id, {}).get(participant_id)

    def presence(self) -> Presence:
        return Presence(in_channel_order(dict(self.crowd.channels)), self.structure.headcount)

    def results(self, question: Question) -> Results:
        return tallies.aggregate(question, self.crowd.counted(question.id).values())

    def channels(self, question_id: int) -> dict[str, int]:
        people = self.crowd.participants
        counts = Counter(people[pid].channel for pid in self.crowd.counted(question_id)
                         if pid in people)
        return in_channel_order(dict(counts))


# Loading -------------------------------------------------------------------------------


async def load_structure(db: Database, session_id: int) -> Structure | None:
    seance = await q.get_session(db, session_id)
    if seance is None:
        return None
    steps = await q.list_steps(db, session_id)
    rows = await db.fetchall("SELECT * FROM questions WHERE session_id = ?"
                             " ORDER BY step_id, position", (session_id,))
    choices = await db.fetchall(
        "SELECT c.* FROM choices c JOIN questions q ON q.id = c.question_id"
        " WHERE q.session_id = ? ORDER BY c.question_id, c.position", (session_id,))
    questions = q.questions_of(rows, choices)
    by_step: dict[int, list[Question]] = {}
    for question in questions:
        by_step.setdefault(question.step_id, []).append(question)
    current = State(seance, steps, ()).step
    vote_items: dict[int, list[Item]] = {}
    if current is not None and current.kind == "vote":
        vote_items[current.id] = await qv.vote_items(
            db, session_id, VoteSettings.from_json(current.settings))
    extra = await db.fetchone("SELECT headcount, closed_at FROM sessions WHERE id = ?",
                              (session_id,))
    subgroups = await db.fetchall("SELECT id, name FROM subgroups WHERE session_id = ?"
                                  " ORDER BY position", (session_id,))
    return Structure(
        seance=seance, steps=steps, questions={x.id: x for x in questions},
        by_step={k: tuple(v) for k, v in by_step.items()},
        subgroups=[(int(r["id"]), str(r["name"])) for r in subgroups],
        links=await q.active_links(db, session_id),
        headcount=None if extra is None or extra["headcount"] is None
        else int(extra["headcount"]),
        closed=extra is not None and extra["closed_at"] is not None,
        vote_items=vote_items,
    )


async def load_crowd(db: Database, session_id: int) -> Crowd:
    crowd = Crowd()
    for row in await db.fetchall("SELECT * FROM participants WHERE session_id = ?",
                                 (session_id,)):
        card = row["card"]
        paper = row["channel"] == "paper"
        crowd.apply(Joined(session_id, q.participant_of(row),
                           None if paper else str(row["token_hash"]),
                           None if card is None else int(card)))
        if row["excluded_at"] is not None:
            crowd.apply(Excluded(session_id, int(row["id"])))
    for row in await db.fetchall(
            "SELECT a.question_id, a.participant_id, a.value FROM answers a"
            " JOIN questions q ON q.id = a.question_id WHERE q.session_id = ?", (session_id,)):
        crowd.answers.setdefault(int(row[0]), {})[int(row[1])] = json.loads(row[2])
    for row in await db.fetchall(
            "SELECT step_id, participant_id, count(*) FROM proposals WHERE session_id = ?"
            " AND participant_id IS NOT NULL GROUP BY step_id, participant_id", (session_id,)):
        crowd.proposals[int(row[0]), int(row[1])] = int(row[2])
    return crowd


class Memory:
    """Every séance in use, by id, with the ways requests find them (code, secret link)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._structures: dict[int, Structure] = {}
        self._crowds: dict[int, Crowd] = {}
        self._stale: set[int] = set()
        self._generation: Counter[int] = Counter()
        self._loading: dict[int, asyncio.Task[Structure | None]] = {}
        self._crowd_loading: dict[int, asyncio.Task[Crowd]] = {}
        self._buffered: dict[int, list[Event]] = {}
        self._forgotten = 0  # how many times every crowd was dropped (see forget)
        self._codes: dict[str, int] = {}
        self._links: dict[str, tuple[int, str]] = {}
        self.loads = 0  # structure reads, for tests and the benchmark

    # Finding a séance -------------------------------------------------------------

    async def by_code(self, code: str) -> SeanceMemory | None:
        session_id = self._codes.get(code)
        if session_id is None:
            seance = await q.get_session_by_code(self.db, code)
            if seance is None:
                return None
            session_id = self._codes[code] = seance.id
        return await self.get(session_id)

    async def by_link(self, token: str, role: str) -> SeanceMemory | None:
        """The séance a still-valid secret link of `role` opens, else None."""
        found = self._links.get(token)
        if found is None:
            link = await q.get_link(self.db, token)
            if link is None:
                return None
            found = self._links[token] = link
        if found[1] != role:
            return None
        memory = await self.get(found[0])
        if memory is None or memory.structure.links.get(role) != token:
            return None  # revoked since
        return memory

    async def get(self, session_id: int) -> SeanceMemory | None:
        structure = await self._structure(session_id)
        if structure is None:
            return None
        return SeanceMemory(structure, await self._crowd(session_id))

    async def _structure(self, session_id: int) -> Structure | None:
        known = self._structures.get(session_id)
        if known is not None and session_id not in self._stale:
            return known
        task = self._loading.get(session_id)
        if task is None:
            task = asyncio.create_task(self._load_structure(session_id))
            self._loading[session_id] = task
        return await asyncio.shield(task)

    async def _load_structure(self, session_id: int) -> Structure | None:
        try:
            while True:
                generation = self._generation[session_id]
                self.loads += 1
                structure = await load_structure(self.db, session_id)
                if self._generation[session_id] == generation:
                    break  # nothing changed while reading: this is current
            # Stale until now: a request meanwhile waits for this load, never the old one.
            self._stale.discard(session_id)
            if structure is None:  # deleted: its code may one day open another séance
                self._structures.pop(session_id, None)
                for code in [c for c, sid in self._codes.items() if sid == session_id]:
                    del self._codes[code]
            else:
                self._structures[session_id] = structure
                self._codes[structure.seance.code] = session_id
            return structure
        finally:
            self._loading.pop(session_id, None)

    async def _crowd(self, session_id: int) -> Crowd:
        crowd = self._crowds.get(session_id)
        if crowd is not None:
            return crowd
        task = self._crowd_loading.get(session_id)
        if task is None:
            self._buffered[session_id] = []
            task = asyncio.create_task(self._load_crowd(session_id))
            self._crowd_loading[session_id] = task
        return await asyncio.shield(task)

    async def _load_crowd(self, session_id: int) -> Crowd:
        try:
            while True:
                forgotten = self._forgotten
                crowd = await load_crowd(self.db, session_id)
                if self._forgotten == forgotten:
                    break
                self._buffered[session_id] = []  # what it missed is in the next read
            # Writes committed while reading may or may not be in what was read: every
            # event is idempotent, so applying them again is safe.
            for event in self._buffered.pop(session_id, []):
                crowd.apply(event)
            self._crowds[session_id] = crowd
            return crowd
        finally:
            self._crowd_loading.pop(session_id, None)
            self._buffered.pop(session_id, None)

    # Keeping it fresh -------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """A committed write's event, in commit order."""
        session_id = event.session_id
        if isinstance(event, Changed):
            self.invalidate(session_id)
            return
        if isinstance(event, Erased):
            if session_id in self._buffered:
                self._buffered[session_id].append(event)
            self._crowds.pop(session_id, None)
            self.invalidate(session_id)
            return
        if session_id in self._buffered:
            self._buffered[session_id].append(event)
        crowd = self._crowds.get(session_id)
        if crowd is not None:
            crowd.apply(event)

    def crowd_of(self, session_id: int) -> Crowd | None:
        """The séance's crowd as it is now, if it is in memory."""
        return self._crowds.get(session_id)

    def forget(self) -> None:
        """Events may have been lost (the hub between processes was down): read every
        séance again, its crowd too, from the database."""
        self._forgotten += 1
        self._crowds.clear()
        self.invalidate()

    def invalidate(self, session_id: int | None = None) -> None:
        """Read the séance's structure again on next use (every séance's if None)."""
        targets = list(self._structures) if session_id is None else [session_id]
        for target in targets:
            self._generation[target] += 1
            self._stale.add(target)
            for token, (sid, _role) in list(self._links.items()):
                if sid == target:
                    del self._links[token]
        if session_id is None:
            self._generation.update(self._loading.keys())
            self._links.clear()
