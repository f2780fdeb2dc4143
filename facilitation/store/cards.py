"""Paper cards typed by helpers: one write per card, every entry kept with who typed it,
corrections and late cards audited, and the blind second entry that verifies a card."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from facilitation.i18n_keys import N_
from facilitation.store.crowd import SEANCE_CLOSED, CardSaved, Op, card_participant
from facilitation.store.database import Database
from facilitation.store.printing import cards_printed
from facilitation.store.queries import now
from facilitation.voting import VoteError, VoteSettings

POLL = "poll"  # the part of a card holding the poll questions; a vote card is "vote:<step>"
FIRST, CHECK = 1, 2  # the entry that counts, and the blind second entry that verifies it


def vote_part(step_id: int) -> str:
    return f"vote:{step_id}"


def plain(values: dict[int, Any]) -> str:
    """What a card part holds, as stored and compared: JSON with the keys in order."""
    return json.dumps({str(k): values[k] for k in sorted(values)}, ensure_ascii=False,
                      sort_keys=True)


def log_entry(conn: sqlite3.Connection, session_id: int, card: int, part: str, round_: int,
              values: dict[int, Any], who: str, *, late: bool = False) -> None:
    conn.execute("INSERT INTO card_entries (session_id, card, part, round, value, who, at,"
                 " late) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (session_id, card, part, round_, plain(values), who, now(), int(late)))


def _seance_open(conn: sqlite3.Connection, session_id: int) -> None:
    row = conn.execute("SELECT closed_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None or row["closed_at"] is not None:
        raise VoteError(SEANCE_CLOSED, 409)


def save_vote_card(session_id: int, step_id: int, card: int, language: str,
                   values: dict[int, int], *, correction: bool, who: str) -> Op[CardSaved]:
    """A whole paper vote card, typed after the vote closed as well as during it, until the
    séance closes. A card already typed for this vote is refused unless it is a correction,
    which replaces the card's earlier votes (both kept in the entries)."""

    def op(conn: sqlite3.Connection) -> CardSaved:
        _seance_open(conn, session_id)
        row = conn.execute("SELECT settings FROM steps WHERE id = ? AND session_id = ?"
                           " AND kind = 'vote'", (step_id, session_id)).fetchone()
        if row is None:
            raise LookupError(step_id)
        settings = VoteSettings.from_json(row["settings"])
        kind = "theme" if settings.target == "themes" else "proposal"
        saved = card_participant(conn, session_id, card, language)
        earlier = conn.execute("SELECT 1 FROM votes WHERE step_id = ? AND participant_id = ?",
                               (step_id, saved.participant.id)).fetchone()
        if earlier is not None and not correction:
            raise VoteError(N_("Card %(card)s was already entered for this vote. Tick "
                               "“correction” to replace it."), 409, card=card)
        conn.execute("DELETE FROM votes WHERE step_id = ? AND participant_id = ?",
                     (step_id, saved.participant.id))
        conn.executemany(
            "INSERT INTO votes (step_id, participant_id, item_kind, item_id, value, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(step_id, saved.participant.id, kind, item, value, now())
             for item, value in values.items()])
        log_entry(conn, session_id, card, vote_part(step_id), FIRST, values, who,
                  late=not settings.open)
        return saved

    return op


def save_check(session_id: int, card: int, part: str, values: dict[int, Any], *,
               correction: bool, who: str) -> Op[None]:
    """The blind second entry of a card part: kept beside the first, never counted."""

    def op(conn: sqlite3.Connection) -> None:
        _seance_open(conn, session_id)
        earlier = conn.execute("SELECT 1 FROM card_entries WHERE session_id = ? AND card = ?"
                               " AND part = ? AND round = ?",
                               (session_id, card, part, CHECK)).fetchone()
        if earlier is not None and not correction:
            raise VoteError(N_("Card %(card)s was already entered for this check. Tick "
                               "“correction” to replace it."), 409, card=card)
        log_entry(conn, session_id, card, part, CHECK, values, who)

    return op


# What the helpers and the facilitator see ---------------------------------------------------


async def card_count(db: Database, session_id: int) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM participants WHERE session_id = ?"
                            " AND channel = 'paper'", (session_id,))
    return int(row["n"]) if row else 0


async def corrections(db: Database, session_id: int) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT card, question_id, before, after, who, at FROM card_audit"
                             " WHERE session_id = ? ORDER BY id", (session_id,))
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class Typing:
    """The running picture of paper entry in a séance."""

    printed: int  # numbered cards printed (the highest number asked for)
    typed: dict[str, frozenset[int]]  # part -> card numbers typed (first entry)
    checked: dict[str, frozenset[int]]  # part -> card numbers typed again blind
    by_helper: dict[str, Counter[str]]  # helper -> part -> entries
    late: int  # entries typed after their question or vote closed

    def missing(self, part: str) -> list[int]:
        """Printed card numbers not typed yet for this part (beyond the printed range, the
        highest number typed counts as printed)."""
        typed = self.typed.get(part, frozenset())
        top = max([self.printed, *typed])
        return [n for n in range(1, top + 1) if n not in typed]


async def typing(db: Database, session_id: int) -> Typing:
    rows = await db.fetchall("SELECT card, part, round, who, late FROM card_entries"
                             " WHERE session_id = ?", (session_id,))
    typed: dict[str, set[int]] = {}
    checked: dict[str, set[int]] = {}
    by_helper: dict[str, Counter[str]] = {}
    late = 0
    for row in rows:
        (typed if row["round"] == FIRST else checked).setdefault(row["part"], set()).add(
            int(row["card"]))
        by_helper.setdefault(row["who"], Counter())[row["part"]] += 1
        late += int(row["late"])
    return Typing(await cards_printed(db, session_id),
                  {k: frozenset(v) for k, v in typed.items()},
                  {k: frozenset(v) for k, v in checked.items()}, by_helper, late)


@dataclass(frozen=True)
class Check:
    """A card part typed twice: what counts now (the first entry, as corrected) beside the
    blind second entry. Verified when they are the same."""

    card: int
    part: str
    first: dict[str, Any] | None  # None: the card was only typed in the check
    second: dict[str, Any]

    @property
    def verified(self) -> bool:
        return (self.first or {}) == self.second

    @property
    def void(self) -> bool:
        """Settled as holding nothing (a number typed only in the check, not kept)."""
        return not self.first and not self.second


async def checks(db: Database, session_id: int, poll_questions: Iterable[int]) -> list[Check]:
    """Every card part with a second entry, compared with what the first entry stored."""
    rows = await db.fetchall(
        "SELECT card, part, value FROM card_entries e WHERE session_id = ? AND round = ?"
        " AND id = (SELECT max(id) FROM card_entries WHERE session_id = e.session_id"
        " AND card = e.card AND part = e.part AND round = e.round) ORDER BY card, part",
        (session_id, CHECK))
    if not rows:
        return []
    questions = {str(q) for q in poll_questions}
    stored: dict[tuple[int, str], dict[str, Any]] = {}
    for row in await db.fetchall(
            "SELECT p.card, a.question_id, a.value FROM answers a JOIN participants p"
            " ON p.id = a.participant_id WHERE p.session_id = ? AND p.card IS NOT NULL",
            (session_id,)):
        if str(row["question_id"]) in questions:
            stored.setdefault((int(row["card"]), POLL), {})[str(row["question_id"])] = \
                json.loads(row["value"])
    for row in await db.fetchall(
            "SELECT p.card, v.step_id, v.item_id, v.value FROM votes v JOIN participants p"
            " ON p.id = v.participant_id WHERE p.session_id = ? AND p.card IS NOT NULL",
            (session_id,)):
        stored.setdefault((int(row["card"]), vote_part(int(row["step_id"]))), {})[
            str(row["item_id"])] = int(row["value"])
    return [Check(int(row["card"]), row["part"],
                  stored.get((int(row["card"]), row["part"])), json.loads(row["value"]))
            for row in rows]


async def verified_cards(db: Database, session_id: int,
                         poll_questions: Iterable[int]) -> tuple[int, int]:
    """(cards whose every part typed twice agrees, cards typed twice at all)."""
    by_card: dict[int, bool] = {}
    for check in await checks(db, session_id, poll_questions):
        if check.void:
            continue
        by_card[check.card] = by_card.get(check.card, True) and check.verified
    return sum(by_card.values()), len(by_card)
