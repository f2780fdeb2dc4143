"""Without JavaScript nothing reloads a page where someone is typing or choosing: a
proposal written slowly on an old phone is sent intact. Waiting pages still refresh."""

from __future__ import annotations

import httpx

from tests.browser.conftest import PHONE

SLOW = ("Un atelier chaque semaine à la médiathèque pour apprendre à faire ses démarches "
        "en ligne, avec une personne qui prend le temps d'expliquer, des ordinateurs prêtés "
        "sur place, et une garderie pour les enfants pendant l'atelier, le samedi matin.")


def test_a_proposal_typed_slowly_without_javascript_is_sent_intact(browser, server):
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"{server.base}/api/sessions/{server.code}"
    phone = browser.new_context(java_script_enabled=False, **PHONE).new_page()
    phone.goto(server.urls["join"])
    phone.get_by_role("button", name="Participer").click()
    # Waiting between steps: this page refreshes itself, to follow the room.
    assert phone.locator('meta[http-equiv="refresh"]').count() == 1
    for position in range(httpx.get(f"{api}/state", headers=fac).json()["steps"]):
        moved = httpx.post(f"{api}/step", json={"position": position}, headers=fac).json()
        if moved["step"]["kind"] == "proposals":
            break
    phone.get_by_role("link", name="Actualiser la page").click()
    assert phone.locator('meta[http-equiv="refresh"]').count() == 0
    box = phone.locator("textarea")
    loads: list[str] = []
    phone.on("load", lambda page: loads.append(page.url))
    half = len(SLOW) // 2
    box.fill(SLOW[:half])
    phone.wait_for_timeout(30_000)  # 30 s of typing: longer than the 20 s a waiting page waits
    box.press_sequentially(SLOW[half:half + 20])
    box.fill(box.input_value() + SLOW[half + 20:])
    assert loads == [] and box.input_value() == SLOW
    phone.get_by_role("button", name="Envoyer ma proposition").click()
    assert "Merci, votre proposition est enregistrée." in phone.locator("#panel").inner_text()
    assert SLOW in phone.locator("#panel").inner_text()  # stored: listed in "Vos propositions"


def test_a_proposal_being_typed_when_the_step_moves_on_is_not_lost(browser, server):
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"{server.base}/api/sessions/{server.code}"
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(server.urls["join"])
    phone.get_by_role("button", name="Participer").click()
    httpx.post(f"{api}/step", json={"position": 2}, headers=fac)
    box = phone.locator("#proposal-text")
    box.wait_for(timeout=5000)  # the panel came with the push
    box.fill(SLOW[:120])
    # The facilitator moves on: the phone says what was not sent, with the text.
    httpx.post(f"{api}/step", json={"position": 3}, headers=fac)
    phone.locator(".draft").wait_for(timeout=5000)
    assert "Votre texte, qui n'a pas été envoyé" in phone.locator(".draft").inner_text()
    assert SLOW[:120] in phone.locator(".draft blockquote").inner_text()
