"""The hub between processes, through Redis (chosen by REDIS_URL).

Every message (a rendered fragment, a committed write's event, a redraw, a revoked link,
who subscribes to what) goes through one Redis channel, so every process receives every
message in the same order, its own included. A small Lua script numbers each message from
one counter as it publishes it: `seq`, its place in that order.

Ordering. Redis delivers one channel's messages to every subscriber in the order it
published them. A process publishes what it sends in the order it was sent (one queue,
one connection) and applies even its own messages only when they come back. A request's
answer leaves only once all its process sent is back (`settled`); a request starts only
once its process has received all that was published before it came in (`caught_up`:
the counter is read, then waited for). Hence:

- every process applies the same events in the same order;
- writes that follow one another (a phone's next answer, sent once the previous one was
  acknowledged, maybe by another process) reach every process in that order: the first
  was published before its acknowledgement, the second after;
- a request sent after an acknowledgement sees that write, whichever process answers it.

Two writes made at the same time in two processes are applied in the order Redis got
them, which may not be the order of their commits: nobody could have seen one before the
other, but if both change the same thing (one person answering one question from two
phones at once) memory may keep the other value than the database until it is read again.

Fragments are rendered once, by the process where the change happened, once its message
about it came back (its memory then holds every event numbered before), for the
subscribers of every process. Each carries the `seq` of the last message its renderer
had received when it read what it shows (`mark`); a connection is never sent a fragment
older than the last it got (renderers in two processes may finish out of order), and
every change is followed by a render marked at least with its own `seq`. A process
announces that it subscribes to a topic, and waits for that to come back, before a new
connection reads its first fragment (`ready`): a change is in what it reads or rendered
for it after.

Faults. When Redis cannot be reached, each process carries on alone: what it sends is
handled at once, in this process only, and it reconnects with a growing pause. Back, it
reads every séance again from the database, redraws those it has subscribers for, and
tells the others to do the same if it sent anything they missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import Counter, deque
from collections.abc import Iterable
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facilitation.live import Hub, Listener, Subscription, session_of

log = logging.getLogger("eclair.live")

# Numbers each message from one counter and publishes it. After a restart of Redis (the
# counter lost) it starts again from the clock in microseconds: above every number given
# before, so an older fragment can never pass for a newer one.
PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local now = redis.call('TIME')
  redis.call('SET', KEYS[1], now[1] .. string.format('%06d', tonumber(now[2])))
end
for i = 1, #ARGV do
  local seq = redis.call('INCR', KEYS[1])
  redis.call('PUBLISH', KEYS[2], string.format('%d', seq) .. '|' .. ARGV[i])
end
return #ARGV
"""
BATCH = 256  # messages per script call
# Kinds of message: fragment, listener message, revoked link, subscriber count, hello
# (heartbeat with every count), bye, and "read everything again".
FRAGMENT, MESSAGE, REVOKE, COUNT, HELLO, BYE, RESYNC = "f", "m", "r", "c", "h", "b", "x"
MATTERS = {FRAGMENT, MESSAGE, REVOKE}  # lost if not delivered; the rest is sent again


class Peer(Listener, Protocol):
    """The listener of a hub between processes: turns its messages into plain data and
    back, and catches up when messages may have been lost."""

    def encode(self, message: Any) -> Any: ...

    def decode(self, data: Any) -> Any: ...

    def resync(self) -> None:
        """Messages may have been lost: forget what they kept fresh."""

    def redraw_all(self, session_ids: Iterable[int]) -> None:
        """Draw these séances' live views again."""


class RedisHub(Hub):
    def __init__(self, url: str, queue_size: int = 8, *, prefix: str = "eclair",
                 heartbeat: float = 5.0, wait: float = 2.0) -> None:
        super().__init__(queue_size)
        self.url = url
        self.heartbeat = heartbeat
        self.wait = wait  # at most this long a request waits on Redis, then goes on alone
        db = urlsplit(url).path.strip("/") or "0"
        # Channels are shared by every database of a Redis server: the number keeps two
        # installations on two databases apart.
        self.channel = f"{prefix}:{db}:live"
        self.counter = f"{prefix}:live:seq"
        self.origin = secrets.token_hex(6)
        self.connected = False
        self.watermark = 0  # seq of the last message received
        self.stats: Counter[str] = Counter()
        self._client: Redis | None = None
        self._listen_client: Redis | None = None
        self._n = 0  # this process's messages, numbered
        self._inflight: dict[int, tuple[str, Any]] = {}  # sent, not yet back from Redis
        self._outbox: deque[int] = deque()
        self._wake = asyncio.Event()
        self._up = asyncio.Event()
        self._echo_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._seq_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._read: asyncio.Future[int] | None = None
        self._read_lock = asyncio.Lock()
        self._lost = False  # sent something the others may have missed
        self._behind = False  # may have missed something the others sent
        self._drop_now = False
        self._counted: dict[str, int] = {}  # topic -> the count message saying "here"
        self._remote: dict[str, dict[str, int]] = {}  # process -> topic -> subscribers
        self._seen: dict[str, float] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def peer(self) -> Peer:
        assert self.listener is not None, "a relay listens to the hub"
        return cast(Peer, self.listener)

    # Life ---------------------------------------------------------------------------

    async def start(self) -> None:
        options: dict[str, Any] = {"socket_connect_timeout": self.wait,
                                   "retry": Retry(NoBackoff(), 0)}
        self._client = Redis.from_url(self.url, socket_timeout=self.wait, **options)
        self._listen_client = Redis.from_url(self.url, socket_timeout=None, **options)
        self._script = self._client.register_script(PUBLISH)
        self._tasks = [asyncio.create_task(self._listen(), name="eclair-redis-listen"),
                       asyncio.create_task(self._publish_loop(), name="eclair-redis-publish"),
                       asyncio.create_task(self._beat(), name="eclair-redis-beat")]
        # Serve at once if Redis is down (this process alone until it is back).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.wait):
                await self._up.wait()

    async def close(self) -> None:
        if self.connected:
            self._send(BYE, None)  # the others stop counting this process's subscribers
            await self.settled()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for client in (self._client, self._listen_client):
            if client is not None:
                await client.aclose()

    # The Hub's interface ------------------------------------------------------------

    def send(self, message: Any) -> None:
        self._send(MESSAGE, message)

    def publish(self, topic: str, message: Any, mark: int | None = None) -> int:
        self.published[topic] += 1
        self._send(FRAGMENT, (topic, message, self.watermark if mark is None else mark))
        return self.subscribers(topic)

    def revoke(self, credential: str) -> int:
        found = super().revoke(credential)
        self._send(REVOKE, credential)
        return found

    def subscribe(self, topic: str, credential: str | None = None) -> Subscription:
        subscription = super().subscribe(topic, credential)
        if len(self._topics[topic]) == 1:
            self._counted[topic] = self._send(COUNT, (topic, 1))
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        super().unsubscribe(subscription)
        topic = subscription.topic
        if topic not in self._topics and self._counted.pop(topic, None) is not None:
            self._send(COUNT, (topic, 0))

    def subscribers(self, topic: str) -> int:
        """Here, and in every process still heard from."""
        return super().subscribers(topic) + sum(
            counts.get(topic, 0) for counts in self._remote.values())

    async def ready(self, subscription: Subscription) -> None:
        # Once the others know this process subscribes to the topic, any change after is
        # rendered for it, and any change before is in what the connection reads next.
        announced = self._counted.get(subscription.topic)
        if announced is not None:
            await self._echoed(announced)
        subscription.mark = self.watermark

    def mark(self) -> int:
        return self.watermark

    async def settled(self) -> None:
        await self._echoed(self._n)

    async def caught_up(self) -> None:
        if not self.connected:
            return
        if self._read is None:
            self._read = asyncio.get_running_loop().create_future()
            asyncio.create_task(self._read_counter(self._read))
        read = self._read
        try:
            async with asyncio.timeout(self.wait):
                target = await asyncio.shield(read)
                await self._reached(target)
        except TimeoutError:
            self.stats["late"] += 1

    # Sending ------------------------------------------------------------------------

    def _send(self, kind: str, body: Any) -> int:
        self._n += 1
        if not self.connected:
            # Alone: handled here at once; the others will read everything again.
            self._lost = self._lost or kind in MATTERS
            self._behind = True
            self.stats["alone"] += 1
            self._handle(kind, body, mine=True, seq=None)
            return self._n
        self._inflight[self._n] = (kind, body)
        self._outbox.append(self._n)
        self._wake.set()
        return self._n

    def _encode(self, n: int, kind: str, body: Any) -> str:
        data: Any = body
        if kind == FRAGMENT:
            topic, message, mark = body
            data = {"t": topic, "w": mark, "m": self.peer.encode(message)}
        elif kind == MESSAGE:
            data = self.peer.encode(body)
        # Who sent it in front: a process reads none of its own messages back.
        return f"{self.origin}|{n}|{kind}|" + json.dumps(data, ensure_ascii=False,
                                                        separators=(",", ":"))

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox and self.connected:
                payloads = []
                resync = self._lost
                if resync:  # first: what the others missed is read again
                    payloads.append(f"{self.origin}|0|{RESYNC}|null")
                while self._outbox and len(payloads) < BATCH:
                    n = self._outbox.popleft()
                    entry = self._inflight.get(n)
                    if entry is None:
                        continue
                    try:
                        payloads.append(self._encode(n, *entry))
                    except Exception:
                        log.exception("live message %s could not be sent", entry[0])
                        del self._inflight[n]
                        self._lost = True
                        self._handle(*entry, mine=True, seq=None)
                if not payloads:
                    continue
                try:
                    await self._script(keys=[self.counter, self.channel], args=payloads)
                except (RedisError, OSError) as error:
                    self._drop(f"publishing failed ({error})")
                except Exception:
                    log.exception("publishing live messages failed")
                    self._drop("publishing failed")
                else:
                    self.stats["published"] += len(payloads)
                    self._lost = self._lost and not resync

    def _drop(self, reason: str) -> None:
        """Give up on the connection: what is in flight is handled here, then reconnect."""
        if self.connected:
            log.warning("Redis: %s; live events stay in each process until it is back", reason)
        self._disconnected()
        self._drop_now = True

    def _disconnected(self) -> None:
        self.connected = False
        self._behind = True
        self._up.clear()
        pending = list(self._inflight.values())
        self._inflight.clear()
        self._outbox.clear()
        # Maybe published, maybe not: the others read everything again once back.
        self._lost = self._lost or any(kind in MATTERS for kind, _ in pending)
        for kind, body in pending:
            self._handle(kind, body, mine=True, seq=None)
        self._settle(everything=True)

    # Receiving ----------------------------------------------------------------------

    async def _listen(self) -> None:
        pause, down = 0.05, False
        while True:
            assert self._listen_client is not None
            pubsub = self._listen_client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                async with asyncio.timeout(self.wait):
                    while (await pubsub.get_message(timeout=self.wait) or {}).get(
                            "type") != "subscribe":
                        pass
                behind, self._behind = self._behind, False
                if behind:
                    # The publisher's connections may have died with the old server.
                    assert self._client is not None
                    await self._client.connection_pool.disconnect()
                    self.peer.resync()
                self._drop_now = False
                self.connected = True
                self._up.set()
                self.stats["connections"] += 1
                if down:
                    log.warning("Redis is back: live events reach every process again")
                pause, down = 0.05, False
                # Once it is back from Redis, past all sent before: redraw what was missed.
                self._send(HELLO, {"counts": self._local_counts(), "redraw": behind})
                while not self._drop_now:
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=0.5)
                    if message is not None and message["type"] == "message":
                        self._receive(message["data"])
                down = True  # dropped: said so then
            except (RedisError, OSError, TimeoutError) as error:
                if not down:
                    log.warning("Redis cannot be reached (%s): live events stay in each "
                                "process until it is back", error or type(error).__name__)
                down = True
            except Exception:
                log.exception("live messages from Redis stopped")
                down = True
            finally:
                if self.connected:
                    self._disconnected()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _receive(self, data: bytes) -> None:
        head, _, text = data.partition(b"|")
        seq = int(head)
        if seq <= self.watermark:
            # Numbered again from below (Redis's counter was reset by hand): a fragment's
            # mark from before says nothing any more.
            for subscriptions in self._topics.values():
                for subscription in subscriptions:
                    subscription.mark = 0
        self.watermark = seq
        self.stats["received"] += 1
        try:
            sender, n, kind, body = text.split(b"|", 3)
            origin = sender.decode()
            if origin == self.origin:
                entry = self._inflight.pop(int(n), None)
                if entry is not None:  # else handled here already
                    self._handle(*entry, mine=True, seq=seq)
            else:
                self._seen[origin] = time.monotonic()
                self._handle(kind.decode(), self._decode(kind.decode(), json.loads(body)),
                             mine=False, seq=seq, origin=origin)
        except Exception:
            log.exception("live message could not be read")
        finally:
            self._settle()
            waiting, self._seq_waiters = self._seq_waiters, []
            for target, future in waiting:
                if target <= seq:
                    if not future.done():
                        future.set_result(None)
                else:
                    self._seq_waiters.append((target, future))

    def _decode(self, kind: str, data: Any) -> Any:
        if kind == FRAGMENT:
            return data["t"], self.peer.decode(data["m"]), int(data["w"])
        if kind == MESSAGE:
            return self.peer.decode(data)
        return data

    def _handle(self, kind: str, body: Any, *, mine: bool, seq: int | None,
                origin: str = "") -> None:
        if kind == FRAGMENT:
            topic, message, mark = body
            if message is not None:
                self._deliver(topic, message, mark)
        elif kind == MESSAGE:
            if self.listener is not None:
                self.listener.received(body, mine=mine, seq=seq)
        elif mine:
            if kind == HELLO and body["redraw"]:
                # Back after a fault, and now past everything sent before it.
                self.peer.redraw_all({sid for sid in map(session_of, self._topics)
                                      if sid is not None})
        elif kind == REVOKE:
            super().revoke(str(body))
        elif kind == COUNT:
            topic, count = body
            counts = self._remote.setdefault(origin, {})
            if count:
                counts[topic] = int(count)
            else:
                counts.pop(topic, None)
        elif kind == HELLO:
            self._remote[origin] = {str(t): int(c) for t, c in body["counts"].items()}
        elif kind == BYE:
            self._remote.pop(origin, None)
            self._seen.pop(origin, None)
        elif kind == RESYNC:
            self.peer.resync()
            self.peer.redraw_all({sid for sid in map(session_of, self._topics)
                                  if sid is not None})

    def _deliver(self, topic: str, message: Any, mark: int) -> None:
        for subscription in self._topics.get(topic, ()):
            if mark < subscription.mark:
                self.stats["older"] += 1
                continue
            subscription.mark = mark
            subscription.push(message)

    # Waiting ------------------------------------------------------------------------

    async def _echoed(self, n: int) -> None:
        """Wait until this process's messages up to `n` are back from Redis (or handled
        here, Redis being down)."""
        if not self._inflight or next(iter(self._inflight)) > n:
            return
        future = asyncio.get_running_loop().create_future()
        self._echo_waiters.append((n, future))
        try:
            async with asyncio.timeout(self.wait):
                await future
        except TimeoutError:
            self._drop(f"no answer in {self.wait} s")

    def _settle(self, everything: bool = False) -> None:
        first = next(iter(self._inflight), None)
        waiting, self._echo_waiters = self._echo_waiters, []
        for n, future in waiting:
            if everything or first is None or n < first:
                if not future.done():
                    future.set_result(None)
            else:
                self._echo_waiters.append((n, future))
        if everything:
            for _, future in self._seq_waiters:
                if not future.done():
                    future.set_result(None)
            self._seq_waiters = []

    async def _read_counter(self, read: asyncio.Future[int]) -> None:
        # One read at a time; it answers every request that came in before it was sent.
        async with self._read_lock:
            self._read = None
            try:
                assert self._client is not None
                value = await self._client.get(self.counter)
            except (RedisError, OSError):
                value = None
            if not read.done():
                read.set_result(int(value or 0))

    async def _reached(self, target: int) -> None:
        if target <= self.watermark or not self.connected:
            return
        future = asyncio.get_running_loop().create_future()
        self._seq_waiters.append((target, future))
        await future

    # Who subscribes where -----------------------------------------------------------

    def _local_counts(self) -> dict[str, int]:
        return {topic: len(subscriptions) for topic, subscriptions in self._topics.items()}

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            # A process not heard from (killed) no longer counts.
            now = time.monotonic()
            for origin, seen in list(self._seen.items()):
                if now - seen > 3 * self.heartbeat:
                    self._remote.pop(origin, None)
                    del self._seen[origin]
            if self.connected:
                await self._echoed(self._send(HELLO, {"counts": self._local_counts(),
                                                      "redraw": False}))


class Consistent:
    """Between processes: a request starts once its process has received what was sent
    before it came in, and its answer leaves once what it sent is in Redis."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hub = scope["app"].state.hub if scope["type"] in ("http", "websocket") else None
        if not isinstance(hub, RedisHub) or scope["path"].startswith("/static/") \
                or scope["path"] == "/healthz":  # alive whatever Redis does
            await self.app(scope, receive, send)
            return
        await hub.caught_up()

        async def settled_send(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                await hub.settled()
            await send(message)

        await self.app(scope, receive, settled_send)
