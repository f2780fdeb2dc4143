"""The hub between processes (REDIS_URL): two hubs in one test, then two real server
processes on one database and one Redis, then Redis restarted under them.

Redis is REDIS_URL's (default redis://127.0.0.1:6379/0), each test on its own channel
(ECLAIR_REDIS_PREFIX). The restart test runs a Redis server of its own, on a free port,
so that restarting it disturbs nobody else. Without Redis these tests are skipped, and
fail when CI is set.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import websockets

from facilitation.broadcast import PanelPush
from facilitation.live import REVOKED, Announced, Invalidated, Redraw
from facilitation.live_redis import RedisHub
from facilitation.memory import (
    Answered,
    Changed,
    Checked,
    Crowd,
    Erased,
    Excluded,
    Joined,
    Proposed,
    Retracted,
    Voted,
    Withdrawn,
)
from facilitation.panels import Personal
from facilitation.relay import EVENTS, Relay
from facilitation.seances import Participant
from facilitation.settings import ROOT
from tests import stores
from tests.server import REDIS_URL, Server, forget_redis, free_port, redis_env


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Redis is needed in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def redis_url() -> str:
    redis_env()  # skipped (failed in CI) without Redis
    return REDIS_URL


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    env = redis_env()
    yield env["ECLAIR_REDIS_PREFIX"]
    forget_redis(env)


# Two hubs, as two processes would hold them ----------------------------------------------


class Peer:
    """What a relay does with a hub's messages, written down."""

    def __init__(self) -> None:
        self.got: list[tuple[object, bool, int | None]] = []
        self.resyncs = 0
        self.redrawn: list[set[int]] = []

    def received(self, message, *, mine, seq):
        self.got.append((message, mine, seq))

    def encode(self, message):
        if isinstance(message, str):
            return {"html": message}
        if isinstance(message, Redraw):
            return {"redraw": message.session_id, "state": message.state}
        return {"invalidated": True}

    def decode(self, data):
        if "html" in data:
            return data["html"]
        if "redraw" in data:
            return Redraw(data["redraw"], data["state"])
        return Invalidated()

    def resync(self):
        self.resyncs += 1

    def redraw_all(self, session_ids):
        self.redrawn.append(set(session_ids))


def hub(url: str, prefix: str, **options) -> tuple[RedisHub, Peer]:
    h = RedisHub(url, prefix=prefix, **options)
    peer = Peer()
    h.listener = peer
    return h, peer


async def drain(subscription, wait: float = 0.3) -> list:
    got = []
    try:
        while True:
            got.append(await asyncio.wait_for(subscription.get(), wait))
    except TimeoutError:
        return got


async def until(condition, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_a_fragment_reaches_the_subscribers_of_every_process_in_order(redis_url, prefix):
    async def go():
        a, _ = hub(redis_url, prefix, queue_size=64)
        b, _ = hub(redis_url, prefix, queue_size=64)
        await a.start()
        await b.start()
        try:
            here, there = a.subscribe("session:1:screen"), b.subscribe("session:1:screen")
            await a.ready(here)
            await b.ready(there)
            await a.caught_up()
            await b.caught_up()
            mark = a.mark()  # the same in both: what both were made from
            for i in range(40):
                (a if i % 2 else b).publish("session:1:screen", f"m{i}", mark)
                await asyncio.sleep(0)
            await a.settled()
            await b.settled()
            return await drain(here), await drain(there)
        finally:
            await a.close()
            await b.close()

    here, there = asyncio.run(go())
    assert here == there and len(here) == 40  # in the same order in both processes
    numbers = [int(m[1:]) for m in here]
    # Each publisher's in the order it published them.
    assert [n for n in numbers if n % 2] == list(range(1, 40, 2))
    assert [n for n in numbers if not n % 2] == list(range(0, 40, 2))


def test_messages_reach_every_process_in_one_shared_order(redis_url, prefix):
    async def go():
        a, seen_a = hub(redis_url, prefix)
        b, seen_b = hub(redis_url, prefix)
        await a.start()
        await b.start()
        try:
            for i in range(30):
                (a if i % 3 else b).send(Redraw(i, state=bool(i % 2)))
            await a.settled()
            await b.settled()
            await a.caught_up()
            await b.caught_up()
        finally:
            await a.close()
            await b.close()
        return seen_a.got, seen_b.got

    seen_a, seen_b = asyncio.run(go())
    order_a = [(m.session_id, seq) for m, _mine, seq in seen_a]
    order_b = [(m.session_id, seq) for m, _mine, seq in seen_b]
    assert order_a == order_b and len(order_a) == 30
    seqs = [seq for _, seq in order_a]
    assert seqs == sorted(seqs)
    # Each process's own in the order it sent them, and known as its own.
    assert [sid for sid, mine in ((m.session_id, mine) for m, mine, _ in seen_a) if mine] \
        == [i for i in range(30) if i % 3]
    assert [m.session_id for m, mine, _ in seen_b if mine] == [i for i in range(30) if not i % 3]


def test_an_older_fragment_never_replaces_a_newer_one(redis_url, prefix):
    async def go():
        a, _ = hub(redis_url, prefix)
        b, _ = hub(redis_url, prefix)
        await a.start()
        await b.start()
        try:
            there = b.subscribe("session:1:screen")
            await b.ready(there)
            a.send(Invalidated())
            await a.settled()
            await b.caught_up()
            newer = b.mark()
            b.publish("session:1:screen", "newer", newer)
            a.publish("session:1:screen", "older", newer - 1)  # read before, sent after
            await a.settled()
            await b.settled()
            return await drain(there)
        finally:
            await a.close()
            await b.close()

    assert asyncio.run(go()) == ["newer"]


def test_subscribers_are_counted_across_processes_and_expire(redis_url, prefix):
    async def go():
        a, _ = hub(redis_url, prefix, heartbeat=0.2)
        b, _ = hub(redis_url, prefix, heartbeat=0.2)
        await a.start()
        await b.start()
        try:
            topic = "session:7:participant"
            phones = [a.subscribe(topic), a.subscribe(topic)]
            b.subscribe(topic)
            await a.settled()
            await b.settled()
            await until(lambda: a.subscribers(topic) == 3 and b.subscribers(topic) == 3)
            a.unsubscribe(phones[0])
            await until(lambda: b.subscribers(topic) == 2)  # exact at the next heartbeat
            # A process that stops without a word (killed) stops counting after 3 beats.
            for task in b._tasks:
                task.cancel()
            await until(lambda: a.subscribers(topic) == 1, within=2)
            # One that stops cleanly says so at once.
            c, _ = hub(redis_url, prefix, heartbeat=0.2)
            await c.start()
            c.subscribe(topic)
            await until(lambda: a.subscribers(topic) == 2)
            await c.close()
            await until(lambda: a.subscribers(topic) == 1, within=0.3)
        finally:
            await a.close()
            await b.close()

    asyncio.run(go())


def test_a_revoked_link_closes_its_connections_in_every_process(redis_url, prefix):
    async def go():
        a, _ = hub(redis_url, prefix)
        b, _ = hub(redis_url, prefix)
        await a.start()
        await b.start()
        try:
            there = b.subscribe("session:1:screen", credential="old-secret")
            other = b.subscribe("session:1:screen", credential="new-secret")
            await b.settled()
            assert a.revoke("old-secret") == 0  # none here
            await a.settled()
            await b.caught_up()
            return there, other
        finally:
            await a.close()
            await b.close()

    there, other = asyncio.run(go())
    assert there.revoked and there.queue.get_nowait() is REVOKED
    assert not other.revoked and other.queue.empty()


def test_without_redis_a_process_carries_on_alone():
    async def go():
        alone, peer = hub(f"redis://127.0.0.1:{free_port()}/0", "x", wait=0.2)
        started = time.monotonic()
        await alone.start()
        took = time.monotonic() - started
        try:
            sub = alone.subscribe("session:1:screen")
            await alone.ready(sub)
            alone.publish("session:1:screen", "here", alone.mark())
            alone.send(Redraw(1, state=True))
            await alone.settled()
            await alone.caught_up()
            return took, await drain(sub, 0.1), peer.got
        finally:
            await alone.close()

    took, got, received = asyncio.run(go())
    assert took < 1 and got == ["here"]
    assert received == [(Redraw(1, state=True), True, None)]


def test_events_and_panels_travel_as_plain_data():
    """The relay's codec gives back what it was given: every memory event, redraws,
    fragments; a pushed panel comes with the receiving process's own crowd, and tells its
    broadcaster what phones were shown."""
    class Stub:
        listener = None
        crowd = Crowd()
        pushed: list = []

        def crowd_of(self, session_id):
            return self.crowd

        def pushed_(self, session_id, fingerprint):
            self.pushed.append((session_id, fingerprint))

    stub = Stub()
    stub.pushed = []
    broadcaster = type("B", (), {"pushed": stub.pushed_})()
    relay = Relay(Stub(), memory=stub, broadcaster=broadcaster)  # type: ignore[arg-type]
    person = Participant(3, 1, "Awa", "fr-FR", "phone", 2)
    events = [Joined(1, person, "h4sh", None), Joined(1, person, None, 12),
              Answered(1, 5, 3, {"a": 2, "b": 0}), Answered(1, 6, 3, [4, 2]),
              Withdrawn(1, 5, 3), Proposed(1, 7, 3), Proposed(1, 7, None), Voted(1),
              Checked(1), Excluded(1, 3, False), Retracted(1, 3), Changed(1), Erased(1)]
    assert {type(e) for e in events} == set(EVENTS.values())
    for message in (*map(Announced, events), Redraw(1, state=True), Invalidated(),
                    "<div id=x>é</div>"):
        assert relay.decode(relay.encode(message)) == message
    push = PanelPush(1, {"fr-FR": "<p>é</p>"}, "<div id=sync>", Personal(questions=(5, 6)),
                     Crowd(), {"fr-FR": "<p>4 min</p>"}, timer_only=True,
                     fingerprint=("ab", "cd"))
    back = relay.decode(relay.encode(push))
    assert back == PanelPush(1, push.variants, push.sync, push.personal, stub.crowd,
                             push.timers, True, ("ab", "cd"))
    assert back.crowd is stub.crowd and stub.pushed == [(1, ("ab", "cd"))]


# Two server processes, one database, one Redis --------------------------------------------
# On each store (the `store` parameter): the SQLite file they share, or PostgreSQL.


def database(store: str) -> dict[str, str]:
    return {"DATABASE_URL": stores.fresh_database()} if store == "postgres" else {}


def start_servers(tmp_path: Path, redis_url: str, prefix: str, store: str) -> list[Server]:
    env = {"REDIS_URL": redis_url, "ECLAIR_REDIS_PREFIX": prefix, **database(store)}
    db = tmp_path / "shared.db"
    servers = []
    try:
        for _ in range(2):  # one after the other: the first one imports the demo
            servers.append(Server(db, free_port(), env=env).start())
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers


@pytest.fixture
def two(tmp_path, redis_url, prefix, store) -> Iterator[list[Server]]:
    servers = start_servers(tmp_path, redis_url, prefix, store)
    yield servers
    for server in servers:
        server.stop()
    for server in servers:
        assert "Traceback" not in "".join(server.output), "".join(server.output)


def ws_url(server: Server, path: str) -> str:
    return server.base.replace("http", "ws") + path


async def recv_all(ws, wait: float = 0.6) -> list[str]:
    got = []
    try:
        while True:
            got.append(await asyncio.wait_for(ws.recv(), wait))
    except TimeoutError:
        return got


async def phone(http: httpx.AsyncClient, server: Server) -> tuple[str, dict[str, str]]:
    token = (await http.post(f"{server.base}/api/sessions/join",
                             json={"code": server.code})).json()["token"]
    return token, {"cookie": f"eclair_p_{server.code}={token}"}


def test_two_processes_show_the_same_room(two):
    a, b = two
    code, fac = a.code, {"authorization": f"Bearer {a.token('facilitator')}"}
    api = f"/api/sessions/{code}"

    async def go():
        async with httpx.AsyncClient(timeout=10) as http:
            token, cookie = await phone(http, a)
            other_token, other_cookie = await phone(http, b)
            me = {"authorization": f"Bearer {token}"}
            # The facilitator on B moves to the poll and opens its first question.
            r = await http.post(f"{b.base}{api}/step", json={"move": "next"}, headers=fac)
            assert r.status_code == 200
            question = (await http.get(f"{a.base}{api}/state", headers=fac)).json()[
                "questions"][0]
            async with websockets.connect(ws_url(a, f"/s/{code}/ws"),
                                          additional_headers=cookie) as phone_a, \
                    websockets.connect(ws_url(b, f"/s/{code}/ws"),
                                       additional_headers=other_cookie) as phone_b, \
                    websockets.connect(ws_url(a, f"/screen/{a.token('screen')}/ws")) \
                    as screen_a, \
                    websockets.connect(ws_url(b, f"/screen/{b.token('screen')}/ws")) \
                    as screen_b:
                # Phones catch up (no page version given), screens show the room.
                await asyncio.gather(recv_all(phone_a, 0.3), recv_all(phone_b, 0.3))
                first = [await screen_a.recv(), await screen_b.recv()]
                # A step change made on A reaches the phones of both processes: one push.
                r = await http.post(f"{a.base}{api}/questions/{question['id']}/open",
                                    headers=fac)
                assert r.status_code == 200
                pushed = await asyncio.gather(recv_all(phone_a), recv_all(phone_b),
                                              recv_all(screen_a), recv_all(screen_b))
                pushed = pushed[:2]
                # A phone on A answers; the projector on B shows it, rendered once.
                started = time.monotonic()
                r = await http.post(f"{a.base}{api}/questions/{question['id']}/answers",
                                    headers=me, json={"choices": [question["choices"][0]["id"]]})
                assert r.status_code == 201
                shown_b = await screen_b.recv()
                latency = time.monotonic() - started
                rest_b, on_a = await asyncio.gather(recv_all(screen_b), recv_all(screen_a))
                shown = [[shown_b, *rest_b], on_a]
                # Right after an acknowledgement, the other process knows the answer.
                r = await http.post(f"{a.base}{api}/questions/{question['id']}/answers",
                                    headers={"authorization": f"Bearer {other_token}"},
                                    json={"choices": [question["choices"][1]["id"]]})
                assert r.status_code == 201
                again = (await http.get(
                    f"{b.base}{api}/questions/{question['id']}/results", headers=fac)).json()
        return first, pushed, shown, latency, again, question

    first, pushed, shown, latency, again, question = asyncio.run(go())
    assert all('id="screen"' in screen for screen in first), first
    for messages in pushed:
        assert len(messages) == 1, messages
        assert 'id="panel"' in messages[0] and question["text"] in messages[0]
    for messages in shown:
        assert len(messages) == 1, messages  # one render, not one per process
        assert "n = 1" in messages[0]
    assert shown[0] == shown[1]
    assert latency < 1, latency
    print(f"\nanswer sent to one process → projector on the other: {latency * 1000:.0f} ms")
    assert again["n"] == 2


def test_a_page_made_by_one_process_is_current_for_the_other(two):
    """A phone's page version is the same in every process: reconnecting its WebSocket
    to the other process does not make it fetch its panel again for nothing."""
    a, b = two
    code, fac = a.code, {"authorization": f"Bearer {a.token('facilitator')}"}

    async def go():
        async with httpx.AsyncClient(timeout=10) as http:
            _token, cookie = await phone(http, a)
            await http.post(f"{a.base}/api/sessions/{code}/step", json={"move": "next"},
                            headers=fac)
            page = await http.get(f"{a.base}/s/{code}", headers=cookie)
            version = re.search(r"ws\?v=([^\"]+)", page.text).group(1)
            async with websockets.connect(ws_url(b, f"/s/{code}/ws?v={version}"),
                                          additional_headers=cookie) as ws:
                current = await recv_all(ws, 0.4)
            await http.post(f"{b.base}/api/sessions/{code}/step", json={"move": "next"},
                            headers=fac)
            async with websockets.connect(ws_url(a, f"/s/{code}/ws?v={version}"),
                                          additional_headers=cookie) as ws:
                stale = await recv_all(ws, 0.4)
        return current, stale

    current, stale = asyncio.run(go())
    assert current == []
    assert len(stale) == 1 and 'id="sync"' in stale[0]


# Redis restarted under a séance ----------------------------------------------------------


class OwnRedis:
    """A Redis server of this test's own, on a free port, stopped and started at will."""

    def __init__(self, tmp_path: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("no redis-server to run")
        self.binary = str(binary)
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while True:
            try:
                with redis.Redis(port=self.port, socket_connect_timeout=0.2) as client:
                    client.ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_after_a_redis_restart_screens_and_phones_catch_up_without_reconnecting(
        tmp_path, own_redis, store):
    a, b = start_servers(tmp_path, own_redis.url, "eclair", store)
    code, fac = a.code, {"authorization": f"Bearer {a.token('facilitator')}"}
    api = f"/api/sessions/{code}"

    async def go():
        async with httpx.AsyncClient(timeout=10) as http:
            tokens = [(await phone(http, a))[0] for _ in range(3)]
            _, cookie = await phone(http, a)
            await http.post(f"{a.base}{api}/step", json={"move": "next"}, headers=fac)
            question = (await http.get(f"{a.base}{api}/state", headers=fac)).json()[
                "questions"][0]
            await http.post(f"{a.base}{api}/questions/{question['id']}/open", headers=fac)

            async def answer(server, token):
                r = await http.post(
                    f"{server.base}{api}/questions/{question['id']}/answers",
                    headers={"authorization": f"Bearer {token}"},
                    json={"choices": [question["choices"][0]["id"]]})
                assert r.status_code == 201, r.text

            async with websockets.connect(ws_url(b, f"/screen/{b.token('screen')}/ws")) \
                    as screen_b, \
                    websockets.connect(ws_url(a, f"/s/{code}/ws"),
                                       additional_headers=cookie) as phone_a:
                await recv_all(phone_a, 0.3)
                assert "n = 0" in await screen_b.recv()
                await answer(a, tokens[0])
                before = await recv_all(screen_b)
                own_redis.stop()
                # Redis down: writes still succeed, each process shows its own.
                down = time.monotonic()
                await answer(a, tokens[1])
                write_while_down = time.monotonic() - down
                r = await http.post(f"{b.base}{api}/questions/{question['id']}/close",
                                    headers=fac)
                assert r.status_code == 200
                during = (await recv_all(screen_b, 0.5), await recv_all(phone_a, 0.1))
                own_redis.start()
                restarted = time.monotonic()
                # Without reconnecting: B's projector learns of A's answer, A's phone of
                # B's step change.
                caught_up = await screen_b.recv()
                catch_up = time.monotonic() - restarted
                # Each process reconnects on its own schedule (its pause grows to 1 s while
                # Redis is away): A may be back a second after B. One panel, then no more.
                caught_up_phone = [await asyncio.wait_for(phone_a.recv(), 3)]
                caught_up_phone += await recv_all(phone_a)
                await recv_all(screen_b, 0.3)
                # Live again, both ways, on the same connections.
                r = await http.post(f"{b.base}{api}/questions/{question['id']}/open",
                                    headers=fac)
                assert r.status_code == 200
                reopened = await recv_all(phone_a)
                await recv_all(screen_b, 0.3)
                await answer(a, tokens[2])
                after = await recv_all(screen_b)
        return (before, during, write_while_down, caught_up, catch_up, caught_up_phone,
                reopened, after, question)

    try:
        (before, during, write_while_down, caught_up, catch_up, caught_up_phone, reopened,
         after, question) = asyncio.run(go())
    finally:
        a.stop()
        b.stop()
    assert "n = 1" in before[-1]
    assert write_while_down < 1
    on_b, on_a = during
    assert on_a == [] and all("n = 2" not in m for m in on_b)
    assert "n = 2" in caught_up and catch_up < 3, catch_up
    print(f"\nRedis back → projector caught up: {catch_up * 1000:.0f} ms; a write while "
          f"Redis was down: {write_while_down * 1000:.0f} ms")
    assert len(caught_up_phone) == 1 and question["text"] not in caught_up_phone[0]
    assert len(reopened) == 1 and question["text"] in reopened[0]
    assert "n = 3" in after[-1]
    for server in (a, b):
        log = "".join(server.output)
        assert "Traceback" not in log, log
        assert log.count("Redis cannot be reached") + log.count("Redis: ") <= 2, log
        assert "Redis is back" in log


# run.py --workers -----------------------------------------------------------------------


def test_several_workers_need_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    done = subprocess.run(
        [sys.executable, "run.py", "--workers", "2", "--db", str(tmp_path / "w.db")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "REDIS_URL" in done.stderr and not (tmp_path / "w.db").exists()


def test_workers_serve_one_port_and_show_the_same_room(tmp_path, redis_url, prefix, store):
    server = Server(tmp_path / "w.db", free_port(), env={
        "REDIS_URL": redis_url, "ECLAIR_REDIS_PREFIX": prefix, "ECLAIR_WORKERS": "2",
        **database(store)}).start()
    code, fac = server.code, {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"{server.base}/api/sessions/{code}"

    async def go():
        async with httpx.AsyncClient(timeout=10) as http:
            await http.post(f"{api}/step", json={"move": "next"}, headers=fac)
            question = (await http.get(f"{api}/state", headers=fac)).json()["questions"][0]
            await http.post(f"{api}/questions/{question['id']}/open", headers=fac)
        screens = [await websockets.connect(ws_url(server, f"/screen/{server.token('screen')}/ws"))
                   for _ in range(6)]  # each on its own connection: on either worker
        try:
            for screen in screens:
                await screen.recv()
            for _ in range(8):
                # A new connection each time: the workers share them out.
                async with httpx.AsyncClient(timeout=10) as http:
                    token = (await http.post(f"{server.base}/api/sessions/join",
                                             json={"code": code})).json()["token"]
                async with httpx.AsyncClient(timeout=10) as http:
                    r = await http.post(
                        f"{api}/questions/{question['id']}/answers",
                        headers={"authorization": f"Bearer {token}"},
                        json={"choices": [question["choices"][0]["id"]]})
                    assert r.status_code == 201
            return [got[-1] for got in await asyncio.gather(*map(recv_all, screens))]
        finally:
            for screen in screens:
                await screen.close()

    try:
        workers = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        children = workers.read_text().split() if workers.exists() else []
        last = asyncio.run(go())
    finally:
        server.stop()
    assert len(children) >= 2, children  # uvicorn's workers (and its resource tracker)
    assert all("n = 8" in screen for screen in last)
    assert "Traceback" not in "".join(server.output)
