"""The SQLite file: one reader connection and one writer that commits in groups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from facilitation.store.schema import migrate

T = TypeVar("T")
Write = Callable[[aiosqlite.Connection], Awaitable[T]]
log = logging.getLogger("eclair.store")


@dataclass
class WriterStats:
    transactions: int = 0
    writes: int = 0
    largest_batch: int = 0


class Database:
    """Reads go straight to a reader connection; writes queue for the single writer.

    The writer takes every write waiting at once and runs them in one transaction
    (group commit), each inside its own savepoint so a failing write only undoes
    itself. A write's future resolves only after COMMIT returned, so an acknowledged
    answer is on disk (WAL, synchronous=FULL).
    """

    def __init__(self, path: Path, max_batch: int = 256) -> None:
        self.path = path
        self.max_batch = max_batch
        self.stats = WriterStats()
        self._reader: aiosqlite.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._queue: asyncio.Queue[tuple[Write[Any], asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode=WAL")
        await migrate(self._writer)
        self._reader = await self._connect()
        await self._reader.execute("PRAGMA query_only=ON")
        self._task = asyncio.create_task(self._write_loop(), name="eclair-writer")

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA synchronous=FULL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        return conn

    async def close(self) -> None:
        if self._task is not None:
            # Let queued writes finish before closing.
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not open")
        return self._reader

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[aiosqlite.Row]:
        async with self.reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        async with self.reader.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def write(self, operation: Write[T]) -> T:
        """Run `operation` in the next group transaction; return once it is committed."""
        if self._task is None or self._task.done():
            raise RuntimeError("database writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put((operation, future))
        return await future

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_batch(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit_batch(self, batch: list[tuple[Write[Any], asyncio.Future[Any]]]) -> None:
        conn = self._writer
        assert conn is not None  # noqa: S101 - open() ran before the loop started
        outcomes: list[tuple[bool, Any]] = []
        try:
            await conn.execute("BEGIN IMMEDIATE")
            for operation, _future in batch:
                await conn.execute("SAVEPOINT op")
                try:
                    value = await operation(conn)
                except Exception as error:  # noqa: BLE001 - handed to the caller below
                    await conn.execute("ROLLBACK TO op")
                    outcomes.append((False, error))
                else:
                    outcomes.append((True, value))
                await conn.execute("RELEASE op")
            await conn.commit()
        except Exception as error:
            log.exception("group commit failed")
            with contextlib.suppress(Exception):
                await conn.rollback()
            for _operation, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        self.stats.transactions += 1
        self.stats.writes += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        for (ok, value), (_operation, future) in zip(outcomes, batch, strict=True):
            if future.done():  # the caller went away
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
