"""SQL of who joined a séance as the facilitator sees them, and of excluding a participant."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from facilitation.store.crowd import Op
from facilitation.store.database import Database
from facilitation.store.queries import now

PEOPLE_LISTED = 200  # the latest who joined; the count says the rest


@dataclass(frozen=True)
class Person:
    """A participant as the facilitator's list shows them, with what they sent."""

    id: int
    name: str
    channel: str
    subgroup: str
    joined_at: str  # ISO, UTC
    excluded: bool
    answers: int
    proposals: int
    votes: int


@dataclass(frozen=True)
class Exclusion:
    changed: tuple[int, ...]  # participants whose state changed
    proposed: bool  # one of them sent proposals: the wall and the vote's items move


_PEOPLE = (
    "SELECT p.id, p.name, p.channel, coalesce(g.name, '') AS subgroup, p.joined_at,"
    " p.excluded_at IS NOT NULL AS excluded,"
    " (SELECT count(*) FROM answers a WHERE a.participant_id = p.id) AS answers,"
    " (SELECT count(*) FROM proposals r WHERE r.participant_id = p.id) AS proposals,"
    " (SELECT count(*) FROM votes v WHERE v.participant_id = p.id) AS votes"
    " FROM participants p LEFT JOIN subgroups g ON g.id = p.subgroup_id"
    " WHERE p.session_id = ? AND (p.excluded_at IS NOT NULL) = ? ORDER BY p.id DESC LIMIT ?")


async def list_people(db: Database, session_id: int, *, excluded: bool = False,
                      limit: int = PEOPLE_LISTED) -> list[Person]:
    """The latest who joined (or who were excluded), the latest first."""
    rows = await db.fetchall(_PEOPLE, (session_id, int(excluded), limit))
    return [Person(int(r["id"]), str(r["name"]), str(r["channel"]), str(r["subgroup"]),
                   str(r["joined_at"]), bool(r["excluded"]), int(r["answers"]),
                   int(r["proposals"]), int(r["votes"])) for r in rows]


async def busy_minutes(db: Database, session_id: int, *, at_least: int = 10,
                       limit: int = 5) -> list[tuple[str, int]]:
    """The minutes (UTC, "2026-03-05T18:42") in which at least `at_least` participants
    still counted joined, the busiest first: where a burst of joins shows."""
    rows = await db.fetchall(
        "SELECT substr(joined_at, 1, 16) AS minute, count(*) AS n FROM participants"
        " WHERE session_id = ? AND excluded_at IS NULL AND channel != 'paper'"
        " GROUP BY minute HAVING count(*) >= ? ORDER BY n DESC, minute LIMIT ?",
        (session_id, at_least, limit))
    return [(str(r["minute"]), int(r["n"])) for r in rows]


async def excluded_count(db: Database, session_id: int) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM participants WHERE session_id = ?"
                            " AND excluded_at IS NOT NULL", (session_id,))
    return int(row["n"]) if row else 0


def _marks(values: object) -> str:
    """One placeholder per value, for `IN (...)`: the values still travel as parameters."""
    return ", ".join("?" * len(values))  # type: ignore[arg-type]


def set_excluded(session_id: int, ids: list[int], excluded: bool, who: str, *,
                 minute: str | None = None) -> Op[Exclusion]:
    """Exclude (or include again) participants of the séance, as one write; each change
    is written in the audit. `minute` adds those who joined then (phones, not paper)."""

    def op(conn: sqlite3.Connection) -> Exclusion:
        wanted = set(ids)
        if minute is not None:
            wanted |= {int(r[0]) for r in conn.execute(
                "SELECT id FROM participants WHERE session_id = ? AND channel != 'paper'"
                " AND substr(joined_at, 1, 16) = ?", (session_id, minute[:16]))}
        wanted = {pid for pid in wanted if 0 < pid < 2**63}
        if not wanted:
            return Exclusion((), False)
        state = "excluded_at IS NULL" if excluded else "excluded_at IS NOT NULL"
        changed = sorted(int(r[0]) for r in conn.execute(
            f"SELECT id FROM participants WHERE session_id = ? AND {state}"  # noqa: S608
            f" AND id IN ({_marks(wanted)})", (session_id, *wanted)))
        if not changed:
            return Exclusion((), False)
        at = now()
        conn.executemany("UPDATE participants SET excluded_at = ? WHERE id = ?",
                         [(at if excluded else None, pid) for pid in changed])
        conn.executemany(
            "INSERT INTO participant_audit (session_id, participant_id, action, who, at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(session_id, pid, "exclude" if excluded else "include", who, at)
             for pid in changed])
        proposed = conn.execute(
            f"SELECT 1 FROM proposals WHERE participant_id IN ({_marks(changed)})"  # noqa: S608
            " LIMIT 1", changed).fetchone()
        return Exclusion(tuple(changed), proposed is not None)

    return op
