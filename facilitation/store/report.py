"""Gathers what a séance's compte-rendu is built from; stores the report's edits."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace

from facilitation.exports import data
from facilitation.report import (
    Edits,
    Frozen,
    PollResult,
    Report,
    VoteRun,
    step_runs,
    theme_blocks,
)
from facilitation.store import cards
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.store.database import Database
from facilitation.store.editor import reopenings
from facilitation.voting import synthesis


async def get_edits(db: Database, session_id: int) -> Edits:
    row = await db.fetchone("SELECT data FROM report_edits WHERE session_id = ?", (session_id,))
    return Edits.from_json(row["data"] if row else None)


async def save_edits(db: Database, session_id: int, edits: Edits) -> None:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO report_edits (session_id, data, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (session_id) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at", (session_id, edits.to_json(), q.now()))

    await db.write(op)


async def set_headcount(db: Database, session_id: int, count: int | None) -> None:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE sessions SET headcount = ? WHERE id = ?", (count, session_id))

    await db.write(op)


async def frozen_of(db: Database, session_id: int) -> Frozen | None:
    """What the report of a purged séance is built from, kept when its raw rows went."""
    row = await db.fetchone("SELECT data FROM frozen_reports WHERE session_id = ?",
                            (session_id,))
    return Frozen.from_json(row["data"]) if row else None


async def gather(db: Database, session_id: int) -> Frozen:
    """What the report is built from, read from the raw rows as they are now."""
    state = await q.get_state(db, session_id)
    assert state is not None  # noqa: S101
    polls = []
    for step in state.steps:
        if step.kind != "poll":
            continue
        for question in await q.list_questions(db, step.id):
            if question.state == "draft":
                continue
            polls.append(PollResult(await q.results(db, question),
                                    await q.answer_channels(db, question.id)))
    # Who wrote a proposal, and the texts merged into it, are not part of the report.
    proposals = tuple(replace(p, participant_id=None, originals=())
                      for p in await qp.list_proposals(db, session_id) if p.on_board)
    votes = tuple([VoteRun(step, await qv.results_of(db, session_id, step))
                   for step in state.steps if step.kind == "vote"])
    closed = await db.fetchone("SELECT closed_at FROM sessions WHERE id = ?", (session_id,))
    raw_votes: dict[str, list[dict[str, object]]] = {}
    for kind in ("steps", "votes"):
        raw_votes[kind] = [dict(row) for row in await db.fetchall(RAW[kind], (session_id,))]
    return Frozen(
        presence=await q.presence(db, session_id), polls=tuple(polls), proposals=proposals,
        themes=tuple(await qp.list_themes(db, session_id)), votes=votes,
        double_entry=await cards.verified_cards(
            db, session_id, [poll.results.question.id for poll in polls]),
        vote_totals=tuple(data.vote_totals(raw_votes)),
        closed_at=str(closed["closed_at"]) if closed and closed["closed_at"] else None)


async def build(db: Database, session_id: int, zone: dt.tzinfo = dt.UTC) -> Report | None:
    """The séance's report as it stands: a draft until the séance is closed. A purged
    séance's report is built from what was frozen before its raw rows were deleted."""
    seance = await q.get_session(db, session_id)
    if seance is None:
        return None
    workshop = await q.get_workshop(db, seance.workshop_id)
    assert workshop is not None  # noqa: S101
    state = await q.get_state(db, session_id)
    assert state is not None  # noqa: S101
    found = await frozen_of(db, session_id) or await gather(db, session_id)
    edits = await get_edits(db, session_id)
    themes, unsorted = theme_blocks(found.proposals, found.themes, edits)
    next_seance = await qv.next_seance(db, session_id)
    ended = dt.datetime.fromisoformat(found.closed_at).astimezone(zone) \
        if found.closed_at else None
    return Report(
        workshop=workshop, seance=seance, ended=ended,
        final=found.closed_at is not None,
        presence=found.presence,
        agenda=tuple(await qv.list_agenda(db, session_id)),
        runs=step_runs(state.steps, zone, ended), polls=found.polls, themes=themes,
        unsorted=unsorted,
        synthesis=synthesis([run.results for run in found.votes]),
        votes=tuple(run for run in found.votes if run.results.voters),
        rule=await qv.get_rule(db, session_id),
        next_seance=next_seance,
        next_agenda=tuple(await qv.list_agenda(db, next_seance.id)) if next_seance else (),
        edits=edits,
        reopened=tuple(dt.datetime.fromisoformat(at).astimezone(zone)
                       for at in await reopenings(db, session_id)),
        double_entry=found.double_entry,
    )


RAW = {
    # kind → the query that exports it; no token hash, no IP address ever stored.
    "participants": "SELECT p.id, p.channel, p.language, coalesce(g.name, '') AS subgroup,"
                    " p.joined_at, p.excluded_at FROM participants p LEFT JOIN subgroups g"
                    " ON g.id = p.subgroup_id WHERE p.session_id = ? ORDER BY p.id",
    "questions": "SELECT q.id, q.kind, q.text, q.state, q.opened_at, q.closed_at,"
                 " q.settings FROM questions q WHERE q.session_id = ? ORDER BY q.id",
    "choices": "SELECT c.question_id, c.id, c.position, c.label FROM choices c"
               " JOIN questions q ON q.id = c.question_id WHERE q.session_id = ?"
               " ORDER BY c.question_id, c.position",
    "answers": "SELECT a.question_id, a.participant_id, a.value, a.answered_at FROM answers a"
               " JOIN questions q ON q.id = a.question_id WHERE q.session_id = ?"
               " ORDER BY a.question_id, a.participant_id",
    "proposals": "SELECT p.id, p.participant_id, p.text, p.channel,"
                 " coalesce(g.name, '') AS subgroup,"
                 " p.hidden, p.pinned, p.merged_into, p.theme_id, p.origin_id, p.created_at"
                 " FROM proposals p LEFT JOIN subgroups g ON g.id = p.subgroup_id"
                 " WHERE p.session_id = ? ORDER BY p.id",
    "proposal_audit": "SELECT a.proposal_id, a.action, a.before, a.after, a.role, a.at"
                      " FROM proposal_audit a JOIN proposals p ON p.id = a.proposal_id"
                      " WHERE p.session_id = ? ORDER BY a.id",
    "themes": "SELECT id, name, position, origin_id FROM themes WHERE session_id = ?"
              " ORDER BY position",
    "votes": "SELECT v.step_id, v.participant_id, v.item_kind, v.item_id, v.value,"
             " v.updated_at FROM votes v JOIN steps s ON s.id = v.step_id"
             " WHERE s.session_id = ? ORDER BY v.step_id, v.participant_id, v.item_id",
    "card_corrections": "SELECT card, question_id, before, after, who, at FROM card_audit"
                        " WHERE session_id = ? ORDER BY id",
    "card_entries": "SELECT card, part, round, value, who, at, late FROM card_entries"
                    " WHERE session_id = ? ORDER BY id",
    "steps": "SELECT id, position, kind, title, prompt, started_at, settings FROM steps"
             " WHERE session_id = ? ORDER BY position",
}


async def raw_data(db: Database, session_id: int) -> dict[str, list[dict[str, object]]]:
    """Every kind of raw data of the séance, as rows."""
    return {kind: [dict(row) for row in await db.fetchall(sql, (session_id,))]
            for kind, sql in RAW.items()}
