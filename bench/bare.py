"""The bare reference app: Starlette + uvicorn + aiosqlite and nothing else.

It answers the benchmark's workload (bench/contract.py) the simplest way that is still
honest about durability: a join inserts a participant row; an answer looks its token up in
a dict in memory and does one upsert through aiosqlite, committed (WAL, synchronous=FULL,
as Éclair) before the 201; the projector gets "n = …" at most 4 times a second; a step
change sends every phone a ~1.5 KB panel in the WebSocket frame itself. What Éclair costs
beyond this is the price of its features. Prints its links the way `run.py --demo` does.

Usage: python bench/bare.py --db FILE --port P
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

QUESTION = 1
CHOICES = (1, 2, 3, 4, 5)
SCREEN_INTERVAL = 0.25
FILLER = ("Chaque personne répond depuis son téléphone ; les réponses s'affichent en direct "
          "au projecteur, avec le nombre de personnes qui ont répondu. ")


class Bare:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.code = "".join(secrets.choice("ACEFGHJKMNPRTWXY34679") for _ in range(5))
        self.facilitator = secrets.token_urlsafe(24)
        self.screen = secrets.token_urlsafe(24)
        self.tokens: dict[str, int] = {}
        self.phones: set[asyncio.Queue[str]] = set()
        self.screens: set[asyncio.Queue[str]] = set()
        self.step = 0
        self.open = False
        self._db: aiosqlite.Connection | None = None
        self._redraw: asyncio.Task[None] | None = None
        self._last_redraw = 0.0

    @property
    def db(self) -> aiosqlite.Connection:
        assert self._db is not None
        return self._db

    async def start(self) -> None:
        self._db = await aiosqlite.connect(self.db_path)
        await self.db.execute("PRAGMA journal_mode=WAL")
        await self.db.execute("PRAGMA synchronous=FULL")
        await self.db.executescript(
            "CREATE TABLE IF NOT EXISTS participants (id INTEGER PRIMARY KEY,"
            " token_hash TEXT UNIQUE NOT NULL, joined_at REAL NOT NULL);"
            "CREATE TABLE IF NOT EXISTS answers (question_id INTEGER NOT NULL,"
            " participant_id INTEGER NOT NULL, choice INTEGER NOT NULL,"
            " answered_at REAL NOT NULL, PRIMARY KEY (question_id, participant_id));")
        await self.db.commit()

    async def stop(self) -> None:
        if self._db is not None:
            await self._db.close()

    async def count(self) -> dict[int, int]:
        rows = await self.db.execute_fetchall(
            "SELECT choice, COUNT(*) FROM answers WHERE question_id = ? GROUP BY choice",
            (QUESTION,))
        return {int(choice): int(n) for choice, n in rows}

    async def screen_fragment(self) -> str:
        n = sum((await self.count()).values())
        return (f'<div id="screen" hx-swap-oob="true"><figure class="chart">'
                f'<figcaption class="n">n = {n}</figcaption></figure></div>')

    def panel(self) -> str:
        body = (FILLER * 12)[:1300]
        return (f'<div id="panel" class="panel" hx-swap-oob="true"><h1>Étape {self.step}</h1>'
                f'<p>{body}</p></div>')

    def answers_changed(self) -> None:
        if self._redraw is None:
            self._redraw = asyncio.create_task(self._redraw_later())

    async def _redraw_later(self) -> None:
        try:
            await asyncio.sleep(max(self._last_redraw + SCREEN_INTERVAL - time.monotonic(), 0))
        finally:
            self._redraw = None
        self._last_redraw = time.monotonic()
        fragment = await self.screen_fragment()
        for queue in self.screens:
            queue.put_nowait(fragment)


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def app_of(conn: Request | WebSocket) -> Bare:
    bare: Bare = conn.app.state.bare
    return bare


def error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code}}, status)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def join(request: Request) -> Response:
    bare = app_of(request)
    body = json.loads(await request.body() or b"{}")
    if body.get("code") != bare.code:
        return error(404, "unknown_session")
    token = secrets.token_urlsafe(24)
    cursor = await bare.db.execute(
        "INSERT INTO participants (token_hash, joined_at) VALUES (?, ?)",
        (hashlib.sha256(token.encode()).hexdigest(), time.time()))
    await bare.db.commit()
    assert cursor.lastrowid is not None
    bare.tokens[token] = cursor.lastrowid
    return JSONResponse({"token": token, "participant_id": cursor.lastrowid}, 201)


def question_json(bare: Bare) -> dict[str, Any]:
    return {"id": QUESTION, "kind": "single", "state": "open" if bare.open else "ready",
            "choices": [{"id": c, "label": f"Choix {c}"} for c in CHOICES]}


def facilitator_only(request: Request) -> JSONResponse | None:
    bare = app_of(request)
    if request.path_params["code"] != bare.code:
        return error(404, "unknown_session")
    if bearer(request) != bare.facilitator:
        return error(403, "forbidden")
    return None


async def state(request: Request) -> Response:
    bare = app_of(request)
    return facilitator_only(request) or JSONResponse(
        {"code": bare.code, "step": {"position": bare.step}, "questions": [question_json(bare)]})


async def step(request: Request) -> Response:
    bare = app_of(request)
    if refused := facilitator_only(request):
        return refused
    bare.step += 1
    panel = bare.panel()
    for queue in bare.phones:
        queue.put_nowait(panel)
    return JSONResponse({"code": bare.code, "step": {"position": bare.step},
                         "questions": [question_json(bare)]})


async def open_question(request: Request) -> Response:
    bare = app_of(request)
    if refused := facilitator_only(request):
        return refused
    bare.open = True
    bare.answers_changed()
    return JSONResponse(question_json(bare))


async def answer(request: Request) -> Response:
    bare = app_of(request)
    participant = bare.tokens.get(bearer(request))
    if participant is None or request.path_params["code"] != bare.code:
        return error(403, "forbidden")
    if request.path_params["question_id"] != str(QUESTION):
        return error(404, "unknown_question")
    if not bare.open:
        return error(409, "question_closed")
    choices = json.loads(await request.body() or b"{}").get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or choices[0] not in CHOICES:
        return error(422, "invalid_answer")
    await bare.db.execute(
        "INSERT INTO answers (question_id, participant_id, choice, answered_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (question_id, participant_id)"
        " DO UPDATE SET choice = excluded.choice, answered_at = excluded.answered_at",
        (QUESTION, participant, choices[0], time.time()))
    await bare.db.commit()
    bare.answers_changed()
    return JSONResponse({"question_id": QUESTION, "answer": choices}, 201)


async def results(request: Request) -> Response:
    bare = app_of(request)
    if refused := facilitator_only(request):
        return refused
    counts = await bare.count()
    return JSONResponse({"question_id": QUESTION, "kind": "single", "n": sum(counts.values()),
                         "choices": [{"id": c, "count": counts.get(c, 0)} for c in CHOICES]})


async def pump(websocket: WebSocket, queues: set[asyncio.Queue[str]], first: str | None) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    queues.add(queue)
    try:
        await websocket.accept()
        if first is not None:
            await websocket.send_text(first)

        async def forward() -> None:
            while True:
                await websocket.send_text(await queue.get())

        async def drain() -> None:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass

        tasks = [asyncio.create_task(forward()), asyncio.create_task(drain())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError,
                                     OSError):
                await task
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        queues.discard(queue)


async def phone_ws(websocket: WebSocket) -> None:
    bare = app_of(websocket)
    token = websocket.cookies.get(f"eclair_p_{bare.code}", "")
    if websocket.path_params["code"] != bare.code or token not in bare.tokens:
        await websocket.close(code=1008)
        return
    await pump(websocket, bare.phones, None)


async def screen_ws(websocket: WebSocket) -> None:
    bare = app_of(websocket)
    if websocket.path_params["token"] != bare.screen:
        await websocket.close(code=1008)
        return
    await pump(websocket, bare.screens, await bare.screen_fragment())


def create_app(bare: Bare) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await bare.start()
        app.state.bare = bare
        yield
        await bare.stop()

    return Starlette(lifespan=lifespan, routes=[
        Route("/healthz", healthz),
        Route("/api/sessions/join", join, methods=["POST"]),
        Route("/api/sessions/{code}/state", state),
        Route("/api/sessions/{code}/step", step, methods=["POST"]),
        Route("/api/sessions/{code}/questions/{question_id}/open", open_question,
              methods=["POST"]),
        Route("/api/sessions/{code}/questions/{question_id}/answers", answer, methods=["POST"]),
        Route("/api/sessions/{code}/questions/{question_id}/results", results),
        WebSocketRoute("/s/{code}/ws", phone_ws),
        WebSocketRoute("/screen/{token}/ws", screen_ws),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    bare = Bare(args.db)
    base = f"http://{args.host}:{args.port}"
    print(f"  Animation / facilitator      : {base}/f/{bare.facilitator}")
    print(f"  Projecteur / projector       : {base}/screen/{bare.screen}")
    print(f"  Participer / join            : {base}/j/{bare.code}   (code {bare.code})",
          flush=True)
    # The same uvicorn options as run.py (loop and HTTP parser: auto).
    uvicorn.run(create_app(bare), host=args.host, port=args.port, ws="websockets-sansio",
                log_level="warning", proxy_headers=False, server_header=False, access_log=False)


if __name__ == "__main__":
    main()
