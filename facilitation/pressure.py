"""Back-pressure: past capacity, a request gets a fast 503 with Retry-After instead of a
place in a queue that grows until everything times out.

Two signals: HTTP requests in progress, and how late the event loop runs (a loop that
wakes up late has more work queued than it can do). Phones retry by themselves after
Retry-After with the same idempotency key, so a refused answer is sent again and counted
once; the projector, WebSockets, static files and the health check are never refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

EXEMPT = ("/static/", "/healthz")


class LoopLag:
    """How late the event loop wakes up, smoothed; measured every `interval` seconds."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.lag = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._measure(), name="eclair-loop-lag")

    async def _measure(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval)
            late = max(0.0, time.perf_counter() - start - self.interval)
            # Quick to rise, slower to fall: one late wake-up is enough to hold back.
            self.lag = late if late > self.lag else 0.7 * self.lag + 0.3 * late

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Shedder:
    """ASGI middleware: refuse HTTP requests at once while the server is full."""

    def __init__(self, app: ASGIApp, *, max_in_flight: int, max_lag: float,
                 refuse: Callable[[Scope, Receive, Send], Awaitable[None]],
                 lag: LoopLag) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_lag = max_lag
        self.refuse = refuse
        self.lag = lag
        self.in_flight = 0
        self.refused = 0

    def full(self) -> bool:
        return self.in_flight >= self.max_in_flight or self.lag.lag > self.max_lag

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        if self.full() and scope["method"] != "GET" or self.in_flight >= 2 * self.max_in_flight:
            # Pages people look at (GET) are cheap and let a phone see where it is; what
            # writes is refused first. Past twice the limit, everything waits its turn.
            self.refused += 1
            await self.refuse(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
