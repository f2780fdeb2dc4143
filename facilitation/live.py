"""The event hub: views publish rendered fragments per séance; WebSockets subscribe.

In-process by default. A fragment is rendered once per event and the same string is
queued for every subscriber; each subscriber has its own bounded queue, so one phone
on a slow network only ever delays itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)


REVOKED = object()  # queued to a connection whose link was revoked


class Subscription:
    """One connection's queue. When full, the oldest message is dropped: every fragment
    carries a whole region's state, so the newest one is all a late reader needs."""

    def __init__(self, topic: str, maxsize: int, credential: str | None = None) -> None:
        self.topic = topic
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self.dropped = 0
        self.credential = credential  # the link it was opened with, if any
        self.revoked = False

    def push(self, message: Any) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
                self.dropped += 1
        self.queue.put_nowait(message)

    async def get(self) -> Any:
        """A fragment (str), or an object each connection turns into its own fragment."""
        return await self.queue.get()


class Hub:
    def __init__(self, queue_size: int = 8) -> None:
        self.queue_size = queue_size
        self._topics: dict[str, set[Subscription]] = {}
        self.published: Counter[str] = Counter()

    def subscribe(self, topic: str, credential: str | None = None) -> Subscription:
        subscription = Subscription(topic, self.queue_size, credential)
        self._topics.setdefault(topic, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._topics.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._topics[subscription.topic]

    def revoke(self, credential: str) -> int:
        """A link was revoked: its open connections get nothing more and are closed."""
        found = [sub for subs in self._topics.values() for sub in subs
                 if sub.credential == credential]
        for subscription in found:
            subscription.revoked = True
            subscription.push(REVOKED)
        return len(found)

    def subscribers(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    def publish(self, topic: str, message: Any) -> int:
        """Queue `message` for every subscriber of `topic`; return how many got it."""
        self.published[topic] += 1
        subscribers = self._topics.get(topic, ())
        for subscription in subscribers:
            subscription.push(message)
        return len(subscribers)


def topic(session_id: int, audience: str) -> str:
    return f"session:{session_id}:{audience}"


class Coalescer(Generic[K]):
    """Runs `action(key)` at most once per `interval` for each key, however many requests
    arrive: a request during the wait is folded into the run already scheduled."""

    def __init__(self, interval: float, action: Callable[[K], Awaitable[None]]) -> None:
        self.interval = interval
        self.action = action
        self.runs: Counter[K] = Counter()
        self._pending: dict[K, asyncio.Task[None]] = {}
        self._last: dict[K, float] = {}

    def request(self, key: K) -> None:
        if key in self._pending:
            return
        self._pending[key] = asyncio.create_task(self._run(key))

    async def _run(self, key: K) -> None:
        try:
            wait = self._last.get(key, 0.0) + self.interval - time.monotonic()
            await asyncio.sleep(max(wait, 0.0))
        finally:
            # Requests from now on schedule a further run, so no change is missed.
            self._pending.pop(key, None)
        self._last[key] = time.monotonic()
        self.runs[key] += 1
        await self.action(key)

    async def close(self) -> None:
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
