"""The organiser's editor: steps, questions and tables of a séance; reopening a closed one.

Every write checks, inside its transaction, what the séance already holds: a step or a
question with data keeps it, a step already reached stays where it was, a closed séance
is not changed. `current_step` is a position: it follows its step when steps move."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace

from facilitation.editing import CLOSED, EditError, check_wording_only
from facilitation.i18n_keys import N_
from facilitation.plans import QuestionPlan
from facilitation.polls import Choice, Question
from facilitation.polls import Settings as QuestionSettings
from facilitation.store.database import Database
from facilitation.store.queries import _insert_question, now

Op = Callable[[sqlite3.Connection], object]
PURGED = N_("This séance's raw data was deleted at the end of its retention period: it "
            "cannot be reopened.")
REACHED = N_("This step has already been reached during the séance: it stays in place.")


@dataclass(frozen=True)
class Usage:
    """What a séance's steps and questions already hold, for the editor to show."""

    answers: dict[int, int]  # question id -> how many answered
    step_data: set[int]  # steps with answers, proposals or votes
    used_subgroups: set[str]  # tables someone chose or a proposal is attached to
    closed: bool


async def usage(db: Database, session_id: int) -> Usage:
    answers = {int(r[0]): int(r[1]) for r in await db.fetchall(
        "SELECT a.question_id, count(*) FROM answers a JOIN questions q ON q.id = a.question_id"
        " WHERE q.session_id = ? GROUP BY a.question_id", (session_id,))}
    steps = {int(r[0]) for r in await db.fetchall(
        "SELECT id FROM steps t WHERE session_id = ? AND (EXISTS (SELECT 1 FROM proposals p"
        " WHERE p.step_id = t.id) OR EXISTS (SELECT 1 FROM votes v WHERE v.step_id = t.id)"
        " OR EXISTS (SELECT 1 FROM answers a JOIN questions q ON q.id = a.question_id"
        " WHERE q.step_id = t.id))", (session_id,))}
    used = {str(r[0]) for r in await db.fetchall(
        "SELECT g.name FROM subgroups g WHERE g.session_id = ? AND (EXISTS (SELECT 1 FROM"
        " participants p WHERE p.subgroup_id = g.id) OR EXISTS (SELECT 1 FROM proposals p"
        " WHERE p.subgroup_id = g.id))", (session_id,))}
    row = await db.fetchone("SELECT closed_at FROM sessions WHERE id = ?", (session_id,))
    return Usage(answers, steps, used, bool(row and row["closed_at"]))


async def closed_sessions(db: Database, workshop_id: int) -> set[int]:
    rows = await db.fetchall("SELECT id FROM sessions WHERE workshop_id = ? AND closed_at IS NOT"
                             " NULL", (workshop_id,))
    return {int(r[0]) for r in rows}


async def subgroup_names(db: Database, session_id: int) -> list[str]:
    rows = await db.fetchall("SELECT name FROM subgroups WHERE session_id = ? ORDER BY position",
                             (session_id,))
    return [str(r[0]) for r in rows]


# Checks inside a write -----------------------------------------------------------------


def _still_open(conn: sqlite3.Connection, session_id: int) -> None:
    row = conn.execute("SELECT closed_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise LookupError(session_id)
    if row["closed_at"] is not None:
        raise EditError(CLOSED, 409)


def _step(conn: sqlite3.Connection, session_id: int, step_id: int) -> sqlite3.Row:
    _still_open(conn, session_id)
    row = conn.execute("SELECT * FROM steps WHERE id = ? AND session_id = ?",
                       (step_id, session_id)).fetchone()
    if row is None:
        raise LookupError(step_id)
    return row


def _step_has_data(conn: sqlite3.Connection, step_id: int) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM proposals WHERE step_id = ?)"
        " OR EXISTS (SELECT 1 FROM votes WHERE step_id = ?)"
        " OR EXISTS (SELECT 1 FROM answers a JOIN questions q ON q.id = a.question_id"
        " WHERE q.step_id = ?)", (step_id, step_id, step_id)).fetchone()
    return bool(row[0])


def _renumber(conn: sqlite3.Connection, session_id: int, order: list[int]) -> None:
    """Give the steps `order`'s positions, keeping the séance on the step it is at."""
    started = conn.execute("SELECT count(*) FROM steps WHERE session_id = ? AND started_at"
                           " IS NOT NULL", (session_id,)).fetchone()[0]
    current = conn.execute(
        "SELECT t.id FROM steps t JOIN sessions s ON s.id = t.session_id"
        " WHERE s.id = ? AND t.position = s.current_step", (session_id,)).fetchone()
    # Out of the way first: (session, position) is unique.
    conn.execute("UPDATE steps SET position = -1 - position WHERE session_id = ?", (session_id,))
    conn.executemany("UPDATE steps SET position = ? WHERE id = ?",
                     [(i, step_id) for i, step_id in enumerate(order)])
    target = 0  # a séance not started yet starts at its first step
    if started and current is not None and int(current[0]) in order:
        target = order.index(int(current[0]))
    elif started:
        row = conn.execute("SELECT current_step FROM sessions WHERE id = ?",
                           (session_id,)).fetchone()
        target = max(0, min(int(row[0]), len(order) - 1))
    conn.execute("UPDATE sessions SET current_step = ? WHERE id = ?", (target, session_id))


def _order(conn: sqlite3.Connection, session_id: int) -> list[int]:
    return [int(r[0]) for r in conn.execute(
        "SELECT id FROM steps WHERE session_id = ? ORDER BY position", (session_id,))]


# Steps ---------------------------------------------------------------------------------


def add_step(session_id: int, kind: str, title: str, settings: str) -> Op:
    def op(conn: sqlite3.Connection) -> int:
        _still_open(conn, session_id)
        position = conn.execute("SELECT coalesce(max(position), -1) + 1 FROM steps"
                                " WHERE session_id = ?", (session_id,)).fetchone()[0]
        cursor = conn.execute(
            "INSERT INTO steps (session_id, position, kind, title, prompt, settings)"
            " VALUES (?, ?, ?, ?, '', ?)", (session_id, position, kind, title, settings))
        assert cursor.lastrowid is not None  # noqa: S101
        return cursor.lastrowid

    return op


def update_step(session_id: int, step_id: int, title: str, prompt: str,
                settings: str | None) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        step = _step(conn, session_id, step_id)
        if settings is not None and step["kind"] == "vote":
            old = json.loads(step["settings"] or "{}")
            if old.get("open") or _step_has_data(conn, step_id):
                raise EditError(N_("People have already voted: the way of voting stays as "
                                   "it is."), 409)
        conn.execute("UPDATE steps SET title = ?, prompt = ?, settings = coalesce(?, settings)"
                     " WHERE id = ?", (title, prompt, settings, step_id))

    return op


def move_step(session_id: int, step_id: int, delta: int) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        _step(conn, session_id, step_id)
        order = _order(conn, session_id)
        i = order.index(step_id)
        j = i + delta
        if not 0 <= j < len(order):
            return
        reached = conn.execute("SELECT count(*) FROM steps WHERE id IN (?, ?) AND started_at"
                               " IS NOT NULL", (order[i], order[j])).fetchone()[0]
        if reached:
            raise EditError(REACHED, 409)
        order[i], order[j] = order[j], order[i]
        _renumber(conn, session_id, order)

    return op


def delete_step(session_id: int, step_id: int) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        step = _step(conn, session_id, step_id)
        if _step_has_data(conn, step_id):
            raise EditError(N_("This step holds answers, proposals or votes: it cannot be "
                               "deleted."), 409)
        if step["started_at"] is not None:
            raise EditError(REACHED, 409)
        order = _order(conn, session_id)
        if len(order) == 1:
            raise EditError(N_("A séance keeps at least one step."), 409)
        conn.execute("UPDATE sessions SET screen_question_id = NULL WHERE id = ? AND"
                     " screen_question_id IN (SELECT id FROM questions WHERE step_id = ?)",
                     (session_id, step_id))
        conn.execute("DELETE FROM steps WHERE id = ?", (step_id,))
        order.remove(step_id)
        _renumber(conn, session_id, order)

    return op


# Questions -----------------------------------------------------------------------------


def _question(conn: sqlite3.Connection, session_id: int, question_id: int) -> Question:
    _still_open(conn, session_id)
    row = conn.execute("SELECT * FROM questions WHERE id = ? AND session_id = ?",
                       (question_id, session_id)).fetchone()
    if row is None:
        raise LookupError(question_id)
    choices = tuple(Choice(int(c["id"]), c["label"]) for c in conn.execute(
        "SELECT id, label FROM choices WHERE question_id = ? ORDER BY position", (question_id,)))
    return Question(int(row["id"]), int(row["step_id"]), row["kind"], row["text"], choices,
                    row["max_choices"], row["state"], QuestionSettings.from_json(row["settings"]))


def _answered(conn: sqlite3.Connection, question_id: int) -> bool:
    row = conn.execute("SELECT 1 FROM answers WHERE question_id = ? LIMIT 1",
                       (question_id,)).fetchone()
    return row is not None


def add_question(session_id: int, step_id: int, question: QuestionPlan) -> Op:
    def op(conn: sqlite3.Connection) -> int:
        step = _step(conn, session_id, step_id)
        if step["kind"] != "poll":
            raise LookupError(step_id)
        return _insert_question(conn, session_id, step_id, question)

    return op


def update_question(session_id: int, question_id: int, new: QuestionPlan) -> Op:
    """Replace a question; once opened or answered, only its wording (same choice ids)."""

    def op(conn: sqlite3.Connection) -> None:
        old = _question(conn, session_id, question_id)
        settings = replace(new.settings, hidden_words=old.settings.hidden_words,
                           order=old.settings.order if old.kind == new.kind else "plan")
        locked = old.state != "draft" or _answered(conn, question_id)
        if locked:
            check_wording_only(old, new)
            conn.executemany("UPDATE choices SET label = ? WHERE id = ?",
                             [(label, c.id) for label, c in zip(new.choices, old.choices,
                                                                 strict=True)])
        else:
            conn.execute("DELETE FROM choices WHERE question_id = ?", (question_id,))
            conn.executemany("INSERT INTO choices (question_id, position, label)"
                             " VALUES (?, ?, ?)",
                             [(question_id, i, label) for i, label in enumerate(new.choices)])
        conn.execute("UPDATE questions SET kind = ?, text = ?, max_choices = ?, settings = ?"
                     " WHERE id = ?", (new.kind, new.text, new.max_choices,
                                       settings.to_json(), question_id))

    return op


def move_question(session_id: int, question_id: int, delta: int) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        question = _question(conn, session_id, question_id)
        ids = [int(r[0]) for r in conn.execute(
            "SELECT id FROM questions WHERE step_id = ? ORDER BY position, id",
            (question.step_id,))]
        i = ids.index(question_id)
        j = i + delta
        if 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
            conn.executemany("UPDATE questions SET position = ? WHERE id = ?",
                             [(k, qid) for k, qid in enumerate(ids)])

    return op


def duplicate_question(session_id: int, question_id: int) -> Op:
    """A draft copy, right after the original, without answers."""

    def op(conn: sqlite3.Connection) -> int:
        old = _question(conn, session_id, question_id)
        plan = QuestionPlan(old.kind, old.text, tuple(c.label for c in old.choices),
                            old.max_choices, replace(old.settings, hidden_words=()))
        new_id = _insert_question(conn, session_id, old.step_id, plan)
        ids = [int(r[0]) for r in conn.execute(
            "SELECT id FROM questions WHERE step_id = ? AND id != ? ORDER BY position, id",
            (old.step_id, new_id))]
        ids.insert(ids.index(question_id) + 1, new_id)
        conn.executemany("UPDATE questions SET position = ? WHERE id = ?",
                         [(k, qid) for k, qid in enumerate(ids)])
        return new_id

    return op


def delete_question(session_id: int, question_id: int) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        question = _question(conn, session_id, question_id)
        if _answered(conn, question_id):
            raise EditError(N_("This question already has answers: it cannot be deleted."),
                            409)
        if question.state != "draft":
            raise EditError(N_("This question has been opened: it cannot be deleted."), 409)
        conn.execute("UPDATE sessions SET screen_question_id = NULL WHERE id = ? AND"
                     " screen_question_id = ?", (session_id, question_id))
        conn.execute("DELETE FROM questions WHERE id = ?", (question_id,))

    return op


# The séance itself ---------------------------------------------------------------------


def update_details(session_id: int, title: str, date: str, time: str, place: str,
                   objectives: str) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        _still_open(conn, session_id)
        conn.execute("UPDATE sessions SET title = ?, date = ?, time = ?, place = ?,"
                     " objectives = ? WHERE id = ?",
                     (title, date, time, place, objectives, session_id))

    return op


# Tables --------------------------------------------------------------------------------


def set_subgroups(session_id: int, names: tuple[str, ...]) -> Op:
    """Keep the tables still named (by name), add the new ones, remove the others unless
    someone is at them."""

    def op(conn: sqlite3.Connection) -> None:
        _still_open(conn, session_id)
        existing = {str(r["name"]): int(r["id"]) for r in conn.execute(
            "SELECT id, name FROM subgroups WHERE session_id = ?", (session_id,))}
        for name, group_id in existing.items():
            if name in names:
                continue
            used = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM participants WHERE subgroup_id = ?) OR EXISTS"
                " (SELECT 1 FROM proposals WHERE subgroup_id = ?)",
                (group_id, group_id)).fetchone()[0]
            if used:
                raise EditError(N_("People have already chosen the table “%(name)s”: keep it "
                                   "in the list."), 409, name=name)
            conn.execute("DELETE FROM subgroups WHERE id = ?", (group_id,))
        for position, name in enumerate(names):
            if name in existing:
                conn.execute("UPDATE subgroups SET position = ? WHERE id = ?",
                             (position, existing[name]))
            else:
                conn.execute("INSERT INTO subgroups (session_id, position, name)"
                             " VALUES (?, ?, ?)", (session_id, position, name))

    return op


# Reopening -----------------------------------------------------------------------------


def reopen(session_id: int, who: str) -> Op:
    """Make a closed séance writable again, and say so in its audit trail."""

    def op(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT closed_at, purged_at FROM sessions WHERE id = ?",
                           (session_id,)).fetchone()
        if row is None:
            raise LookupError(session_id)
        if row["closed_at"] is None:
            raise EditError(N_("This séance is not closed."), 409)
        if row["purged_at"] is not None:  # its people and what they sent are gone
            raise EditError(PURGED, 409)
        conn.execute("UPDATE sessions SET closed_at = NULL WHERE id = ?", (session_id,))
        conn.execute("INSERT INTO session_audit (session_id, action, who, at)"
                     " VALUES (?, 'reopened', ?, ?)", (session_id, who, now()))

    return op


async def audit(db: Database, session_id: int) -> list[dict[str, str]]:
    rows = await db.fetchall("SELECT action, who, at FROM session_audit WHERE session_id = ?"
                             " ORDER BY id", (session_id,))
    return [dict(r) for r in rows]


async def reopenings(db: Database, session_id: int) -> tuple[str, ...]:
    """When the séance was reopened (ISO times, oldest first)."""
    rows = await db.fetchall("SELECT at FROM session_audit WHERE session_id = ? AND action ="
                             " 'reopened' ORDER BY id", (session_id,))
    return tuple(str(r[0]) for r in rows)
