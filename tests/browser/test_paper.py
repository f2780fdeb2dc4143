"""Paper typed as a helper really does, keyboard alone, in Chromium: whole poll cards after
the poll closed, whole vote cards of 11 items in one submission each, a duplicate refused
and corrected; a blind second entry settled by the facilitator; axe-core, reflow and focus
on every helper state."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.test_accessibility import check
from tests.browser.test_keyboard import field, focused, named, tab_to
from tests.browser.test_vote import open_vote

ITEMS = [f"Idée {n} : un lieu d'accueil sans rendez-vous pour les démarches en ligne, "
         f"avec une personne formée et du temps pour chacun" for n in range(1, 12)]


@pytest.fixture
def http(server):
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    with httpx.Client(base_url=server.base, timeout=10, headers=fac) as client:
        yield client


def poll_then_vote(http, server) -> list[dict]:
    """The poll asked and closed (its cards collected), 11 proposals, then the vote step."""
    base = f"/api/sessions/{server.code}"
    http.post(f"{base}/step", json={"position": 1})
    questions = http.get(f"{base}/state").json()["questions"]
    for question in questions:
        http.post(f"{base}/questions/{question['id']}/open")
        http.post(f"{base}/questions/{question['id']}/close")
    http.post(f"{base}/step", json={"position": 2})
    for text in ITEMS:
        token = http.post("/api/sessions/join", json={"code": server.code}).json()["token"]
        assert http.post(f"{base}/proposals", json={"text": text},
                         headers={"authorization": f"Bearer {token}"}).status_code == 201
    http.post(f"{base}/step", json={"position": 4})
    return questions


def submit(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_helper_types_whole_cards_after_the_poll_with_the_keyboard(browser, server, http):
    questions = poll_then_vote(http, server)
    single, multiple, scale = (next(q for q in questions if q["kind"] == kind)
                               for kind in ("single", "multiple", "scale"))
    fac_ctx, _fac = open_vote(browser, server)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    page = ctx.new_page()
    page.goto(server.urls["helper"] + "?form=poll&by=Awa")

    # Ten poll cards, typed after every question closed: three questions answered on each.
    for card in range(1, 11):
        here = focused(page)
        assert here and here["name"] == "card" and here["value"] == "", here
        page.keyboard.type(str(card))
        page.keyboard.press("Tab")
        assert focused(page)["name"] == f"q{single['id']}-choice"
        page.keyboard.press("Space" if card % 2 else "ArrowDown")
        tab_to(page, field(f"q{multiple['id']}-choice"), "multiple choice")
        page.keyboard.press("Space")
        tab_to(page, lambda f: f["name"].startswith(f"q{scale['id']}-"), "scale")
        page.keyboard.press("Space")
        submit(page)
        assert page.get_by_role("status").first.inner_text() == f"Bulletin {card} enregistré."
    base = f"/api/sessions/{server.code}"
    for question in (single, multiple, scale):
        assert http.get(f"{base}/questions/{question['id']}/results").json()["n"] == 10
    status = page.locator("#helper-status").inner_text()
    assert "10 bulletins saisis après la fermeture de leur question ou de leur vote" in status
    assert "Awa : 10" in status

    # Six vote cards of 11 items, each in one submission.
    page.goto(server.urls["helper"] + "?by=Awa")
    assert page.locator(".ballot tbody tr").count() == 11
    for card in range(1, 7):
        page.keyboard.type(str(card))
        for item in range(11):
            page.keyboard.press("Tab")
            assert focused(page)["type"] == "radio"
            # agree (Space), disagree (→), or pass (→ →), varying by card and item
            moves = (card + item) % 3
            page.keyboard.press("Space" if moves == 0 else "ArrowRight")
            if moves == 2:
                page.keyboard.press("ArrowRight")
        submit(page)
        assert page.get_by_role("status").first.inner_text() == f"Bulletin {card} enregistré."
    # The same card again is refused; the helper ticks "correction" and saves.
    page.keyboard.type("3")
    for _ in range(11):
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
    submit(page)
    assert "déjà été saisi pour ce vote" in page.get_by_role("alert").inner_text()
    assert page.locator(".ballot input:checked").count() == 11
    tab_to(page, field("correction"), "correction box")
    page.keyboard.press("Space")
    submit(page)
    assert page.get_by_role("status").first.inner_text() == "Bulletin 3 enregistré."
    projector = httpx.get(server.urls["screen"]).text
    assert re.search(r"\b6 votant", projector), "six vote cards counted once each"
    # The report counts the paper cards.
    report = http.get(f"/f/{server.token('facilitator')}/report").text
    assert report.count("n = 10") >= 3
    # A card number is one person: vote card 3 belongs to whoever holds poll card 3.
    assert re.search(r"papier : 10\b", report), "10 paper cards in the report"
    ctx.close()
    fac_ctx.close()


def test_double_entry_and_every_helper_state_is_accessible(browser, server, http):
    questions = poll_then_vote(http, server)
    single = next(q for q in questions if q["kind"] == "single")
    fac_ctx, fac = open_vote(browser, server)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    first, second = ctx.new_page(), ctx.new_page()
    first.goto(server.urls["helper"] + "?by=Awa")
    check(first, "helper vote card")
    first.locator("#vote-card").fill("4")
    first.locator(".ballot tbody tr").first.locator("input").first.check()
    first.get_by_role("button", name="Enregistrer le bulletin").click()
    first.get_by_role("status").first.wait_for()
    check(first, "helper vote card saved, live status")
    # The blind second entry: chosen with the keyboard on the helper's own page.
    second.goto(server.urls["helper"])
    tab_to(second, field("by"), "first name")
    second.keyboard.type("Lou")
    tab_to(second, lambda f: f["name"] == "round", "entry")
    second.keyboard.press("ArrowDown")
    tab_to(second, named("Confirmer"), "confirm")
    submit(second)
    assert "Deuxième saisie" in second.locator(".notice").first.inner_text()
    check(second, "helper second entry")
    second.locator("#vote-card").fill("4")
    second.locator(".ballot tbody tr").first.locator("input").nth(1).check()
    second.get_by_role("button", name="Enregistrer le bulletin").click()
    second.get_by_role("status").first.wait_for()
    # The first helper's page follows live: a difference waits for the facilitator.
    first.locator("#helper-status", has_text="diffère entre les deux saisies").wait_for(
        timeout=5000)
    # An error state, and the other forms.
    second.locator("#vote-card").fill("5")  # nothing ticked
    second.get_by_role("button", name="Enregistrer le bulletin").click()
    second.get_by_role("alert").wait_for()
    check(second, "helper error")
    first.goto(server.urls["helper"] + "?form=poll")
    check(first, "helper poll card")
    first.goto(server.urls["helper"] + "?form=proposals")
    check(first, "helper proposals")
    # The facilitator settles the card with the keyboard.
    fac.goto(server.urls["facilitator"])
    fac.get_by_role("link", name="Bulletins papier saisis deux fois").click()
    check(fac, "facilitator paper check")
    table = fac.locator(".side-by-side").inner_text()
    assert ITEMS[0] in table and "D'accord" in table and "Pas d'accord" in table
    tab_to(fac, named("Garder la deuxième saisie"), "keep the second")
    submit(fac)
    assert "Bulletin 4 tranché" in fac.get_by_role("status").inner_text()
    check(fac, "facilitator paper check settled")
    base = f"/api/sessions/{server.code}"
    assert http.get(f"{base}/questions/{single['id']}/results").json()["n"] == 0
    # On a phone-sized screen the vote card reflows: each box keeps its name.
    small = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR")
    phone = small.new_page()
    phone.goto(server.urls["helper"])
    check(phone, "helper vote card at 320 px")
    assert phone.locator(".ballot .cell", has_text="Pas d'accord").first.is_visible()
    small.close()
    # Without JavaScript the card is typed the same; the status has its refresh link.
    plain = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR",
                                java_script_enabled=False)
    page = plain.new_page()
    page.goto(server.urls["helper"])
    page.locator("#vote-card").fill("9")
    page.locator(".ballot tbody tr").nth(2).locator("input").nth(2).check()
    page.get_by_role("button", name="Enregistrer le bulletin").click()
    assert page.get_by_role("status").first.inner_text() == "Bulletin 9 enregistré."
    assert page.get_by_role("link", name="Actualiser la page").is_visible()
    plain.close()
    ctx.close()
    fac_ctx.close()
