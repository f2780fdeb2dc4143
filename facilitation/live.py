"""The event hub: views publish rendered fragments per séance; WebSockets subscribe.

In-process by default; `live_redis.RedisHub` carries the same between processes. A
fragment is rendered once per event and the same string is queued for every subscriber;
each subscriber has its own bounded queue, so one phone on a slow network only ever
delays itself.

Besides fragments, the hub carries what keeps every process's memory and live views
fresh (`Announced`, `Redraw`, `Invalidated`): `send` hands them to the hub's listener
(`relay.Relay`), here at once, between processes in the one order all of them share.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from facilitation.memory import Event

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
        # Between processes: what the last fragment this connection got was made from (see
        # Hub.mark); an older one arriving later is not sent.
        self.mark = 0

    def push(self, message: Any) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
                self.dropped += 1
        self.queue.put_nowait(message)

    async def get(self) -> Any:
        """A fragment (str), or an object each connection turns into its own fragment."""
        return await self.queue.get()


@dataclass(frozen=True)
class Announced:
    """A committed write's event: every process's memory follows it."""

    event: Event


@dataclass(frozen=True)
class Redraw:
    """A séance's live views are to be drawn again: its step or questions moved (`state`,
    phones too), or only its results and presence."""

    session_id: int
    state: bool


@dataclass(frozen=True)
class Invalidated:
    """A write that said nothing of what it changed: every séance is read again."""


Message = Announced | Redraw | Invalidated


class Listener(Protocol):
    def received(self, message: Message, *, mine: bool, seq: int | None) -> None:
        """`message`, sent by this process (`mine`) or another; `seq` is its place in the
        order every process shares (None: it never left this process)."""


class Hub:
    def __init__(self, queue_size: int = 8) -> None:
        self.queue_size = queue_size
        self._topics: dict[str, set[Subscription]] = {}
        self.published: Counter[str] = Counter()
        self.listener: Listener | None = None

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def send(self, message: Message) -> None:
        """Hand `message` to the listener of every process: here, only this one's, at once."""
        if self.listener is not None:
            self.listener.received(message, mine=True, seq=None)

    async def settled(self) -> None:
        """Return once everything sent so far has reached every process."""

    async def caught_up(self) -> None:
        """Return once this process has received everything sent before the call."""

    async def ready(self, subscription: Subscription) -> None:
        """Return once `subscription` gets every fragment published after what the
        connection is about to read (its first fragment)."""

    def mark(self) -> int:
        """What a fragment rendered from this process's memory now is made from."""
        return 0

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

    def topics(self) -> list[str]:
        """The topics this process has subscribers for."""
        return list(self._topics)

    def publish(self, topic: str, message: Any, mark: int | None = None) -> int:
        """Queue `message` for every subscriber of `topic`; return how many got it.
        `mark`: what the message was made from (see `mark()`); None: what is known now."""
        self.published[topic] += 1
        subscribers = self._topics.get(topic, ())
        for subscription in subscribers:
            subscription.push(message)
        return len(subscribers)


def topic(session_id: int, audience: str) -> str:
    return f"session:{session_id}:{audience}"


def session_of(name: str) -> int | None:
    """The séance a topic is about."""
    parts = name.split(":")
    return int(parts[1]) if len(parts) > 2 and parts[0] == "session" \
        and parts[1].isdecimal() else None


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
