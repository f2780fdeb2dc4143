"""Back-pressure: past capacity, what people send gets a fast 503 with Retry-After instead
of a place in a queue that grows until everything times out.

The measure is the number of HTTP requests in progress: when the server cannot keep up,
requests finish later and pile up there first. Phones retry by themselves after
Retry-After with the same idempotency key, so a refused answer is sent again and counted
once. The facilitator, the projector, the organiser, WebSockets, static files and the
health check are never refused: the people running the séance keep control of it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

# Paths whose requests are never refused.
NEVER = re.compile(r"^/(static/|healthz$|f/|screen/|organiser|api/openapi\.json$"
                   r"|api/sessions/[^/]+/(step|questions/\d+/(open|close))$)")


class Shedder:
    """ASGI middleware: refuse what people send at once while the server is full."""

    def __init__(self, app: ASGIApp, *, max_in_flight: int,
                 refuse: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.refuse = refuse
        self.in_flight = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or NEVER.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        # Pages people look at (GET) are cheap and let a phone see where it is: what
        # writes is refused first; past twice the limit, everything is.
        limit = self.max_in_flight * (2 if scope["method"] == "GET" else 1)
        if self.in_flight >= limit:
            self.refused += 1
            await self.refuse(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
