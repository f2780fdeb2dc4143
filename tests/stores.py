"""The two stores the suite runs on: the SQLite file, and PostgreSQL (a fresh database
per test, copied from a migrated template, dropped at the end of the run).

PostgreSQL is at ECLAIR_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test).
Where it cannot be reached the PostgreSQL variants skip, except in CI (CI or
ECLAIR_REQUIRE_POSTGRES set), where they fail: the README promises both stores.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
from typing import Any

import asyncpg
import pytest

from facilitation.store import schema
from facilitation.store.postgres import PostgresDatabase

SERVER = os.environ.get("ECLAIR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = "eclair_t"
# The template's name changes with the migrations, so an old template is never used.
TEMPLATE = f"{PREFIX}_template_{len(schema.MIGRATIONS)}_{abs(hash(schema.MIGRATIONS[-1])) % 10**8}"
_counter = itertools.count(1)
_made: list[str] = []
_template_ready = False


def required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("ECLAIR_REQUIRE_POSTGRES"))


def url_of(database: str) -> str:
    return SERVER.rsplit("/", 1)[0] + "/" + database


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(SERVER, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _make_template() -> None:
    conn = await asyncpg.connect(SERVER, timeout=5)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", TEMPLATE)
        if exists:
            return
        # Another run may be making it at the same moment: one makes it, the other waits.
        await conn.execute("SELECT pg_advisory_lock(4242)")
        try:
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", TEMPLATE):
                return
            building = f"{TEMPLATE}_building_{os.getpid()}"
            await conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{building}"')
            db = PostgresDatabase(url_of(building))
            await db.open()
            await db.close()
            await conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{TEMPLATE}"')
        finally:
            await conn.execute("SELECT pg_advisory_unlock(4242)")
    finally:
        await conn.close()


def _run(coroutine: Any) -> Any:
    """asyncio.run, in a thread of its own: the caller may be inside an event loop
    (Playwright's synchronous API runs one)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def fresh_database() -> str:
    """The URL of a new, migrated, empty database of its own."""
    global _template_ready
    try:
        if not _template_ready:
            _run(_make_template())
            _template_ready = True
        name = f"{PREFIX}_{os.getpid()}_{next(_counter)}"
        _run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL at {SERVER} cannot be used: {error}"
        if required():
            pytest.fail(message)
        pytest.skip(message)
    _made.append(name)
    return url_of(name)


def drop_all() -> None:
    """Drop the databases this run made (and none of another run still going)."""
    if not _made:
        return
    names, _made[:] = list(_made), []
    try:
        _run(_admin(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names)))
    except (OSError, asyncpg.PostgresError):
        pass


async def tables(db: object) -> dict[str, list[str]]:
    """Every table of the store with its columns (not the store's own bookkeeping)."""
    from facilitation.store import Database

    assert isinstance(db, Database)
    if isinstance(db, PostgresDatabase):
        rows = await db.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name != 'schema_version'"
            " ORDER BY table_name, ordinal_position")
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(str(row[0]), []).append(str(row[1]))
        return found
    names = [str(r[0]) for r in await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {name: [str(c[1]) for c in await db.fetchall(f"PRAGMA table_info({name})")]
            for name in names}
