"""A small HTTP/1.1 client over asyncio protocols: enough to offer thousands of requests a
second from one core, where httpx tops out at a few hundred.

Keep-alive connection pool, one request at a time per connection, more connections opened
when all are busy (up to a cap), Content-Length request bodies, responses read by
Content-Length or chunked encoding. Every request has a deadline; `Timeout.sent` says
whether the request had left the client (its outcome on the server is then unknown).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from dataclasses import dataclass, field
from typing import Any, cast

IDLE_LIMIT = 4.0  # uvicorn closes keep-alive connections idle for 5 s; never reuse them


class HttpError(Exception):
    """The connection failed or closed before a whole response arrived."""


class Timeout(Exception):
    def __init__(self, sent: bool) -> None:
        super().__init__("sent" if sent else "not sent")
        self.sent = sent


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self.last_used = time.monotonic()
        self._head: tuple[int, dict[str, str]] | None = None
        self._body_start = 0

    # asyncio callbacks -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is None or self.waiter.done():
            return
        try:
            response = self._parse()
        except (ValueError, IndexError) as error:
            self._fail(HttpError(f"bad response: {error}"))
            return
        if response is not None:
            waiter, self.waiter = self.waiter, None
            waiter.set_result(response)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if self._head is not None and self._read_to_close():
                status, headers = self._head
                body = bytes(self.buf[self._body_start:])
                self.waiter.set_result(Response(status, headers, body))
            else:
                self.waiter.set_exception(HttpError(f"connection lost: {exc}"))

    # parsing -----------------------------------------------------------------------
    def _read_to_close(self) -> bool:
        assert self._head is not None
        headers = self._head[1]
        return "content-length" not in headers and "chunked" not in headers.get(
            "transfer-encoding", "")

    def _parse(self) -> Response | None:
        if self._head is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self._head = (status, headers)
            self._body_start = end + 4
        status, headers = self._head
        start = self._body_start
        if status in (204, 304) or 100 <= status < 200:
            body, end = b"", start
        elif "chunked" in headers.get("transfer-encoding", ""):
            parsed = self._chunked(start)
            if parsed is None:
                return None
            body, end = parsed
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if len(self.buf) - start < length:
                return None
            body, end = bytes(self.buf[start:start + length]), start + length
        else:
            return None  # read until the server closes (connection_lost)
        del self.buf[:end]
        self._head = None
        return Response(status, headers, body)

    def _chunked(self, pos: int) -> tuple[bytes, int] | None:
        parts: list[bytes] = []
        while True:
            eol = self.buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(bytes(self.buf[pos:eol]).split(b";", 1)[0], 16)
            pos = eol + 2
            if size == 0:
                end = self.buf.find(b"\r\n\r\n", pos - 2)  # no trailers expected
                return (b"".join(parts), end + 4) if end >= 0 else None
            if len(self.buf) < pos + size + 2:
                return None
            parts.append(bytes(self.buf[pos:pos + size]))
            pos += size + 2

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        self.abort()

    # use ---------------------------------------------------------------------------
    def send(self, data: bytes) -> asyncio.Future[Response]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self._head = None
        self.buf.clear()
        self.transport.write(data)
        return self.waiter

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


@dataclass
class PoolStats:
    opened: int = 0
    peak: int = 0
    requests: int = 0


@dataclass
class Pool:
    """Keep-alive connections to one host; at most `max_conns` open at once."""

    host: str
    port: int
    max_conns: int = 512
    stats: PoolStats = field(default_factory=PoolStats)

    def __post_init__(self) -> None:
        self._idle: list[_Conn] = []
        self._total = 0
        self._waiters: collections.deque[asyncio.Future[_Conn | None]] = collections.deque()
        self._prefix = f"\r\nHost: {self.host}:{self.port}\r\n".encode()

    async def request(self, method: str, target: str, headers: dict[str, str] | None = None,
                      body: bytes | None = None, deadline: float | None = None) -> Response:
        """Send one request; `deadline` is a time.perf_counter() value (default: 30 s)."""
        deadline = deadline if deadline is not None else time.perf_counter() + 30
        head = [method.encode(), b" ", target.encode(), b" HTTP/1.1", self._prefix]
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}\r\n".encode())
        if body is not None:
            head.append(b"Content-Length: %d\r\n" % len(body))
        head.append(b"\r\n")
        if body:
            head.append(body)
        data = b"".join(head)
        conn = await self._acquire(deadline)
        self.stats.requests += 1
        loop = asyncio.get_running_loop()
        future = conn.send(data)
        timer = loop.call_later(max(deadline - time.perf_counter(), 0.0), _expire, future, conn)
        try:
            response = await future
        except BaseException:
            conn.abort()
            self._release(conn)
            raise
        finally:
            timer.cancel()
        if response.headers.get("connection", "").lower() == "close":
            conn.abort()
        self._release(conn)
        return response

    async def _acquire(self, deadline: float) -> _Conn:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.last_used < IDLE_LIMIT:
                return conn
            conn.abort()
            self._total -= 1
        if self._total >= self.max_conns:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[_Conn | None] = loop.create_future()
            self._waiters.append(waiter)
            timer = loop.call_later(max(deadline - time.perf_counter(), 0.0), _expire_wait,
                                    waiter)
            try:
                handed = await waiter
            finally:
                timer.cancel()
            if handed is not None:
                return handed
        else:
            self._total += 1
        # A slot is ours: open a connection in it.
        try:
            remaining = max(deadline - time.perf_counter(), 0.001)
            _transport, conn = await asyncio.wait_for(
                asyncio.get_running_loop().create_connection(_Conn, self.host, self.port),
                remaining)
        except TimeoutError:
            self._free_slot()
            raise Timeout(sent=False) from None
        except BaseException:
            self._free_slot()
            raise
        self.stats.opened += 1
        self.stats.peak = max(self.stats.peak, self._total)
        return conn

    def _release(self, conn: _Conn) -> None:
        if conn.closed:
            self._free_slot()
            return
        conn.last_used = time.monotonic()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _free_slot(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the waiter opens a connection in this slot
                return
        self._total -= 1

    def close(self) -> None:
        for conn in self._idle:
            conn.abort()
        self._total -= len(self._idle)
        self._idle.clear()


def _expire(future: asyncio.Future[Response], conn: _Conn) -> None:
    if not future.done():
        future.set_exception(Timeout(sent=True))
        conn.abort()


def _expire_wait(waiter: asyncio.Future[_Conn | None]) -> None:
    if not waiter.done():
        waiter.set_exception(Timeout(sent=False))
