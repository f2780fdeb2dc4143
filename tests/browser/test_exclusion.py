"""Excluding a participant in Chromium: the facilitator is told that more people joined than
they counted, reaches the list with the keyboard alone, ticks and excludes, and the
projector's count follows; the page has no axe violation, with the list open."""

from __future__ import annotations

import httpx

from tests.browser.test_accessibility import check
from tests.browser.test_keyboard import field, focused, named, tab_to


def test_a_facilitator_excludes_a_participant_with_the_keyboard(browser, server):
    with httpx.Client(base_url=server.base, timeout=10) as http:
        for name in ("Awa", "Bruno", "Awa"):  # Awa joined twice
            http.post("/api/sessions/join", json={"code": server.code, "name": name})
    page = browser.new_context(viewport={"width": 1366, "height": 768},
                               locale="fr-FR").new_page()
    page.goto(server.urls["facilitator"])
    tab_to(page, field("headcount"), "the headcount")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    warning = "3 personnes ont rejoint la séance : plus que les 2 comptées dans la salle."
    page.get_by_text(warning).first.wait_for()
    check(page, "facilitator, joins beyond the headcount")
    page.keyboard.press("Escape")
    page.locator("body").focus()
    tab_to(page, named("Voir qui a rejoint la séance"), "the warning's link")
    page.keyboard.press("Enter")
    # The list was drawn before the count: opened, and read again, from the keyboard.
    tab_to(page, named("Qui a rejoint la séance, du plus récent"), "the list")
    if not page.locator("#exclusion details").evaluate("d => d.open"):
        page.keyboard.press("Enter")
    tab_to(page, named("Actualiser la liste"), "refresh the list")
    page.keyboard.press("Enter")
    page.locator("#exclusion .warning").wait_for()
    # The latest first: the second "Awa" is the first box.
    here = tab_to(page, lambda f: f["name"] == "participant", "the first person")
    assert here["label"].startswith("Awa") and not here["checked"]
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    tab_to(page, named("Exclure les personnes cochées"), "the exclude button")
    page.keyboard.press("Enter")
    page.get_by_text("1 participant·e exclu·e : ses envois ne comptent plus.").wait_for()
    assert page.get_by_text(warning).count() == 0
    assert "2 personnes présentes" in page.locator("#facilitator-now").inner_text()
    screen = browser.new_context(locale="fr-FR").new_page()
    screen.goto(server.urls["screen"])
    assert "2 personnes présentes" in screen.locator("#presence").inner_text()
    # Included again, from the list of the excluded, the same way.
    tab_to(page, lambda f: f["name"] == "participant" and "Awa" in f["label"]
           and page.evaluate("document.activeElement.form.action.value") == "include",
           "the excluded person", limit=60)
    page.keyboard.press("Space")
    tab_to(page, named("Réintégrer les personnes cochées"), "the include button")
    page.keyboard.press("Enter")
    page.get_by_text("1 participant·e réintégré·e").wait_for()
    page.get_by_text(warning).first.wait_for()
