"""The séance editor end to end in Chromium, as an organiser at a laptop (1366 × 768): create
a séance from a ready-made plan, add a step, reorder, edit and delete questions, one action
with the keyboard alone; axe-core, reflow and visible focus on every editor page."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.test_accessibility import check

SHOTS = Path("/tmp/editor-shots")
LAPTOP = {"width": 1366, "height": 768}


def shoot(page, name: str) -> None:
    """Full-page screenshots at 1366 px and at a phone's 360 px, to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SHOTS / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path=str(SHOTS / f"{name}-360.png"), full_page=True)
    page.set_viewport_size(size)


def log_in(page, server) -> None:
    page.goto(server.urls["organiser"])
    page.locator("#username").fill("demo")
    page.locator("#password").fill(server.password)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state("load")


def step_items(page) -> list[str]:
    return [re.sub(r"\s+", " ", t).strip()
            for t in page.locator(".editor-steps > li > h3").all_inner_texts()]


def test_prepare_a_seance_in_the_editor(browser, server):
    ctx = browser.new_context(locale="fr-FR", viewport=LAPTOP)
    page = ctx.new_page()
    log_in(page, server)
    page.locator("a", has_text="Accès au numérique").first.click()
    # A new séance from the "boîte à idées" plan.
    page.locator("#s-title").fill("Atelier du jeudi")
    page.locator("label.choice", has_text="Boîte à idées par thèmes").click()
    check(page, "démarche with ready-made plans")
    shoot(page, "workshop")
    page.locator("#new-seance button[type=submit]").click()
    page.wait_for_load_state("load")
    page.locator("a.button", has_text="Préparer la séance").last.click()
    page.wait_for_load_state("load")
    assert "Atelier du jeudi" in page.locator("h1").inner_text()
    assert [s.split(" ")[0] for s in step_items(page)][:2] == ["Accueil", "La"]
    check(page, "editor")
    shoot(page, "editor")

    # Add a flash-poll step: it comes last, then moves up twice.
    page.locator("#new-step-kind").select_option("poll")
    page.locator("#new-step-title").fill("Questions rapides")
    page.locator("#new-step button[type=submit]").click()
    page.wait_for_load_state("load")
    assert step_items(page)[-1].startswith("Questions rapides")
    for _ in range(2):
        poll = page.locator(".editor-steps > li", has_text="Questions rapides")
        poll.locator("button", has_text="Monter").click()
        page.wait_for_load_state("load")
    assert step_items(page)[-3].startswith("Questions rapides")

    # A question: a mistake first (one choice only); what was typed stays.
    poll = page.locator(".editor-steps > li", has_text="Questions rapides")
    poll.locator("summary", has_text="Ajouter une question").click()
    poll.locator("input[name=text]").last.fill("Comment êtes-vous venu·e ?")
    poll.locator("textarea[name=choices]").last.fill("À pied")
    poll.locator("button", has_text="Ajouter la question").click()
    page.wait_for_load_state("load")
    assert "Donnez au moins 2 choix de réponse" in page.locator("[role=alert]").inner_text()
    form = page.locator("details[open] form").first
    assert form.locator("input[name=text]").input_value() == "Comment êtes-vous venu·e ?"
    check(page, "editor with an error")
    shoot(page, "editor-error")
    form.locator("textarea[name=choices]").fill("À pied\nEn bus\nEn voiture")
    form.locator("button", has_text="Ajouter la question").click()
    page.wait_for_load_state("load")
    poll = page.locator(".editor-steps > li", has_text="Questions rapides")
    assert poll.locator(".editor-questions > li").count() == 1

    # Edit it, duplicate it, delete the copy.
    question = poll.locator(".editor-questions > li").first
    question.locator("summary", has_text="Modifier cette question").click()
    question.locator("input[name=text]").fill("Comment êtes-vous venu·e ce soir ?")
    question.locator("button", has_text="Enregistrer la question").click()
    page.wait_for_load_state("load")
    poll = page.locator(".editor-steps > li", has_text="Questions rapides")
    assert "venu·e ce soir ?" in poll.locator(".editor-questions").inner_text()
    poll.locator(".editor-questions > li").first.locator("button", has_text="Dupliquer").click()
    page.wait_for_load_state("load")
    poll = page.locator(".editor-steps > li", has_text="Questions rapides")
    assert poll.locator(".editor-questions > li").count() == 2
    poll.locator(".editor-questions > li").nth(1).locator("button", has_text="Supprimer").click()
    page.wait_for_load_state("load")
    poll = page.locator(".editor-steps > li", has_text="Questions rapides")
    assert poll.locator(".editor-questions > li").count() == 1

    # Keyboard only: open "Change this step" of the first step, type a title, press Enter.
    first = page.locator(".editor-steps > li").first
    first.locator("summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the title field is the form's first stop
    assert page.evaluate("() => document.activeElement.name") == "title"
    page.keyboard.press("Control+A")
    page.keyboard.type("Bienvenue")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert step_items(page)[0].startswith("Bienvenue")
    # The tables, one per line.
    page.locator("#subgroups").fill("Table du fond\nTable près de la fenêtre")
    page.locator("#tables button").click()
    page.wait_for_load_state("load")
    assert page.locator("#subgroups").input_value() == "Table du fond\nTable près de la fenêtre"
    page.locator("details summary", has_text="Modifier cette question").first.click()
    check(page, "editor with a question open")
    shoot(page, "editor-done")
    ctx.close()


def test_reopen_a_closed_seance(browser, server):
    ctx = browser.new_context(locale="fr-FR", viewport=LAPTOP)
    page = ctx.new_page()
    page.goto(server.urls["facilitator"])
    token = page.locator("input[name=csrf]").first.input_value()
    r = page.request.post(server.urls["facilitator"] + "/close",
                          form={"csrf": token, "title": "Suite"})
    assert r.ok
    log_in(page, server)
    page.goto(server.base + "/organiser/sessions/1/edit")
    assert "Cette séance est close" in page.locator("main").inner_text()
    check(page, "editor of a closed séance")
    shoot(page, "editor-closed")
    page.locator("a.button", has_text="Rouvrir la séance").click()
    page.wait_for_load_state("load")
    check(page, "reopen")
    shoot(page, "reopen")
    box = page.locator("input[name=confirm]")
    box.focus()
    page.keyboard.press("Space")
    assert box.is_checked()
    with page.expect_navigation():
        page.locator("button", has_text="Rouvrir la séance").click()
    assert "de nouveau ouverte" in page.locator("main").inner_text()
    ctx.close()


def test_the_editor_in_english_has_no_axe_violations(browser, server):
    ctx = browser.new_context(locale="en-GB", viewport=LAPTOP)
    page = ctx.new_page()
    log_in(page, server)
    page.goto(server.base + "/organiser/sessions/1/edit")
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("details summary", has_text="Change this question").first.click()
    check(page, "editor [en]")
    page.goto(server.base + "/organiser/sessions/1/reopen")
    check(page, "reopen, séance open [en]")
    ctx.close()
