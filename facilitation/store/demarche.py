"""What the démarche synthesis is built from, and the organiser's decisions on it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3

from facilitation.demarche import Recurring
from facilitation.report import Report
from facilitation.store import queries as q
from facilitation.store import report as qr
from facilitation.store.database import Database


async def reports(db: Database, workshop_id: int, zone: dt.tzinfo = dt.UTC) -> list[Report]:
    found = []
    for seance in await q.list_sessions(db, workshop_id):
        report = await qr.build(db, seance.id, zone)
        if report is not None:
            found.append(report)
    return found


def signature(members: tuple[tuple[int, str], ...]) -> str:
    return json.dumps(sorted([list(m) for m in members]), ensure_ascii=False)


def candidate_key(members: tuple[tuple[int, str], ...]) -> str:
    """A suggested element named by what it holds, not by its place in the list: a form
    sent twice, or from a stale tab, acts on the element it showed or on nothing."""
    return hashlib.sha256(signature(members).encode()).hexdigest()[:16]


async def decisions(db: Database, workshop_id: int) -> list[tuple[int, Recurring, str]]:
    rows = await db.fetchall("SELECT * FROM crosscutting WHERE workshop_id = ? ORDER BY id",
                             (workshop_id,))
    return [(int(r["id"]), Recurring(r["title"], tuple(
        (int(n), str(t)) for n, t in json.loads(r["members"]))), str(r["state"]))
        for r in rows]


async def decide(db: Database, workshop_id: int, element: Recurring, state: str) -> None:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO crosscutting (workshop_id, title, members, state, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (workshop_id, element.title, signature(element.members), state, q.now()))

    await db.write(op)


async def undo(db: Database, workshop_id: int, decision_id: int) -> None:
    def op(conn: sqlite3.Connection) -> None:
        cursor = conn.execute("DELETE FROM crosscutting WHERE id = ? AND workshop_id = ?",
                                    (decision_id, workshop_id))
        if cursor.rowcount == 0:
            raise LookupError(decision_id)

    await db.write(op)
