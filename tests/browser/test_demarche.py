"""The démarche synthesis in Chromium, as an organiser at a laptop (1366 × 768) and at 360 px:
a three-séance démarche (two held, one planned, proposals carried over at each closing);
confirm a suggestion, then edit it and make an element by hand with the keyboard alone;
axe-core, reflow and visible focus in French and English."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from facilitation import plans
from facilitation.store import Database
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from tests.browser.test_accessibility import check
from tests.browser.test_editor import log_in
from tests.server import Server, free_port

SHOTS = Path("/tmp/demarche-shots")
LAPTOP = {"width": 1366, "height": 768}

PLAN = """
[workshop]
title = "Le numérique au quartier nord"
organisation = "Centre social des Tilleuls"
[[sessions]]
title = "Ce qui bloque"
date = "2026-10-01"
[[sessions.steps]]
kind = "proposals"
[[sessions]]
title = "Ce qui existe déjà"
date = "2026-11-05"
[[sessions.steps]]
kind = "proposals"
[[sessions]]
title = "Ce que l'on fait"
date = "2026-12-03"
[[sessions.steps]]
kind = "proposals"
"""

FIRST = ["Une navette gratuite pour aller à la mairie annexe",
         "Des ateliers d'initiation au smartphone le samedi matin",
         "Garder un guichet papier à la CAF",
         "Un annuaire des lieux où se faire aider près de chez soi",
         "Des permanences d'écrivain public numérique à la médiathèque",
         "Prêter des tablettes aux personnes qui n'en ont pas"]
SECOND = ["Une navette solidaire le mardi pour aller à la mairie",
          "Des ateliers smartphone pour les aînés le samedi",
          "Un café numérique chaque mois au centre social",
          "Une permanence d'écrivain public à la médiathèque le jeudi",
          "Former des bénévoles à l'accompagnement numérique"]


async def seed(path: Path) -> int:
    db = Database(path)
    await db.open()
    try:
        workshop = await q.create_workshop(db, plans.parse_plan(PLAN.encode()))
        await q.set_meta_if_missing(db, "demo_workshop_id", str(workshop))
        first, second, third = await q.list_sessions(db, workshop)

        async def proposals(seance, texts):
            step = (await q.list_steps(db, seance.id))[0].id
            await q.add_participant(db, seance.id, f"hash-{seance.id}", "", "fr-FR")
            return [await qp.add_proposal(db, seance.id, step, t, "phone") for t in texts]

        ids = await proposals(first, FIRST)
        transport = await qp.create_theme(db, first.id, "Se déplacer")
        await qp.move(db, first.id, ids[0], transport)
        # Carried to séance 2 (planned then), with its theme; then séance 2 is held.
        await qv.close_and_continue(db, first.id, qv.next_plan(
            "Ce qui existe déjà", "2026-11-05", "18:30", "", "fr-FR"), [], ids[:3])
        own = await proposals(second, SECOND)
        copies = [p.id for p in await qp.list_proposals(db, second.id)
                  if p.id not in own]
        await qv.close_and_continue(db, second.id, qv.next_plan(
            "Ce que l'on fait", "2026-12-03", "18:30", "", "fr-FR"), [], copies + own[:2])
        step = (await q.list_steps(db, third.id))[0].id
        await qp.add_proposal(db, third.id, step, "Une navette le dimanche (prévue)", "phone")
        return workshop
    finally:
        await db.close()


@pytest.fixture(scope="module")
def demarche(tmp_path_factory):
    path = tmp_path_factory.mktemp("demarche") / "demarche.db"
    # In a thread of its own: Playwright's sync API may already run a loop in this one.
    with ThreadPoolExecutor(1) as pool:
        workshop = pool.submit(asyncio.run, seed(path)).result()
    server = Server(path, free_port()).start()
    yield server, f"{server.base}/organiser/workshops/{workshop}/synthesis"
    server.stop()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SHOTS / f"{name}-1366.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-1366-top.png"))
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path=str(SHOTS / f"{name}-360.png"), full_page=True)
    page.set_viewport_size(size)


def press_and_wait(page, key: str) -> None:
    """A key that sends a form: wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def members(page) -> list[str]:
    return [re.sub(r"\s+", " ", t).strip()
            for t in page.locator("article.element .questions li > span").all_inner_texts()]


def test_the_organiser_settles_cross_cutting_elements_with_the_keyboard(browser, demarche):
    server, url = demarche
    ctx = browser.new_context(locale="fr-FR", viewport=LAPTOP)
    page = ctx.new_page()
    log_in(page, server)
    page.goto(url)
    text = page.locator("main").inner_text()
    assert "(prévue)" not in text  # séance 3 is not held: nothing of it is offered
    suggestions = page.locator("input[name=candidate]")
    assert suggestions.count() >= 1
    shoot(page, "suggestions")
    check(page, "démarche synthesis with suggestions")

    # Confirm the first suggestion with the keyboard: its title field, then Enter on
    # "Confirmer" (Tab from the field reaches it).
    title = page.locator("#cand-0")
    title.fill("Se rendre aux démarches")
    title.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "confirm"
    press_and_wait(page, "Enter")
    heading = page.locator("article.element h4").first
    assert heading.inner_text().startswith("Se rendre aux démarches — confirmé")
    before = members(page)
    assert all("séance 1" in m or "séance 2" in m for m in before)

    # Add a proposal: choose it in the list with the arrow keys, Tab, Enter.
    select = page.locator("article.element select[name=proposal]").first
    select.focus()
    page.keyboard.press("ArrowDown")
    chosen = page.evaluate("document.activeElement.selectedOptions[0].textContent")
    page.keyboard.press("Tab")
    press_and_wait(page, "Enter")
    assert len(members(page)) == len(before) + 1
    assert any(chosen.strip() in m for m in members(page))

    # Remove it again: its own "Retirer" button, named after it for screen readers.
    button = page.get_by_role("button", name=f"Retirer : {chosen.strip()}")
    button.focus()
    press_and_wait(page, "Enter")
    assert members(page) == before

    # By hand: open the disclosure, a title, tick with the space bar; first without a
    # proposal (refused and said), then with one.
    summary = page.locator("#new-element summary")
    summary.focus()
    page.keyboard.press("Enter")
    page.locator("#new-title").fill("Des lieux pour se faire aider")
    page.locator("#new-element button[value=create]").focus()
    press_and_wait(page, "Enter")
    alert = page.get_by_role("alert")
    assert "Choisissez au moins une proposition" in alert.inner_text()
    # The message is beside the form, and the focus on it: read first, seen first.
    assert page.evaluate("document.activeElement.id") == "cross-error"
    assert page.locator("#new-element #cross-error").count() == 1
    assert page.locator("#new-title").input_value() == "Des lieux pour se faire aider"
    shoot(page, "refused")
    check(page, "démarche synthesis after a refused form")
    box = page.locator("#new-element input[type=checkbox]").nth(3)
    box.focus()
    page.keyboard.press("Space")
    page.locator("#new-element button[value=create]").focus()
    press_and_wait(page, "Enter")
    assert page.locator("article.element h4", has_text="Des lieux pour se faire aider").count()
    shoot(page, "edited")
    check(page, "démarche synthesis with elements")
    ctx.close()

    # Without JavaScript: the same forms work (a proposal added, then removed).
    ctx = browser.new_context(locale="fr-FR", viewport=LAPTOP, java_script_enabled=False)
    page = ctx.new_page()
    log_in(page, server)
    page.goto(url)
    before = members(page)
    page.locator("article.element select[name=proposal]").first.select_option(index=1)
    page.locator("article.element button[value=add]").first.click()
    page.wait_for_url(re.compile(r"#element-\d+$"))
    assert len(members(page)) == len(before) + 1
    ctx.close()

    # The same page in English.
    ctx = browser.new_context(locale="en", viewport=LAPTOP)
    page = ctx.new_page()
    log_in(page, server)
    page.goto(url)
    assert "Cross-cutting elements" in page.locator("h2#cross-title").inner_text()
    check(page, "démarche synthesis [en]")
    ctx.close()
