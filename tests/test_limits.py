"""Rate limits: a room of 300 behind one Wi-Fi address joins within a minute, a flood from
one client gets 429 with Retry-After and a message in the person's language; each
participant has a person's pace; joining again never gives an address more proposals.

Time is a fake clock (the limiter's `clock`), so nothing here sleeps a minute; one test
runs the real server with its real clock for the burst."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from facilitation.limits import Buckets, Budget, Limits, address_key, client_of
from facilitation.settings import Settings
from facilitation.store.proposals import add_proposal, list_proposals
from facilitation.store.queries import list_steps
from tests.conftest import csrf_of, go, make_settings
from tests.server import Server, free_port

SECRET = "gateway-secret"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app_settings(tmp_path, store: str) -> Settings:
    return make_settings(tmp_path, store, sms_secret=SECRET)


@pytest.fixture
def clock(client) -> Clock:
    fake = Clock()
    client.app.state.limits.clock = fake
    return fake


def api_join(client, code, language="fr-FR"):
    return client.post("/api/sessions/join", json={"code": code},
                       headers={"accept-language": language})


# The arithmetic, on the limiter alone --------------------------------------------------


def test_one_address_admits_a_room_of_300_in_a_minute_but_not_10000():
    clock = Clock()
    limits = Limits(Settings(), clock)
    me = client_of(type("Conn", (), {"client": type("C", (), {"host": "192.0.2.7"})()})())
    for _ in range(300):  # a room arriving over a minute, all behind the same Wi-Fi
        limits.join(1, me)
        clock.now += 0.2
    # The same address trying 10,000 joins within the next minute.
    admitted = 0
    for _ in range(10_000):
        try:
            limits.join(1, me)
            admitted += 1
        except Exception as refused:
            assert refused.status == 429 and 2 <= refused.retry_after <= 60
        clock.now += 60 / 10_000
    # What was left after the room (400 - 300 + 60 s of refill, capped), plus a minute of
    # refill: nowhere near 10,000.
    assert 200 <= admitted <= 400 - 300 + 120 + 120 + 1, admitted
    # Sustained for ten more minutes: never more than the refill, 120 a minute.
    admitted = 0
    for _ in range(6_000):
        clock.now += 0.1
        try:
            limits.join(1, me)
            admitted += 1
        except Exception:
            pass
    assert admitted <= 10 * 120 + 1, admitted
    # Another séance on the same network, or another network, has its own budget.
    limits.join(2, me)


def test_addresses_are_kept_as_keyed_digests_and_an_ipv6_home_is_one_client():
    key = address_key("2001:db8:1:2:aaaa::1")
    assert key == address_key("2001:db8:1:2:bbbb::9")  # the same /64
    assert key != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.7") == address_key("192.0.2.7")
    assert b"192.0.2.7" not in address_key("192.0.2.7") and len(key) == 16


def test_idle_buckets_are_forgotten_so_memory_stays_bounded():
    clock = Clock()
    buckets = Buckets(Budget(2, 60), clock, max_keys=100)
    for n in range(1000):
        buckets.take(n)
        clock.now += 0.01
    assert len(buckets) <= 100


# Joining over HTTP ---------------------------------------------------------------------


def test_a_room_joins_then_a_flood_from_the_same_address_gets_429(seance, client, clock):
    for _ in range(300):
        assert api_join(client, seance.code).status_code == 201
        clock.now += 0.2  # 300 people in one minute
    answers = [api_join(client, seance.code) for _ in range(300)]  # a script, at once
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) >= 70 and {r.status_code for r in answers} == {201, 429}
    assert sum(r.status_code == 201 for r in answers) <= 400 - 300 + 120
    r = refused[0]
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 60 and r.headers["cache-control"] == "no-store"
    assert r.json()["error"]["code"] == "too_many_requests"
    assert r.json()["error"]["message"].startswith(
        "Beaucoup de téléphones rejoignent la séance depuis ce réseau.")
    assert f"Attendez {wait} secondes" in r.json()["error"]["message"]
    english = api_join(client, seance.code, "en").json()["error"]["message"]
    assert english.startswith("Many phones are joining from this network.")
    # The join page, without JavaScript: the same message, and what was typed is kept.
    page = client.get(f"/j/{seance.code}")
    r = client.post(f"/j/{seance.code}", data={"csrf": csrf_of(page.text), "language": "fr-FR",
                                               "name": "Aïcha"})
    assert r.status_code == 429 and "retry-after" in r.headers
    assert "Beaucoup de téléphones rejoignent" in r.text and 'value="Aïcha"' in r.text
    clock.now += wait
    assert api_join(client, seance.code).status_code == 201
    assert seance.participants() == 300 + (len(answers) - len(refused)) + 1


def test_the_real_server_admits_a_room_of_300_at_once_and_refuses_a_flood(tmp_path):
    server = Server(tmp_path / "limits.db", free_port()).start()

    def joins(count: int, phones: int = 10) -> list[httpx.Response]:
        # `phones` at once, each joining again as soon as it is answered.
        def phone(n: int) -> list[httpx.Response]:
            with httpx.Client(base_url=server.base, timeout=30) as http:
                return [http.post("/api/sessions/join", json={"code": server.code})
                        for _ in range(n)]

        with ThreadPoolExecutor(phones) as pool:
            return [r for one in pool.map(phone, [count // phones] * phones) for r in one]

    try:
        started = time.monotonic()
        room = [r.status_code for r in joins(300)]
        elapsed = time.monotonic() - started
        flood = joins(1000)
        flooded = time.monotonic() - started - elapsed
    finally:
        server.stop()
    assert room == [201] * 300 and elapsed < 60
    admitted = sum(r.status_code == 201 for r in flood)
    refused = [r for r in flood if r.status_code == 429]
    # What was left of the burst (100) and the refill while the flood ran (2 a second).
    assert admitted <= 100 + 2 * (elapsed + flooded) + 1 and len(refused) >= 800, admitted
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    # Nothing about the refused clients is written anywhere: no line past the start.
    served = [line for line in "".join(server.output).split(
        "Application startup complete.", 1)[1].splitlines()
        if not line.startswith(("INFO:     Uvicorn running on", "INFO:     Finished server"))]
    assert not [line for line in served if "127.0.0.1" in line or " 429" in line], served


# A participant's pace ------------------------------------------------------------------


def open_first_question(seance):
    seance.facilitator_post("/step", position=str(seance.poll_position))
    seance.open(0)
    return seance.questions[0]


def test_a_participant_answering_over_and_over_is_slowed_down(seance, client, clock):
    question = open_first_question(seance)
    who = {"authorization": "Bearer " + api_join(client, seance.code).json()["token"],
           "accept-language": "fr-FR"}
    url = f"/api/sessions/{seance.code}/questions/{question['id']}/answers"
    for i in range(10):  # changing one's answer is allowed, ten times in a row too
        body = {"choices": [question["choices"][i % 2]]}
        assert client.post(url, json=body, headers=who).status_code == 201
    r = client.post(url, json={"choices": [question["choices"][0]]}, headers=who)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert r.json()["error"]["message"] == ("Vous envoyez très vite. Attendez 2 secondes, "
                                            "puis renvoyez.")
    # Someone else on the same network is not slowed down by it.
    other = {"authorization": "Bearer " + api_join(client, seance.code).json()["token"]}
    assert client.post(url, json={"choices": [question["choices"][0]]},
                       headers=other).status_code == 201
    clock.now += 2
    assert client.post(url, json={"choices": [question["choices"][2]]},
                       headers=who).status_code == 201
    results = client.get(f"/api/sessions/{seance.code}/questions/{question['id']}/results",
                         headers=who).json()
    assert results["n"] == 2


def test_the_phone_page_keeps_the_answer_and_says_when_to_send_again(seance, client, clock):
    question = open_first_question(seance)
    seance.join()
    choice = question["choices"][3]
    for _ in range(10):
        page = client.get(f"/s/{seance.code}?edit={question['id']}")
        data = {"csrf": csrf_of(page.text), "question": str(question["id"]),
                "choice": str(choice)}
        r = client.post(f"/s/{seance.code}/answer", data=data)
        assert r.status_code == 200 and "saved=1" in str(r.url)
    page = client.get(f"/s/{seance.code}?edit={question['id']}")
    data = {"csrf": csrf_of(page.text), "question": str(question["id"]), "choice": str(choice)}
    # Without JavaScript: the panel again, the choice still ticked, the message above it.
    r = client.post(f"/s/{seance.code}/answer", data=data)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert "Vous envoyez très vite. Attendez 2 secondes, puis renvoyez." in r.text
    assert re.search(rf'value="{choice}"[^>]*checked', r.text)
    # With JavaScript (htmx): one line above the form, which sends it again by itself.
    r = client.post(f"/s/{seance.code}/answer", data=data, headers={"hx-request": "true"})
    assert r.status_code == 429 and "retry-after" in r.headers
    assert 'class="error busy"' in r.text and "Vous envoyez très vite." in r.text
    assert "<form" not in r.text
    clock.now += 2
    r = client.post(f"/s/{seance.code}/answer", data=data)
    assert r.status_code == 200 and "saved=1" in str(r.url)


def test_votes_have_a_persons_pace_too(seance, client, clock):
    step = next(s.id for s in seance.call(list_steps, seance.id) if s.kind == "proposals")
    item = seance.call(add_proposal, seance.id, step, "un café numérique", "phone")
    go(seance, "vote")
    seance.facilitator_post("/vote/open")
    who = {"authorization": "Bearer " + api_join(client, seance.code).json()["token"]}
    url = f"/api/sessions/{seance.code}/votes"
    codes = [client.post(url, json={"item_id": item, "value": "agree"}, headers=who).status_code
             for _ in range(31)]
    assert codes == [201] * 30 + [429]


# Joining again does not give more proposals ---------------------------------------------


def test_joining_again_never_gives_an_address_more_proposals_than_the_room_has(
        seance, client, clock):
    seance.facilitator_post("/headcount", headcount="2")
    go(seance, "proposals")  # three proposals per person at most
    url = f"/api/sessions/{seance.code}/proposals"

    def person():
        return {"authorization": "Bearer " + api_join(client, seance.code).json()["token"]}

    first, second, third = person(), person(), person()
    sent = [client.post(url, json={"text": f"idée {i}"}, headers=first) for i in range(4)]
    assert [r.status_code for r in sent] == [201, 201, 201, 409]
    clock.now += 60
    sent = [client.post(url, json={"text": f"autre {i}"}, headers=second) for i in range(3)]
    assert [r.status_code for r in sent] == [201] * 3
    # Two people counted in the room, three proposals each: the address has sent them all.
    r = client.post(url, json={"text": "encore une"}, headers=third)
    assert r.status_code == 409 and r.json()["error"]["code"] == "network_limit"
    assert "Demandez à l'animation" in r.json()["error"]["message"]
    # The helper typing paper proposals is not held by it.
    helper = f"/h/{seance.links['helper']}"
    token = csrf_of(client.get(helper).text)
    r = client.post(f"{helper}/propose", data={"csrf": token, "text": "sur papier"})
    assert r.status_code in (200, 303)
    texts = [p.text for p in seance.call(list_proposals, seance.id)]
    assert "sur papier" in texts and "encore une" not in texts
    # A bigger headcount gives the address room again.
    seance.facilitator_post("/headcount", headcount="3")
    assert client.post(url, json={"text": "enfin"}, headers=third).status_code == 201


# SMS -----------------------------------------------------------------------------------

def test_wrong_sms_secrets_are_slowed_down(client):
    codes = [client.post("/sms/inbound?secret=guess",
                             data={"From": "+33600000000", "Body": "1"}).status_code
             for _ in range(12)]
    assert codes[:10] == [403] * 10 and codes[10:] == [429, 429]


def test_one_phone_number_sending_sms_after_sms_is_slowed_down(seance, client, clock):
    open_first_question(seance)
    codes = []
    for i in range(6):  # a basic phone resending: each answer is "already answered" after
        r = client.post(f"/sms/inbound?secret={SECRET}",
                        data={"From": "+33611111111", "Body": f"{seance.code} {i % 3 + 1}"})
        codes.append(r.status_code)
    assert codes[0] == 200 and codes[5] == 429, codes
    assert "Vous envoyez très vite" in r.text and r.headers["retry-after"]

