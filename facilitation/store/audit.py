"""SQL of the audit log: what organisers and facilitators did, who, when, where.

The log has no foreign keys: a deleted séance's entries stay, with `place` saying what it
was called when it happened. It holds nothing a participant wrote.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from facilitation.store.database import Database
from facilitation.store.queries import now

PAGE = 50


@dataclass(frozen=True)
class Entry:
    id: int
    workshop_id: int | None
    session_id: int | None
    role: str  # organiser | facilitator | projector | system
    who: str  # the organiser's login name; empty for a secret link or the system
    action: str  # the route name, with its verb: "facilitator:question:open"
    detail: str  # what it acted on: a question's text, a step's title, "#12"
    place: str  # the démarche and séance, as they were named then
    at: str


@dataclass(frozen=True)
class Where:
    """Where an action happened, as it is named now."""

    workshop_id: int | None = None
    session_id: int | None = None
    place: str = ""


def place_of(conn: sqlite3.Connection, workshop_id: int | None,
             session_id: int | None) -> Where:
    """The démarche and séance of an action, by id, with the words that name them."""
    if session_id is not None:
        row = conn.execute("SELECT s.workshop_id, s.number, s.title, w.title AS workshop"
                           " FROM sessions s JOIN workshops w ON w.id = s.workshop_id"
                           " WHERE s.id = ?", (session_id,)).fetchone()
        if row is not None:
            return Where(int(row["workshop_id"]), session_id,
                         f"{row['workshop']} — {row['number']}. {row['title']}")
        return Where(workshop_id, session_id)
    if workshop_id is not None:
        row = conn.execute("SELECT title FROM workshops WHERE id = ?", (workshop_id,)).fetchone()
        return Where(workshop_id, None, str(row["title"]) if row else "")
    return Where()


def log(conn: sqlite3.Connection, where: Where, role: str, who: str, action: str,
        detail: str = "") -> None:
    """Record one action, inside the transaction of the write it describes."""
    conn.execute(
        "INSERT INTO audit_log (workshop_id, session_id, role, who, action, detail, place, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (where.workshop_id, where.session_id, role, who, action, detail[:200], where.place,
         now()))


async def record(db: Database, role: str, who: str, action: str, detail: str = "", *,
                 workshop_id: int | None = None, session_id: int | None = None) -> None:
    """Record an action already done (by a request that answered with success)."""

    def op(conn: sqlite3.Connection) -> None:
        log(conn, place_of(conn, workshop_id, session_id), role, who, action, detail)

    await db.write(op, lambda _: None)  # changes no séance: nothing to read again


async def entries(db: Database, *, workshop_id: int | None = None,
                  session_id: int | None = None, before: int | None = None,
                  limit: int = PAGE) -> list[Entry]:
    """The newest entries first, of one séance, one démarche (its séances included) or all;
    `before`: only entries older than that one (the next page)."""
    where, params = ["id < ?"], [before if before is not None else 2 ** 62]
    if session_id is not None:
        where.append("session_id = ?")
        params.append(session_id)
    elif workshop_id is not None:
        where.append("workshop_id = ?")
        params.append(workshop_id)
    rows = await db.fetchall(
        "SELECT * FROM audit_log WHERE " + " AND ".join(where)  # noqa: S608 - fixed clauses
        + " ORDER BY id DESC LIMIT ?", (*params, limit))
    return [Entry(int(r["id"]), r["workshop_id"], r["session_id"], r["role"], r["who"],
                  r["action"], r["detail"], r["place"], r["at"]) for r in rows]


async def organiser_name(db: Database, organiser_id: int) -> str:
    row = await db.fetchone("SELECT username FROM organisers WHERE id = ?", (organiser_id,))
    return str(row["username"]) if row else f"#{organiser_id}"
