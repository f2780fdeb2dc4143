"""The themes board as a facilitator uses it: drag and drop, keyboard alone, no JavaScript;
and proposals from a phone reaching the projector's wall."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_keyboard import tab_to

TEXTS = ["une navette gratuite", "navette gratuite le mardi", "cours d'informatique",
         "des cours d'informatique"]


@pytest.fixture
def board(server):
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"/api/sessions/{server.code}"
    with httpx.Client(base_url=server.base, timeout=10) as http:
        http.post(f"{api}/step", json={"position": 2}, headers=fac)  # "Vos idées"
        for text in TEXTS:
            token = http.post("/api/sessions/join", json={"code": server.code}).json()["token"]
            r = http.post(f"{api}/proposals", json={"text": text},
                          headers={"authorization": f"Bearer {token}"})
            assert r.status_code == 201
        http.post(f"{api}/step", json={"position": 3}, headers=fac)  # "Regroupement"
    return server


def create_themes(page, *names):
    for name in names:
        page.get_by_label("Nouveau thème").fill(name)
        page.get_by_role("button", name="Créer", exact=True).click()
        column(page, name).wait_for()  # with JavaScript the board is redrawn in place


def column(page, name):
    return page.locator(".column", has=page.get_by_role("heading", name=name, exact=True))


def test_drag_and_drop_saves_the_move_and_the_projector_follows(browser, board):
    screen_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    screen = screen_ctx.new_page()
    screen.goto(board.urls["screen"])
    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(board.urls["facilitator"])
    create_themes(page, "Transport")
    card = page.locator(".board-card", has_text="une navette gratuite").locator("p")
    source, target = card.bounding_box(), column(page, "Transport").locator(
        ".board-list").bounding_box()
    page.mouse.move(source["x"] + 10, source["y"] + 10)
    page.mouse.down()
    page.mouse.move(target["x"] + 20, target["y"] + 20, steps=25)
    page.mouse.up()
    column(page, "Transport").locator(".board-card", has_text="une navette gratuite").wait_for()
    # Saved at once: a reload shows it there, and so does the projector.
    screen.locator(".theme-box", has_text="Transport").locator(
        "li", has_text="une navette gratuite").wait_for(timeout=3000)
    page.reload()
    assert column(page, "Transport").locator(".board-card").all_inner_texts()[0].startswith(
        "une navette gratuite")
    ctx.close()
    screen_ctx.close()


def test_keyboard_alone(browser, board):
    ctx = browser.new_context(locale="fr-FR")
    page = ctx.new_page()
    page.goto(board.urls["facilitator"])
    tab_to(page, lambda f: f["id"] == "theme-name", "new theme name")
    page.keyboard.type("Formation")
    page.keyboard.press("Enter")  # sent in the background: the board is redrawn in place
    column(page, "Formation").wait_for()
    tab_to(page, lambda f: f["label"] == "Thème pour « cours d'informatique »", "card's theme")
    select = page.get_by_label("Thème pour « cours d'informatique »")
    page.keyboard.press("ArrowDown")  # from "Non classées" to the new theme
    assert select.input_value() != "unsorted"
    page.keyboard.press("Tab")  # to the card's "Déplacer" button
    page.keyboard.press("Enter")
    column(page, "Formation").locator(".board-card", has_text="cours d'informatique").wait_for()
    # The keyboard user is still on that card (its "Déplacer" button), once redrawn.
    focused = "(document.activeElement.closest('.board-card') || {}).textContent || ''"
    for _ in range(30):
        if "cours d'informatique" in page.evaluate(focused):
            break
        page.wait_for_timeout(100)
    assert "cours d'informatique" in page.evaluate(focused)
    ctx.close()


def test_the_keyboard_goes_on_to_the_next_suggestion(browser, board):
    """Accepting a suggestion with the keyboard leaves the focus on the next one, not on the
    board's first button at the other end of the page."""
    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    page.goto(board.urls["facilitator"])
    page.get_by_role("button", name="Proposer des regroupements").click()
    suggestions = page.locator(".suggestions > li")
    suggestions.first.wait_for()
    assert suggestions.count() >= 2
    title = suggestions.first.locator("input[name=name]").input_value()
    suggestions.first.get_by_role("button", name=re.compile("^Accepter")).focus()
    page.keyboard.press("Enter")
    column(page, title).wait_for()
    in_list = "!!(document.activeElement && document.activeElement.closest('.suggestions'))"
    for _ in range(30):
        if page.evaluate(in_list):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(in_list), page.evaluate("document.activeElement.outerHTML")
    ctx.close()


def test_without_javascript(browser, board):
    ctx = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = ctx.new_page()
    page.goto(board.urls["facilitator"])
    create_themes(page, "Transport", "Formation")
    page.get_by_label("Thème pour « navette gratuite le mardi »").select_option(
        label="Transport")
    page.locator(".board-card", has_text="navette gratuite le mardi").get_by_role(
        "button", name=re.compile("^Déplacer")).click()
    assert "navette gratuite le mardi" in column(page, "Transport").inner_text()
    # Suggestions, accepted after a rename.
    page.get_by_role("button", name="Proposer des regroupements").click()
    page.locator(".suggestions input[name=name]").first.fill("Cours")
    page.locator(".suggestions").get_by_role("button", name=re.compile("^Accepter")).first\
        .click()
    assert column(page, "Cours").locator(".board-card").count() >= 2
    ctx.close()


def test_a_phone_proposal_reaches_the_wall(browser, server):
    with httpx.Client(base_url=server.base, timeout=10) as http:
        http.post(f"/api/sessions/{server.code}/step", json={"position": 2},
                  headers={"authorization": f"Bearer {server.token('facilitator')}"})
    screen_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    screen = screen_ctx.new_page()
    screen.goto(server.urls["screen"])
    for javascript in (True, False):
        phone_ctx = browser.new_context(java_script_enabled=javascript, **PHONE)
        phone = phone_ctx.new_page()
        phone.goto(server.urls["join"])
        phone.get_by_label("Votre table").select_option(label="Table 2")
        phone.get_by_role("button", name="Participer").click()
        text = f"un café numérique {'js' if javascript else 'sans js'}"
        phone.get_by_label(re.compile("Quelles solutions")).fill(text)
        phone.get_by_role("button", name="Envoyer ma proposition").click()
        phone.get_by_text("Merci, votre proposition est enregistrée.").wait_for(timeout=5000)
        assert text in phone.locator(".own").inner_text()
        screen.locator(".wall-card", has_text=text).wait_for(timeout=3000)
        phone_ctx.close()
    screen_ctx.close()
