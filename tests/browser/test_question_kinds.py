"""Each kind of question answered on a phone, with and without JavaScript; the phone
catches up by itself after losing its connection, and after a server restart."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import PHONE
from tests.proxy import Proxy
from tests.server import Server


class Room:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base, timeout=10)
        self.fac = {"authorization": f"Bearer {server.token('facilitator')}"}

    def post(self, path: str, **body):
        r = self.http.post(f"/api/sessions/{self.server.code}{path}", json=body or None,
                           headers=self.fac)
        assert r.status_code == 200, r.text
        return r.json()

    def questions(self) -> dict[str, dict]:
        state = self.http.get(f"/api/sessions/{self.server.code}/state", headers=self.fac).json()
        return {q["kind"]: q for q in state["questions"]}

    def close(self) -> None:
        self.http.close()

    def results(self, question) -> dict:
        return self.http.get(f"/api/sessions/{self.server.code}/questions/{question['id']}"
                             "/results", headers=self.fac).json()


@pytest.fixture
def room(server):
    r = Room(server)
    yield r
    r.close()


def wait_until(page, condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("condition not met in time")


def show(phone, javascript: bool, heading: str) -> None:
    if not javascript:
        phone.get_by_role("link", name="Actualiser la page").click()
    phone.get_by_role("heading", name=heading).wait_for(timeout=5000)


def send(phone) -> None:
    phone.get_by_role("button", name="Envoyer ma réponse").click()
    phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for(timeout=5000)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_every_kind_answered_on_a_phone(browser, server, javascript, room):
    room.post("/step", move="next")
    kinds = room.questions()
    ctx = browser.new_context(java_script_enabled=javascript, **PHONE)
    phone = ctx.new_page()
    phone.goto(server.urls["join"])
    phone.get_by_role("button", name="Participer").click()

    # Frequency matrix: two items rated, the others skipped.
    matrix = kinds["matrix"]
    room.post(f"/questions/{matrix['id']}/open")
    show(phone, javascript, matrix["text"])
    courriels = phone.get_by_role("group", name="Lire ses courriels")
    courriels.get_by_label("Souvent", exact=True).check()
    phone.get_by_role("group", name="Prendre un rendez-vous en ligne").get_by_label(
        "Jamais").check()
    send(phone)
    results = room.results(matrix)
    rows = {row["label"]: row for row in results["items"]}
    assert results["n"] == 1
    assert rows["Lire ses courriels"]["counts"] == [0, 0, 0, 1, 0]
    assert rows["Prendre un rendez-vous en ligne"]["counts"] == [1, 0, 0, 0, 0]
    assert rows["Payer une facture sur internet"]["n"] == 0
    room.post(f"/questions/{matrix['id']}/close")

    # Scale 1–5: a bad send first (nothing chosen) is refused in French.
    scale = kinds["scale"]
    room.post(f"/questions/{scale['id']}/open")
    show(phone, javascript, scale["text"])
    phone.get_by_label("4", exact=True).check()
    send(phone)
    results = room.results(scale)
    assert results["n"] == 1 and results["mean"] == 4 and results["median"] == 4
    room.post(f"/questions/{scale['id']}/close")

    # Short free text.
    text = kinds["text"]
    room.post(f"/questions/{text['id']}/open")
    show(phone, javascript, text["text"])
    phone.get_by_label(text["text"]).fill("Des formations et de la patience")
    send(phone)
    results = room.results(text)
    assert {w["word"] for w in results["words"]} == {"formations", "patience"}
    room.post(f"/questions/{text['id']}/close")

    # Ranking: drag (JS) or numbered selects (no JS).
    ranking = kinds["ranking"]
    labels = [c["label"] for c in ranking["choices"]]
    room.post(f"/questions/{ranking['id']}/open")
    show(phone, javascript, ranking["text"])
    if javascript:
        rows = phone.locator(".rank-row")
        rows.nth(3).locator(".rank-handle").drag_to(rows.nth(0), target_position={"x": 5, "y": 2})
        phone.get_by_role("button", name=f"Descendre : {labels[0]}").click()
        expected = [labels[3], labels[1], labels[0], labels[2]]
        # The no-JS selects follow the list.
        assert [phone.get_by_label(label, exact=True).input_value() for label in expected] == [
            "1", "2", "3", "4"]
    else:
        expected = [labels[2], labels[0], labels[3], labels[1]]
        for rank, label in enumerate(expected, start=1):
            phone.get_by_label(label, exact=True).select_option(str(rank))
    send(phone)
    results = room.results(ranking)
    assert [row["label"] for row in results["choices"]] == expected
    assert [row["points"] for row in results["choices"]] == [3, 2, 1, 0]
    # This question takes one answer only: no way to change it.
    assert phone.get_by_role("link", name=re.compile("Modifier ma réponse")).count() == 0
    ctx.close()


def test_invalid_answers_get_a_message_and_keep_the_form(browser, server, room):
    room.post("/step", move="next")
    ranking = room.questions()["ranking"]
    room.post(f"/questions/{ranking['id']}/open")
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    phone = ctx.new_page()
    phone.goto(server.urls["join"])
    phone.get_by_role("button", name="Participer").click()
    labels = [c["label"] for c in ranking["choices"]]
    for label in labels:
        phone.get_by_label(label, exact=True).select_option("1")
    phone.get_by_role("button", name="Envoyer ma réponse").click()
    assert "même rang" in phone.get_by_role("alert").inner_text()
    assert phone.get_by_role("heading", name=ranking["text"]).is_visible()
    assert room.results(ranking)["n"] == 0
    ctx.close()


def test_results_hidden_until_closed_on_the_projector(browser, server, room):
    room.post("/step", move="next")
    text = room.questions()["text"]  # the demo shows this one only once closed
    room.post(f"/questions/{text['id']}/open")
    token = room.http.post("/api/sessions/join", json={"code": server.code}).json()["token"]
    r = room.http.post(f"/api/sessions/{server.code}/questions/{text['id']}/answers",
                       json={"text": "confiance"}, headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 201
    hidden = room.http.get(f"/api/sessions/{server.code}/questions/{text['id']}/results",
                           headers={"authorization": f"Bearer {token}"}).json()
    assert hidden == {"question_id": text["id"], "kind": "text", "state": "open", "n": 1,
                      "hidden": True}
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    screen = ctx.new_page()
    screen.goto(server.urls["screen"])
    assert "s'afficheront à la fermeture" in screen.locator("#screen").inner_text()
    assert "confiance" not in screen.locator("#screen").inner_text()
    room.post(f"/questions/{text['id']}/close")
    screen.locator("#screen .cloud", has_text="confiance").wait_for(timeout=3000)
    ctx.close()


def test_phone_catches_up_after_losing_its_connection(browser, server, room):
    with Proxy(server.port) as proxy:
        ctx = browser.new_context(**PHONE)
        phone = ctx.new_page()
        sockets, closed = [], []
        phone.on("websocket", lambda ws: (sockets.append(ws),
                                          ws.on("close", lambda _ws: closed.append(_ws))))
        phone.goto(f"{proxy.base}/j/{server.code}")
        phone.get_by_role("button", name="Participer").click()
        phone.get_by_role("heading", name="Accueil").wait_for()
        wait_until(phone, lambda: len(sockets) == 1)

        proxy.cut(refuse_new=True)  # the room's Wi-Fi drops
        wait_until(phone, lambda: len(closed) >= 1)
        room.post("/step", move="next")
        room.post("/step", move="next")  # the proposals step, while the phone is cut off
        phone.wait_for_timeout(500)
        assert phone.get_by_role("heading", name="Accueil").is_visible()
        proxy.restore()
        prompt = phone.get_by_role("heading", name=re.compile("Quelles solutions"))
        prompt.wait_for(timeout=30000)
        assert len(sockets) >= 2  # it reconnected by itself, without a reload
        assert phone.url.endswith(f"/s/{server.code}")

        # A restart of the server (kill -9): the phone reconnects and follows again.
        server.kill9()
        again = Server(server.db, server.port).start()
        try:
            other = Room(again)
            other.post("/step", move="previous")
            other.close()
            phone.get_by_role("heading", name="Consultation éclair").wait_for(timeout=60000)
        finally:
            again.stop()
        ctx.close()
