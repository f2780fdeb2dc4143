"""The facilitator's run view on a 1366×768 laptop: what is happening now at the top, beside
the projector's preview; a clicker walks a whole séance; actions keep the page where it
was; who joins and new proposals arrive live, without touching a card being corrected."""

from __future__ import annotations

import re

import httpx

from tests.browser.test_accessibility import check

LAPTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "fr-FR"}


def state(http: httpx.Client, server) -> dict:
    headers = {"authorization": f"Bearer {server.token('facilitator')}"}
    return http.get(f"/api/sessions/{server.code}/state", headers=headers).json()


def wait_until(page, condition, timeout: float = 5.0) -> None:
    for _ in range(int(timeout * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("condition never met")


def test_a_clicker_walks_the_seance_with_results_at_the_top(browser, server):
    http = httpx.Client(base_url=server.base, timeout=10)
    ctx = browser.new_context(**LAPTOP)
    page = ctx.new_page()
    page.goto(server.urls["facilitator"])
    preview = page.locator(".preview-frame iframe").bounding_box()
    assert preview and preview["y"] + preview["height"] < 768  # beside, in the first screen

    page.keyboard.press("PageDown")  # welcome → the consultation éclair
    page.get_by_role("button", name="Ouvrir la première question").wait_for()
    questions = state(http, server)["questions"]
    assert len(questions) >= 3 and all(q["state"] == "draft" for q in questions)

    page.keyboard.press("PageDown")  # opens the first question
    page.get_by_role("button", name="Fermer et ouvrir la question suivante").wait_for()
    # The current question's live results are at the top of a 1366×768 screen.
    chart = page.locator("#facilitator-now .run-result figure").first.bounding_box()
    assert chart and chart["y"] < 768 * 0.75, chart
    check(page, "run view, a question open")

    # A double press on the button (or a stale tab) does not skip a question.
    button = page.get_by_role("button", name="Fermer et ouvrir la question suivante")
    button.dblclick()
    wait_until(page, lambda: [q["state"] for q in state(http, server)["questions"]][:3]
               == ["closed", "open", "draft"])
    page.wait_for_timeout(500)
    assert [q["state"] for q in state(http, server)["questions"]][:3] == \
        ["closed", "open", "draft"]

    # The clicker walks on through every question (closing alone first those whose results
    # wait for the close), leaves the last results up, then moves on.
    for _ in range(3 * len(questions)):
        before = [q["state"] for q in state(http, server)["questions"]]
        if before == ["closed"] * len(questions):
            break
        page.keyboard.press("PageDown")
        wait_until(page, lambda b=before: [q["state"] for q in state(http, server)["questions"]]
                   != b)
        assert [q["state"] for q in state(http, server)["questions"]].count("open") <= 1
    assert [q["state"] for q in state(http, server)["questions"]] == ["closed"] * len(questions)
    assert state(http, server)["step"]["kind"] == "poll"
    page.keyboard.press("PageDown")
    wait_until(page, lambda: state(http, server)["step"]["kind"] == "proposals")
    # The rest of the page follows the step: the moderation list is there without a reload.
    page.locator("#proposals").wait_for(timeout=5000)
    page.keyboard.press("PageUp")
    wait_until(page, lambda: state(http, server)["step"]["kind"] == "poll")
    # On to the end of the séance by the clicker alone: each step brings its controls.
    controls = {"proposals": "#proposals", "clustering": "#board", "vote": "#vote",
                "closing": "#closing"}
    seen = []
    for _ in range(state(http, server)["steps"]):
        before = state(http, server)["step"]["position"]
        page.keyboard.press("PageDown")
        wait_until(page, lambda b=before: state(http, server)["step"]["position"] == b + 1)
        kind = state(http, server)["step"]["kind"]
        seen.append(kind)
        if kind in controls:
            page.locator(controls[kind]).wait_for(timeout=5000)
        if kind == "closing":
            break
    assert seen == ["proposals", "clustering", "vote", "synthesis", "closing"], seen
    page.keyboard.press("PageDown")  # past the last step: nothing moves, nothing breaks
    page.wait_for_timeout(300)
    assert state(http, server)["step"]["kind"] == "closing"
    check(page, "run view, closing")
    ctx.close()
    http.close()


def test_people_and_proposals_arrive_live_and_a_correction_is_left_alone(browser, server):
    http = httpx.Client(base_url=server.base, timeout=10)
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"/api/sessions/{server.code}"
    assert http.post(f"{api}/step", json={"position": 2}, headers=fac).status_code == 200
    assert state(http, server)["step"]["kind"] == "proposals"
    me = {"authorization": "Bearer " + http.post(
        "/api/sessions/join", json={"code": server.code, "name": "Awa"}).json()["token"]}
    assert http.post(f"{api}/proposals", json={"text": "Une navette vers la mairie"},
                     headers=me).status_code == 201

    ctx = browser.new_context(**LAPTOP)
    page = ctx.new_page()
    page.goto(server.urls["facilitator"])
    assert "Awa" in page.locator("#facilitator-people").inner_text()
    # The facilitator starts correcting the first proposal…
    first = page.locator("ol.moderation > li").first
    first.locator("summary", has_text="Corriger").click()
    editor = first.locator("textarea")
    editor.fill("Une navette gratuite vers la mairie, en cours de correction")
    # …while someone joins and two proposals arrive.
    http.post("/api/sessions/join", json={"code": server.code, "name": "Bilal"})
    for text in ("Des ateliers le samedi matin", "Un guichet papier à la mairie"):
        someone = {"authorization": "Bearer " + http.post(
            "/api/sessions/join", json={"code": server.code}).json()["token"]}
        assert http.post(f"{api}/proposals", json={"text": text},
                         headers=someone).status_code == 201
    texts = page.locator("ol.moderation .proposal-text")
    texts.filter(has_text="Un guichet papier").wait_for(timeout=5000)
    page.locator("#facilitator-people", has_text="Bilal").wait_for(timeout=5000)
    assert page.locator("ol.moderation > li").count() == 3
    assert page.locator("#proposals-count").inner_text() == "3"
    assert editor.input_value() == "Une navette gratuite vers la mairie, en cours de correction"
    assert editor.is_visible()
    # The correction is saved from the list that grew under it, and the scroll is kept.
    page.locator("#headcount").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    y = page.evaluate("window.scrollY")
    page.locator("#headcount").fill("12")
    page.get_by_role("button", name="Enregistrer le comptage").click()
    page.locator("#facilitator-now", has_text="12 personnes présentes").wait_for(timeout=5000)
    assert abs(page.evaluate("window.scrollY") - y) < 5
    # Hiding a card lower down: the page stays on it, the focus on its card.
    last = page.locator("ol.moderation > li").last
    last_id = last.get_attribute("id")
    last.get_by_role("button", name=re.compile("^Masquer")).scroll_into_view_if_needed()
    where = f"document.getElementById('{last_id}').getBoundingClientRect().top"
    top = page.evaluate(where)
    last.get_by_role("button", name=re.compile("^Masquer")).click()
    page.locator(f"#{last_id} .tag", has_text="masquée").wait_for(timeout=5000)
    page.wait_for_timeout(300)
    # (The card above closed its "Corriger": the browser keeps this card where it was.)
    assert abs(page.evaluate(where) - top) < 5, (top, page.evaluate(where))
    assert page.evaluate(f"document.getElementById('{last_id}').contains("
                         "document.activeElement)")
    # The correction typed in the first card survived that redraw.
    first = page.locator("ol.moderation > li").first
    editor = first.locator("textarea")
    assert editor.input_value() == "Une navette gratuite vers la mairie, en cours de correction"
    if not editor.is_visible():
        first.locator("summary", has_text="Corriger").click()
    first.get_by_role("button", name="Enregistrer").click()
    texts.filter(has_text="en cours de correction").wait_for(timeout=5000)
    page.reload()
    assert "en cours de correction" in page.locator("ol.moderation").inner_text()
    check(page, "run view, moderation")
    ctx.close()
    http.close()


def test_a_phone_sees_the_results_once_closed_when_the_facilitator_chose_so(browser, server):
    from tests.browser.conftest import PHONE  # noqa: PLC0415

    http = httpx.Client(base_url=server.base, timeout=10)
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"/api/sessions/{server.code}"
    assert http.post(f"{api}/step", json={"position": 1}, headers=fac).status_code == 200
    questions = state(http, server)["questions"]
    matrix = next(q for q in questions if q["kind"] == "matrix")
    ctx = browser.new_context(**LAPTOP)
    page = ctx.new_page()
    page.goto(server.urls["facilitator"])
    phones = [browser.new_context(java_script_enabled=js, **PHONE) for js in (True, False)]
    pages = []
    for phone_ctx in phones:
        phone = phone_ctx.new_page()
        phone.goto(server.urls["join"])
        phone.get_by_role("button", name="Participer").click()
        pages.append(phone)
    assert http.post(f"{api}/questions/{matrix['id']}/open", headers=fac).status_code == 200
    for _ in range(4):
        token = http.post("/api/sessions/join", json={"code": server.code}).json()["token"]
        answer = {"items": {str(row["id"]): i % 5 for i, row in enumerate(matrix["choices"])}}
        assert http.post(f"{api}/questions/{matrix['id']}/answers", json=answer,
                         headers={"authorization": f"Bearer {token}"}).status_code == 201
    assert http.post(f"{api}/questions/{matrix['id']}/close", headers=fac).status_code == 200
    page.get_by_role("button", name=f"Téléphones : montrer les résultats une fois fermée : "
                     f"{matrix['text']}").click()
    pages[0].get_by_text("Voici ce que la salle a répondu").wait_for(timeout=5000)  # pushed
    pages[1].reload()
    for phone, label in zip(pages, ("js", "no-js"), strict=True):
        assert "Voici ce que la salle a répondu" in phone.locator("#panel").inner_text()
        phone.screenshot(path=f"/tmp/run-shots/phone-results-{label}.png", full_page=True)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width
    check(pages[0], "phone, results of a closed question")
    for c in (ctx, *phones):
        c.close()
    http.close()
