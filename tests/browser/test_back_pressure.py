"""A server too busy answers 503: a phone with JavaScript sends the same answer again by
itself and it counts once; a phone without JavaScript is told plainly to send it again.

The server is really full: it takes one request at a time (ECLAIR_MAX_IN_FLIGHT=1) and a
join whose body never finishes arriving holds that place until the test lets it go."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import check
from tests.browser.test_seance import facilitator_open_first_question
from tests.server import Server, free_port


@pytest.fixture
def full(tmp_path) -> Iterator[Server]:
    s = Server(tmp_path / "full.db", free_port(), env={"ECLAIR_MAX_IN_FLIGHT": "1"}).start()
    yield s
    s.stop()


class Hold:
    """A join posted so slowly that it stays in progress: the one place is taken."""

    def __init__(self, server: Server) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port))
        self.sock.sendall(f"POST /j/{server.code} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/x-www-form-urlencoded\r\n"
                          "Content-Length: 1000\r\n\r\nlanguage=".encode())

    def release(self) -> None:
        self.sock.close()


def _results(server) -> dict:
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    state = httpx.get(f"{server.base}/api/sessions/{server.code}/state", headers=fac).json()
    question = state["questions"][0]["id"]
    return httpx.get(f"{server.base}/api/sessions/{server.code}/questions/{question}/results",
                     headers=fac).json()


def _phone(browser, server, javascript: bool):
    facilitator_open_first_question(browser.new_context(locale="fr-FR").new_page(), server)
    phone = browser.new_context(java_script_enabled=javascript, **PHONE).new_page()
    phone.set_default_timeout(10_000)
    phone.goto(server.urls["join"])
    phone.get_by_role("button", name="Participer").click()
    phone.wait_for_load_state("load")  # with JavaScript, htmx has taken the form over
    phone.get_by_label("En bus ou en tram").check()
    return phone


def _refused(server) -> bool:
    """Whether what people send is refused right now (the hold is in place)."""
    r = httpx.post(f"{server.base}/api/sessions/join", json={"code": server.code})
    return r.status_code == 503


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_busy_server_loses_no_answer(browser, full, javascript):
    phone = _phone(browser, full, javascript)
    hold = Hold(full)
    try:
        assert _refused(full)
        phone.get_by_role("button", name="Envoyer ma réponse").click()
        if javascript:
            phone.get_by_role("status").filter(has_text="Nouvel envoi").wait_for()
            assert _results(full)["n"] == 0
            hold.release()  # room again: the phone's own retry goes through
            phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for()
        else:
            text = phone.locator("main").inner_text()
            assert "Beaucoup de personnes envoient en même temps" in text
            assert "pas encore enregistré" in text
            hold.release()
            phone.go_back()  # what the page says to do: the form and its key are still there
            phone.get_by_label("En bus ou en tram").check()
            phone.get_by_role("button", name="Envoyer ma réponse").click()
            phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for()
    finally:
        hold.release()
    assert _results(full)["n"] == 1


def test_a_phone_that_keeps_meeting_a_full_server_is_told(browser, full):
    """Five retries, then the phone says plainly that nothing was recorded yet."""
    phone = _phone(browser, full, True)
    hold = Hold(full)
    try:
        assert _refused(full)
        phone.get_by_role("button", name="Envoyer ma réponse").click()
        phone.get_by_role("alert").filter(has_text="Appuyez de nouveau").wait_for(timeout=20_000)
        assert phone.get_by_label("En bus ou en tram").is_checked()  # the answer is still there
        check(phone, "busy note on a phone")
    finally:
        hold.release()
    assert _results(full)["n"] == 0
    phone.get_by_role("button", name="Envoyer ma réponse").click()  # pressed again, as told
    phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for()
    assert _results(full)["n"] == 1


def test_the_busy_page_is_accessible(browser, full):
    """axe-core needs JavaScript: the page a phone without it sees is checked here."""
    page = browser.new_context(**PHONE).new_page()
    hold = Hold(full)
    try:
        assert _refused(full)
        # A form posted to the séance page's address while the server is full.
        page.goto(f"{full.base}/j/{full.code}")
        page.get_by_role("button", name="Participer").click()
        assert "Beaucoup de personnes envoient en même temps" in \
            page.locator("h1").inner_text()
    finally:
        hold.release()
    # Back to the page the form was on, not to the home page (where the code is typed).
    assert page.get_by_role("link", name="Retour à la page").get_attribute("href") == \
        f"/j/{full.code}"
    check(page, "busy page")


def _drain_answers(server, phone) -> None:
    """The phone's participant answers ten times through the API with its own token (the
    cookie): a person's burst of answers is used up, the next one waits 2 seconds."""
    token = next(c["value"] for c in phone.context.cookies() if c["name"].startswith("eclair_p_"))
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    state = httpx.get(f"{server.base}/api/sessions/{server.code}/state", headers=fac).json()
    question = state["questions"][0]
    url = f"{server.base}/api/sessions/{server.code}/questions/{question['id']}/answers"
    for _ in range(10):
        r = httpx.post(url, json={"choices": [question["choices"][0]["id"]]},
                       headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 201


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_phone_sending_too_fast_is_told_to_wait_and_keeps_its_answer(browser, server,
                                                                        javascript):
    phone = _phone(browser, server, javascript)
    _drain_answers(server, phone)
    phone.get_by_role("button", name="Envoyer ma réponse").click()
    if javascript:
        # One line above the form, then the phone sends the same answer again by itself.
        phone.get_by_role("status").filter(has_text="Vous envoyez très vite.").wait_for()
        assert phone.get_by_label("En bus ou en tram").is_checked()
        check(phone, "too fast, with JavaScript")
        phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for(timeout=15_000)
    else:
        text = phone.locator("main").inner_text()
        assert "Vous envoyez très vite. Attendez 2 secondes, puis renvoyez." in text
        assert phone.get_by_label("En bus ou en tram").is_checked()  # what was chosen stays
        phone.wait_for_timeout(2_100)
        phone.get_by_role("button", name="Envoyer ma réponse").click()
        phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for()
    assert _results(server)["choices"][1]["count"] == 1  # the phone's own choice counted
