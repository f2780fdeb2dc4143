"""SQL of the proposals' vectors (the sentence encoder's, for suggested themes)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from facilitation.store.database import Database
from facilitation.store.queries import now

SAVE = ("INSERT INTO proposal_vectors (proposal_id, engine, vector, made_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (proposal_id) DO UPDATE SET"
        " engine = excluded.engine, vector = excluded.vector, made_at = excluded.made_at")


def _marks(count: int) -> str:
    return ", ".join("?" * count)


async def texts(db: Database, proposal_ids: Sequence[int]) -> list[tuple[int, str]]:
    """The proposals' ids and texts (those that still exist), for embedding."""
    if not proposal_ids:
        return []
    rows = await db.fetchall(
        f"SELECT id, text FROM proposals WHERE id IN ({_marks(len(proposal_ids))})"  # noqa: S608
        " ORDER BY id", tuple(proposal_ids))
    return [(int(r["id"]), str(r["text"])) for r in rows]


async def stored(db: Database, proposal_ids: Sequence[int], engine: str) -> dict[int, bytes]:
    """The vectors `engine` made of these proposals, by id (missing: not made yet)."""
    found: dict[int, bytes] = {}
    ids = list(proposal_ids)
    for start in range(0, len(ids), 500):  # bounded statements, on either store
        chunk = ids[start:start + 500]
        rows = await db.fetchall(
            f"SELECT proposal_id, vector FROM proposal_vectors WHERE proposal_id IN"  # noqa: S608
            f" ({_marks(len(chunk))}) AND engine = ?", (*chunk, engine))
        found.update({int(r["proposal_id"]): bytes(r["vector"]) for r in rows})
    return found


def save(engine: str, made: Sequence[tuple[int, str, bytes]]) -> Callable[
        [sqlite3.Connection], int]:
    """Store (proposal id, text embedded, vector) rows; returns how many were kept. A
    vector is kept only if its proposal still has the text embedded: a correction made
    while the model worked leaves no stale vector behind."""

    def op(conn: sqlite3.Connection) -> int:
        kept = 0
        at = now()
        for proposal_id, text, vector in made:
            if conn.execute("SELECT 1 FROM proposals WHERE id = ? AND text = ?",
                            (proposal_id, text)).fetchone() is None:
                continue
            conn.execute(SAVE, (proposal_id, engine, vector, at))
            kept += 1
        return kept

    return op


def forget(conn: sqlite3.Connection, proposal_id: int) -> None:
    """A corrected text's vector goes (in the correction's transaction)."""
    conn.execute("DELETE FROM proposal_vectors WHERE proposal_id = ?", (proposal_id,))
