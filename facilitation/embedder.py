"""Proposals' vectors, made off the event loop. A proposal committed is queued, embedded in
the encoder's own thread, then stored; suggesting themes reads the stored vectors and embeds
only what is still missing (a proposal carried over, one corrected a moment ago, a theme
name). A phone never waits for the model: its proposal is acknowledged first."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from facilitation.encoder import ENGINE, VIEWS, WIDTH, Encoder, Unavailable, from_bytes, to_bytes
from facilitation.store import vectors as qvec
from facilitation.store.database import Database

if TYPE_CHECKING:
    import numpy as np

BATCH = 32  # proposals embedded together (the models go faster on a batch)
WAIT = 60.0  # seconds a suggestion waits for the queue's work on its proposals
TEXTS = 4096  # vectors of bare texts (theme names) kept in memory, as they are not stored
log = logging.getLogger("eclair.themes")


def _quiet(_: Any) -> None:
    """A vector changes nothing anyone sees: no séance is read again for it."""


class Embedder:
    """The queue of proposals to embed, and the vectors of a séance when themes are
    suggested. With no encoder (ECLAIR_THEMES_MODEL=0), or one that cannot load, it does
    nothing and suggestions go by shared words."""

    views = VIEWS

    def __init__(self, db: Database, encoder: Encoder | None) -> None:
        self.db = db
        self.encoder = encoder
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="eclair-encoder")
        self._pending: dict[int, None] = {}  # in order of arrival
        self._working: set[int] = set()  # the batch in the model now
        self._progress = asyncio.Condition()  # notified after each batch
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._texts: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether suggestions go by meaning (True until the model has failed to load)."""
        return self.encoder is not None and self.encoder.error is None

    def start(self) -> None:
        if self.encoder is not None:
            self._task = asyncio.create_task(self._run(), name="eclair-encoder")

    async def close(self) -> None:
        """Stop; what was still queued is embedded when themes are next suggested."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._thread.shutdown(wait=True, cancel_futures=True)

    def later(self, proposal_ids: Iterable[int]) -> None:
        """Embed these committed proposals soon (never raises, never waits)."""
        if not self.enabled or self._task is None:
            return
        for proposal_id in proposal_ids:
            self._pending[proposal_id] = None
        if self._pending:
            self._idle.clear()
            self._wake.set()

    async def settled(self) -> None:
        """Wait until every queued proposal was embedded and stored."""
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = list(self._pending)[:BATCH]
                for proposal_id in batch:
                    del self._pending[proposal_id]
                self._working = set(batch)
                try:
                    await self._embed_and_store(batch)
                except Unavailable:
                    self._pending.clear()  # the encoder said why, once
                except Exception:
                    log.exception("embedding %s proposals failed", len(batch))
                finally:
                    self._working = set()
                    async with self._progress:
                        self._progress.notify_all()
            self._idle.set()

    async def _queued(self, proposal_ids: Sequence[int]) -> None:
        """Put these first in the queue, and wait until none is queued or in the model:
        one thread runs the model, so embedding them again here would only wait as long
        and do the work twice."""
        wanted = set(proposal_ids)
        first = [pid for pid in self._pending if pid in wanted]
        self._pending = {**dict.fromkeys(first), **self._pending}
        async with self._progress:
            await self._progress.wait_for(
                lambda: not wanted & (self._pending.keys() | self._working))

    async def _embed(self, texts: Sequence[str]) -> np.ndarray:
        assert self.encoder is not None  # noqa: S101 - checked by every caller
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, self.encoder.encode, list(texts))

    async def _embed_and_store(self, proposal_ids: Sequence[int]) -> None:
        rows = await qvec.texts(self.db, proposal_ids)
        if rows:
            made = await self._embed([text for _, text in rows])
            await self._store([(pid, text, vector) for (pid, text), vector
                               in zip(rows, made, strict=True)])

    async def _store(self, made: Sequence[tuple[int, str, np.ndarray]]) -> None:
        await self.db.write(qvec.save(ENGINE, [(pid, text, to_bytes(vector))
                                               for pid, text, vector in made]), _quiet)

    async def vectors(self, items: Sequence[tuple[int | None, str]]) -> np.ndarray | None:
        """A row per (proposal id or None, text): the stored vector, else one made now (and
        stored, for a proposal). None when suggestions go by shared words."""
        if not self.enabled:
            return None
        import numpy as np

        ids = [pid for pid, _ in items if pid is not None]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queued(ids), WAIT)
        found = {pid: vector for pid, data in (await qvec.stored(self.db, ids, ENGINE)).items()
                 if len(vector := from_bytes(data)) == WIDTH}
        rows = np.zeros((len(items), WIDTH), dtype=np.float32)
        missing = []
        for index, (pid, text) in enumerate(items):
            known = found.get(pid) if pid is not None else self._texts.get(text)
            if known is not None:
                rows[index] = known
            else:
                missing.append(index)
        if missing:
            try:
                made = await self._embed([items[i][1] for i in missing])
            except Unavailable:
                return None
            # Stored as float16 and read back as such: the same numbers next time.
            rows[missing] = [from_bytes(to_bytes(vector)) for vector in made]
            kept = []
            for index in missing:
                pid, text = items[index]
                if pid is not None:
                    kept.append((pid, text, rows[index]))
                else:
                    self._texts[text] = rows[index]
                    while len(self._texts) > TEXTS:
                        self._texts.popitem(last=False)
            if kept:
                await self._store(kept)
        return rows
