"""One path for every action: paper cards carry no credential, retries count once, the hot
path reads nothing, a full server answers 503 fast, and memory never serves an old state."""

import asyncio
import hashlib
import re

import httpx
import pytest
import websockets

from tests.conftest import csrf_of, fac
from tests.server import Server, free_port


def _helper_card(seance, card: str, choice: int, **extra):
    helper = f"/h/{seance.links['helper']}"
    page = seance.client.get(helper)
    return seance.client.post(f"{helper}/answer", data={
        "csrf": csrf_of(page.text), "card": card, "question": str(seance.questions[0]["id"]),
        "choice": str(choice), **extra}, follow_redirects=False)


def test_a_paper_card_is_no_credential(seance):
    """The old card token, sha256("paper:<séance>:<card>"), is refused everywhere and
    changes nothing."""
    seance.client.post(f"/api/sessions/{seance.code}/step",
                       json={"position": seance.poll_position}, headers=fac(seance))
    seance.open(0)
    choices = seance.questions[0]["choices"]
    assert _helper_card(seance, "7", choices[0]).status_code == 303
    api = f"/api/sessions/{seance.code}"
    before = seance.client.get(f"{api}/questions/{seance.questions[0]['id']}/results",
                               headers=fac(seance)).json()
    assert before["n"] == 1 and before["channels"] == {"paper": 1}
    forged = f"paper:{seance.id}:7"
    headers = {"authorization": f"Bearer {forged}"}
    assert seance.client.get(f"{api}/state", headers=headers).status_code == 403
    r = seance.client.post(f"{api}/questions/{seance.questions[0]['id']}/answers",
                           json={"choices": [choices[1]]}, headers=headers)
    assert r.status_code == 403
    seance.client.cookies.set(f"eclair_p_{seance.code}", forged)
    page = seance.client.get(f"/s/{seance.code}")
    assert page.url.path == f"/j/{seance.code}"  # not a participant: sent to join
    seance.client.cookies.delete(f"eclair_p_{seance.code}")
    after = seance.client.get(f"{api}/questions/{seance.questions[0]['id']}/results",
                              headers=fac(seance)).json()
    assert after == before
    stored = seance.client.portal.call(
        seance.client.app.state.db.fetchall,
        "SELECT token_hash, card FROM participants WHERE channel = 'paper'", ())
    digest = hashlib.sha256(forged.encode()).hexdigest()
    assert [(r["card"]) for r in stored] == [7] and stored[0]["token_hash"] != digest


def test_a_retry_with_the_same_key_counts_once(seance):
    api = f"/api/sessions/{seance.code}"
    token = seance.client.post("/api/sessions/join", json={"code": seance.code}).json()["token"]
    me = {"authorization": f"Bearer {token}", "idempotency-key": "proposal-key-1"}
    steps = seance.client.get(f"{api}/state", headers=fac(seance)).json()["steps"]
    assert steps
    from tests.conftest import go
    go(seance, "proposals")
    first = seance.client.post(f"{api}/proposals", json={"text": "Un bus le soir"}, headers=me)
    again = seance.client.post(f"{api}/proposals", json={"text": "Un bus le soir"}, headers=me)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    # The same from a phone's form: a double click sends the form's key twice.
    seance.join()
    page = seance.client.get(f"/s/{seance.code}")
    key = re.search(r'name="idem" value="([^"]+)"', page.text).group(1)
    form = {"csrf": csrf_of(page.text), "idem": key, "text": "Des ateliers au centre social"}
    for _ in range(2):
        r = seance.client.post(f"/s/{seance.code}/propose", data=form)
        assert r.status_code == 200
    texts = [row["text"] for row in seance.client.portal.call(
        seance.client.app.state.db.fetchall, "SELECT text FROM proposals", ())]
    assert texts.count("Un bus le soir") == 1
    assert texts.count("Des ateliers au centre social") == 1


def test_an_answer_reads_nothing(seance):
    """The séance's state is in memory: answers cost one queued write and no query."""
    api = f"/api/sessions/{seance.code}"
    seance.client.post(f"{api}/step", json={"position": seance.poll_position},
                       headers=fac(seance))
    seance.open(0)
    tokens = [seance.client.post("/api/sessions/join", json={"code": seance.code}).json()[
        "token"] for _ in range(20)]
    question = seance.questions[0]
    seance.client.get(f"{api}/state", headers=fac(seance))  # warm
    stats = seance.client.app.state.db.stats
    reads, writes = stats.reads, stats.writes
    for i, token in enumerate(tokens):
        r = seance.client.post(f"{api}/questions/{question['id']}/answers",
                               json={"choices": [question["choices"][i % 2]]},
                               headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 201
    assert stats.reads == reads, "an answer read the database"
    assert stats.writes - writes == 20
    results = seance.client.get(f"{api}/questions/{question['id']}/results",
                                headers=fac(seance)).json()
    assert results["n"] == 20 and [c["count"] for c in results["choices"][:2]] == [10, 10]


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "live.db", free_port()).start()
    yield s
    s.stop()


@pytest.fixture
def tight(tmp_path):
    server = Server(tmp_path / "tight.db", free_port(),
                    env={"ECLAIR_MAX_IN_FLIGHT": "2"}).start()
    yield server
    server.stop()


def test_a_full_server_answers_503_fast_and_loses_nothing(tight):
    async def go():
        fac_h = {"authorization": f"Bearer {tight.token('facilitator')}"}
        api = f"/api/sessions/{tight.code}"
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=tight.base, timeout=20, limits=limits) as http:
            await http.post(f"{api}/step", json={"move": "next"}, headers=fac_h)
            state = (await http.get(f"{api}/state", headers=fac_h)).json()
            question = state["questions"][0]
            await http.post(f"{api}/questions/{question['id']}/open", headers=fac_h)
            tokens = []
            for _ in range(60):
                r = await http.post("/api/sessions/join", json={"code": tight.code})
                tokens.append(r.json()["token"])

            async def answer(i, token):
                headers = {"authorization": f"Bearer {token}", "idempotency-key": f"k-{i}"}
                refused = []
                while True:
                    r = await http.post(f"{api}/questions/{question['id']}/answers",
                                        json={"choices": [question["choices"][0]["id"]]},
                                        headers=headers)
                    if r.status_code != 503:
                        return r.status_code, refused
                    refused.append(r)
                    await asyncio.sleep(float(r.headers["retry-after"]) / 20)

            outcomes = await asyncio.gather(*[answer(i, t) for i, t in enumerate(tokens)])
            results = (await http.get(f"{api}/questions/{question['id']}/results",
                                      headers=fac_h)).json()
            return outcomes, results

    outcomes, results = asyncio.run(go())
    refused = [r for _status, rs in outcomes for r in rs]
    assert all(status == 201 for status, _ in outcomes)
    assert refused, "60 answers at once through 2 places: some must be refused"
    assert refused[0].json()["error"]["code"] == "busy"
    assert results["n"] == 60  # every retried answer counted, once


def test_a_page_after_a_step_change_never_shows_the_old_step(server):
    """With the facilitator's live view open, a structure read while another was still
    loading once served the step before (every third step change, on a real server)."""
    async def go():
        f = server.urls["facilitator"]
        wrong = 0
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as http:
            async with websockets.connect(f.replace("http", "ws") + "/ws") as ws:
                async def drain():
                    while True:
                        await ws.recv()
                task = asyncio.create_task(drain())
                for _ in range(9):
                    page = await http.get(f)
                    await http.post(f + "/step", data={"csrf": csrf_of(page.text),
                                                       "position": "0"})
                    page = await http.get(f)
                    await asyncio.sleep(0.3)  # the live view redraws meanwhile
                    r = await http.post(f + "/step", data={"csrf": csrf_of(page.text),
                                                           "move": "next"})
                    wrong += 'class="questions' not in r.text
                task.cancel()
        return wrong

    assert asyncio.run(go()) == 0
