"""Versioned migrations, applied in order at start (PRAGMA user_version)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from facilitation.store import dialect

if TYPE_CHECKING:
    from facilitation.store.postgres import Connection as PgConnection

# A migration is SQL (SQLite's spelling), or a function of a connection that only uses
# what both stores' connections have: execute, executemany, fetchone, fetchall.
Migration = str | Callable[[Any], None]


def _paper_cards_carry_no_credential(conn: sqlite3.Connection) -> None:
    """9: a paper card is found by its number, never by a token.

    Cards used to be participants whose token hash came from "paper:<séance>:<card>", so
    anyone could compute it and act as the card. Each card gets its number in its own
    column and a random hash nobody holds a token for."""
    conn.execute("ALTER TABLE participants ADD COLUMN card INTEGER")
    conn.execute("CREATE UNIQUE INDEX participants_card ON participants(session_id, card)"
                 " WHERE card IS NOT NULL")
    rows = conn.execute("SELECT id, session_id, token_hash FROM participants"
                        " WHERE channel = 'paper'").fetchall()
    by_session: dict[int, dict[str, int]] = {}
    for row in rows:
        by_session.setdefault(int(row[1]), {})[str(row[2])] = int(row[0])
    for session_id, wanted in by_session.items():
        for card in range(1, 100_000):  # card numbers go from 1 to 99,999
            if not wanted:
                break
            digest = hashlib.sha256(f"paper:{session_id}:{card}".encode()).hexdigest()
            participant = wanted.pop(digest, None)
            if participant is not None:
                conn.execute("UPDATE participants SET card = ? WHERE id = ?", (card, participant))
    conn.execute("UPDATE participants SET token_hash = 'paper:' || lower(hex(randomblob(24)))"
                 " WHERE channel = 'paper'")


def _crosscutting_members(conn: sqlite3.Connection) -> None:
    """16: a cross-cutting element's members by id, the suggestion it came from, an audit.

    Members used to be (séance number, text) pairs in a JSON column, so two proposals with
    the same words were one, and a corrected text lost its element. Each pair is found
    again (a proposal, else a theme, with these words in that séance); one not found stays
    as text. The old column is left as it was (new elements leave it empty)."""
    conn.execute("""
        CREATE TABLE crosscutting_members (
            id INTEGER PRIMARY KEY,
            crosscutting_id INTEGER NOT NULL REFERENCES crosscutting(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            item_kind TEXT NOT NULL CHECK (item_kind IN ('proposal', 'theme', 'text')),
            item_id INTEGER,
            number INTEGER NOT NULL,
            text TEXT NOT NULL
        )""")
    conn.execute("CREATE UNIQUE INDEX crosscutting_members_item ON crosscutting_members"
                 "(crosscutting_id, item_kind, item_id) WHERE item_id IS NOT NULL")
    conn.execute("ALTER TABLE crosscutting ADD COLUMN origin TEXT NOT NULL DEFAULT ''")
    conn.execute("CREATE UNIQUE INDEX crosscutting_origin ON crosscutting(workshop_id, origin)"
                 " WHERE origin != ''")
    conn.execute("""
        CREATE TABLE crosscutting_audit (
            id INTEGER PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            crosscutting_id INTEGER NOT NULL,
            action TEXT NOT NULL,
            before TEXT NOT NULL DEFAULT '',
            after TEXT NOT NULL DEFAULT '',
            who TEXT NOT NULL,
            at TEXT NOT NULL
        )""")
    conn.execute("CREATE INDEX crosscutting_audit_workshop ON crosscutting_audit"
                 "(workshop_id, id)")
    rows = conn.execute("SELECT id, workshop_id, members FROM crosscutting").fetchall()
    for element_id, workshop_id, members in rows:
        seen: set[tuple[str, int]] = set()
        for position, (number, text) in enumerate(json.loads(members or "[]")):
            found = None
            for kind, sql in (("proposal", _SAME_PROPOSAL), ("theme", _SAME_THEME)):
                hits = [(kind, int(h[0])) for h in conn.execute(
                    sql, (workshop_id, number, text))]
                found = next((hit for hit in hits if hit not in seen), None)
                if found:
                    break
            if found:
                seen.add(found)
            conn.execute("INSERT INTO crosscutting_members (crosscutting_id, position,"
                         " item_kind, item_id, number, text) VALUES (?, ?, ?, ?, ?, ?)",
                         (element_id, position, found[0] if found else "text",
                          found[1] if found else None, int(number), str(text)))


_SAME_PROPOSAL = ("SELECT p.id FROM proposals p JOIN sessions s ON s.id = p.session_id"
                  " WHERE s.workshop_id = ? AND s.number = ? AND p.text = ?"
                  " ORDER BY p.merged_into IS NOT NULL, p.hidden, p.id")
_SAME_THEME = ("SELECT t.id FROM themes t JOIN sessions s ON s.id = t.session_id"
               " WHERE s.workshop_id = ? AND s.number = ? AND t.name = ? ORDER BY t.id")


def _agenda_once(conn: sqlite3.Connection) -> None:
    """15: a séance created at closing held its agenda twice, as its objectives and as
    its agenda items, and its report printed both. Objectives that are exactly the agenda
    (as closing wrote them, not edited since) are emptied; the agenda items stay."""
    rows = conn.execute("SELECT id, objectives FROM sessions WHERE previous_id IS NOT NULL"
                        " AND objectives != ''").fetchall()
    for session_id, objectives in rows:
        agenda = [str(r[0]) for r in conn.execute(
            "SELECT text FROM agenda_items WHERE session_id = ? ORDER BY position",
            (session_id,))]
        if agenda and objectives == "\n".join(agenda):
            conn.execute("UPDATE sessions SET objectives = '' WHERE id = ?", (session_id,))


MIGRATIONS: tuple[Migration, ...] = (
    # 1: démarches, séances, déroulé, flash-poll questions (kind-specific settings as JSON),
    # participants, answers (a JSON value whose shape depends on the kind), links.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE organisers (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE workshops (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        organisation TEXT NOT NULL DEFAULT '',
        objectives TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        title TEXT NOT NULL,
        objectives TEXT NOT NULL DEFAULT '',
        date TEXT NOT NULL DEFAULT '',
        time TEXT NOT NULL DEFAULT '',
        place TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT 'fr-FR',
        code TEXT NOT NULL UNIQUE,
        current_step INTEGER NOT NULL DEFAULT 0,
        screen_question_id INTEGER,
        created_at TEXT NOT NULL,
        UNIQUE (workshop_id, number)
    );
    CREATE TABLE subgroups (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL
    );
    CREATE TABLE steps (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        prompt TEXT NOT NULL DEFAULT '',
        started_at TEXT,
        UNIQUE (session_id, position)
    );
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        step_id INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        max_choices INTEGER,
        settings TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'open', 'closed')),
        opened_at TEXT,
        closed_at TEXT
    );
    CREATE TABLE choices (
        id INTEGER PRIMARY KEY,
        question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        label TEXT NOT NULL
    );
    CREATE TABLE links (
        token TEXT PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('facilitator', 'helper', 'screen')),
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE participants (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL,
        channel TEXT NOT NULL DEFAULT 'phone',
        subgroup_id INTEGER REFERENCES subgroups(id),
        joined_at TEXT NOT NULL
    );
    CREATE TABLE answers (
        question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        value TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (question_id, participant_id)
    );
    CREATE INDEX participants_session ON participants(session_id);
    CREATE INDEX questions_step ON questions(step_id, position);
    CREATE INDEX links_session ON links(session_id, role);
    """,
    # 2: proposals (with corrections kept), themes, suggested groupings; step settings.
    """
    ALTER TABLE steps ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE themes (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE proposals (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        step_id INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
        participant_id INTEGER REFERENCES participants(id) ON DELETE SET NULL,
        channel TEXT NOT NULL,
        subgroup_id INTEGER REFERENCES subgroups(id) ON DELETE SET NULL,
        text TEXT NOT NULL,
        hidden INTEGER NOT NULL DEFAULT 0,
        pinned INTEGER NOT NULL DEFAULT 0,
        merged_into INTEGER REFERENCES proposals(id),
        theme_id INTEGER REFERENCES themes(id) ON DELETE SET NULL,
        theme_position INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE proposal_audit (
        id INTEGER PRIMARY KEY,
        proposal_id INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
        action TEXT NOT NULL,
        before TEXT NOT NULL DEFAULT '',
        after TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE theme_suggestions (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        proposal_ids TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX proposals_session ON proposals(session_id, merged_into, theme_id);
    CREATE INDEX proposals_participant ON proposals(participant_id);
    CREATE INDEX themes_session ON themes(session_id, position);
    """,
    # 3: votes, the consensus rule, the agenda, and séances that follow one another.
    """
    ALTER TABLE sessions ADD COLUMN consensus TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE sessions ADD COLUMN previous_id INTEGER REFERENCES sessions(id);
    ALTER TABLE sessions ADD COLUMN closed_at TEXT;
    ALTER TABLE proposals ADD COLUMN origin_id INTEGER REFERENCES proposals(id);
    ALTER TABLE themes ADD COLUMN origin_id INTEGER REFERENCES themes(id);
    CREATE TABLE votes (
        step_id INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        item_kind TEXT NOT NULL CHECK (item_kind IN ('proposal', 'theme')),
        item_id INTEGER NOT NULL,
        value INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (step_id, participant_id, item_kind, item_id)
    );
    CREATE TABLE agenda_items (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX votes_step ON votes(step_id, item_kind, item_id);
    """,
    # 4: edits to the compte-rendu, kept apart from the raw data.
    """
    CREATE TABLE report_edits (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 5: cross-cutting elements of a démarche, as the organiser confirmed or rejected them.
    """
    CREATE TABLE crosscutting (
        id INTEGER PRIMARY KEY,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        members TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('confirmed', 'rejected')),
        created_at TEXT NOT NULL
    );
    """,
    # 6: the facilitator's own count of the people in the room.
    """
    ALTER TABLE sessions ADD COLUMN headcount INTEGER;
    """,
    # 7: which séance a phone number last wrote to, by a keyed hash only.
    """
    CREATE TABLE sms_senders (
        number_hash TEXT PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        updated_at TEXT NOT NULL
    );
    """,
    # 8: corrections of paper cards: who, when, before, after.
    """
    CREATE TABLE card_audit (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        card INTEGER NOT NULL,
        question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        before TEXT NOT NULL,
        after TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL
    );
    """,
    # 9: paper cards found by number (see the function); idempotency keys of what people
    # send, so a retry never counts twice.
    _paper_cards_carry_no_credential,
    """
    CREATE TABLE idempotency (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (scope, key)
    ) WITHOUT ROWID;
    CREATE INDEX idempotency_created ON idempotency(created_at);
    """,
    # 11: what the organisation did to a whole séance (reopening it once closed): who, when.
    """
    CREATE TABLE session_audit (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        action TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX session_audit_session ON session_audit(session_id, id);
    """,
    # 12: a step's optional timer, started by the facilitator (it closes nothing by itself).
    """
    ALTER TABLE steps ADD COLUMN timer_minutes INTEGER;
    ALTER TABLE steps ADD COLUMN timer_ends_at TEXT;
    """,
    # 13: a paper card typed after its question closed is marked late in the audit.
    """
    ALTER TABLE card_audit ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
    """,
    # 14: every paper card typed, by whom, as first entry or as the blind second entry that
    # checks it (double entry); and how many numbered cards were printed, so the helpers
    # see which numbers are still missing.
    """
    CREATE TABLE card_entries (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        card INTEGER NOT NULL,
        part TEXT NOT NULL,
        round INTEGER NOT NULL CHECK (round IN (1, 2)),
        value TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL,
        late INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX card_entries_card ON card_entries(session_id, card, part, round, id);
    ALTER TABLE sessions ADD COLUMN cards_printed INTEGER NOT NULL DEFAULT 0;
    """,
    # 15: the agenda of a séance created at closing, once (see the function).
    _agenda_once,
    # 16: cross-cutting members by id, with the suggestion each element came from, audited.
    _crosscutting_members,
    # 17: the organiser's logins, held on the server (the cookie carries a random token,
    # this table only its hash), so that logging out ends a login for good.
    """
    CREATE TABLE organiser_sessions (
        token_hash TEXT PRIMARY KEY,
        organiser_id INTEGER NOT NULL REFERENCES organisers(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX organiser_sessions_expiry ON organiser_sessions(expires_at);
    """,
    # 18: participants the facilitator excluded: what
    # they sent is kept and counts nowhere while `excluded_at` is set; every exclusion and
    # inclusion is audited.
    """
    ALTER TABLE participants ADD COLUMN excluded_at TEXT;
    CREATE TABLE participant_audit (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        action TEXT NOT NULL CHECK (action IN ('exclude', 'include')),
        who TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX participant_audit_session ON participant_audit(session_id, id);
    """,
    # 19: each démarche's retention period (NULL: the default, 90
    # days after its last séance); when a séance's raw rows were purged, and the copy of what
    # its report is built from, frozen just before; one audit log of what organisers and
    # facilitators did. The log has no foreign keys: it outlives the séances it speaks of
    # (their deletion is in it), and says where with `place`, written when it happened.
    # Reopenings and moderation recorded before are copied into it, oldest first.
    """
    ALTER TABLE workshops ADD COLUMN retention_days INTEGER;
    ALTER TABLE sessions ADD COLUMN purged_at TEXT;
    CREATE TABLE frozen_reports (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        data TEXT NOT NULL,
        frozen_at TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        workshop_id INTEGER,
        session_id INTEGER,
        role TEXT NOT NULL,
        who TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        place TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX audit_log_workshop ON audit_log(workshop_id, id);
    CREATE INDEX audit_log_session ON audit_log(session_id, id);
    INSERT INTO audit_log (workshop_id, session_id, role, who, action, detail, place, at)
    SELECT workshop_id, session_id, role, who, action, detail, place, at FROM (
        SELECT s.workshop_id, s.id AS session_id, 'organiser' AS role,
               coalesce(o.username, a.who) AS who, 'organiser:reopen' AS action,
               '' AS detail, w.title || ' — ' || s.number || '. ' || s.title AS place,
               a.at AS at, 0 AS source, a.id AS rank
        FROM session_audit a JOIN sessions s ON s.id = a.session_id
        JOIN workshops w ON w.id = s.workshop_id
        LEFT JOIN organisers o ON 'organiser:' || o.id = a.who
        UNION ALL
        SELECT s.workshop_id, s.id, 'facilitator', '', 'facilitator:moderate:' || CASE a.action
                   WHEN 'hidden' THEN CASE a.after WHEN '1' THEN 'hide' ELSE 'show' END
                   WHEN 'pinned' THEN CASE a.after WHEN '1' THEN 'pin' ELSE 'unpin' END
                   ELSE a.action END,
               '#' || p.id, w.title || ' — ' || s.number || '. ' || s.title, a.at, 1, a.id
        FROM proposal_audit a JOIN proposals p ON p.id = a.proposal_id
        JOIN sessions s ON s.id = p.session_id JOIN workshops w ON w.id = s.workshop_id
        WHERE a.role = 'facilitator'
    ) AS earlier ORDER BY at, source, rank;
    """,
    # 20: each proposal's vector from the sentence encoder (float16 bytes) and the engine
    # that made it, written after the proposal is committed; gone with the proposal.
    """
    CREATE TABLE proposal_vectors (
        proposal_id INTEGER NOT NULL PRIMARY KEY REFERENCES proposals(id) ON DELETE CASCADE,
        engine TEXT NOT NULL,
        vector BLOB NOT NULL,
        made_at TEXT NOT NULL
    );
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this file does not have yet; return the schema version."""
    row = conn.execute("PRAGMA user_version").fetchone()
    version = int(row[0]) if row else 0
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        bump = f"PRAGMA user_version = {int(number)}"
        if isinstance(step, str):
            # executescript commits first; the version bump sits in the same script.
            conn.executescript(f"BEGIN IMMEDIATE;\n{step}\n{bump};\nCOMMIT;")
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            conn.execute(bump)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def migrate_postgres(conn: PgConnection) -> int:
    """The same migrations on PostgreSQL, each in its own transaction; the version is kept
    in `schema_version`. Processes starting together wait for the first to finish."""
    from facilitation.store.postgres import MIGRATION_LOCK

    conn.run(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
    try:
        conn.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        version = int(row[0]) if row and row[0] is not None else 0
        if version == 0:
            for function in dialect.PRELUDE:
                conn.run(function)
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            conn.run("BEGIN")
            try:
                if isinstance(step, str):
                    for statement in dialect.split_script(step):
                        conn.run(dialect.translate(dialect.ddl(statement)))
                else:
                    step(conn)
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
                conn.run("COMMIT")
            except BaseException:
                conn.run("ROLLBACK")
                raise
    finally:
        conn.run(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
    return len(MIGRATIONS)
