"""The organiser's logins, held on the server, and password hashes replaced over time."""

from __future__ import annotations

import datetime as dt
import sqlite3

from facilitation.store.database import Database

LOGIN_HOURS = 12


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


async def open_session(db: Database, organiser_id: int, token_hash: str) -> None:
    """Record a login for `LOGIN_HOURS`; logins that ended by themselves are dropped."""
    now = _now()

    def op(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM organiser_sessions WHERE expires_at <= ?", (_iso(now),))
        conn.execute("INSERT INTO organiser_sessions (token_hash, organiser_id, created_at,"
                     " expires_at) VALUES (?, ?, ?, ?)",
                     (token_hash, organiser_id, _iso(now),
                      _iso(now + dt.timedelta(hours=LOGIN_HOURS))))

    await db.write(op)


async def organiser_of_session(db: Database, token_hash: str) -> int | None:
    """Given a login's token hash, the organiser it opened, if it has not ended."""
    row = await db.fetchone("SELECT organiser_id FROM organiser_sessions"
                            " WHERE token_hash = ? AND expires_at > ?",
                            (token_hash, _iso(_now())))
    return None if row is None else int(row["organiser_id"])


async def end_session(db: Database, token_hash: str) -> None:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM organiser_sessions WHERE token_hash = ?", (token_hash,))

    await db.write(op)


async def set_password_hash(db: Database, organiser_id: int, password_hash: str) -> None:
    """Replace a hash made with an older scheme (the password itself is unchanged)."""

    def op(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE organisers SET password_hash = ? WHERE id = ?",
                     (password_hash, organiser_id))

    await db.write(op)
