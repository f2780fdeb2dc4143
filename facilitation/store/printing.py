"""How many numbered paper cards were printed for a séance: the range the helpers type."""

from __future__ import annotations

import sqlite3

from facilitation.store.database import Database


async def note_printed(db: Database, session_id: int, cards: int) -> None:
    """Cards 1..`cards` were printed: the range only grows (a second, shorter print of the
    same numbers does not make the first one's cards disappear)."""

    def op(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE sessions SET cards_printed = ? WHERE id = ? AND cards_printed < ?",
                     (cards, session_id, cards))

    await db.write(op)


async def cards_printed(db: Database, session_id: int) -> int:
    row = await db.fetchone("SELECT cards_printed FROM sessions WHERE id = ?", (session_id,))
    return int(row["cards_printed"]) if row else 0
