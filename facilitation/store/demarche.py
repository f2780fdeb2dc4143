"""What the démarche synthesis is built from, and the organiser's decisions on it.

A cross-cutting element (`crosscutting`) holds its members in `crosscutting_members`,
each named by the proposal's or theme's id: a text corrected later, or two proposals with
the same words, never change what it holds. Every decision and edit is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

from facilitation.demarche import MAX_MEMBERS, CrossError, Member, Recurring
from facilitation.i18n_keys import N_
from facilitation.report import Edits, Report
from facilitation.store import queries as q
from facilitation.store import report as qr
from facilitation.store.crowd import Replayed, idempotent
from facilitation.store.database import Database

T = TypeVar("T")

# A séance held: closed, or someone joined, or a step was run. A séance only planned
# (even one holding what the previous one carried over) gives no cross-cutting element.
HELD = ("(s.closed_at IS NOT NULL"
        " OR EXISTS (SELECT 1 FROM participants p WHERE p.session_id = s.id)"
        " OR EXISTS (SELECT 1 FROM steps t WHERE t.session_id = s.id"
        " AND t.started_at IS NOT NULL))")

# Originals only: a proposal or theme carried over (origin_id set) is a copy of one an
# earlier séance already counts. (Built from constants only.)
_PROPOSALS = ("SELECT 'proposal' AS kind, x.id, s.number, x.text, x.session_id"  # noqa: S608
              " FROM proposals x JOIN sessions s ON s.id = x.session_id"
              " WHERE s.workshop_id = ? AND x.origin_id IS NULL AND x.hidden = 0"
              " AND x.merged_into IS NULL AND " + HELD)
_THEMES = ("SELECT 'theme' AS kind, x.id, s.number, x.name AS text, x.session_id"  # noqa: S608
           " FROM themes x JOIN sessions s ON s.id = x.session_id"
           " WHERE s.workshop_id = ? AND x.origin_id IS NULL AND " + HELD)


async def reports(db: Database, workshop_id: int, zone: dt.tzinfo = dt.UTC) -> list[Report]:
    found = []
    for seance in await q.list_sessions(db, workshop_id):
        report = await qr.build(db, seance.id, zone)
        if report is not None:
            found.append(report)
    return found


async def _theme_wording(db: Database, workshop_id: int) -> dict[int, str]:
    """Theme names as the reports print them (the facilitator may have reworded them)."""
    rows = await db.fetchall(
        "SELECT e.data FROM report_edits e JOIN sessions s ON s.id = e.session_id"
        " WHERE s.workshop_id = ?", (workshop_id,))
    found: dict[int, str] = {}
    for row in rows:
        names = Edits.from_json(row["data"]).theme_names
        found.update({int(k): str(v) for k, v in names.items() if str(k).isdecimal() and v})
    return found


async def sources(db: Database, workshop_id: int) -> list[Member]:
    """Theme names and proposals on the board of the séances held, originals only: what
    cross-cutting elements are suggested from and what the organiser may add to one."""
    wording = await _theme_wording(db, workshop_id)
    rows = await db.fetchall(
        f"{_THEMES} UNION ALL {_PROPOSALS} ORDER BY 3, 1 DESC, 2",  # noqa: S608 - constants
        (workshop_id, workshop_id))
    return [Member(str(r["kind"]), int(r["id"]), int(r["number"]),
                   wording.get(int(r["id"]), str(r["text"])) if r["kind"] == "theme"
                   else str(r["text"])) for r in rows]


def signature(members: tuple[tuple[int, str], ...]) -> str:
    return json.dumps(sorted([list(m) for m in members]), ensure_ascii=False)


def candidate_key(element: Recurring) -> str:
    """A suggested element named by what it holds (its members' ids), not by its place in
    the list: a form sent twice, or from a stale tab, acts on the element it showed or on
    nothing."""
    refs = sorted(element.refs)
    basis = json.dumps(refs) if refs else signature(element.members)
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


async def elements(db: Database, workshop_id: int
                   ) -> list[tuple[int, Recurring, str, tuple[int, ...]]]:
    """Every element confirmed or rejected: (id, element, state, the ids of its member rows,
    in the order of `element.items`, for the forms that remove one). Members are read where
    they live (a corrected text shows corrected); one kept only as text stays as it was."""
    rows = await db.fetchall("SELECT * FROM crosscutting WHERE workshop_id = ? ORDER BY id",
                             (workshop_id,))
    members = await db.fetchall(
        "SELECT m.id AS row_id, m.crosscutting_id, m.item_kind, m.item_id,"
        " coalesce(sp.number, st.number, m.number) AS number,"
        " coalesce(p.text, t.name, m.text) AS text"
        " FROM crosscutting_members m JOIN crosscutting c ON c.id = m.crosscutting_id"
        " LEFT JOIN proposals p ON m.item_kind = 'proposal' AND p.id = m.item_id"
        " LEFT JOIN sessions sp ON sp.id = p.session_id"
        " LEFT JOIN themes t ON m.item_kind = 'theme' AND t.id = m.item_id"
        " LEFT JOIN sessions st ON st.id = t.session_id"
        " WHERE c.workshop_id = ? ORDER BY m.crosscutting_id, m.position, m.id",
        (workshop_id,))
    wording = await _theme_wording(db, workshop_id)
    held: dict[int, list[tuple[int, Member]]] = {}
    for m in members:
        item_id = None if m["item_id"] is None else int(m["item_id"])
        text = str(m["text"])
        if m["item_kind"] == "theme" and item_id in wording:
            text = wording[item_id]
        held.setdefault(int(m["crosscutting_id"]), []).append(
            (int(m["row_id"]), Member(str(m["item_kind"]), item_id, int(m["number"]), text)))
    found = []
    for r in rows:
        pairs = held.get(int(r["id"]), [])
        found.append((int(r["id"]), Recurring.of(str(r["title"]), [m for _, m in pairs]),
                      str(r["state"]), tuple(row for row, _ in pairs)))
    return found


async def decisions(db: Database, workshop_id: int) -> list[tuple[int, Recurring, str]]:
    """Every element confirmed or rejected: (id, element, state); what the exports read."""
    return [(i, element, state) for i, element, state, _rows in
            await elements(db, workshop_id)]


async def decided_keys(db: Database, workshop_id: int) -> set[str]:
    """The keys of the suggestions already confirmed or rejected (see `candidate_key`)."""
    rows = await db.fetchall("SELECT origin FROM crosscutting WHERE workshop_id = ?"
                             " AND origin != ''", (workshop_id,))
    return {str(r["origin"]) for r in rows}


async def audit(db: Database, workshop_id: int) -> list[dict[str, str]]:
    rows = await db.fetchall("SELECT crosscutting_id, action, before, after, who, at"
                             " FROM crosscutting_audit WHERE workshop_id = ? ORDER BY id",
                             (workshop_id,))
    return [dict(r) for r in rows]


# Writes ---------------------------------------------------------------------------------

Op = Callable[[sqlite3.Connection], T]


def _audit(conn: sqlite3.Connection, workshop_id: int, element_id: int, action: str,
           before: str, after: str, who: str) -> None:
    conn.execute("INSERT INTO crosscutting_audit (workshop_id, crosscutting_id, action,"
                 " before, after, who, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (workshop_id, element_id, action, before, after, who, q.now()))


def _insert_members(conn: sqlite3.Connection, element_id: int,
                    members: Sequence[Member]) -> None:
    start = conn.execute("SELECT coalesce(max(position) + 1, 0) FROM crosscutting_members"
                         " WHERE crosscutting_id = ?", (element_id,)).fetchone()[0]
    conn.executemany(
        "INSERT INTO crosscutting_members (crosscutting_id, position, item_kind, item_id,"
        " number, text) VALUES (?, ?, ?, ?, ?, ?)",
        [(element_id, start + i, m.kind, m.id, m.number, m.text)
         for i, m in enumerate(members)])


def _element(conn: sqlite3.Connection, workshop_id: int, element_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM crosscutting WHERE id = ? AND workshop_id = ?",
                       (element_id, workshop_id)).fetchone()
    if row is None:
        raise CrossError(N_("This element no longer exists: it was undone meanwhile."), 404)
    if row["state"] != "confirmed":
        raise CrossError(N_("Only a confirmed element can be changed."), 409)
    return row  # type: ignore[no-any-return]


def _originals(conn: sqlite3.Connection, workshop_id: int, proposal_ids: Sequence[int],
               refused: str = N_("Choose proposals from the list: one of them cannot be"
                                 " added.")) -> list[Member]:
    """The proposals asked for, if each is an original of a séance held of this démarche."""
    marks = ", ".join("?" * len(proposal_ids))
    rows = conn.execute(f"{_PROPOSALS} AND x.id IN ({marks})",  # noqa: S608 - placeholders
                        (workshop_id, *proposal_ids)).fetchall()
    found = {int(r["id"]): Member("proposal", int(r["id"]), int(r["number"]), str(r["text"]))
             for r in rows}
    if len(found) != len(set(proposal_ids)):
        raise CrossError(refused)
    return [found[pid] for pid in dict.fromkeys(proposal_ids)]


async def _run(db: Database, workshop_id: int, key: str | None, op: Op[T]) -> T | None:
    """One write, at most once per idempotency key (a form sent twice): None if replayed."""
    result = await db.write(idempotent(f"crosscutting:{workshop_id}", key, op))
    return None if isinstance(result, Replayed) else result


async def decide(db: Database, workshop_id: int, element: Recurring, state: str, *,
                 origin: str, who: str, key: str | None = None) -> int | None:
    """Confirm or reject a suggestion (`origin` is its key): the new element's id, or None
    if it was decided already."""

    def op(conn: sqlite3.Connection) -> int | None:
        if conn.execute("SELECT 1 FROM crosscutting WHERE workshop_id = ? AND"
                                   " origin = ?", (workshop_id, origin)).fetchone():
            return None  # decided already (a double click, a stale tab)
        cursor = conn.execute(
            "INSERT INTO crosscutting (workshop_id, title, members, state, created_at, origin)"
            " VALUES (?, ?, '[]', ?, ?, ?)",
            (workshop_id, element.title, state, q.now(), origin))
        element_id = int(cursor.lastrowid or 0)
        _insert_members(conn, element_id, element.items)
        _audit(conn, workshop_id, element_id, state, "", element.title, who)
        return element_id

    return await _run(db, workshop_id, key, op)


async def create(db: Database, workshop_id: int, title: str, proposal_ids: Sequence[int], *,
                 who: str, key: str | None) -> int | None:
    """An element the organiser makes by hand: a title and proposals of séances held."""
    if not proposal_ids:
        raise CrossError(N_("Choose at least one proposal for this element."))
    if len(set(proposal_ids)) > MAX_MEMBERS:
        raise CrossError(N_("An element holds at most %(limit)s proposals."),
                         limit=MAX_MEMBERS)

    def op(conn: sqlite3.Connection) -> int:
        members = _originals(conn, workshop_id, proposal_ids)
        cursor = conn.execute(
            "INSERT INTO crosscutting (workshop_id, title, members, state, created_at, origin)"
            " VALUES (?, ?, '[]', 'confirmed', ?, '')", (workshop_id, title, q.now()))
        element_id = int(cursor.lastrowid or 0)
        _insert_members(conn, element_id, members)
        _audit(conn, workshop_id, element_id, "created", "", title, who)
        return element_id

    return await _run(db, workshop_id, key, op)


async def rename(db: Database, workshop_id: int, element_id: int, title: str, *, who: str,
                 key: str | None) -> None:
    def op(conn: sqlite3.Connection) -> None:
        row = _element(conn, workshop_id, element_id)
        if row["title"] == title:
            return
        conn.execute("UPDATE crosscutting SET title = ? WHERE id = ?", (title, element_id))
        _audit(conn, workshop_id, element_id, "renamed", str(row["title"]), title, who)

    await _run(db, workshop_id, key, op)


async def add_member(db: Database, workshop_id: int, element_id: int, proposal_id: int, *,
                     who: str, key: str | None) -> None:
    def op(conn: sqlite3.Connection) -> None:
        _element(conn, workshop_id, element_id)
        if conn.execute("SELECT 1 FROM crosscutting_members WHERE crosscutting_id = ? AND"
                        " item_kind = 'proposal' AND item_id = ?",
                        (element_id, proposal_id)).fetchone():
            return  # already there: nothing to add
        count = conn.execute("SELECT count(*) FROM crosscutting_members WHERE"
                             " crosscutting_id = ?", (element_id,)).fetchone()[0]
        if count >= MAX_MEMBERS:
            raise CrossError(N_("An element holds at most %(limit)s proposals."),
                             limit=MAX_MEMBERS)
        member = _originals(conn, workshop_id, [proposal_id], N_(
            "This proposal cannot be added: choose one of a séance held, from the list."))[0]
        _insert_members(conn, element_id, [member])
        _audit(conn, workshop_id, element_id, "added", "", f"proposal:{proposal_id}", who)

    await _run(db, workshop_id, key, op)


async def remove_member(db: Database, workshop_id: int, element_id: int, member_id: int, *,
                        who: str, key: str | None) -> None:
    def op(conn: sqlite3.Connection) -> None:
        _element(conn, workshop_id, element_id)
        row = conn.execute("SELECT * FROM crosscutting_members WHERE id = ? AND"
                           " crosscutting_id = ?", (member_id, element_id)).fetchone()
        if row is None:
            raise CrossError(N_("This proposal is no longer in this element."), 409)
        count = conn.execute("SELECT count(*) FROM crosscutting_members WHERE"
                             " crosscutting_id = ?", (element_id,)).fetchone()[0]
        if count <= 1:
            raise CrossError(N_("An element keeps at least one proposal: to drop it, undo"
                                " it instead."), 409)
        conn.execute("DELETE FROM crosscutting_members WHERE id = ?", (member_id,))
        what = f"{row['item_kind']}:{row['item_id']}" if row["item_id"] is not None \
            else str(row["text"])
        _audit(conn, workshop_id, element_id, "removed", what, "", who)

    await _run(db, workshop_id, key, op)


async def undo(db: Database, workshop_id: int, decision_id: int, *, who: str,
               key: str | None) -> None:
    """Forget a decision: a confirmed element leaves the synthesis, a rejected suggestion is
    offered again."""

    def op(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT title, state FROM crosscutting WHERE id = ? AND"
                           " workshop_id = ?", (decision_id, workshop_id)).fetchone()
        if row is None:
            raise CrossError(N_("This element no longer exists: it was undone meanwhile."),
                             404)
        conn.execute("DELETE FROM crosscutting WHERE id = ?", (decision_id,))
        _audit(conn, workshop_id, decision_id, "undone", f"{row['state']}: {row['title']}",
               "", who)

    await _run(db, workshop_id, key, op)
