"""Pieces the role views share: secret-link lookup, WebSocket pumping, error pages."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.websockets import WebSocket, WebSocketDisconnect

from facilitation.broadcast import Broadcaster
from facilitation.live import Hub
from facilitation.seances import Seance
from facilitation.store import Database
from facilitation.store import queries as q


def broadcaster(conn: HTTPConnection) -> Broadcaster:
    b: Broadcaster = conn.app.state.broadcaster
    return b


def db_of(conn: HTTPConnection) -> Database:
    db: Database = conn.app.state.db
    return db


async def seance_for_link(conn: HTTPConnection, role: str) -> tuple[Seance, str]:
    """Given a request on a secret link, return its séance, or 404 (never say why)."""
    token = conn.path_params["token"]
    link = await q.get_link(db_of(conn), token) if len(token) <= 64 else None
    if link is None or link[1] != role:
        raise HTTPException(404)
    seance = await q.get_session(db_of(conn), link[0])
    if seance is None:
        raise HTTPException(404)
    return seance, token


def same_origin(websocket: WebSocket) -> bool:
    """Refuse cross-site WebSockets: browsers send cookies with them."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def pump(websocket: WebSocket, hub: Hub, topic: str, first: list[str]) -> None:
    """Accept, send `first`, then forward the topic's messages until either side leaves."""
    if not same_origin(websocket):
        await websocket.close(code=1008)
        return
    subscription = hub.subscribe(topic)
    try:
        await websocket.accept()
        for message in first:
            await websocket.send_text(message)

        async def forward() -> None:
            while True:
                await websocket.send_text(await subscription.get())

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
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(404)
    return int(raw)
