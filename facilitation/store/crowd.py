"""SQL of what people send: joining, answers, paper cards, and the idempotency of each.

Each function returns a write operation for `Database.write`: a plain function of the
writer's connection, run with the rest of its group in one call. Checks that must hold
when the write commits (the question is still open…) are made inside it.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from facilitation.i18n_keys import N_
from facilitation.polls import AnswerError
from facilitation.seances import Participant
from facilitation.store.database import Database
from facilitation.store.queries import now

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], T]
CLOSED = N_("This question is closed: your answer was not recorded.")


@dataclass(frozen=True)
class Replayed:
    """The same request was already committed under this idempotency key: its result."""

    result: Any


def idempotent(scope: str, key: str | None, op: Op[T]) -> Op[T | Replayed]:
    """`op`, run at most once per (scope, key): a retry gets the first result back."""
    if not key:
        return op

    def run(conn: sqlite3.Connection) -> T | Replayed:
        row = conn.execute("SELECT result FROM idempotency WHERE scope = ? AND key = ?",
                           (scope, key)).fetchone()
        if row is not None:
            return Replayed(json.loads(row[0]))
        value = op(conn)
        conn.execute("INSERT INTO idempotency (scope, key, result, created_at)"
                     " VALUES (?, ?, ?, ?)", (scope, key, json.dumps(_plain(value)), now()))
        return value

    return run


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


async def done_before(db: Database, scope: str, key: str) -> Replayed | None:
    """What a request with this key gave when it was committed, if it was."""
    row = await db.fetchone("SELECT result FROM idempotency WHERE scope = ? AND key = ?",
                            (scope, key))
    return None if row is None else Replayed(json.loads(row[0]))


def purge_idempotency(older_than: str) -> Op[int]:
    def op(conn: sqlite3.Connection) -> int:
        return conn.execute("DELETE FROM idempotency WHERE created_at < ?",
                            (older_than,)).rowcount

    return op


def insert_participant(session_id: int, token_hash: str, name: str, language: str,
                       channel: str = "phone", subgroup_id: int | None = None,
                       card: int | None = None) -> Op[Participant]:
    def op(conn: sqlite3.Connection) -> Participant:
        cursor = conn.execute(
            "INSERT INTO participants (session_id, token_hash, name, language, channel,"
            " subgroup_id, joined_at, card) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, token_hash, name, language, channel, subgroup_id, now(), card))
        # The séance's first step is never moved to: it starts when the first person
        # arrives (the déroulé used to miss it).
        conn.execute("UPDATE steps SET started_at = ? WHERE started_at IS NULL AND session_id"
                     " = ? AND position = (SELECT current_step FROM sessions WHERE id = ?)",
                     (now(), session_id, session_id))
        assert cursor.lastrowid is not None  # noqa: S101
        return Participant(cursor.lastrowid, session_id, name, language, channel, subgroup_id)

    return op


_ANSWER = ("INSERT INTO answers (question_id, participant_id, value, answered_at)"
           " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM questions q JOIN sessions s"
           " ON s.id = q.session_id WHERE q.id = ? AND q.state = 'open'"
           " AND s.closed_at IS NULL) ON CONFLICT (question_id, participant_id) ")
ANSWER_CHANGEABLE = _ANSWER + ("DO UPDATE SET value = excluded.value,"
                               " answered_at = excluded.answered_at")
ANSWER_ONCE = _ANSWER + "DO NOTHING"


def _store_answer(conn: sqlite3.Connection, question_id: int, participant_id: int,
                  value: str, allow_change: bool) -> bool:
    """One statement: store the answer if the question is open; False if it was not stored
    (question closed, or an answer that may not change was already there)."""
    sql = ANSWER_CHANGEABLE if allow_change else ANSWER_ONCE
    cursor = conn.execute(sql, (question_id, participant_id, value, now(), question_id))
    return cursor.rowcount > 0


def save_answer(question_id: int, participant_id: int, value: Any,
                allow_change: bool) -> Op[Any]:
    stored = json.dumps(value, ensure_ascii=False)

    def op(conn: sqlite3.Connection) -> Any:
        if _store_answer(conn, question_id, participant_id, stored, allow_change):
            return value
        state = conn.execute("SELECT q.state, s.closed_at FROM questions q JOIN sessions s"
                             " ON s.id = q.session_id WHERE q.id = ?",
                             (question_id,)).fetchone()
        if state is None or state[0] != "open" or state[1] is not None:
            raise AnswerError(CLOSED, 409)
        raise AnswerError(N_("You have already answered this question."), 409)

    return op


@dataclass(frozen=True)
class CardSaved:
    participant: Participant
    created: bool  # the card was new to the séance


def card_participant(conn: sqlite3.Connection, session_id: int, card: int,
                     language: str) -> CardSaved:
    """The participant standing for a paper card, created on its first entry. It holds no
    credential: its token hash is random and no one is ever given a token for it."""
    row = conn.execute("SELECT * FROM participants WHERE session_id = ? AND card = ?",
                       (session_id, card)).fetchone()
    if row is not None:
        return CardSaved(Participant(int(row["id"]), session_id, "", row["language"], "paper",
                                     row["subgroup_id"]), False)
    token_hash = "paper:" + secrets.token_hex(24)
    person = insert_participant(session_id, token_hash, "", language, "paper", card=card)(conn)
    return CardSaved(person, True)


def save_card(session_id: int, card: int, language: str, question_id: int, value: Any, *,
              correction: bool, who: str) -> Op[CardSaved]:
    """A card's answer. Everything is checked inside the one write, so two helpers typing
    the same card at once cannot both succeed: a card already entered for the question is
    refused unless it is a correction, which keeps the earlier answer in the audit trail."""
    after = json.dumps(value, ensure_ascii=False)

    def op(conn: sqlite3.Connection) -> CardSaved:
        row = conn.execute("SELECT q.state, s.closed_at FROM questions q JOIN sessions s"
                           " ON s.id = q.session_id WHERE q.id = ? AND q.session_id = ?",
                           (question_id, session_id)).fetchone()
        if row is None or row["state"] != "open" or row["closed_at"] is not None:
            raise AnswerError(CLOSED, 409)
        saved = card_participant(conn, session_id, card, language)
        earlier = conn.execute("SELECT value FROM answers WHERE question_id = ?"
                               " AND participant_id = ?",
                               (question_id, saved.participant.id)).fetchone()
        if earlier is not None:
            if not correction:
                raise AnswerError(N_("Card %(card)s was already entered for this question. "
                                     "Tick “correction” to replace it."), 409, card=card)
            conn.execute(
                "INSERT INTO card_audit (session_id, card, question_id, before, after, who, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, card, question_id, earlier["value"], after, who, now()))
        _store_answer(conn, question_id, saved.participant.id, after, True)
        return saved

    return op


SEANCE_CLOSED = N_("This séance is closed: nothing can be changed any more.")


def save_card_sheet(session_id: int, card: int, language: str, values: dict[int, Any], *,
                    correction: bool, who: str) -> Op[CardSaved]:
    """A whole paper card, as printed: its answers to the séance's questions, open or not,
    in one write. A question already entered for this card refuses the whole card unless
    it is a correction (the earlier answer kept in the audit). An answer typed after its
    question closed counts in its results and is marked late in the audit."""

    def op(conn: sqlite3.Connection) -> CardSaved:
        seance = conn.execute("SELECT closed_at FROM sessions WHERE id = ?",
                              (session_id,)).fetchone()
        if seance is None or seance["closed_at"] is not None:
            raise AnswerError(SEANCE_CLOSED, 409)
        saved = card_participant(conn, session_id, card, language)
        for question_id, value in values.items():
            row = conn.execute("SELECT state FROM questions WHERE id = ? AND session_id = ?",
                               (question_id, session_id)).fetchone()
            if row is None:
                raise LookupError(question_id)
            after = json.dumps(value, ensure_ascii=False)
            earlier = conn.execute("SELECT value FROM answers WHERE question_id = ?"
                                   " AND participant_id = ?",
                                   (question_id, saved.participant.id)).fetchone()
            if earlier is not None and not correction:
                raise AnswerError(N_("Card %(card)s was already entered. Tick “correction” "
                                     "to replace it."), 409, card=card)
            late = row["state"] == "closed"
            if earlier is not None or late:
                conn.execute(
                    "INSERT INTO card_audit (session_id, card, question_id, before, after, who,"
                    " at, late) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (session_id, card, question_id, earlier["value"] if earlier else "",
                     after, who, now(), int(late)))
            # Stored whatever the question's state: the séance is open (checked above).
            conn.execute(CARD_ANSWER, (question_id, saved.participant.id, after, now()))
        return saved

    return op


CARD_ANSWER = ("INSERT INTO answers (question_id, participant_id, value, answered_at)"
               " VALUES (?, ?, ?, ?) ON CONFLICT (question_id, participant_id)"
               " DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at")

