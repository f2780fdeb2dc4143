"""Paper cards: what a card holds (the poll questions, each vote set), and the running
picture of what the helpers have typed, checked and still miss."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from facilitation.i18n_keys import N_
from facilitation.memory import SeanceMemory
from facilitation.polls import Question
from facilitation.printed import settings_saved
from facilitation.seances import Step
from facilitation.store import cards
from facilitation.store import votes as qv
from facilitation.store.database import Database
from facilitation.voting import Item, VoteSettings


def card_questions(memory: SeanceMemory) -> list[Question]:
    """The questions printed on a paper card: every poll question of the séance, in the
    order of the déroulé."""
    state = memory.state()
    return [question for step in state.steps if step.kind == "poll"
            for question in memory.structure.by_step.get(step.id, ())]


async def paper_votes(db: Database, memory: SeanceMemory
                      ) -> list[tuple[Step, VoteSettings, list[Item]]]:
    """The votes a paper card can be printed and typed for: every vote step whose items are
    set (its settings saved and something to vote on), open, closed or still to come."""
    found = []
    for step in memory.state().steps:
        if not settings_saved(step):
            continue
        settings = VoteSettings.from_json(step.settings)
        items = await qv.vote_items(db, memory.seance.id, settings)
        if items:
            found.append((step, settings, items))
    return found


def card_ranges(numbers: list[int]) -> str:
    """Card numbers as a person reads them: "3, 7, 12–15" (sorted, runs joined)."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}\u2013{b}" if b > a + 1 else f"{a}, {b}"
                     for a, b in runs)


def helper_name(who: str) -> str:
    """The name a helper gave, from an entry's `who` ("" when none was given)."""
    if who == "facilitator":
        return who  # settling a card typed twice
    parts = who.split(":", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "helper" else ""


@dataclass(frozen=True)
class Picture:
    """What the helpers see live: the step, and per printed card what is typed, checked
    and missing; entries per helper; what waits for the facilitator."""

    step: Step | None
    cards: int  # paper cards typed, whatever their parts
    rows: list[dict[str, Any]]
    helpers: list[tuple[str, int]]  # (name, entries), most first
    mismatches: int
    late: int
    printed: int
    closed: bool


async def picture(db: Database, memory: SeanceMemory,
                  votes: list[tuple[Step, VoteSettings, list[Item]]] | None = None) -> Picture:
    """`votes`: the séance's paper votes when the caller has them already."""
    sid = memory.seance.id
    typing = await cards.typing(db, sid)
    questions = card_questions(memory)
    rows: list[dict[str, Any]] = []

    def row(part: str, label: str, **extra: Any) -> dict[str, Any]:
        return {"part": part, "label": label, "typed": len(typing.typed.get(part, ())),
                "checked": len(typing.checked.get(part, ())),
                "missing": typing.missing(part), **extra}

    if questions:
        paper = {pid for pid, person in memory.crowd.participants.items()
                 if person.channel == "paper"}
        rows.append(row(cards.POLL, N_("Poll card"), questions=[
            (question, sum(pid in paper for pid in memory.crowd.answers.get(question.id, {})))
            for question in questions]))
    if votes is None:
        votes = await paper_votes(db, memory)
    for step, _settings, _items in votes:
        rows.append(row(cards.vote_part(step.id), N_("Vote card"), step=step))
    by_name: Counter[str] = Counter()
    for who, parts in typing.by_helper.items():
        by_name[helper_name(who)] += sum(parts.values())
    checks = await cards.checks(db, sid, [question.id for question in questions])
    paper_cards = sum(person.channel == "paper"
                      for person in memory.crowd.participants.values())
    return Picture(memory.state().step, paper_cards, rows, by_name.most_common(),
                   sum(not check.verified for check in checks), typing.late, typing.printed,
                   memory.structure.closed)
