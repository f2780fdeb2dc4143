"""PostgreSQL as the store: the same schema as SQLite from the same migrations, writes of
several processes serialised like SQLite's, and a database that goes away and comes back
(through a proxy the test cuts)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from facilitation import plans
from facilitation.app import create_app
from facilitation.store import Database, Unavailable
from facilitation.store import queries as q
from facilitation.store.postgres import PostgresDatabase
from facilitation.store.schema import MIGRATIONS
from tests import stores
from tests.conftest import DEMO, csrf_of, make_settings
from tests.proxy import Proxy


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def url() -> str:
    return stores.fresh_database()


def test_the_same_migrations_make_the_same_tables_and_columns(tmp_path, url):
    async def go():
        lite = Database(tmp_path / "eclair.db")
        await lite.open()
        pg = PostgresDatabase(url)
        await pg.open()
        await pg.close()
        pg = PostgresDatabase(url)  # a second start applies nothing
        await pg.open()
        try:
            version = (await pg.fetchone("SELECT max(version) FROM schema_version"))[0]
            return await stores.tables(lite), await stores.tables(pg), version
        finally:
            await lite.close()
            await pg.close()

    lite, pg, version = run(go())
    assert version == len(MIGRATIONS)
    assert pg == lite and len(pg) > 20


def test_two_processes_writing_at_once_never_take_the_same_next_number(url):
    """Both "processes" add steps to one séance at once; each takes max(position) + 1 in
    its write, as with SQLite's single writer, so no two steps share a position."""
    from facilitation.store import editor as qe

    async def go():
        first, second = PostgresDatabase(url, max_batch=4), PostgresDatabase(url, max_batch=4)
        await first.open()
        await second.open()
        try:
            workshop = await q.create_workshop(first, plans.parse_plan(DEMO.read_bytes()))
            seance = (await q.list_sessions(first, workshop))[0]
            before = len((await q.get_state(first, seance.id)).steps)
            added = await asyncio.gather(*[
                db.write(qe.add_step(seance.id, "proposals", f"Step {i}", "{}"))
                for i in range(40) for db in (first, second)])
            rows = await second.fetchall("SELECT position FROM steps WHERE session_id = ?",
                                         (seance.id,))
            return before, added, [r[0] for r in rows]
        finally:
            await first.close()
            await second.close()

    before, added, positions = run(go())
    assert len(set(added)) == 80
    assert sorted(positions) == list(range(before + 80))


def through(proxy: Proxy, url: str) -> str:
    parts = urlsplit(url)
    return url.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.port}")


def test_a_database_out_of_reach_refuses_writes_whole_and_comes_back_by_itself(url):
    port = urlsplit(url).port or 5432
    with Proxy(port) as proxy:
        async def go():
            db = PostgresDatabase(through(proxy, url))
            await db.open()
            try:
                workshop = await q.create_workshop(db, plans.parse_plan(DEMO.read_bytes()))
                seance = (await q.list_sessions(db, workshop))[0]
                proxy.cut(refuse_new=True)
                started = time.monotonic()
                with pytest.raises(Unavailable):
                    await q.add_participant(db, seance.id, "away", "", "fr-FR")
                with pytest.raises(Unavailable):
                    await db.fetchall("SELECT id FROM participants")
                refused_in = time.monotonic() - started
                proxy.restore()
                for _ in range(50):  # the next write connects again
                    try:
                        await q.add_participant(db, seance.id, "back", "", "fr-FR")
                        break
                    except Unavailable:
                        await asyncio.sleep(0.1)
                rows = await db.fetchall("SELECT token_hash FROM participants")
                return refused_in, sorted(r[0] for r in rows)
            finally:
                await db.close()

        refused_in, hashes = run(go())
    assert refused_in < 10
    assert hashes == ["back"]  # nothing of the refused write was kept


def test_people_get_a_clear_503_while_the_database_is_away_and_nothing_is_lost(tmp_path, url):
    port = urlsplit(url).port or 5432
    with Proxy(port) as proxy:
        settings = make_settings(tmp_path, "postgres", database_url=through(proxy, url))
        with TestClient(create_app(settings), base_url="http://testserver") as client:
            db = client.app.state.db
            workshop = client.portal.call(q.create_workshop, db,
                                          plans.parse_plan(DEMO.read_bytes()))
            seance = client.portal.call(q.list_sessions, db, workshop)[0]
            page = client.get(f"/j/{seance.code}")
            assert page.status_code == 200
            form = {"csrf": csrf_of(page.text), "name": "Awa", "language": "fr-FR"}
            proxy.cut(refuse_new=True)
            refused = client.post(f"/j/{seance.code}", data=form)
            assert refused.status_code == 503 and refused.headers["retry-after"]
            assert "Éclair ne peut rien enregistrer pour le moment" in refused.text
            assert "renvoyez dans un instant" in refused.text and "Retour à la page" in refused.text
            api = client.post("/api/sessions/join", json={"code": seance.code})
            assert api.status_code == 503 and api.json()["error"]["code"] == "unavailable", api.text
            proxy.restore()
            deadline = time.monotonic() + 10
            while True:
                again = client.post(f"/j/{seance.code}", data=form)
                if again.status_code != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert again.status_code == 200, again.text[:300]
            names = client.portal.call(db.fetchall, "SELECT name FROM participants", ())
            assert [r[0] for r in names] == ["Awa"]
