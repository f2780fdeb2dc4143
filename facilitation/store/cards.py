"""Paper ballot cards typed by helpers: one transaction per card, corrections audited."""

from __future__ import annotations

from typing import Any

from facilitation.store.database import Database


async def card_count(db: Database, session_id: int) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM participants WHERE session_id = ?"
                            " AND channel = 'paper'", (session_id,))
    return int(row["n"]) if row else 0


async def corrections(db: Database, session_id: int) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT card, question_id, before, after, who, at FROM card_audit"
                             " WHERE session_id = ? ORDER BY id", (session_id,))
    return [dict(row) for row in rows]
