"""The store on a real SQLite file and on PostgreSQL: migrations, group commit, SQL
tallies."""

import asyncio
import random
import sqlite3

import pytest

from facilitation import plans, polls, tallies
from facilitation.store import Database
from facilitation.store import queries as q
from facilitation.store.postgres import PostgresDatabase
from facilitation.store.schema import MIGRATIONS
from tests import stores
from tests.conftest import DEMO


def run(coro):
    return asyncio.run(coro)


async def open_db(where, **kw) -> Database:
    """The store at `where`: a SQLite file's path, or a PostgreSQL URL."""
    db = PostgresDatabase(where, **kw) if isinstance(where, str) else Database(where, **kw)
    await db.open()
    return db


@pytest.fixture
def where(tmp_path, store):
    """Where a test's store lives: a file, or a fresh PostgreSQL database."""
    return stores.fresh_database() if store == "postgres" else tmp_path / "eclair.db"


def test_migrations_apply_once_and_wal_is_on(tmp_path):
    async def go():
        db = await open_db(tmp_path / "a.db")
        await db.close()
        db = await open_db(tmp_path / "a.db")  # second start: nothing to apply
        mode = await db.fetchone("PRAGMA journal_mode")
        version = await db.fetchone("PRAGMA user_version")
        await db.close()
        return mode[0], version[0]

    assert run(go()) == ("wal", len(MIGRATIONS))


def test_concurrent_writes_share_transactions_and_each_is_acknowledged(where):
    async def go():
        db = await open_db(where)
        plan = plans.parse_plan(DEMO.read_bytes())
        workshop = await q.create_workshop(db, plan)
        seance = (await q.list_sessions(db, workshop))[0]
        before = db.stats.transactions
        ids = await asyncio.gather(*[
            q.add_participant(db, seance.id, f"hash{i}", "", "fr-FR") for i in range(300)
        ])
        transactions = db.stats.transactions - before
        await db.close()
        db = await open_db(where)  # read back by another connection
        stored = (await db.fetchone("SELECT count(*) FROM participants"))[0]
        await db.close()
        return ids, transactions, stored

    ids, transactions, stored = run(go())
    assert len(set(ids)) == 300
    assert transactions < 30, transactions  # grouped, not one commit per write
    assert stored == 300


def test_a_failing_write_only_undoes_itself(where):
    async def go():
        db = await open_db(where)

        def good(conn: sqlite3.Connection, key: str) -> None:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, 'v')", (key,))

        def bad(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO meta (key, value) VALUES ('x', 'v')")
            raise RuntimeError("boom")

        results = await asyncio.gather(
            db.write(lambda c: good(c, "a")), db.write(bad), db.write(lambda c: good(c, "b")),
            return_exceptions=True,
        )
        keys = [row["key"] for row in await db.fetchall("SELECT key FROM meta ORDER BY key")]
        await db.close()
        return results, keys

    results, keys = run(go())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RuntimeError)
    assert "a" in keys and "b" in keys and "x" not in keys


def test_sql_tallies_match_the_domain_tally(where):
    async def go():
        db = await open_db(where)
        workshop = await q.create_workshop(db, plans.parse_plan(DEMO.read_bytes()))
        seance = (await q.list_sessions(db, workshop))[0]
        state = await q.get_state(db, seance.id)
        poll = next(s for s in state.steps if s.kind == "poll")
        question = next(x for x in await q.list_questions(db, poll.id) if x.kind == "multiple")
        await q.set_question_state(db, seance.id, question.id, "open")
        question = await q.get_question(db, question.id, seance.id)
        rng = random.Random(7)
        stored = {}
        for i in range(60):
            pid = await q.add_participant(db, seance.id, f"h{i}", "", "fr-FR")
            for _ in range(rng.randint(1, 2)):  # some change their answer
                picked = rng.sample([c.id for c in question.choices], rng.randint(1, 3))
                choices = polls.validate_answer(question, picked)
                await q.save_answer(db, question.id, pid, choices)
                stored[pid] = choices
        sql = await q.results(db, question)
        await db.close()
        return sql, tallies.tally(question, stored.values())

    sql, domain = run(go())
    assert sql == domain and sql.n == 60


def test_answer_to_a_question_closed_meanwhile_is_refused_in_the_transaction(where):
    async def go():
        db = await open_db(where)
        workshop = await q.create_workshop(db, plans.parse_plan(DEMO.read_bytes()))
        seance = (await q.list_sessions(db, workshop))[0]
        pid = await q.add_participant(db, seance.id, "h", "", "fr-FR")
        question_id = (await db.fetchone("SELECT id FROM questions LIMIT 1"))["id"]
        with pytest.raises(polls.AnswerError) as error:
            await q.save_answer(db, question_id, pid, (1,))
        count = (await db.fetchone("SELECT count(*) AS n FROM answers"))["n"]
        await db.close()
        return error.value.status, count

    assert run(go()) == (409, 0)
