"""SQL of deletion: a séance or a démarche by the organiser, and a participant's own
contributions while the séance is open. Each deletion is one transaction, and the
organiser's are written in the audit log in that same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from facilitation.i18n_keys import N_, UserError
from facilitation.store import audit
from facilitation.store.privacy import delete_raw

Op = Callable[[sqlite3.Connection], "Deleted"]
CLOSED = N_("This session is closed: your answers are part of its report. To have them "
            "deleted, ask the organisers.")


@dataclass(frozen=True)
class Deleted:
    sessions: tuple[int, ...]  # the séances gone, to forget in memory
    title: str


def _delete_session(conn: sqlite3.Connection, session_id: int) -> int | None:
    """Delete one séance and all it holds; the séance number stays unused (the others'
    reports keep their numbers). Returns its number, None if it was gone already."""
    row = conn.execute("SELECT workshop_id, number FROM sessions WHERE id = ?",
                       (session_id,)).fetchone()
    if row is None:
        return None
    # What points to it from other séances stops pointing: the séance that follows it, and
    # the proposals and themes carried over from it.
    conn.execute("UPDATE sessions SET previous_id = NULL WHERE previous_id = ?", (session_id,))
    conn.execute("UPDATE themes SET origin_id = NULL WHERE origin_id IN (SELECT id FROM themes"
                 " WHERE session_id = ?) AND session_id != ?", (session_id, session_id))
    delete_raw(conn, session_id)
    conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
    _forget_in_crosscutting(conn, int(row["workshop_id"]), int(row["number"]))
    return int(row["number"])


def _forget_in_crosscutting(conn: sqlite3.Connection, workshop_id: int, number: int) -> None:
    """A confirmed cross-cutting element loses what came from a deleted séance; one left
    with fewer than two séances is no longer cross-cutting and goes. Members are rows of
    `crosscutting_members` (and, for elements made before those, the `members` JSON)."""
    for row in conn.execute("SELECT id, members FROM crosscutting WHERE workshop_id = ?",
                            (workshop_id,)).fetchall():
        conn.execute("DELETE FROM crosscutting_members WHERE crosscutting_id = ?"
                     " AND number = ?", (row["id"], number))
        members = [m for m in json.loads(row["members"] or "[]") if int(m[0]) != number]
        numbers = {int(m[0]) for m in members} | {int(r[0]) for r in conn.execute(
            "SELECT DISTINCT number FROM crosscutting_members WHERE crosscutting_id = ?",
            (row["id"],))}
        if len(numbers) < 2:
            conn.execute("DELETE FROM crosscutting_members WHERE crosscutting_id = ?",
                         (row["id"],))
            conn.execute("DELETE FROM crosscutting WHERE id = ?", (row["id"],))
        else:
            conn.execute("UPDATE crosscutting SET members = ? WHERE id = ?",
                         (json.dumps(members, ensure_ascii=False), row["id"]))


def delete_session(session_id: int, who: str) -> Op:
    def op(conn: sqlite3.Connection) -> Deleted:
        where = audit.place_of(conn, None, session_id)
        if _delete_session(conn, session_id) is None:
            raise LookupError(session_id)
        audit.log(conn, where, "organiser", who, "organiser:delete_session")
        return Deleted((session_id,), where.place)

    return op


def delete_workshop(workshop_id: int, who: str) -> Op:
    def op(conn: sqlite3.Connection) -> Deleted:
        where = audit.place_of(conn, workshop_id, None)
        sessions = tuple(int(r[0]) for r in conn.execute(
            "SELECT id FROM sessions WHERE workshop_id = ? ORDER BY number DESC",
            (workshop_id,)).fetchall())
        for session_id in sessions:
            _delete_session(conn, session_id)
        if conn.execute("DELETE FROM workshops WHERE id = ?", (workshop_id,)).rowcount == 0:
            raise LookupError(workshop_id)
        # The demo is imported again on the next `--demo` rather than found missing.
        conn.execute("DELETE FROM meta WHERE key = 'demo_workshop_id' AND value = ?",
                     (str(workshop_id),))
        audit.log(conn, where, "organiser", who, "organiser:delete_workshop", where.place)
        return Deleted(sessions, where.place)

    return op


@dataclass(frozen=True)
class Retraction:
    """What a participant took back."""

    answers: tuple[int, ...]  # the questions they had answered
    proposals: int
    votes: int


def retract(session_id: int, participant_id: int) -> Callable[[sqlite3.Connection],
                                                                Retraction]:
    """Delete a participant's answers, proposals and votes, and their first name, while the
    séance is open. A proposal others' were merged into leaves the oldest of those in its
    place (their idea stays on the board, only this person's words go)."""

    def op(conn: sqlite3.Connection) -> Retraction:
        row = conn.execute("SELECT closed_at FROM sessions WHERE id = ?",
                           (session_id,)).fetchone()
        if row is None or row["closed_at"] is not None:
            raise UserError(CLOSED, 409)
        answered = tuple(int(r[0]) for r in conn.execute(
            "SELECT a.question_id FROM answers a JOIN questions q ON q.id = a.question_id"
            " WHERE a.participant_id = ? AND q.session_id = ?", (participant_id, session_id)))
        conn.execute("DELETE FROM answers WHERE participant_id = ? AND question_id IN"
                     " (SELECT id FROM questions WHERE session_id = ?)",
                     (participant_id, session_id))
        votes = conn.execute("DELETE FROM votes WHERE participant_id = ? AND step_id IN"
                             " (SELECT id FROM steps WHERE session_id = ?)",
                             (participant_id, session_id)).rowcount
        own = [int(r[0]) for r in conn.execute(
            "SELECT id FROM proposals WHERE participant_id = ? AND session_id = ? ORDER BY id",
            (participant_id, session_id))]
        for proposal_id in own:
            _hand_over(conn, proposal_id)
            conn.execute("DELETE FROM proposals WHERE id = ?", (proposal_id,))
        if own:  # suggested groupings may name them: the facilitator asks again
            conn.execute("DELETE FROM theme_suggestions WHERE session_id = ?", (session_id,))
        conn.execute("UPDATE participants SET name = '' WHERE id = ?", (participant_id,))
        conn.execute("DELETE FROM idempotency WHERE scope = ?", (f"p{participant_id}",))
        return Retraction(answered, len(own), votes)

    return op


def _hand_over(conn: sqlite3.Connection, proposal_id: int) -> None:
    """Before a proposal goes: the oldest proposal merged into it takes its place on the
    board (theme, position, pin, hidden), the others merged into it follow the new one,
    and copies carried over from it stop pointing to it."""
    conn.execute("UPDATE proposals SET origin_id = NULL WHERE origin_id = ?", (proposal_id,))
    children = [int(r[0]) for r in conn.execute(
        "SELECT id FROM proposals WHERE merged_into = ? ORDER BY id", (proposal_id,))]
    if not children:
        return
    heir, rest = children[0], children[1:]
    conn.execute(
        "UPDATE proposals SET merged_into = NULL, theme_id = p.theme_id,"
        " theme_position = p.theme_position, pinned = p.pinned, hidden = p.hidden"
        " FROM (SELECT theme_id, theme_position, pinned, hidden FROM proposals WHERE id = ?)"
        " AS p WHERE proposals.id = ?", (proposal_id, heir))
    conn.executemany("UPDATE proposals SET merged_into = ? WHERE id = ?",
                     [(heir, child) for child in rest])
