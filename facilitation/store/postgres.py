"""PostgreSQL behind the same interface as the SQLite file (DATABASE_URL).

The queries are the SQLite ones, translated once each (dialect.py). Writes keep their
meaning: one writer per process takes every write waiting and runs the group in one
transaction, each write in its own savepoint; an acknowledged write is committed
(synchronous_commit). The writes of all processes are serialised by one transaction
lock, as SQLite's single writer serialises them, so "the next position", "the card
typed twice" and every other read-then-write keeps the same answer with several
processes. Write operations are the same plain functions of a connection: in the
writer thread a small adapter gives them `execute`, `executemany`, `fetchone`,
`fetchall`, `rowcount` and `lastrowid` over asyncpg, on that thread's own event loop.

When PostgreSQL is away, reads and writes raise Unavailable (a 503 for people): a
group either committed whole or not at all, and the next write or read connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import asyncpg

from facilitation.store import dialect
from facilitation.store.database import Database, Unavailable, Write

log = logging.getLogger("eclair.store")

# pg_advisory_xact_lock key shared by every Éclair process on one database ("éclair").
WRITER_LOCK = 0x0E_C1_A1_2
MIGRATION_LOCK = WRITER_LOCK + 1
CONNECT_TIMEOUT = 3.0
STATEMENTS = 512  # prepared statements kept per connection
RETRY_AFTER_FAILURE = 1.0  # seconds during which a failed connection is not tried again

_GONE: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.exceptions.InternalClientError,
)
_INTEGERS = {"int2", "int4", "int8", "oid"}
_TEXTS = {"text", "varchar", "bpchar", "name", "unknown", "json"}
_FLOATS = {"float4", "float8"}


def gone(error: BaseException) -> bool:
    """Is this the connection failing (try again later), not the statement?"""
    return isinstance(error, _GONE)


def _number(text: str) -> int | float | Decimal:
    """numeric → what SQLite gives for the same expression: an int, else a float."""
    return int(text) if text.lstrip("-").isdecimal() else float(text)


def _coerce(kinds: Sequence[str], params: Sequence[Any]) -> list[Any]:
    """SQLite takes any value for any parameter; asyncpg wants the declared type."""
    out: list[Any] = []
    for kind, value in zip(kinds, params, strict=False):
        if value is None:
            out.append(None)
        elif kind in _INTEGERS:
            out.append(int(value) if not isinstance(value, int) or isinstance(value, bool)
                       else value)
        elif kind in _TEXTS:
            out.append(str(int(value)) if isinstance(value, bool)
                       else value if isinstance(value, str) else str(value))
        elif kind in _FLOATS:
            out.append(float(value))
        elif kind == "numeric":
            out.append(Decimal(str(value)))
        elif kind == "bool":
            out.append(bool(value))
        else:
            out.append(value)
    if len(params) != len(kinds):
        raise sqlite3.ProgrammingError(
            f"{len(kinds)} parameters expected, {len(params)} given")
    return out


async def _setup(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_number,
                              schema="pg_catalog", format="text")


def _rowcount(status: str | None) -> int:
    """'INSERT 0 3', 'UPDATE 2', 'DELETE 0' → the rows it touched (-1 for others)."""
    if not status:
        return -1
    verb, _, rest = status.partition(" ")
    if verb in {"INSERT", "UPDATE", "DELETE", "MERGE"}:
        return int(rest.rsplit(" ", 1)[-1])
    return -1


class Cursor:
    """What sqlite3's cursor gives the write operations: rows, rowcount, lastrowid."""

    def __init__(self, rows: list[asyncpg.Record], rowcount: int,
                 lastrowid: int | None) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> asyncpg.Record | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list[asyncpg.Record]:
        rest, self._at = self._rows[self._at:], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[asyncpg.Record]:
        return iter(self.fetchall())


_DML = ("select", "insert", "update", "delete", "with", "values")


class Connection:
    """The writer thread's connection, shaped like sqlite3's for the write operations."""

    def __init__(self, loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection,
                 id_tables: frozenset[str]) -> None:
        self.loop = loop
        self.conn = conn
        self.id_tables = id_tables
        # Prepared once each; bounded, as `IN (?, ?, …)` lists make statements of any length.
        self._statements: OrderedDict[str, asyncpg.prepared_stmt.PreparedStatement] = \
            OrderedDict()

    def run(self, sql: str) -> str:
        """Statements without parameters, as they are (transaction control, DDL)."""
        return str(self.loop.run_until_complete(self.conn.execute(sql)))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        try:
            return self.loop.run_until_complete(self._execute(sql, tuple(params)))
        except asyncpg.exceptions.IntegrityConstraintViolationError as error:
            raise sqlite3.IntegrityError(str(error)) from error

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]] | Iterator[Any]) -> Cursor:
        count = 0
        for params in rows:
            count += max(self.execute(sql, params).rowcount, 0)
        return Cursor([], count, None)

    async def _execute(self, sql: str, params: tuple[Any, ...]) -> Cursor:
        target = dialect.translate(sql, self.id_tables)
        returns_ids = target.endswith(" RETURNING id") and not sql.rstrip().rstrip(";") \
            .upper().endswith("RETURNING ID")
        if not params and not target.lstrip().lower().startswith(_DML):
            status = await self.conn.execute(dialect.ddl(target))  # in migrations
            return Cursor([], _rowcount(status), None)
        statement = self._statements.get(target)
        if statement is None:
            statement = self._statements[target] = await self.conn.prepare(target)
            if len(self._statements) > STATEMENTS:
                self._statements.popitem(last=False)
        else:
            self._statements.move_to_end(target)
        kinds = [t.name for t in statement.get_parameters()]
        rows = await statement.fetch(*_coerce(kinds, params))
        count = _rowcount(statement.get_statusmsg())
        if returns_ids:
            return Cursor([], count, int(rows[-1][0]) if rows else None)
        return Cursor(rows, count if count >= 0 else len(rows), None)


class PostgresDatabase(Database):
    """Reads from a small pool; writes through the one writer thread of this process."""

    def __init__(self, url: str, max_batch: int = 256, max_pending: int = 4096) -> None:
        super().__init__(_nowhere(url), max_batch, max_pending)
        self.url = url
        self._pool: asyncpg.Pool | None = None
        self._loop = asyncio.new_event_loop()
        self._conn: Connection | None = None
        self._id_tables: frozenset[str] = frozenset()
        self._failed_at = 0.0
        self._kinds: dict[str, list[str]] = {}

    # Opening and closing ----------------------------------------------------------

    async def open(self) -> None:
        await self._in_thread(self._open_writer)
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=0, max_size=4, init=_setup, timeout=CONNECT_TIMEOUT)
        except Exception as error:
            if gone(error):
                raise Unavailable(f"PostgreSQL cannot be reached: {error}") from error
            raise
        self._task = asyncio.create_task(self._write_loop(), name="eclair-writer")

    def _open_writer(self) -> None:
        from facilitation.store.schema import migrate_postgres

        asyncio.set_event_loop(self._loop)
        conn = self._connect()
        migrate_postgres(conn)
        self._id_tables = conn.id_tables = _id_tables(conn)
        self._conn = conn

    def _connect(self) -> Connection:
        """In the writer thread: a new connection, or Unavailable at once if the last
        attempt failed a moment ago (a write must not wait for every retry)."""
        if time.monotonic() - self._failed_at < RETRY_AFTER_FAILURE:
            raise Unavailable("PostgreSQL was unreachable a moment ago")
        try:
            raw = self._loop.run_until_complete(
                asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT))
            self._loop.run_until_complete(_setup(raw))
            # An acknowledged write is on disk, whatever the server's default.
            self._loop.run_until_complete(raw.execute("SET synchronous_commit = on"))
        except Exception as error:
            if gone(error):
                self._failed_at = time.monotonic()
                raise Unavailable(f"PostgreSQL cannot be reached: {error}") from error
            raise
        self._failed_at = 0.0
        return Connection(self._loop, raw, self._id_tables)

    async def close(self) -> None:
        await self._stop_writer()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._in_thread(self._close_writer)
        await self._in_thread(self._loop.close)
        self._thread.shutdown(wait=True)

    def _close_writer(self) -> None:
        if self._conn is not None:
            self._loop.run_until_complete(self._conn.conn.close(timeout=2))
            self._conn = None

    # Reads ------------------------------------------------------------------------

    async def _read(self, sql: str, params: Sequence[Any]) -> list[asyncpg.Record]:
        if self._pool is None:
            raise RuntimeError("database is not open")
        self.stats.reads += 1
        target = dialect.translate(sql, frozenset())
        for attempt in (1, 2):  # a connection the server dropped is replaced once
            try:
                async with self._pool.acquire(timeout=CONNECT_TIMEOUT) as conn:
                    kinds = self._kinds.get(target)
                    if kinds is None:
                        statement = await conn.prepare(target)
                        kinds = [t.name for t in statement.get_parameters()]
                        if len(self._kinds) < STATEMENTS:
                            self._kinds[target] = kinds
                    return list(await conn.fetch(target, *_coerce(kinds, params)))
            except Exception as error:
                if not gone(error):
                    raise
                if attempt == 2:
                    raise Unavailable(f"PostgreSQL cannot be reached: {error}") from error
        raise AssertionError("unreachable")

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return await self._read(sql, params)

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = await self._read(sql, params)
        return rows[0] if rows else None

    # Writes -----------------------------------------------------------------------

    def _run_group(self, operations: list[Write[Any]]) -> list[tuple[bool, Any]]:
        """In the writer thread: the group in one transaction, one savepoint each, after
        every other process's group (the lock)."""
        try:
            return self._group(operations)
        except Unavailable:
            raise
        except Exception as error:
            if not gone(error) and not (self._conn and self._conn.conn.is_closed()):
                raise
            self._drop()
            raise Unavailable(f"PostgreSQL went away: {error}") from error

    def _group(self, operations: list[Write[Any]]) -> list[tuple[bool, Any]]:
        if self._conn is None or self._conn.conn.is_closed():
            self._conn = self._connect()
        conn = self._conn
        outcomes: list[tuple[bool, Any]] = []
        conn.run(f"BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK}); SAVEPOINT op")
        try:
            for index, operation in enumerate(operations):
                last = index == len(operations) - 1
                try:
                    value = operation(conn)  # type: ignore[arg-type]
                except Exception as error:  # noqa: BLE001 - handed to the caller
                    if gone(error) or conn.conn.is_closed():
                        raise
                    conn.run("ROLLBACK TO SAVEPOINT op")
                    outcomes.append((False, error))
                else:
                    outcomes.append((True, value))
                conn.run("RELEASE SAVEPOINT op; COMMIT" if last
                         else "RELEASE SAVEPOINT op; SAVEPOINT op")
        except BaseException:
            with contextlib.suppress(Exception):
                if not conn.conn.is_closed():
                    conn.run("ROLLBACK")
            raise
        return outcomes

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.conn.terminate()
            self._conn = None


def _nowhere(url: str) -> Any:
    """Database keeps a path for SQLite; here it names the server (for messages only)."""
    from pathlib import PurePosixPath

    return PurePosixPath(url.rsplit("@", 1)[-1])


def _id_tables(conn: Connection) -> frozenset[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.columns"
                        " WHERE column_name = 'id' AND table_schema = current_schema()"
                        " AND is_identity = 'YES'").fetchall()
    return frozenset(str(row[0]) for row in rows)
