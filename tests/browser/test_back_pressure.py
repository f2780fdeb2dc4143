"""A server too busy answers 503: a phone with JavaScript sends the same answer again by
itself and it counts once; a phone without JavaScript is told plainly to send it again."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import check
from tests.browser.test_seance import facilitator_open_first_question


def _results(server) -> dict:
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    state = httpx.get(f"{server.base}/api/sessions/{server.code}/state", headers=fac).json()
    question = state["questions"][0]["id"]
    return httpx.get(f"{server.base}/api/sessions/{server.code}/questions/{question}/results",
                     headers=fac).json()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_busy_server_loses_no_answer(browser, server, javascript):
    fac_ctx = browser.new_context(locale="fr-FR")
    facilitator_open_first_question(fac_ctx.new_page(), server)
    phone_ctx = browser.new_context(java_script_enabled=javascript, **PHONE)
    phone = phone_ctx.new_page()
    phone.set_default_timeout(10_000)
    phone.goto(server.urls["join"])
    phone.get_by_role("button", name="Participer").click()
    sent: list[str] = []

    def busy_once(route) -> None:
        # The first answer meets a full server (what the app answers then, minus the
        # load); the same form sent again goes through.
        sent.append(route.request.post_data or "")
        if len(sent) == 1:
            route.fulfill(status=503, headers={"retry-after": "1", "content-type":
                                               "text/html; charset=utf-8"},
                          body=busy_page(server.code, htmx=javascript))
        else:
            route.continue_()

    # On the context, set before anything is sent: every request of the page goes through it.
    phone_ctx.route("**/s/*/answer", busy_once)
    if javascript:
        phone.wait_for_load_state("load")
    phone.get_by_label("En bus ou en tram").check()
    phone.get_by_role("button", name="Envoyer ma réponse").click()
    if javascript:
        phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for(timeout=8000)
        assert len(sent) == 2
        key = [p for p in sent[0].split("&") if p.startswith("idem=")]
        assert key and key[0] in sent[1], "the retry must carry the same idempotency key"
    else:
        text = phone.locator("main").inner_text()
        assert "Beaucoup de personnes envoient en même temps" in text
        assert "pas encore enregistré" in text
        phone.go_back()  # what the page says to do: the form and its key are still there
        phone.get_by_label("En bus ou en tram").check()
        phone.get_by_role("button", name="Envoyer ma réponse").click()
        phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for(timeout=5000)
    assert _results(server)["n"] == 1


def busy_page(code: str, htmx: bool = False) -> str:
    """The app's own 503 answer, as a full server gives it (a fragment to htmx)."""
    from starlette.requests import Request

    from facilitation.app import busy_response, create_app
    from facilitation.settings import Settings

    app = create_app(Settings())
    scope = {"type": "http", "method": "POST", "path": f"/s/{code}/answer",
             "headers": [(b"accept-language", b"fr-FR")]
             + ([(b"hx-request", b"true")] if htmx else []), "query_string": b"",
             "app": app, "router": app.router}
    return bytes(busy_response(Request(scope)).body).decode()


def test_the_busy_page_is_accessible(browser, server):
    """axe-core needs JavaScript: the page a phone without it sees is checked here."""
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    page.route("**/busy", lambda route: route.fulfill(
        status=503, headers={"content-type": "text/html; charset=utf-8"},
        body=busy_page(server.code)))
    page.goto(f"{server.base}/busy")
    assert "Beaucoup de personnes envoient en même temps" in page.locator("h1").inner_text()
    # Back to the séance's page, not to the home page (where the code is typed).
    assert page.get_by_role("link", name="Retour à la page").get_attribute("href") == \
        f"/s/{server.code}"
    check(page, "busy page")
    ctx.close()


def test_a_phone_that_keeps_meeting_a_full_server_is_told(browser, server):
    """Five retries, then the phone says plainly that nothing was recorded yet."""
    fac_ctx = browser.new_context(locale="fr-FR")
    facilitator_open_first_question(fac_ctx.new_page(), server)
    phone_ctx = browser.new_context(**PHONE)
    phone = phone_ctx.new_page()
    phone.goto(server.urls["join"])
    phone.get_by_role("button", name="Participer").click()
    sent: list[str] = []

    def always_busy(route) -> None:
        sent.append(route.request.post_data or "")
        route.fulfill(status=503, headers={"retry-after": "1", "content-type":
                                           "text/html; charset=utf-8"},
                      body=busy_page(server.code, htmx=True))

    phone_ctx.route("**/s/*/answer", always_busy)
    phone.wait_for_load_state("load")  # htmx has taken the form over (deferred scripts ran)
    phone.get_by_label("En bus ou en tram").check()
    phone.get_by_role("button", name="Envoyer ma réponse").click()
    phone.get_by_role("status").filter(has_text="Nouvel envoi").wait_for(timeout=10000)
    phone.get_by_role("alert").filter(has_text="Appuyez de nouveau").wait_for(timeout=15000)
    assert len(sent) == 6 and len(set(sent)) == 1  # the same form, the same key
    assert phone.get_by_label("En bus ou en tram").is_checked()  # the answer is still there
    assert _results(server)["n"] == 0
    check(phone, "busy note on a phone")
