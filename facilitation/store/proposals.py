"""SQL for proposals, moderation (with its audit trail), themes and suggested themes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace

import aiosqlite

from facilitation.i18n_keys import N_
from facilitation.proposals import (
    Proposal,
    ProposalError,
    StepSettings,
    Theme,
    check_limit,
    check_merge,
    group_merged,
)
from facilitation.store import vectors
from facilitation.store.database import Database
from facilitation.store.queries import now


async def list_subgroups(db: Database, session_id: int) -> list[tuple[int, str]]:
    rows = await db.fetchall(
        "SELECT id, name FROM subgroups WHERE session_id = ? ORDER BY position", (session_id,)
    )
    return [(int(r["id"]), str(r["name"])) for r in rows]




def _proposal(row: aiosqlite.Row) -> Proposal:
    return Proposal(
        id=int(row["id"]), text=row["text"], channel=row["channel"],
        subgroup=row["subgroup"] or "", participant_id=row["participant_id"],
        hidden=bool(row["hidden"]), pinned=bool(row["pinned"]), merged_into=row["merged_into"],
        theme_id=row["theme_id"],
    )


SELECT = ("SELECT p.*, g.name AS subgroup FROM proposals p"
          " LEFT JOIN subgroups g ON g.id = p.subgroup_id WHERE p.session_id = ?")
# Proposals that count: not from a participant the facilitator excluded.
COUNTED = ("SELECT p.*, g.name AS subgroup FROM proposals p"
           " LEFT JOIN subgroups g ON g.id = p.subgroup_id"
           " LEFT JOIN participants x ON x.id = p.participant_id"
           " WHERE p.session_id = ? AND x.excluded_at IS NULL")


async def list_proposals(db: Database, session_id: int) -> list[Proposal]:
    """Every proposal of the séance that counts, each with those merged into it. An
    excluded participant's proposals are left out, with those merged into them."""
    rows = await db.fetchall(COUNTED + " ORDER BY p.theme_position, p.id", (session_id,))
    order = {int(r["id"]): i for i, r in enumerate(rows)}
    grouped = group_merged(_proposal(row) for row in rows)
    return sorted(grouped, key=lambda p: order[p.id])


async def own_proposals(db: Database, session_id: int, participant_id: int) -> list[Proposal]:
    rows = await db.fetchall(SELECT + " AND p.participant_id = ? ORDER BY p.id",
                             (session_id, participant_id))
    return [_proposal(row) for row in rows]


async def add_proposal(db: Database, session_id: int, step_id: int, text: str, channel: str, *,
                       participant_id: int | None = None, subgroup_id: int | None = None,
                       settings: StepSettings | None = None) -> int:
    return await db.write(add_proposal_op(session_id, step_id, text, channel,
                                          participant_id=participant_id,
                                          subgroup_id=subgroup_id, settings=settings))


def add_proposal_op(session_id: int, step_id: int, text: str, channel: str, *,
                    participant_id: int | None = None, subgroup_id: int | None = None,
                    settings: StepSettings | None = None,
                    while_current: bool = False) -> Callable[[sqlite3.Connection], int]:
    """A proposal, as one write; a participant's limit is checked inside the transaction.
    With `while_current`, the step must still be the séance's current one."""

    def op(conn: sqlite3.Connection) -> int:
        current = not while_current or conn.execute(
            "SELECT 1 FROM sessions s JOIN steps t ON t.session_id = s.id"
            " AND t.position = s.current_step WHERE s.id = ? AND t.id = ?"
            " AND t.kind = 'proposals' AND s.closed_at IS NULL", (session_id, step_id)).fetchone()
        if not current:
            raise ProposalError(N_("Proposals are closed: yours was not recorded."), 409)
        if participant_id is not None and settings is not None:
            cursor = conn.execute(
                "SELECT count(*) FROM proposals WHERE participant_id = ? AND step_id = ?",
                (participant_id, step_id),
            )
            row = cursor.fetchone()
            check_limit(int(row[0]) if row else 0, settings)
        cursor = conn.execute(
            "INSERT INTO proposals (session_id, step_id, participant_id, channel, subgroup_id,"
            " text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, step_id, participant_id, channel, subgroup_id, text, now()),
        )
        assert cursor.lastrowid is not None  # noqa: S101
        _audit(conn, cursor.lastrowid, "add", "", text, channel)
        return cursor.lastrowid

    return op


def _audit(conn: sqlite3.Connection, proposal_id: int, action: str, before: str,
                 after: str, role: str) -> None:
    conn.execute(
        "INSERT INTO proposal_audit (proposal_id, action, before, after, role, at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (proposal_id, action, before, after, role, now()),
    )


def _get(conn: sqlite3.Connection, session_id: int, proposal_id: int) -> aiosqlite.Row:
    cursor = conn.execute("SELECT p.*, '' AS subgroup FROM proposals p"
                            " WHERE p.id = ? AND p.session_id = ?",
                            (proposal_id, session_id))
    row = cursor.fetchone()
    if row is None:
        raise LookupError(proposal_id)
    return row


async def set_flag(db: Database, session_id: int, proposal_id: int, flag: str,
                   value: bool) -> None:
    """Hide/unhide or pin/unpin a proposal (recorded in the audit trail)."""
    if flag not in ("hidden", "pinned"):
        raise ValueError(flag)

    def op(conn: sqlite3.Connection) -> None:
        row = _get(conn, session_id, proposal_id)
        conn.execute(f"UPDATE proposals SET {flag} = ? WHERE id = ?",  # noqa: S608
                           (int(value), proposal_id))
        _audit(conn, proposal_id, flag, str(row[flag]), str(int(value)), "facilitator")

    await db.write(op)


async def edit_text(db: Database, session_id: int, proposal_id: int, text: str) -> None:
    """Correct a proposal's text; the text before is kept in the audit trail."""

    def op(conn: sqlite3.Connection) -> None:
        row = _get(conn, session_id, proposal_id)
        if row["text"] == text:
            return
        conn.execute("UPDATE proposals SET text = ? WHERE id = ?", (text, proposal_id))
        vectors.forget(conn, proposal_id)  # made again from the corrected text
        _audit(conn, proposal_id, "edit", row["text"], text, "facilitator")

    await db.write(op)


async def merge(db: Database, session_id: int, target_id: int, source_ids: list[int]) -> None:
    """Merge duplicates into `target_id`; the originals stay, pointing to it."""

    def op(conn: sqlite3.Connection) -> None:
        target = _proposal(_get(conn, session_id, target_id))
        sources = [_proposal(_get(conn, session_id, pid)) for pid in source_ids]
        for pid in check_merge(target, sources):
            conn.execute("UPDATE proposals SET merged_into = ?, theme_id = NULL"
                               " WHERE id = ?", (target_id, pid))
            _audit(conn, pid, "merge", "", str(target_id), "facilitator")

    await db.write(op)


async def unmerge(db: Database, session_id: int, proposal_id: int) -> None:
    def op(conn: sqlite3.Connection) -> None:
        row = _get(conn, session_id, proposal_id)
        if row["merged_into"] is None:
            raise ProposalError(N_("This proposal is not merged."), 409)
        conn.execute("UPDATE proposals SET merged_into = NULL WHERE id = ?",
                           (proposal_id,))
        _audit(conn, proposal_id, "unmerge", str(row["merged_into"]), "", "facilitator")

    await db.write(op)


async def audit_trail(db: Database, proposal_id: int) -> list[dict[str, str]]:
    rows = await db.fetchall("SELECT action, before, after, role, at FROM proposal_audit"
                             " WHERE proposal_id = ? ORDER BY id", (proposal_id,))
    return [dict(row) for row in rows]


# Themes ----------------------------------------------------------------------------------


async def list_themes(db: Database, session_id: int) -> list[Theme]:
    rows = await db.fetchall("SELECT * FROM themes WHERE session_id = ? ORDER BY position, id",
                             (session_id,))
    return [Theme(int(r["id"]), r["name"], int(r["position"])) for r in rows]


def _insert_theme(conn: sqlite3.Connection, session_id: int, name: str) -> int:
    cursor = conn.execute("SELECT coalesce(max(position), -1) + 1 FROM themes"
                            " WHERE session_id = ?", (session_id,))
    row = cursor.fetchone()
    cursor = conn.execute(
        "INSERT INTO themes (session_id, name, position, created_at) VALUES (?, ?, ?, ?)",
        (session_id, name, int(row[0]) if row else 0, now()),
    )
    assert cursor.lastrowid is not None  # noqa: S101
    return cursor.lastrowid


async def create_theme(db: Database, session_id: int, name: str) -> int:
    def op(conn: sqlite3.Connection) -> int:
        return _insert_theme(conn, session_id, name)

    return await db.write(op)


def _theme(conn: sqlite3.Connection, session_id: int, theme_id: int) -> None:
    cursor = conn.execute("SELECT 1 FROM themes WHERE id = ? AND session_id = ?",
                            (theme_id, session_id))
    if cursor.fetchone() is None:
        raise LookupError(theme_id)


async def rename_theme(db: Database, session_id: int, theme_id: int, name: str) -> None:
    def op(conn: sqlite3.Connection) -> None:
        _theme(conn, session_id, theme_id)
        conn.execute("UPDATE themes SET name = ? WHERE id = ?", (name, theme_id))

    await db.write(op)


async def delete_theme(db: Database, session_id: int, theme_id: int) -> None:
    """Delete a theme; its proposals go back to the unsorted ones, nothing is lost."""

    def op(conn: sqlite3.Connection) -> None:
        _theme(conn, session_id, theme_id)
        conn.execute("UPDATE proposals SET theme_id = NULL WHERE theme_id = ?",
                           (theme_id,))
        conn.execute("DELETE FROM themes WHERE id = ?", (theme_id,))

    await db.write(op)


async def shift_theme(db: Database, session_id: int, theme_id: int, delta: int) -> None:
    """Move a theme one place earlier (-1) or later (+1) on the board."""

    def op(conn: sqlite3.Connection) -> None:
        _theme(conn, session_id, theme_id)
        cursor = conn.execute("SELECT id FROM themes WHERE session_id = ?"
                                " ORDER BY position, id", (session_id,))
        ids = [int(r[0]) for r in cursor.fetchall()]
        i = ids.index(theme_id)
        j = max(0, min(len(ids) - 1, i + delta))
        ids.insert(j, ids.pop(i))
        conn.executemany("UPDATE themes SET position = ? WHERE id = ?",
                               [(pos, tid) for pos, tid in enumerate(ids)])

    await db.write(op)


async def move(db: Database, session_id: int, proposal_id: int, theme_id: int | None,
               position: int | None = None) -> None:
    """Put a proposal in a theme (None: back to the unsorted ones), at `position` or last."""

    def op(conn: sqlite3.Connection) -> None:
        row = _get(conn, session_id, proposal_id)
        if row["merged_into"] is not None:
            raise ProposalError(N_("This proposal is already merged into another one."), 409)
        if theme_id is not None:
            _theme(conn, session_id, theme_id)
        cursor = conn.execute(
            "SELECT id FROM proposals WHERE session_id = ? AND theme_id IS ? AND id != ?"
            " AND merged_into IS NULL ORDER BY theme_position, id",
            (session_id, theme_id, proposal_id),
        )
        ids = [int(r[0]) for r in cursor.fetchall()]
        ids.insert(len(ids) if position is None else max(0, min(position, len(ids))),
                   proposal_id)
        conn.execute("UPDATE proposals SET theme_id = ? WHERE id = ?",
                           (theme_id, proposal_id))
        conn.executemany("UPDATE proposals SET theme_position = ? WHERE id = ?",
                               [(pos, pid) for pos, pid in enumerate(ids)])

    await db.write(op)


# Suggested themes ------------------------------------------------------------------------


async def replace_suggestions(db: Database, session_id: int,
                              suggestions: list[tuple[str, list[int]]]) -> None:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM theme_suggestions WHERE session_id = ?", (session_id,))
        conn.executemany(
            "INSERT INTO theme_suggestions (session_id, title, proposal_ids, created_at)"
            " VALUES (?, ?, ?, ?)",
            [(session_id, title, json.dumps(ids), now()) for title, ids in suggestions],
        )

    await db.write(op)


async def list_suggestions(db: Database, session_id: int) -> list[tuple[int, str, list[int]]]:
    rows = await db.fetchall("SELECT * FROM theme_suggestions WHERE session_id = ? ORDER BY id",
                             (session_id,))
    return [(int(r["id"]), r["title"], json.loads(r["proposal_ids"])) for r in rows]


async def accept_suggestion(db: Database, session_id: int, suggestion_id: int,
                            name: str) -> int:
    """Create the theme and move into it those of its proposals still unsorted."""

    def op(conn: sqlite3.Connection) -> int:
        cursor = conn.execute("SELECT proposal_ids FROM theme_suggestions"
                                " WHERE id = ? AND session_id = ?",
                                (suggestion_id, session_id))
        row = cursor.fetchone()
        if row is None:
            raise LookupError(suggestion_id)
        theme_id = _insert_theme(conn, session_id, name)
        for position, pid in enumerate(json.loads(row["proposal_ids"])):
            conn.execute(
                "UPDATE proposals SET theme_id = ?, theme_position = ? WHERE id = ?"
                " AND session_id = ? AND theme_id IS NULL AND merged_into IS NULL",
                (theme_id, position, pid, session_id))
        conn.execute("DELETE FROM theme_suggestions WHERE id = ?", (suggestion_id,))
        return theme_id

    return await db.write(op)


async def reject_suggestion(db: Database, session_id: int, suggestion_id: int) -> None:
    def op(conn: sqlite3.Connection) -> None:
        cursor = conn.execute("DELETE FROM theme_suggestions WHERE id = ? AND session_id = ?",
                              (suggestion_id, session_id))
        if cursor.rowcount == 0:
            raise LookupError(suggestion_id)  # not this séance's, or already settled

    await db.write(op)


async def set_wall_by_subgroup(db: Database, session_id: int, step_id: int, value: bool) -> None:
    def op(conn: sqlite3.Connection) -> None:
        cursor = conn.execute("SELECT settings FROM steps WHERE id = ? AND session_id = ?"
                                " AND kind = 'proposals'", (step_id, session_id))
        row = cursor.fetchone()
        if row is None:
            raise LookupError(step_id)
        settings = replace(StepSettings.from_json(row["settings"]), wall_by_subgroup=value)
        conn.execute("UPDATE steps SET settings = ? WHERE id = ?",
                           (settings.to_json(), step_id))

    await db.write(op)
