"""Paper ballot cards typed by helpers: one transaction per card, corrections audited."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from facilitation.i18n_keys import N_
from facilitation.polls import AnswerError
from facilitation.store.database import Database
from facilitation.store.queries import now


async def save_card(db: Database, session_id: int, card: int, token_hash: str, language: str,
                    question_id: int, value: Any, *, correction: bool, who: str) -> None:
    """Store a card's answer. Everything is checked inside the one write transaction, so two
    helpers typing the same card at once cannot both succeed: a card already entered for the
    question is refused unless it is a correction, which keeps the earlier answer in the
    audit trail."""

    def op(conn: sqlite3.Connection) -> None:
        cursor = conn.execute("SELECT state FROM questions WHERE id = ? AND session_id = ?",
                                (question_id, session_id))
        row = cursor.fetchone()
        if row is None or row["state"] != "open":
            raise AnswerError(N_("This question is closed: your answer was not recorded."), 409)
        conn.execute(
            "INSERT OR IGNORE INTO participants (session_id, token_hash, name, language,"
            " channel, joined_at) VALUES (?, ?, '', ?, 'paper', ?)",
            (session_id, token_hash, language, now()))
        cursor = conn.execute("SELECT id FROM participants WHERE token_hash = ?",
                                (token_hash,))
        participant = cursor.fetchone()
        assert participant is not None  # noqa: S101
        cursor = conn.execute("SELECT value FROM answers WHERE question_id = ?"
                                " AND participant_id = ?",
                                (question_id, participant["id"]))
        earlier = cursor.fetchone()
        after = json.dumps(value, ensure_ascii=False)
        if earlier is not None:
            if not correction:
                raise AnswerError(N_("Card %(card)s was already entered for this question. "
                                     "Tick “correction” to replace it."), 409, card=card)
            conn.execute(
                "INSERT INTO card_audit (session_id, card, question_id, before, after, who, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, card, question_id, earlier["value"], after, who, now()))
        conn.execute(
            "INSERT INTO answers (question_id, participant_id, value, answered_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (question_id, participant_id)"
            " DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
            (question_id, participant["id"], after, now()))

    await db.write(op)


async def card_count(db: Database, session_id: int) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM participants WHERE session_id = ?"
                            " AND channel = 'paper'", (session_id,))
    return int(row["n"]) if row else 0


async def corrections(db: Database, session_id: int) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT card, question_id, before, after, who, at FROM card_audit"
                             " WHERE session_id = ? ORDER BY id", (session_id,))
    return [dict(row) for row in rows]
