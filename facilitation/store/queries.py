"""Small async functions over the database: reads on the reader, writes through the writer."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

from facilitation import codes, polls, tallies
from facilitation.i18n_keys import N_
from facilitation.plans import QuestionPlan, SessionPlan, WorkshopPlan
from facilitation.polls import AnswerError, Choice, Question
from facilitation.seances import (
    Participant,
    Presence,
    Seance,
    State,
    Step,
    Workshop,
    in_channel_order,
)
from facilitation.store.database import Database
from facilitation.tallies import Results

ROLES = ("facilitator", "helper", "screen")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_secret() -> str:
    return secrets.token_urlsafe(18)


# --- meta and organisers -------------------------------------------------------------


async def get_meta(db: Database, key: str) -> str | None:
    row = await db.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
    return None if row is None else str(row["value"])


async def set_meta_if_missing(db: Database, key: str, value: str) -> str:
    """Store `value` under `key` unless one is there; return the stored value."""

    def op(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
        cursor = conn.execute("SELECT value FROM meta WHERE key = ?", (key,))
        row = cursor.fetchone()
        return str(row["value"]) if row else value

    return await db.write(op)


async def get_organiser_hash(db: Database, username: str) -> tuple[int, str] | None:
    row = await db.fetchone(
        "SELECT id, password_hash FROM organisers WHERE username = ?", (username,)
    )
    return None if row is None else (int(row["id"]), str(row["password_hash"]))


async def upsert_organiser(db: Database, username: str, password_hash: str) -> int:
    def op(conn: sqlite3.Connection) -> int:
        conn.execute(
            "INSERT INTO organisers (username, password_hash, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash",
            (username, password_hash, now()),
        )
        cursor = conn.execute(
            "SELECT id FROM organisers WHERE username = ?", (username,)
        )
        row = cursor.fetchone()
        assert row is not None  # noqa: S101
        # A new password ends every login opened with the old one.
        conn.execute("DELETE FROM organiser_sessions WHERE organiser_id = ?", (row["id"],))
        return int(row["id"])

    return await db.write(op)


# --- démarches and séances -----------------------------------------------------------


def _workshop(row: aiosqlite.Row) -> Workshop:
    return Workshop(int(row["id"]), row["title"], row["organisation"], row["objectives"])


def _seance(row: aiosqlite.Row) -> Seance:
    return Seance(
        id=int(row["id"]), workshop_id=int(row["workshop_id"]), number=int(row["number"]),
        title=row["title"], code=row["code"], objectives=row["objectives"], date=row["date"],
        time=row["time"], place=row["place"], language=row["language"],
        current_step=int(row["current_step"]), screen_question_id=row["screen_question_id"],
    )


async def list_workshops(db: Database) -> list[tuple[Workshop, int]]:
    rows = await db.fetchall(
        "SELECT w.*, (SELECT count(*) FROM sessions s WHERE s.workshop_id = w.id) AS n"
        " FROM workshops w ORDER BY w.id DESC"
    )
    return [(_workshop(row), int(row["n"])) for row in rows]


async def get_workshop(db: Database, workshop_id: int) -> Workshop | None:
    row = await db.fetchone("SELECT * FROM workshops WHERE id = ?", (workshop_id,))
    return None if row is None else _workshop(row)


async def list_sessions(db: Database, workshop_id: int) -> list[Seance]:
    rows = await db.fetchall(
        "SELECT * FROM sessions WHERE workshop_id = ? ORDER BY number", (workshop_id,)
    )
    return [_seance(row) for row in rows]


async def get_session(db: Database, session_id: int) -> Seance | None:
    row = await db.fetchone("SELECT * FROM sessions WHERE id = ?", (session_id,))
    return None if row is None else _seance(row)


async def get_session_by_code(db: Database, code: str) -> Seance | None:
    row = await db.fetchone("SELECT * FROM sessions WHERE code = ?", (code,))
    return None if row is None else _seance(row)


def _insert_workshop(conn: sqlite3.Connection, title: str, organisation: str,
                           objectives: str) -> int:
    cursor = conn.execute(
        "INSERT INTO workshops (title, organisation, objectives, created_at) VALUES (?, ?, ?, ?)",
        (title, organisation, objectives, now()),
    )
    assert cursor.lastrowid is not None  # noqa: S101
    return cursor.lastrowid


def _unused_code(conn: sqlite3.Connection) -> str:
    while True:
        code = codes.new_code()
        cursor = conn.execute("SELECT 1 FROM sessions WHERE code = ?", (code,))
        if cursor.fetchone() is None:
            return code


def _insert_session(conn: sqlite3.Connection, workshop_id: int, plan: SessionPlan) -> int:
    cursor = conn.execute(
        "SELECT coalesce(max(number), 0) + 1 FROM sessions WHERE workshop_id = ?", (workshop_id,)
    )
    row = cursor.fetchone()
    number = int(row[0]) if row else 1
    cursor = conn.execute(
        "INSERT INTO sessions (workshop_id, number, title, objectives, date, time, place,"
        " language, code, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (workshop_id, number, plan.title, plan.objectives, plan.date, plan.time, plan.place,
         plan.language, _unused_code(conn), now()),
    )
    session_id = cursor.lastrowid
    assert session_id is not None  # noqa: S101
    for position, name in enumerate(plan.subgroups):
        conn.execute(
            "INSERT INTO subgroups (session_id, position, name) VALUES (?, ?, ?)",
            (session_id, position, name),
        )
    for position, step in enumerate(plan.steps):
        cursor = conn.execute(
            "INSERT INTO steps (session_id, position, kind, title, prompt, settings)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, position, step.kind, step.title, step.prompt, step.settings.to_json()),
        )
        step_id = cursor.lastrowid
        assert step_id is not None  # noqa: S101
        for question in step.questions:
            _insert_question(conn, session_id, step_id, question)
    for role in ROLES:
        conn.execute(
            "INSERT INTO links (token, session_id, role, created_at) VALUES (?, ?, ?, ?)",
            (new_secret(), session_id, role, now()),
        )
    return session_id


def _insert_question(conn: sqlite3.Connection, session_id: int, step_id: int,
                           question: QuestionPlan) -> int:
    """Append a question (and its choices) to the end of a step."""
    cursor = conn.execute(
        "SELECT coalesce(max(position), -1) + 1 FROM questions WHERE step_id = ?", (step_id,)
    )
    row = cursor.fetchone()
    cursor = conn.execute(
        "INSERT INTO questions (session_id, step_id, position, kind, text, max_choices, settings)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (session_id, step_id, int(row[0]) if row else 0, question.kind, question.text,
         question.max_choices, question.settings.to_json()),
    )
    question_id = cursor.lastrowid
    assert question_id is not None  # noqa: S101
    conn.executemany(
        "INSERT INTO choices (question_id, position, label) VALUES (?, ?, ?)",
        [(question_id, i, label) for i, label in enumerate(question.choices)],
    )
    return question_id


async def add_question(db: Database, session_id: int, step_id: int,
                       question: QuestionPlan) -> int:
    """Add a question to a poll step of the séance; LookupError if the step is not one."""

    def op(conn: sqlite3.Connection) -> int:
        cursor = conn.execute(
            "SELECT 1 FROM steps WHERE id = ? AND session_id = ? AND kind = 'poll'",
            (step_id, session_id),
        )
        if cursor.fetchone() is None:
            raise LookupError(step_id)
        return _insert_question(conn, session_id, step_id, question)

    return await db.write(op)


async def create_workshop(db: Database, plan: WorkshopPlan) -> int:
    """Store a démarche and its séances (with steps, questions and links); return its id."""

    def op(conn: sqlite3.Connection) -> int:
        workshop_id = _insert_workshop(conn, plan.title, plan.organisation, plan.objectives)
        for session in plan.sessions:
            _insert_session(conn, workshop_id, session)
        return workshop_id

    return await db.write(op)


async def create_session(db: Database, workshop_id: int, plan: SessionPlan) -> int:
    def op(conn: sqlite3.Connection) -> int:
        return _insert_session(conn, workshop_id, plan)

    return await db.write(op)


# --- secret links ----------------------------------------------------------------------


async def get_link(db: Database, token: str) -> tuple[int, str] | None:
    """Given a secret link's token, return (séance id, role) if it is still valid."""
    row = await db.fetchone(
        "SELECT session_id, role FROM links WHERE token = ? AND revoked_at IS NULL", (token,)
    )
    return None if row is None else (int(row["session_id"]), str(row["role"]))


async def active_links(db: Database, session_id: int) -> dict[str, str]:
    rows = await db.fetchall(
        "SELECT role, token FROM links WHERE session_id = ? AND revoked_at IS NULL"
        " ORDER BY created_at", (session_id,),
    )
    return {str(row["role"]): str(row["token"]) for row in rows}


async def rotate_link(db: Database, session_id: int, role: str) -> str:
    """Revoke the séance's link for `role` and return a new one."""
    if role not in ROLES:
        raise ValueError(role)
    token = new_secret()

    def op(conn: sqlite3.Connection) -> str:
        conn.execute(
            "UPDATE links SET revoked_at = ? WHERE session_id = ? AND role = ?"
            " AND revoked_at IS NULL", (now(), session_id, role),
        )
        conn.execute(
            "INSERT INTO links (token, session_id, role, created_at) VALUES (?, ?, ?, ?)",
            (token, session_id, role, now()),
        )
        return token

    return await db.write(op)


# --- déroulé and questions -------------------------------------------------------------


async def list_steps(db: Database, session_id: int) -> tuple[Step, ...]:
    rows = await db.fetchall(
        "SELECT * FROM steps WHERE session_id = ? ORDER BY position", (session_id,)
    )
    return tuple(
        Step(int(r["id"]), int(r["position"]), r["kind"], r["title"], r["prompt"], r["started_at"],
             r["settings"], r["timer_minutes"], r["timer_ends_at"])
        for r in rows
    )


def questions_of(rows: list[aiosqlite.Row],
                 choice_rows: list[aiosqlite.Row]) -> tuple[Question, ...]:
    by_question: dict[int, list[Choice]] = {}
    for row in choice_rows:
        by_question.setdefault(int(row["question_id"]), []).append(
            Choice(int(row["id"]), row["label"])
        )
    return tuple(
        Question(
            id=int(r["id"]), step_id=int(r["step_id"]), kind=r["kind"], text=r["text"],
            choices=tuple(by_question.get(int(r["id"]), ())), max_choices=r["max_choices"],
            state=r["state"], settings=polls.Settings.from_json(r["settings"]),
        )
        for r in rows
    )


async def list_questions(db: Database, step_id: int) -> tuple[Question, ...]:
    rows = await db.fetchall(
        "SELECT * FROM questions WHERE step_id = ? ORDER BY position", (step_id,)
    )
    choice_rows = await db.fetchall(
        "SELECT c.* FROM choices c JOIN questions q ON q.id = c.question_id"
        " WHERE q.step_id = ? ORDER BY c.question_id, c.position", (step_id,),
    )
    return questions_of(rows, choice_rows)


async def get_question(db: Database, question_id: int, session_id: int) -> Question | None:
    """Return the question if it belongs to the séance."""
    rows = await db.fetchall(
        "SELECT * FROM questions WHERE id = ? AND session_id = ?", (question_id, session_id)
    )
    if not rows:
        return None
    choice_rows = await db.fetchall(
        "SELECT * FROM choices WHERE question_id = ? ORDER BY position", (question_id,)
    )
    return questions_of(rows, choice_rows)[0]


async def get_state(db: Database, session_id: int) -> State | None:
    """Return what the séance shows now: its current step and that step's questions."""
    seance = await get_session(db, session_id)
    if seance is None:
        return None
    steps = await list_steps(db, session_id)
    state = State(seance, steps, ())
    step = state.step
    questions = await list_questions(db, step.id) if step else ()
    return State(seance, steps, questions)


async def go_to_step(db: Database, session_id: int, position: int) -> int:
    """Move the séance to the step at `position` (kept within the déroulé); return it."""

    def op(conn: sqlite3.Connection) -> int:
        cursor = conn.execute(
            "SELECT count(*) FROM steps WHERE session_id = ?", (session_id,)
        )
        row = cursor.fetchone()
        count = int(row[0]) if row else 0
        target = max(0, min(position, count - 1))
        conn.execute(
            "UPDATE sessions SET current_step = ? WHERE id = ?", (target, session_id)
        )
        conn.execute(
            "UPDATE steps SET started_at = coalesce(started_at, ?)"
            " WHERE session_id = ? AND position = ?", (now(), session_id, target),
        )
        return target

    return await db.write(op)


async def set_question_state(db: Database, session_id: int, question_id: int, state: str) -> None:
    """Open or close a question of the séance; opening also moves to the question's step."""
    if state not in ("open", "closed"):
        raise ValueError(state)

    def op(conn: sqlite3.Connection) -> None:
        cursor = conn.execute(
            "SELECT s.position FROM questions q JOIN steps s ON s.id = q.step_id"
            " WHERE q.id = ? AND q.session_id = ?", (question_id, session_id),
        )
        row = cursor.fetchone()
        if row is None:
            raise LookupError(question_id)
        if state == "open":
            conn.execute(
                "UPDATE questions SET state = 'open', opened_at = ?, closed_at = NULL"
                " WHERE id = ?", (now(), question_id),
            )
            conn.execute(
                "UPDATE sessions SET current_step = ?, screen_question_id = ? WHERE id = ?",
                (int(row["position"]), question_id, session_id),
            )
            conn.execute(
                "UPDATE steps SET started_at = coalesce(started_at, ?)"
                " WHERE session_id = ? AND position = ?", (now(), session_id, int(row["position"])),
            )
        else:
            conn.execute(
                "UPDATE questions SET state = 'closed', closed_at = ? WHERE id = ?",
                (now(), question_id),
            )

    await db.write(op)


# --- participants and answers --------------------------------------------------------


async def add_participant(db: Database, session_id: int, token_hash: str, name: str,
                          language: str, channel: str = "phone",
                          subgroup_id: int | None = None) -> int:
    def op(conn: sqlite3.Connection) -> int:
        cursor = conn.execute(
            "INSERT INTO participants (session_id, token_hash, name, language, channel,"
            " subgroup_id, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, token_hash, name, language, channel, subgroup_id, now()),
        )
        assert cursor.lastrowid is not None  # noqa: S101
        return cursor.lastrowid

    return await db.write(op)




def participant_of(row: aiosqlite.Row) -> Participant:
    group = row["subgroup_id"]
    return Participant(int(row["id"]), int(row["session_id"]), row["name"], row["language"],
                       row["channel"], None if group is None else int(group))




async def presence(db: Database, session_id: int) -> Presence:
    rows = await db.fetchall(
        "SELECT channel, count(*) AS n FROM participants WHERE session_id = ?"
        " AND excluded_at IS NULL GROUP BY channel",
        (session_id,),
    )
    count = await db.fetchone("SELECT headcount FROM sessions WHERE id = ?", (session_id,))
    return Presence(in_channel_order({str(row["channel"]): int(row["n"]) for row in rows}),
                    None if count is None or count["headcount"] is None
                    else int(count["headcount"]))


async def answer_channels(db: Database, question_id: int) -> dict[str, int]:
    """Respondents to a question by channel (phone, paper, SMS…), the excluded left out."""
    rows = await db.fetchall(
        "SELECT p.channel, count(*) AS n FROM answers a JOIN participants p"
        " ON p.id = a.participant_id WHERE a.question_id = ? AND p.excluded_at IS NULL"
        " GROUP BY p.channel",
        (question_id,))
    return in_channel_order({str(r["channel"]): int(r["n"]) for r in rows})




async def save_answer(db: Database, question_id: int, participant_id: int, value: Any) -> None:
    """Store (or replace) an answer. Checked again inside the transaction: the question is
    still open, and a question that allows no change gets only one answer."""

    def op(conn: sqlite3.Connection) -> None:
        cursor = conn.execute(
            "SELECT state, settings FROM questions WHERE id = ?", (question_id,)
        )
        row = cursor.fetchone()
        if row is None or row["state"] != "open":
            raise AnswerError(N_("This question is closed: your answer was not recorded."), 409)
        if not polls.Settings.from_json(row["settings"]).allow_change:
            cursor = conn.execute(
                "SELECT 1 FROM answers WHERE question_id = ? AND participant_id = ?",
                (question_id, participant_id),
            )
            if cursor.fetchone() is not None:
                raise AnswerError(N_("You have already answered this question."), 409)
        conn.execute(
            "INSERT INTO answers (question_id, participant_id, value, answered_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (question_id, participant_id)"
            " DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
            (question_id, participant_id, json.dumps(value, ensure_ascii=False), now()),
        )

    await db.write(op)


async def answer_values(db: Database, question_id: int) -> list[Any]:
    """A question's answers that count: the excluded participants' are left out."""
    rows = await db.fetchall("SELECT a.value FROM answers a JOIN participants p"
                             " ON p.id = a.participant_id WHERE a.question_id = ?"
                             " AND p.excluded_at IS NULL", (question_id,))
    return [json.loads(row["value"]) for row in rows]


async def results(db: Database, question: Question) -> Results:
    """Return the question's results with n = respondents."""
    return tallies.aggregate(question, await answer_values(db, question.id))


async def update_settings(db: Database, session_id: int, question_id: int,
                          change: Callable[[polls.Settings], polls.Settings]) -> None:
    """Apply `change` to a question's settings in one transaction; LookupError if unknown."""

    def op(conn: sqlite3.Connection) -> None:
        cursor = conn.execute(
            "SELECT settings FROM questions WHERE id = ? AND session_id = ?",
            (question_id, session_id),
        )
        row = cursor.fetchone()
        if row is None:
            raise LookupError(question_id)
        settings = change(polls.Settings.from_json(row["settings"]))
        conn.execute("UPDATE questions SET settings = ? WHERE id = ?",
                           (settings.to_json(), question_id))

    await db.write(op)

