"""One press of the clicker, written in one transaction (see facilitation.steering)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from facilitation.steering import Walk
from facilitation.store.database import Database
from facilitation.store.queries import now


async def apply_walk(db: Database, session_id: int, walk: Walk) -> None:
    """Close, open or show a question of the séance, or move it to a step: all or nothing.
    Questions are only touched if they belong to the séance."""

    def op(conn: sqlite3.Connection) -> None:
        stamp = now()
        if walk.close is not None:
            conn.execute("UPDATE questions SET state = 'closed', closed_at = ?"
                         " WHERE id = ? AND session_id = ? AND state = 'open'",
                         (stamp, walk.close, session_id))
        if walk.open is not None:
            conn.execute("UPDATE questions SET state = 'open', opened_at = ?, closed_at = NULL"
                         " WHERE id = ? AND session_id = ?", (stamp, walk.open, session_id))
        shown = walk.open if walk.open is not None else walk.show
        if shown is not None:
            conn.execute("UPDATE sessions SET screen_question_id = ? WHERE id = ? AND EXISTS"
                         " (SELECT 1 FROM questions WHERE id = ? AND session_id = ?)",
                         (shown, session_id, shown, session_id))
        if walk.step is not None:
            row = conn.execute("SELECT count(*) FROM steps WHERE session_id = ?",
                               (session_id,)).fetchone()
            target = max(0, min(walk.step, int(row[0]) - 1))
            conn.execute("UPDATE sessions SET current_step = ? WHERE id = ?",
                         (target, session_id))
            conn.execute("UPDATE steps SET started_at = coalesce(started_at, ?)"
                         " WHERE session_id = ? AND position = ?", (stamp, session_id, target))

    await db.write(op)


async def set_timer(db: Database, session_id: int, position: int,
                    minutes: int | None) -> None:
    """Start (or restart) the timer of the step at `position`, or stop it (None)."""

    def op(conn: sqlite3.Connection) -> None:
        ends = None
        if minutes is not None:
            ends = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat(
                timespec="seconds")
        cursor = conn.execute("UPDATE steps SET timer_minutes = ?, timer_ends_at = ?"
                              " WHERE session_id = ? AND position = ?",
                              (minutes, ends, session_id, position))
        if cursor.rowcount == 0:
            raise LookupError(position)

    await db.write(op)
