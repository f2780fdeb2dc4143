"""The live hub: bounded queues, coalescing, and real WebSockets to a real server."""

import asyncio
import re
import time

import httpx
import pytest
import websockets

from facilitation.live import Coalescer, Hub
from tests.server import Server, forget_redis, free_port, redis_env


def test_a_slow_subscriber_keeps_only_the_newest_messages():
    hub = Hub(queue_size=3)
    slow, fast = hub.subscribe("t"), hub.subscribe("t")
    for i in range(10):
        hub.publish("t", f"m{i}")
        fast.queue.get_nowait()
    assert [slow.queue.get_nowait() for _ in range(3)] == ["m7", "m8", "m9"]
    assert slow.dropped == 7 and fast.dropped == 0


def test_unsubscribed_connections_get_nothing():
    hub = Hub()
    sub = hub.subscribe("t")
    hub.unsubscribe(sub)
    assert hub.publish("t", "x") == 0 and hub.subscribers("t") == 0


def test_coalescer_folds_a_burst_into_few_runs():
    async def go():
        runs = []

        async def action(key):
            runs.append((key, time.monotonic()))

        coalescer = Coalescer(0.1, action)
        start = time.monotonic()
        while time.monotonic() - start < 0.5:
            for _ in range(20):
                coalescer.request(1)
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.25)
        await coalescer.close()
        return runs, start

    runs, start = asyncio.run(go())
    assert 3 <= len(runs) <= 8, len(runs)
    # The last request is always followed by a run.
    assert runs[-1][1] > start + 0.45


@pytest.fixture(params=["one process", "redis"])
def server(request, tmp_path):
    """The real server, alone and with its hub on Redis: it behaves the same."""
    env = redis_env() if request.param == "redis" else {}
    s = Server(tmp_path / "live.db", free_port(), env=env).start()
    yield s
    s.stop()
    forget_redis(env)


def test_200_answers_in_a_second_cause_a_handful_of_screen_redraws(server):
    async def go():
        fac = {"authorization": f"Bearer {server.token('facilitator')}"}
        async with httpx.AsyncClient(base_url=server.base, timeout=20) as http:
            state = (await http.get(f"/api/sessions/{server.code}/state", headers=fac)).json()
            await http.post(f"/api/sessions/{server.code}/step", json={"move": "next"},
                            headers=fac)
            state = (await http.get(f"/api/sessions/{server.code}/state", headers=fac)).json()
            question = state["questions"][0]
            tokens = await asyncio.gather(*[
                http.post("/api/sessions/join", json={"code": server.code}) for _ in range(200)
            ])
            tokens = [r.json()["token"] for r in tokens]
            await http.post(f"/api/sessions/{server.code}/questions/{question['id']}/open",
                            headers=fac)
            ws_url = server.base.replace("http", "ws") + f"/screen/{server.token('screen')}/ws"
            async with websockets.connect(ws_url) as ws:
                first = await ws.recv()
                assert "n = 0" in first
                started = time.monotonic()
                replies = await asyncio.gather(*[
                    http.post(f"/api/sessions/{server.code}/questions/{question['id']}/answers",
                              json={"choices": [question["choices"][i % 3]["id"]]},
                              headers={"authorization": f"Bearer {t}"})
                    for i, t in enumerate(tokens)
                ])
                elapsed = time.monotonic() - started
                messages = []
                try:
                    while True:
                        messages.append(await asyncio.wait_for(ws.recv(), timeout=1.0))
                except TimeoutError:
                    pass
            results = (await http.get(
                f"/api/sessions/{server.code}/questions/{question['id']}/results",
                headers=fac)).json()
        return replies, elapsed, messages, results

    replies, elapsed, messages, results = asyncio.run(go())
    assert all(r.status_code == 201 for r in replies)
    assert results["n"] == 200
    assert [c["count"] for c in results["choices"][:3]] == [67, 67, 66]
    # Redraws are coalesced (at most ~4 a second), never one per answer.
    assert 1 <= len(messages) <= 4 * elapsed + 4, (len(messages), elapsed)
    assert "n = 200" in messages[-1]
    assert re.search(r"67 · 34\s?%", messages[-1])


def test_a_phone_is_told_when_the_step_changes(server):
    async def go():
        fac = {"authorization": f"Bearer {server.token('facilitator')}"}
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            page = await http.get(f"/j/{server.code}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            await http.post(f"/j/{server.code}", data={"csrf": csrf, "language": "fr-FR"})
            cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
            page = await http.get(f"/s/{server.code}")
            version = re.search(r"ws\?v=([^\"]+)", page.text).group(1)
            ws_url = server.base.replace("http", "ws") + f"/s/{server.code}/ws?v={version}"
            async with websockets.connect(ws_url, additional_headers={"cookie": cookie}) as ws:
                with pytest.raises(TimeoutError):  # up to date: nothing to catch up on
                    await asyncio.wait_for(ws.recv(), timeout=0.3)
                await http.post(f"/api/sessions/{server.code}/step", json={"move": "next"},
                                headers=fac)
                message = await asyncio.wait_for(ws.recv(), timeout=2)
                # Opening a question pushes its form, with this phone's own CSRF token.
                state = (await http.get(f"/api/sessions/{server.code}/state",
                                        headers=fac)).json()
                question = state["questions"][0]
                await http.post(f"/api/sessions/{server.code}/questions/{question['id']}/open",
                                headers=fac)
                pushed = await asyncio.wait_for(ws.recv(), timeout=2)
                # A timer started while people answer: only the timer is pushed, the panel
                # (and what is being chosen in it) is left alone.
                f = f"/f/{server.token('facilitator')}"
                fac_csrf = re.search(r'name="csrf" value="([^"]+)"',
                                     (await http.get(f)).text).group(1)
                await http.post(f"{f}/timer", data={"csrf": fac_csrf, "minutes": "4"})
                timer = await asyncio.wait_for(ws.recv(), timeout=2)
            # A stale page catches up at once on (re)connection.
            async with websockets.connect(ws_url, additional_headers={"cookie": cookie}) as ws:
                stale = await asyncio.wait_for(ws.recv(), timeout=2)
            # Without the participant's cookie, no live channel.
            with pytest.raises(websockets.exceptions.WebSocketException):
                async with websockets.connect(ws_url) as ws:
                    await asyncio.wait_for(ws.recv(), timeout=2)
        return message, pushed, csrf, question, stale, timer

    message, pushed, csrf, question, stale, timer = asyncio.run(go())
    assert 'id="timer"' in timer and "Temps prévu : jusqu'à" in timer
    assert 'id="panel"' not in timer and 'id="sync"' not in timer
    # The new panel comes in the message itself: no phone has to fetch it.
    assert 'id="panel"' in message and "hx-get" not in message
    assert 'id="panel"' in pushed and question["text"] in pushed
    assert f'name="csrf" value="{csrf}"' in pushed and "\x00" not in pushed
    assert re.search(r'name="idem" value="[\w-]{12,}"', pushed)
    assert 'id="sync"' in stale and f'hx-get="/s/{server.code}"' in stale


def test_a_phone_that_already_answered_fetches_its_own_panel(server):
    """A pushed panel is the same for every phone: one whose panel depends on what it sent
    (an answer to an open question) is told to fetch its own instead."""
    async def go():
        fac = {"authorization": f"Bearer {server.token('facilitator')}"}
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            token = (await http.post("/api/sessions/join", json={"code": server.code})).json()[
                "token"]
            me = {"authorization": f"Bearer {token}"}
            await http.post(f"/api/sessions/{server.code}/step", json={"move": "next"},
                            headers=fac)
            state = (await http.get(f"/api/sessions/{server.code}/state", headers=fac)).json()
            first, second = state["questions"][0], state["questions"][1]
            api = f"/api/sessions/{server.code}/questions"
            await http.post(f"{api}/{first['id']}/open", headers=fac)
            r = await http.post(f"{api}/{first['id']}/answers", headers=me,
                                json={"choices": [first["choices"][0]["id"]]})
            assert r.status_code == 201
            ws_url = server.base.replace("http", "ws") + f"/s/{server.code}/ws"
            cookie = f"eclair_p_{server.code}={token}"
            async with websockets.connect(ws_url, additional_headers={"cookie": cookie}) as ws:
                await asyncio.wait_for(ws.recv(), timeout=2)  # catching up (no version)
                await http.post(f"{api}/{second['id']}/open", headers=fac)
                return await asyncio.wait_for(ws.recv(), timeout=2)

    message = asyncio.run(go())
    assert 'id="sync"' in message and 'id="panel"' not in message


def test_websockets_from_another_site_are_refused(server):
    async def go():
        ws_url = server.base.replace("http", "ws") + f"/screen/{server.token('screen')}/ws"
        with pytest.raises(websockets.exceptions.WebSocketException):
            async with websockets.connect(ws_url, origin="http://evil.example") as ws:
                await asyncio.wait_for(ws.recv(), timeout=2)
        async with websockets.connect(ws_url, origin=server.base) as ws:
            return await asyncio.wait_for(ws.recv(), timeout=2)

    assert 'id="screen"' in asyncio.run(go())


def test_unknown_links_get_no_websocket(server):
    async def go():
        for path in ("/screen/nope/ws", "/f/nope/ws", "/s/ZZZZZ/ws",
                     f"/f/{server.token('screen')}/ws"):
            with pytest.raises(websockets.exceptions.WebSocketException):
                async with websockets.connect(server.base.replace("http", "ws") + path) as ws:
                    await asyncio.wait_for(ws.recv(), timeout=2)

    asyncio.run(go())


def test_the_facilitators_headcount_reaches_the_projector_at_once(server):
    async def go():
        fac_url = f"/f/{server.token('facilitator')}"
        ws_url = server.base.replace("http", "ws") + f"/screen/{server.token('screen')}/ws"
        seen = []
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            await http.post("/api/sessions/join", json={"code": server.code})
            csrf = re.search(r'name="csrf" value="([^"]+)"',
                             (await http.get(fac_url)).text).group(1)
            async with websockets.connect(ws_url) as ws:
                seen.append(await asyncio.wait_for(ws.recv(), timeout=2))
                for count in ("18", "-3", ""):
                    reply = await http.post(f"{fac_url}/headcount",
                                            data={"csrf": csrf, "headcount": count})
                    if reply.status_code == 422:
                        seen.append(reply.text)
                        continue
                    seen.append(await asyncio.wait_for(ws.recv(), timeout=2))
            facilitator = (await http.get(fac_url)).text
        return seen, facilitator

    (before, counted, refused, cleared), facilitator = asyncio.run(go())
    assert "1 personne présente" in before
    assert "18 personnes présentes" in counted and "1 personne présente" not in counted
    assert "nombre entier" in refused  # a bad count changes nothing and says why
    assert "1 personne présente" in cleared and "18 personnes" not in cleared
    assert re.search(r'id="headcount"[^>]*value=""', facilitator)


def test_a_phone_away_while_the_room_went_and_came_back_still_catches_up(server):
    """The page's version never repeats: forward two steps and back again while a phone
    was away is still news to it (its panel may hold the step in between)."""
    async def go():
        fac = {"authorization": f"Bearer {server.token('facilitator')}"}
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            token = (await http.post("/api/sessions/join", json={"code": server.code})).json()[
                "token"]
            cookie = f"eclair_p_{server.code}={token}"
            page = await http.get(f"/s/{server.code}", headers={"cookie": cookie})
            version = re.search(r"ws\?v=([^\"]+)", page.text).group(1)
            for move in ("next", "next", "previous", "previous"):
                r = await http.post(f"/api/sessions/{server.code}/step", json={"move": move},
                                    headers=fac)
                assert r.status_code == 200
            ws_url = server.base.replace("http", "ws") + f"/s/{server.code}/ws?v={version}"
            async with websockets.connect(ws_url, additional_headers={"cookie": cookie}) as ws:
                return await asyncio.wait_for(ws.recv(), timeout=2)

    message = asyncio.run(go())
    assert 'id="sync"' in message
