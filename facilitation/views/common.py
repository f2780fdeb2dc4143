"""Pieces the role views share: secret-link lookup, WebSocket pumping, error pages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.websockets import WebSocket, WebSocketDisconnect

from facilitation.actions import Services
from facilitation.broadcast import Broadcaster
from facilitation.live import Hub
from facilitation.memory import Memory, SeanceMemory
from facilitation.seances import Seance
from facilitation.store import Database


def services(conn: HTTPConnection) -> Services:
    s: Services = conn.app.state.services
    return s


def memory_of(conn: HTTPConnection) -> Memory:
    m: Memory = conn.app.state.services.memory
    return m


def broadcaster(conn: HTTPConnection) -> Broadcaster:
    b: Broadcaster = conn.app.state.broadcaster
    return b


def db_of(conn: HTTPConnection) -> Database:
    db: Database = conn.app.state.db
    return db


async def seance_for_link(conn: HTTPConnection, role: str) -> tuple[Seance, str]:
    """Given a request on a secret link, return its séance, or 404 (never say why)."""
    memory, token = await memory_for_link(conn, role)
    return memory.seance, token


async def memory_for_link(conn: HTTPConnection, role: str) -> tuple[SeanceMemory, str]:
    token = str(conn.path_params["token"])
    memory = await memory_of(conn).by_link(token, role) if len(token) <= 64 else None
    if memory is None:
        raise HTTPException(404)
    return memory, token


def same_origin(websocket: WebSocket) -> bool:
    """Refuse cross-site WebSockets: browsers send cookies with them."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def pump(websocket: WebSocket, hub: Hub, topic: str,
               first: Callable[[], Awaitable[list[str]]],
               resolve: Callable[[Any], str] = str, credential: str | None = None) -> None:
    """Accept, send what `first()` gives, then forward the topic's messages until either
    side leaves or the link it was opened with (`credential`) is revoked; `resolve` turns
    a message meant for many into this connection's own.

    `first()` reads the séance once subscribed: a change in between is in what it reads or
    in a message that follows, never in neither."""
    if not same_origin(websocket):
        await websocket.close(code=1008)
        return
    subscription = hub.subscribe(topic, credential)
    try:
        await hub.ready(subscription)
        opening = await first()
        await websocket.accept()
        for message in opening:
            await websocket.send_text(message)

        async def forward() -> None:
            while True:
                message = await subscription.get()
                if subscription.revoked:
                    await websocket.close(code=1008)  # policy: this link no longer opens
                    return
                await websocket.send_text(resolve(message))

        async def drain() -> None:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return

        tasks = [asyncio.create_task(forward()), asyncio.create_task(drain())]
        _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError,
                                     OSError):
                await task
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.unsubscribe(subscription)


def int_param(request: Request, name: str) -> int:
    """A path parameter that must be a small positive integer, else 404."""
    raw = str(request.path_params.get(name, ""))
    if not raw.isdecimal() or len(raw) > 12:
        raise HTTPException(404)
    return int(raw)
