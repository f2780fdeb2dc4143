"""The SQLite file: one reader connection and one writer thread that commits in groups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from facilitation.store.schema import migrate

T = TypeVar("T")
Write = Callable[[sqlite3.Connection], T]
OnCommit = Callable[[Any], None]
log = logging.getLogger("eclair.store")


class Overloaded(Exception):
    """More writes are waiting than the writer can commit soon: refuse, do not queue."""


class Unavailable(Exception):
    """The database cannot be reached for now: nothing of this write was kept; try again."""


@dataclass
class WriterStats:
    transactions: int = 0
    writes: int = 0
    largest_batch: int = 0
    refused: int = 0
    reads: int = 0  # statements on the reader connection


@dataclass
class _Pending:
    operation: Write[Any]
    future: asyncio.Future[Any]
    on_commit: OnCommit | None


class Database:
    """Reads go straight to a reader connection; writes queue for the single writer.

    The writer takes every write waiting at once and runs the whole group in its own
    thread in one call: one transaction (group commit), each write inside its own
    savepoint so a failing write only undoes itself. Once COMMIT returned, each write's
    `on_commit` runs on the event loop in commit order (that is how the in-memory séance
    state follows the database), then its caller is answered: an acknowledged write is on
    disk (WAL, synchronous=FULL).
    """

    def __init__(self, path: Path, max_batch: int = 256, max_pending: int = 4096) -> None:
        self.path = path
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.stats = WriterStats()
        self._reader: aiosqlite.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="eclair-writer")
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # Called after a write committed with no `on_commit` of its own.
        self.after_unannounced: Callable[[], None] | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._in_thread(self._open_writer)
        self._reader = await aiosqlite.connect(self.path, isolation_level=None)
        self._reader.row_factory = aiosqlite.Row
        for pragma in ("synchronous=FULL", "foreign_keys=ON", "busy_timeout=5000",
                       "query_only=ON"):
            await self._reader.execute(f"PRAGMA {pragma}")
        self._task = asyncio.create_task(self._write_loop(), name="eclair-writer")

    def _open_writer(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=5000"):
            conn.execute(f"PRAGMA {pragma}")
        migrate(conn)
        self._writer = conn

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def _stop_writer(self) -> None:
        """Let queued writes finish, then stop the write loop."""
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def close(self) -> None:
        await self._stop_writer()
        if self._reader is not None:
            await self._reader.close()
        if self._writer is not None:
            await self._in_thread(self._writer.close)
        self._reader = self._writer = None
        self._thread.shutdown(wait=True)

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not open")
        return self._reader

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[aiosqlite.Row]:
        self.stats.reads += 1
        async with self.reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        self.stats.reads += 1
        async with self.reader.execute(sql, params) as cursor:
            return await cursor.fetchone()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def write(self, operation: Write[T], on_commit: OnCommit | None = None, *,
                    refusable: bool = False) -> T:
        """Run `operation` in the next group transaction; return its value once committed.

        `on_commit(value)` runs on the event loop right after COMMIT, before this returns,
        in the order of the commits. With `refusable`, a full queue raises Overloaded
        at once instead of waiting (what people do; the organiser's work always queues).
        """
        if self._task is None or self._task.done():
            raise RuntimeError("database writer is not running")
        if refusable and self._queue.qsize() >= self.max_pending:
            self.stats.refused += 1
            raise Overloaded
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(operation, future, on_commit))
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

    def _run_group(self, operations: list[Write[Any]]) -> list[tuple[bool, Any]]:
        """In the writer thread: the whole group, one transaction, one savepoint each."""
        conn = self._writer
        assert conn is not None  # noqa: S101 - open() ran before the loop started
        outcomes: list[tuple[bool, Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for operation in operations:
                conn.execute("SAVEPOINT op")
                try:
                    value = operation(conn)
                except Exception as error:  # noqa: BLE001 - handed to the caller
                    conn.execute("ROLLBACK TO op")
                    outcomes.append((False, error))
                else:
                    outcomes.append((True, value))
                conn.execute("RELEASE op")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        return outcomes

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._in_thread(self._run_group, [p.operation for p in batch])
        except Unavailable as error:
            log.warning("group commit refused: %s", error)
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(error)
            return
        except Exception as error:
            log.exception("group commit failed")
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(error)
            return
        self.stats.transactions += 1
        self.stats.writes += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        for (ok, value), pending in zip(outcomes, batch, strict=True):
            hook = pending.on_commit
            try:
                if ok and hook is not None:
                    hook(value)
                elif ok and self.after_unannounced is not None:
                    self.after_unannounced()
            except Exception:
                log.exception("after-commit hook failed")
            if pending.future.done():  # the caller went away
                continue
            if ok:
                pending.future.set_result(value)
            else:
                pending.future.set_exception(value)
