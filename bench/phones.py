"""A step change with many phones connected: how long until each phone shows its new panel.

Every phone holds a WebSocket (bench/rawws.py, no task per connection). Once all are
connected and quiet, the facilitator moves to the next step at t0. A phone's panel is
visible when a message carrying the panel itself arrives, or, when the message only tells
it to fetch its panel (hx-get), when that GET's 200 response arrives. Times run from t0.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any
from urllib.parse import urlsplit

import contract as api
import rawws
from answers import Target, retrying
from figures import Cpu, summary_ms
from rawhttp import HttpError, Timeout


class Phones:
    def __init__(self, target: Target, tokens: list[str], host: str, port: int) -> None:
        self.target = target
        self.tokens = tokens
        self.host = host
        self.port = port
        self.clients: dict[int, rawws.WsClient] = {}
        self.connect_latency: list[float] = []
        self.connect_failures: collections.Counter[str] = collections.Counter()
        self.armed = False
        self.t0 = 0.0
        self.before_t0 = 0  # messages received before the step change (catch-up)
        self.other = 0  # messages after t0 that were neither a panel nor a fetch order
        self.first_message: dict[int, float] = {}
        self.visible: dict[int, float] = {}
        self.how: collections.Counter[str] = collections.Counter()
        self.failed: dict[int, str] = {}
        self.fetches: set[asyncio.Task[None]] = set()
        self.fetching: set[int] = set()
        self.done = asyncio.Event()
        self.timeout = 60.0

    # connection ----------------------------------------------------------------------
    async def connect_all(self, concurrent: int, time_limit: float) -> float:
        gate = asyncio.Semaphore(concurrent)
        path = api.phone_ws_path(self.target.code)

        async def one(index: int) -> None:
            async with gate:
                start = time.perf_counter()
                try:
                    client = await rawws.connect(
                        self.host, self.port, path,
                        api.phone_cookie(self.target.code, self.tokens[index]),
                        self.on_message, time_limit)
                except (rawws.WsError, OSError, TimeoutError) as error:
                    self.connect_failures[f"{type(error).__name__}: {error}"[:80]] += 1
                    return
                client.tag = index
                self.clients[index] = client
                self.connect_latency.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(len(self.tokens))))
        return time.perf_counter() - start

    # messages ------------------------------------------------------------------------
    def on_message(self, client: rawws.WsClient, text: str, at: float) -> None:
        if not self.armed:
            self.before_t0 += 1
            return
        index = client.tag
        if index in self.visible or index in self.failed or index in self.fetching:
            return
        self.first_message.setdefault(index, at - self.t0)
        kind, url = api.phone_update(text)
        if kind == "panel":
            self.how["panel in the message"] += 1
            self._visible(index, at)
        elif kind == "fetch":
            self.fetching.add(index)
            task = asyncio.create_task(self._fetch(index, url))
            self.fetches.add(task)
            task.add_done_callback(self.fetches.discard)
        else:
            self.other += 1

    async def _fetch(self, index: int, url: str) -> None:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {**api.phone_cookie(self.target.code, self.tokens[index]), **api.HX_REQUEST}
        try:
            response, refusals = await retrying(self.target.pool, "GET", target, headers, None,
                                                self.t0 + self.timeout)
            if refusals:
                self.how["(503 on the fetch, then retried)"] += refusals
        except (Timeout, HttpError, OSError) as error:
            self._fail(index, f"fetch: {type(error).__name__}")
            return
        if response.status == 200:
            self.how["fetched after a sync message"] += 1
            if api.PANEL_MARK.encode() not in response.body:
                self.how["(fetched 200 without id=panel)"] += 1
            self._visible(index, time.perf_counter())
        else:
            self._fail(index, f"fetch: HTTP {response.status}")

    def _visible(self, index: int, at: float) -> None:
        self.visible[index] = at - self.t0
        self._maybe_done()

    def _fail(self, index: int, reason: str) -> None:
        self.failed[index] = reason
        self._maybe_done()

    def _maybe_done(self) -> None:
        if len(self.visible) + len(self.failed) >= len(self.clients):
            self.done.set()

    # the step change -----------------------------------------------------------------
    async def step_change(self, time_limit: float) -> dict[str, Any]:
        self.timeout = time_limit
        await asyncio.sleep(1.0)  # catch-up messages sent on connection settle first
        cpu = Cpu(self.target.pid)
        self.armed = True
        self.t0 = time.perf_counter()
        response, _ = await retrying(
            self.target.pool, "POST", api.step_path(self.target.code),
            {**api.bearer(self.target.facilitator), **api.JSON}, api.STEP_NEXT,
            self.t0 + time_limit)
        step_ms = round(1000 * (time.perf_counter() - self.t0), 1)
        if response.status >= 300:
            raise RuntimeError(f"step change: HTTP {response.status} {response.body[:200]!r}")
        try:
            await asyncio.wait_for(self.done.wait(), max(self.t0 + time_limit -
                                                         time.perf_counter(), 0.001))
        except TimeoutError:
            pass
        for task in list(self.fetches):
            task.cancel()
        for index, client in self.clients.items():
            if index not in self.visible and index not in self.failed:
                self.failed[index] = ("connection closed" if client.closed.done()
                                      else "no panel before the timeout")
        reasons = collections.Counter(self.failed.values())
        return {
            "step_request_ms": step_ms,
            "first_message": summary_ms(self.first_message.values()),
            "panel_visible": summary_ms(self.visible.values()),
            "visible": len(self.visible), "how": dict(self.how),
            "failed": len(self.failed), "failure_reasons": dict(reasons),
            "messages_before_t0": self.before_t0, "other_messages_after_t0": self.other,
            "cpu_percent_step_change": cpu.read(),
        }

    def close_all(self) -> None:
        for client in self.clients.values():
            client.close()


async def run_phones(target: Target, tokens: list[str], host: str, port: int,
                     handshakes: int, time_limit: float) -> dict[str, Any]:
    phones = Phones(target, tokens, host, port)
    cpu = Cpu(target.pid)
    seconds = await phones.connect_all(handshakes, time_limit)
    report: dict[str, Any] = {
        "phones": len(tokens), "connected": len(phones.clients),
        "connect_failures": dict(phones.connect_failures),
        "connect_s": round(seconds, 2),
        "handshakes_per_s": round(len(phones.clients) / seconds, 1) if seconds else None,
        "handshake_latency": summary_ms(phones.connect_latency),
        "cpu_percent_connecting": cpu.read(),
    }
    try:
        if phones.clients:
            report.update(await phones.step_change(time_limit))
    finally:
        phones.close_all()
        await asyncio.sleep(0.5)
    return report
