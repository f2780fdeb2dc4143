"""SQL of retention and purge: what a séance's raw data is, how long it stays, and its
removal once the démarche's retention period is over.

A purge keeps the séance, its plan (steps, questions, choices, tables, themes, agenda,
rule), its report edits and the audit log; it deletes every row that says who took part
or what one person sent: participants (first names, token hashes), answers, votes,
proposals (with their corrections and their vectors), paper-card entries and corrections, hashed SMS
numbers, idempotency keys, suggested groupings, and the séance's secret links. Just
before, in the same transaction, what the report is built from is frozen
(`frozen_reports`), so the compte-rendu and the démarche synthesis read as they did.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from facilitation.report import Frozen
from facilitation.retention import DEFAULT_DAYS, Retention, last_day
from facilitation.store import audit
from facilitation.store import report as qr
from facilitation.store.database import Database
from facilitation.store.queries import now

# What a séance's raw data is: table → the rows of the séance (`?` is its id).
RAW_ROWS = {
    "participants": "FROM participants WHERE session_id = ?",
    "answers": "FROM answers WHERE question_id IN (SELECT id FROM questions"
               " WHERE session_id = ?)",
    "votes": "FROM votes WHERE step_id IN (SELECT id FROM steps WHERE session_id = ?)",
    "proposals": "FROM proposals WHERE session_id = ?",
    "proposal_audit": "FROM proposal_audit WHERE proposal_id IN (SELECT id FROM proposals"
                      " WHERE session_id = ?)",
    # What the sentence encoder made of a proposal is the proposal, in other form.
    "proposal_vectors": "FROM proposal_vectors WHERE proposal_id IN (SELECT id FROM"
                        " proposals WHERE session_id = ?)",
    "card_entries": "FROM card_entries WHERE session_id = ?",
    "card_audit": "FROM card_audit WHERE session_id = ?",
    "sms_senders": "FROM sms_senders WHERE session_id = ?",
    "idempotency": "FROM idempotency WHERE scope IN (SELECT 'p' || id FROM participants"
                   " WHERE session_id = ?1) OR scope LIKE 'card' || ?1 || ':%'",
    "theme_suggestions": "FROM theme_suggestions WHERE session_id = ?",
    "links": "FROM links WHERE session_id = ?",
    "participant_audit": "FROM participant_audit WHERE session_id = ?",
}
# Children first: a row is deleted before what it points to.
DELETE_ORDER = ("idempotency", "participant_audit", "answers", "votes", "proposal_audit",
                "proposal_vectors", "proposals",
                "card_entries", "card_audit", "sms_senders", "theme_suggestions", "links",
                "participants")
# A cheap summary of the raw rows, compared inside the purge's transaction with the one
# taken when the report was frozen: anything sent in between and the purge starts again.
FINGERPRINT = (
    "SELECT (SELECT count(*) || '/' || coalesce(max(id), 0) FROM participants"
    " WHERE session_id = ?1),"
    " (SELECT count(*) || '/' || coalesce(max(answered_at), '') || '/' || total(length(value))"
    " FROM answers WHERE question_id IN (SELECT id FROM questions WHERE session_id = ?1)),"
    " (SELECT count(*) || '/' || coalesce(max(updated_at), '') || '/' || total(value)"
    " FROM votes WHERE step_id IN (SELECT id FROM steps WHERE session_id = ?1)),"
    " (SELECT count(*) || '/' || coalesce(max(id), 0) || '/' || total(coalesce(theme_id, 0))"
    " || '/' || total(hidden) || '/' || total(coalesce(merged_into, 0))"
    " || '/' || total(length(text)) FROM proposals WHERE session_id = ?1),"
    " (SELECT count(*) FROM card_entries WHERE session_id = ?1),"
    " (SELECT coalesce(headcount, -1) || '/' || coalesce(closed_at, '') FROM sessions"
    " WHERE id = ?1)")
# The days that say when a démarche's last séance was, per séance.
DAYS = (
    "SELECT s.id, s.date, s.created_at, s.closed_at, s.purged_at,"
    " (SELECT max(started_at) FROM steps WHERE session_id = s.id) AS started,"
    " (SELECT max(joined_at) FROM participants WHERE session_id = s.id) AS joined"
    " FROM sessions s WHERE s.workshop_id = ? ORDER BY s.number")


class Moved(Exception):
    """Something was sent to the séance between freezing its report and purging it."""


# Retention ------------------------------------------------------------------------------


async def retention(db: Database, workshop_id: int, zone: dt.tzinfo) -> Retention | None:
    row = await db.fetchone("SELECT id, title, retention_days FROM workshops WHERE id = ?",
                            (workshop_id,))
    if row is None:
        return None
    seances = await db.fetchall(DAYS, (workshop_id,))
    days = [str(s[key] or "") for s in seances
            for key in ("date", "created_at", "closed_at", "started", "joined")]
    custom = row["retention_days"] is not None
    return Retention(
        workshop_id=workshop_id, title=str(row["title"]),
        days=int(row["retention_days"]) if custom else DEFAULT_DAYS, custom=custom,
        last_day=last_day(days, zone),
        pending=tuple(int(s["id"]) for s in seances if s["purged_at"] is None),
        purged={int(s["id"]): str(s["purged_at"]) for s in seances if s["purged_at"]})


async def retentions(db: Database, zone: dt.tzinfo) -> list[Retention]:
    rows = await db.fetchall("SELECT id FROM workshops ORDER BY id")
    found = [await retention(db, int(r["id"]), zone) for r in rows]
    return [r for r in found if r is not None]


def set_retention(workshop_id: int, days: int | None, who: str) -> Callable[
        [sqlite3.Connection], None]:
    """The organiser's retention period for a démarche (None: back to the default)."""

    def op(conn: sqlite3.Connection) -> None:
        cursor = conn.execute("UPDATE workshops SET retention_days = ? WHERE id = ?",
                              (days, workshop_id))
        if cursor.rowcount == 0:
            raise LookupError(workshop_id)
        audit.log(conn, audit.place_of(conn, workshop_id, None), "organiser", who,
                  "organiser:retention", str(days or DEFAULT_DAYS))

    return op


# What a purge removes -------------------------------------------------------------------


async def raw_counts(db: Database, session_id: int) -> dict[str, int]:
    """How many raw rows of each kind the séance holds (what a purge would delete)."""
    counts = {}
    for table, rows in RAW_ROWS.items():
        found = await db.fetchone("SELECT count(*) " + rows, (session_id,))  # noqa: S608
        counts[table] = int(found[0]) if found else 0
    return counts


def delete_raw(conn: sqlite3.Connection, session_id: int) -> dict[str, int]:
    """Delete the séance's raw rows (in the caller's transaction); return how many."""
    # A proposal carried over to a later séance is a copy: it stops pointing to its source.
    conn.execute("UPDATE proposals SET origin_id = NULL WHERE origin_id IN (SELECT id FROM"
                 " proposals WHERE session_id = ?) AND session_id != ?",
                 (session_id, session_id))
    conn.execute("UPDATE proposals SET merged_into = NULL WHERE session_id = ?",
                 (session_id,))
    deleted = {}
    for table in DELETE_ORDER:
        deleted[table] = conn.execute("DELETE " + RAW_ROWS[table],  # noqa: S608 - fixed
                                      (session_id,)).rowcount
    return deleted


# Purging a séance -------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    session_id: int
    deleted: dict[str, int]


async def purge_seance(db: Database, session_id: int, *,
                       on_commit: Callable[[Purged], None] | None = None,
                       attempts: int = 3) -> Purged | None:
    """Freeze what the séance's report is built from, then delete its raw rows, in one
    transaction; a séance still open is closed by it (its report stays a draft). None if
    it was purged already (the purge is idempotent) or no longer exists."""
    for _ in range(attempts):
        state = await db.fetchone("SELECT closed_at, purged_at FROM sessions WHERE id = ?",
                                  (session_id,))
        if state is None or state["purged_at"] is not None:
            return None
        before = await db.fetchone(FINGERPRINT, (session_id,))
        frozen = await qr.gather(db, session_id)
        try:
            return await db.write(_purge_op(session_id, tuple(before or ()), frozen),
                                  on_commit or (lambda _: None))
        except Moved:
            continue
    raise Moved(session_id)


def _purge_op(session_id: int, fingerprint: tuple[object, ...], frozen: Frozen) -> Callable[
        [sqlite3.Connection], Purged | None]:
    def op(conn: sqlite3.Connection) -> Purged | None:
        row = conn.execute("SELECT purged_at FROM sessions WHERE id = ?",
                           (session_id,)).fetchone()
        if row is None or row["purged_at"] is not None:
            return None
        if tuple(conn.execute(FINGERPRINT, (session_id,)).fetchone()) != fingerprint:
            raise Moved(session_id)
        where = audit.place_of(conn, None, session_id)
        conn.execute("INSERT INTO frozen_reports (session_id, data, frozen_at) VALUES"
                     " (?, ?, ?)", (session_id, frozen.to_json(), now()))
        deleted = delete_raw(conn, session_id)
        # Closed, so nothing more can be sent to it; the report keeps its frozen state.
        conn.execute("UPDATE sessions SET purged_at = ?, closed_at = coalesce(closed_at, ?)"
                     " WHERE id = ?", (now(), now(), session_id))
        audit.log(conn, where, "system", "", "system:purge",
                  str(sum(deleted.values())))
        return Purged(session_id, deleted)

    return op
