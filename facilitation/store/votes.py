"""SQL for vote steps, the consensus rule, the agenda and closing a séance."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from facilitation.i18n_keys import N_
from facilitation.plans import SessionPlan, StepPlan
from facilitation.proposals import Proposal, Theme
from facilitation.seances import Seance, State, Step, in_channel_order
from facilitation.store.database import Database
from facilitation.store.proposals import list_proposals, list_themes
from facilitation.store.queries import _insert_session, get_session, now
from facilitation.voting import (
    Ballot,
    ConsensusRule,
    Item,
    Synthesis,
    VoteError,
    VoteResults,
    VoteSettings,
    synthesis,
    vote_results,
)


async def get_rule(db: Database, session_id: int) -> ConsensusRule:
    row = await db.fetchone("SELECT consensus FROM sessions WHERE id = ?", (session_id,))
    return ConsensusRule.from_json(row["consensus"] if row else None)


async def set_rule(db: Database, session_id: int, rule: ConsensusRule) -> None:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE sessions SET consensus = ? WHERE id = ?",
                           (rule.to_json(), session_id))

    await db.write(op)


async def set_vote_settings(db: Database, session_id: int, step_id: int,
                            settings: VoteSettings) -> None:
    def op(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT settings FROM steps WHERE id = ? AND session_id = ?"
                           " AND kind = 'vote'", (step_id, session_id)).fetchone()
        if row is None:
            raise LookupError(step_id)
        # A ballot means what its method says: agree/disagree read as points or grades
        # would be another vote. Once anyone voted, the method stays.
        if VoteSettings.from_json(row["settings"]).method != settings.method and conn.execute(
                "SELECT 1 FROM votes WHERE step_id = ? LIMIT 1", (step_id,)).fetchone():
            raise VoteError(N_("People have already voted: the way of voting stays as it is."),
                            409)
        conn.execute("UPDATE steps SET settings = ? WHERE id = ?",
                     (settings.to_json(), step_id))

    await db.write(op)


def items_of(settings: VoteSettings, proposals: list[Proposal],
             themes: list[Theme]) -> list[Item]:
    """What a vote step is about: proposals (all, a theme's, a selection) or themes."""
    if settings.target == "themes":
        return [Item("theme", t.id, t.name) for t in themes]
    cards = [p for p in proposals if p.on_board]
    if settings.target == "theme":
        cards = [p for p in cards if p.theme_id == settings.theme_id]
    elif settings.target == "selection":
        cards = [p for p in cards if p.id in settings.selection]
    return [Item("proposal", p.id, p.text) for p in cards]


async def vote_items(db: Database, session_id: int, settings: VoteSettings) -> list[Item]:
    return items_of(settings, await list_proposals(db, session_id),
                    await list_themes(db, session_id))


def save_votes_op(step_id: int, participant_id: int, item_kind: str, values: dict[int, int],
                  *, replace_all: bool = False) -> Callable[[sqlite3.Connection], None]:
    """A participant's votes, as one write; the step must still be open when they commit."""

    def op(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT t.settings FROM steps t JOIN sessions s ON s.id = t.session_id"
                           " WHERE t.id = ? AND s.closed_at IS NULL", (step_id,)).fetchone()
        if row is None or not VoteSettings.from_json(row["settings"]).open:
            raise VoteError(N_("The vote is closed: your vote was not recorded."), 409)
        if replace_all:  # dot voting: a new spread of points replaces the previous one
            conn.execute("DELETE FROM votes WHERE step_id = ? AND participant_id = ?",
                         (step_id, participant_id))
        conn.executemany(
            "INSERT INTO votes (step_id, participant_id, item_kind, item_id, value, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (step_id, participant_id, item_kind,"
            " item_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [(step_id, participant_id, item_kind, item, value, now())
             for item, value in values.items()])

    return op


async def save_votes(db: Database, step_id: int, participant_id: int, item_kind: str,
                     values: dict[int, int], *, replace_all: bool = False) -> None:
    await db.write(save_votes_op(step_id, participant_id, item_kind, values,
                                 replace_all=replace_all))


async def own_votes(db: Database, step_id: int, participant_id: int) -> dict[int, int]:
    rows = await db.fetchall("SELECT item_id, value FROM votes WHERE step_id = ?"
                             " AND participant_id = ?", (step_id, participant_id))
    return {int(r["item_id"]): int(r["value"]) for r in rows}


async def ballots(db: Database, step_id: int) -> list[Ballot]:
    rows = await db.fetchall(
        "SELECT v.participant_id, v.item_id, v.value, coalesce(g.name, '') AS subgroup"
        " FROM votes v JOIN participants p ON p.id = v.participant_id"
        " LEFT JOIN subgroups g ON g.id = p.subgroup_id WHERE v.step_id = ?"
        " AND p.excluded_at IS NULL", (step_id,))
    return [Ballot(int(r["participant_id"]), int(r["item_id"]), int(r["value"]),
                   r["subgroup"]) for r in rows]


async def voter_channels(db: Database, step_id: int) -> dict[str, int]:
    """Voters of a vote step by channel, the excluded left out."""
    rows = await db.fetchall(
        "SELECT p.channel, count(DISTINCT v.participant_id) AS n FROM votes v"
        " JOIN participants p ON p.id = v.participant_id WHERE v.step_id = ?"
        " AND p.excluded_at IS NULL GROUP BY p.channel", (step_id,))
    return in_channel_order({str(r["channel"]): int(r["n"]) for r in rows})


async def list_agenda(db: Database, session_id: int) -> list[str]:
    rows = await db.fetchall("SELECT text FROM agenda_items WHERE session_id = ?"
                             " ORDER BY position", (session_id,))
    return [str(r["text"]) for r in rows]


async def close_and_continue(db: Database, session_id: int, plan: SessionPlan,
                             agenda: list[str], carry: list[int], *,
                             carry_themes: bool = True) -> int:
    """Close the séance and create the next one of the démarche, with its agenda, carrying
    over the given proposals and, when asked, the themes that hold them (each linked to
    where it came from): never an empty theme heading."""

    def op(conn: sqlite3.Connection) -> int:
        cursor = conn.execute("SELECT workshop_id, closed_at FROM sessions WHERE id = ?",
                                (session_id,))
        row = cursor.fetchone()
        if row is None:
            raise LookupError(session_id)
        if row["closed_at"] is not None:
            raise VoteError(N_("This séance is already closed."), 409)
        # Closed again after the organisation reopened it: the next séance made (or chosen)
        # the first time is updated, and what it already carries is not carried twice. A
        # démarche whose next séance is planned and not held yet leads to it: not a second
        # "Séance 2" beside it, and it keeps its own déroulé and objectives.
        following = conn.execute("SELECT id FROM sessions WHERE previous_id = ?",
                                 (session_id,)).fetchone() \
            or conn.execute(PLANNED_NEXT, (session_id,)).fetchone()
        if following is None:
            new_id = _insert_session(conn, int(row["workshop_id"]), plan)
        else:
            new_id = int(following["id"])
            conn.execute("UPDATE sessions SET title = ?, date = ?, time = ?, place = ?"
                         " WHERE id = ?", (plan.title, plan.date, plan.time, plan.place, new_id))
            conn.execute("DELETE FROM agenda_items WHERE session_id = ?", (new_id,))
        conn.execute("UPDATE sessions SET previous_id = ?, consensus = (SELECT consensus"
                           " FROM sessions WHERE id = ?) WHERE id = ?",
                           (session_id, session_id, new_id))
        conn.execute("UPDATE sessions SET closed_at = ? WHERE id = ?", (now(), session_id))
        conn.executemany("INSERT INTO agenda_items (session_id, position, text)"
                               " VALUES (?, ?, ?)",
                               [(new_id, i, text) for i, text in enumerate(agenda)])
        cursor = conn.execute("SELECT id FROM steps WHERE session_id = ? AND kind ="
                                " 'proposals' ORDER BY position LIMIT 1", (new_id,))
        step = cursor.fetchone()
        if step is None and carry:
            step = _add_proposals_step(conn, new_id)
        theme_map: dict[int, int] = {
            int(r[0]): int(r[1]) for r in conn.execute(
                "SELECT origin_id, id FROM themes WHERE session_id = ? AND origin_id IS NOT"
                " NULL", (new_id,))}
        carried = {int(r[0]) for r in conn.execute(
            "SELECT origin_id FROM proposals WHERE session_id = ? AND origin_id IS NOT NULL",
            (new_id,))}
        chosen = set(carry)
        holding = {int(r["theme_id"]) for r in conn.execute(
            "SELECT id, theme_id FROM proposals WHERE session_id = ? AND theme_id IS NOT NULL",
            (session_id,)) if int(r["id"]) in chosen} if carry_themes else set()
        cursor = conn.execute("SELECT id, name, position FROM themes WHERE session_id = ?",
                                (session_id,))
        for theme in cursor.fetchall():
            if int(theme["id"]) not in holding:
                continue
            if int(theme["id"]) in theme_map:
                continue
            inserted = conn.execute(
                "INSERT INTO themes (session_id, name, position, created_at, origin_id)"
                " VALUES (?, ?, ?, ?, ?)",
                (new_id, theme["name"], theme["position"], now(), theme["id"]))
            assert inserted.lastrowid is not None  # noqa: S101
            theme_map[int(theme["id"])] = inserted.lastrowid
        if step is not None:
            for pid in carry:
                if pid in carried:
                    continue
                cursor = conn.execute("SELECT * FROM proposals WHERE id = ? AND session_id"
                                        " = ?", (pid, session_id))
                old = cursor.fetchone()
                if old is None:
                    continue
                conn.execute(
                    "INSERT INTO proposals (session_id, step_id, channel, text, theme_id,"
                    " created_at, origin_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (new_id, step["id"], old["channel"], old["text"],
                     theme_map.get(old["theme_id"]) if old["theme_id"] else None, now(), pid))
        return new_id

    return await db.write(op)


def _add_proposals_step(conn: sqlite3.Connection, session_id: int) -> sqlite3.Row:
    """A planned séance without a proposals step gets one for what is carried over, before
    its vote, synthesis or closing (so nothing carried is dropped)."""
    row = conn.execute("SELECT min(position) FROM steps WHERE session_id = ? AND kind IN"
                       " ('vote', 'synthesis', 'closing')", (session_id,)).fetchone()
    end = conn.execute("SELECT coalesce(max(position) + 1, 0) FROM steps WHERE session_id = ?",
                       (session_id,)).fetchone()
    position = int(row[0]) if row[0] is not None else int(end[0])
    # Two passes keep positions unique while they shift.
    conn.execute("UPDATE steps SET position = -position - 1 WHERE session_id = ? AND position >= ?",
                 (session_id, position))
    conn.execute("UPDATE steps SET position = -position WHERE session_id = ? AND position < 0",
                 (session_id,))
    conn.execute("INSERT INTO steps (session_id, position, kind, title, prompt, settings)"
                 " VALUES (?, ?, 'proposals', '', '', '{}')", (session_id, position))
    found = conn.execute("SELECT id FROM steps WHERE session_id = ? AND position = ?",
                         (session_id, position)).fetchone()
    assert found is not None  # noqa: S101
    return found  # type: ignore[no-any-return]


def next_plan(title: str, date: str, time: str, place: str, language: str) -> SessionPlan:
    """The séance created at closing. Its agenda is kept as agenda items only: written into
    its objectives as well, its report printed it twice."""
    steps = tuple(StepPlan(kind, "") for kind in (
        "welcome", "poll", "proposals", "clustering", "vote", "synthesis", "closing"))
    return SessionPlan(title=title, date=date, time=time, place=place, language=language,
                       steps=steps)


async def next_seance(db: Database, session_id: int) -> Seance | None:
    """The séance created when this one was closed, if it was."""
    row = await db.fetchone("SELECT id FROM sessions WHERE previous_id = ?", (session_id,))
    return None if row is None else await get_session(db, int(row["id"]))


# The démarche's next séance, planned and not held yet (nobody joined, no step started).
PLANNED_NEXT = (
    "SELECT n.id FROM sessions n JOIN sessions s ON s.workshop_id = n.workshop_id"
    " WHERE s.id = ? AND n.number = s.number + 1 AND n.closed_at IS NULL"
    " AND n.previous_id IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.session_id = n.id)"
    " AND NOT EXISTS (SELECT 1 FROM steps t WHERE t.session_id = n.id"
    " AND t.started_at IS NOT NULL)")


async def following(db: Database, session_id: int) -> Seance | None:
    """The séance closing this one leads to: the one made at an earlier closing (the séance
    was reopened), else the démarche's next séance if it is planned and not held yet."""
    made = await next_seance(db, session_id)
    if made is not None:
        return made
    row = await db.fetchone(PLANNED_NEXT, (session_id,))
    return None if row is None else await get_session(db, int(row["id"]))


async def results_of(db: Database, seance_id: int, step: Step) -> VoteResults:
    """The results of a vote step, under the séance's consensus rule."""
    settings = VoteSettings.from_json(step.settings)
    rule = await get_rule(db, seance_id)
    return vote_results(settings, rule, await vote_items(db, seance_id, settings),
                        await ballots(db, step.id))


async def synthesis_of(db: Database, state: State) -> Synthesis:
    return synthesis([await results_of(db, state.seance.id, step)
                      for step in state.steps if step.kind == "vote"])
