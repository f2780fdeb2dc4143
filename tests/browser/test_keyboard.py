"""Keyboard only: the participant, helper and facilitator paths walked in Chromium with Tab,
Shift+Tab, arrows, Space, Enter and typing — no mouse, no `fill`, no `click`. Every stop
of the focus must be visibly outlined."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const label = (el.getAttribute('aria-label') || (el.labels && el.labels[0]
                 ? el.labels[0].innerText : '') || el.innerText || el.value || '').trim();
  return {tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '', id: el.id,
          label: label.replace(/\\s+/g, ' ').slice(0, 80), value: el.value || '',
          checked: !!el.checked,
          outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
}"""

Focus = dict
Match = Callable[[Focus], bool]


def focused(page) -> Focus | None:
    return page.evaluate(FOCUS)


def tab_to(page, match: Match, what: str, limit: int = 90, back: bool = False) -> Focus:
    """Press Tab (or Shift+Tab) until the focus is on what `match` accepts."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        here = focused(page)
        if here is None:
            continue
        assert here["outlined"], f"focus is not visible on {here}"
        if match(here):
            return here
    raise AssertionError(f"{what}: not reached with the keyboard in {limit} presses")


def named(text: str) -> Match:
    return lambda f: text in f["label"]


def field(name: str) -> Match:
    return lambda f: f["name"] == name


@pytest.fixture
def http(server):
    """The facilitator's API, closed even when a test fails."""
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    with httpx.Client(base_url=server.base, timeout=10, headers=fac) as client:
        yield client


def test_a_participant_joins_answers_and_proposes_with_the_keyboard(browser, server, http):
    base = f"/api/sessions/{server.code}"
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    page = ctx.new_page()
    page.goto(server.base + "/")
    # The skip link comes first and leads to the content.
    page.keyboard.press("Tab")
    assert focused(page)["label"] == "Aller au contenu"
    tab_to(page, field("code"), "code field")
    page.keyboard.type(server.code.lower())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/j/{server.code}"))
    tab_to(page, field("name"), "first name")
    page.keyboard.type("Awa")
    tab_to(page, named("Participer"), "join button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/s/{server.code}$"))
    page.get_by_text("En attente de la prochaine étape").wait_for()

    http.post(f"{base}/step", json={"position": 1})
    question = http.get(f"{base}/state").json()["questions"][0]
    http.post(f"{base}/questions/{question['id']}/open")
    page.get_by_role("heading", name=question["text"]).wait_for(timeout=5000)
    # Into the radio group, then arrows choose; Enter sends.
    first = tab_to(page, lambda f: f["type"] == "radio", "first answer")
    assert not first["checked"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = focused(page)
    assert chosen["checked"] and chosen["label"] == question["choices"][2]["label"]
    tab_to(page, named("Envoyer ma réponse"), "send button")
    page.keyboard.press("Enter")
    page.get_by_text("Merci, votre réponse est enregistrée.").wait_for(timeout=5000)
    results = http.get(f"{base}/questions/{question['id']}/results").json()
    assert results["n"] == 1 and results["choices"][2]["count"] == 1

    # Larger text, from the header link, remembered on the device.
    tab_to(page, named("Texte plus grand"), "larger text link", back=True)
    with page.expect_navigation():  # the next page, not the old one
        page.keyboard.press("Enter")
    assert "big" in page.locator("body").get_attribute("class")

    # A proposal: type it, Tab to the button, Enter.
    http.post(f"{base}/questions/{question['id']}/close")
    http.post(f"{base}/step", json={"position": 2})
    page.get_by_role("textbox").wait_for(timeout=5000)
    tab_to(page, lambda f: f["tag"] == "textarea", "proposal field")
    page.keyboard.type("Des ateliers le samedi matin")
    tab_to(page, lambda f: f["tag"] == "button" and "propos" in f["label"].lower(),
           "send proposal")
    page.keyboard.press("Enter")
    page.get_by_text("Des ateliers le samedi matin").wait_for(timeout=5000)
    ctx.close()


def test_a_helper_enters_cards_with_the_keyboard_alone(browser, server, http):
    base = f"/api/sessions/{server.code}"
    http.post(f"{base}/step", json={"position": 1})
    question = http.get(f"{base}/state").json()["questions"][0]
    http.post(f"{base}/questions/{question['id']}/open")
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = ctx.new_page()
    page.goto(server.urls["helper"])

    def enter(card: str, downs: int) -> None:
        # The card number field has the focus: type, Tab into the answers, arrows, Enter.
        here = focused(page)
        assert here and here["name"] == "card" and here["value"] == "", here
        page.keyboard.type(card)
        page.keyboard.press("Tab")
        assert focused(page)["type"] == "radio"
        page.keyboard.press("Space" if downs == 0 else "ArrowDown")
        for _ in range(downs - 1):
            page.keyboard.press("ArrowDown")
        with page.expect_navigation():  # the next page, not the old one
            page.keyboard.press("Enter")

    enter("7", 0)
    assert page.get_by_role("status").inner_text() == "Bulletin 7 enregistré."
    enter("8", 2)  # the next card is ready at once: focus on an empty card field
    assert "2 bulletins papier saisis" in page.locator("main").inner_text()

    # The same card again is refused, and nothing is lost: the ticks stay, the helper ticks
    # "correction" and saves.
    enter("7", 1)
    assert "déjà saisi" in page.get_by_role("alert").inner_text()
    assert page.locator("input[name$='-choice']:checked").count() == 1
    tab_to(page, field("correction"), "correction box")
    page.keyboard.press("Space")
    with page.expect_navigation():  # the next page, not the old one
        page.keyboard.press("Enter")
    assert page.get_by_role("status").inner_text() == "Bulletin 7 enregistré."
    results = http.get(f"{base}/questions/{question['id']}/results").json()
    counts = [c["count"] for c in results["choices"]]
    assert results["n"] == 2 and counts[:3] == [0, 1, 1], counts
    ctx.close()


def test_a_facilitator_runs_the_seance_with_the_keyboard(browser, server, http):
    base = f"/api/sessions/{server.code}"
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = ctx.new_page()
    page.goto(server.urls["facilitator"])
    tab_to(page, named("Étape suivante"), "next step")
    page.keyboard.press("Enter")
    page.get_by_role("button", name=re.compile("^Ouvrir")).first.wait_for()
    tab_to(page, lambda f: f["tag"] == "button" and f["label"].startswith("Ouvrir"),
           "open the first question")
    page.keyboard.press("Enter")
    page.get_by_role("button", name=re.compile("^Fermer")).first.wait_for()
    state = http.get(f"{base}/state").json()
    assert state["step"]["position"] == 1 and len(state["open_questions"]) == 1

    # The headcount: Tab to the field, type, Enter; the projector shows it.
    page.goto(server.urls["facilitator"])
    tab_to(page, field("headcount"), "headcount")
    page.keyboard.type("18")
    page.keyboard.press("Enter")  # sent in the background: the page stays where it is
    page.locator("#facilitator-now", has_text="18 personnes présentes").wait_for(timeout=5000)
    assert "18 personnes présentes" in httpx.get(server.urls["screen"]).text

    tab_to(page, lambda f: f["tag"] == "button" and f["label"].startswith("Fermer :"),
           "close the question")
    page.keyboard.press("Enter")
    page.get_by_role("button", name=re.compile("^Rouvrir")).first.wait_for()
    assert http.get(f"{base}/state").json()["open_questions"] == []
    ctx.close()
