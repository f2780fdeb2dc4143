"""Privacy in Chromium: the notice reached from the join page and a phone deleting its
answers, with and without JavaScript; the organiser's audit log and deletion pages. axe
on each page, in the three languages; reflow and visible focus as everywhere else."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import check

NOTICE = {"fr-FR": "Vie privée", "fr-CA": "Confidentialité", "en": "Privacy"}
DELETE = {"fr-FR": "Supprimer mes réponses", "fr-CA": "Supprimer mes réponses",
          "en": "Delete my answers"}
CONFIRM = {"fr-FR": "Oui, tout effacer", "fr-CA": "Oui, tout effacer",
           "en": "Yes, delete everything"}
DONE = {"fr-FR": "Vos réponses sont effacées.", "fr-CA": "Vos réponses sont effacées.",
        "en": "Your answers are deleted."}


def open_question(server) -> dict:
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"/api/sessions/{server.code}"
    with httpx.Client(base_url=server.base, timeout=10) as http:
        http.post(f"{api}/step", json={"position": 1}, headers=fac)
        question = http.get(f"{api}/state", headers=fac).json()["questions"][0]
        http.post(f"{api}/questions/{question['id']}/open", headers=fac)
    return question


def respondents(server, question_id: int) -> int:
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    with httpx.Client(base_url=server.base, timeout=10) as http:
        return int(http.get(f"/api/sessions/{server.code}/questions/{question_id}/results",
                            headers=fac).json()["n"])


@pytest.mark.parametrize("locale", ["fr-FR", "fr-CA", "en"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_phone_reads_the_notice_and_deletes_its_answers(browser, server, locale,
                                                          javascript):
    question = open_question(server)
    ctx = browser.new_context(**{**PHONE, "locale": locale}, java_script_enabled=javascript)
    phone = ctx.new_page()

    def look(label: str) -> None:
        # axe-core runs as a script in the page: without JavaScript there is none to run,
        # and the markup is the same as with it.
        if javascript:
            check(phone, f"{label} [{locale}]")

    phone.goto(server.urls["join"])
    look("join page with its privacy link")
    phone.get_by_role("link", name=NOTICE[locale]).click()
    phone.wait_for_load_state("load")
    assert "/confidentialite" in phone.url
    look("privacy notice")
    phone.go_back()
    phone.locator("#name").fill("Amina")
    phone.locator("button[type=submit]").click()
    phone.locator("label.choice").first.click()
    phone.locator("button.primary").click()
    phone.locator(".done").wait_for()
    assert respondents(server, question["id"]) == 1
    phone.get_by_role("link", name=DELETE[locale]).click()
    phone.wait_for_load_state("load")
    look("delete my answers")
    phone.get_by_role("button", name=CONFIRM[locale]).click()
    phone.wait_for_load_state("load")
    assert phone.locator("p.done[role=status]").inner_text() == DONE[locale]
    assert respondents(server, question["id"]) == 0
    look("answers deleted")
    phone.goto(f"{server.base}/confidentialite")  # the notice without a séance
    look("privacy notice, no séance")
    ctx.close()


def login(page, server) -> None:
    page.goto(server.urls["organiser"])
    page.locator("#username").fill("demo")
    page.locator("#password").fill(server.password)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("locale", ["fr-FR", "fr-CA", "en"])
def test_the_organisers_privacy_pages_have_no_axe_violations(browser, server, locale):
    open_question(server)
    ctx = browser.new_context(locale=locale, viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    login(page, server)
    page.locator(".list a").first.click()
    page.wait_for_load_state("load")
    workshop = re.search(r"/organiser/workshops/(\d+)", page.url).group(1)
    page.locator("#retention-days").fill("0")
    page.locator("#retention button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator(".error").count() == 1
    check(page, f"démarche, retention refused [{locale}]")
    page.locator("#retention-days").fill("30")
    page.locator("#retention button[type=submit]").click()
    page.wait_for_load_state("load")
    page.goto(f"{server.base}/organiser/audit?workshop={workshop}")
    assert page.locator("table.audit tbody tr").count() >= 3
    check(page, f"audit log [{locale}]")
    page.goto(f"{server.base}/organiser/audit")
    check(page, f"audit log, every démarche [{locale}]")
    page.goto(f"{server.base}/organiser/workshops/{workshop}")
    page.locator("a[href$='/delete']").first.click()
    page.wait_for_load_state("load")
    assert "/organiser/sessions/" in page.url
    check(page, f"delete a séance [{locale}]")
    page.locator("button.danger").click()  # the box is required: the browser says so
    assert "/delete" in page.url
    page.goto(f"{server.base}/organiser/workshops/{workshop}/delete")
    check(page, f"delete the démarche [{locale}]")
    ctx.close()
