"""Participant pages on a 320 px screen (and so at 200 % zoom on a 640 px one): no text
scrolls sideways, and every control is at least 44 × 44 px."""

from __future__ import annotations

import httpx

SMALL = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True,
         "locale": "fr-FR"}
WIDTH = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
TARGETS = """() => Array.from(document.querySelectorAll(
    'main button, main label.choice, main label.level, main label.scale-value, '
    + 'main select, main input:not([type=radio]):not([type=checkbox]):not([type=hidden]), '
    + 'main textarea, header nav a'))
  .filter(el => el.offsetParent !== null)
  .map(el => { const r = el.getBoundingClientRect();
               return [el.outerHTML.slice(0, 80), Math.round(r.width), Math.round(r.height)]; })
  .filter(([_, w, h]) => w < 44 || h < 44)"""


def check(page, label: str) -> None:
    assert page.evaluate(WIDTH) <= 0, f"{label}: scrolls sideways"
    small = page.evaluate(TARGETS)
    assert not small, f"{label}: targets under 44 px: {small}"


def test_every_participant_step_fits_320_px(browser, server):
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"/api/sessions/{server.code}"
    http = httpx.Client(base_url=server.base, timeout=10)
    ctx = browser.new_context(**SMALL)
    page = ctx.new_page()
    page.goto(server.base + "/")
    check(page, "home")
    page.goto(server.urls["join"])
    check(page, "join")
    page.locator("button[type=submit]").click()
    check(page, "waiting")
    http.post(f"{api}/step", json={"position": 1}, headers=fac)
    previous = None
    for question in http.get(f"{api}/state", headers=fac).json()["questions"]:
        if previous:
            http.post(f"{api}/questions/{previous}/close", headers=fac)
        http.post(f"{api}/questions/{question['id']}/open", headers=fac)
        previous = question["id"]
        page.goto(f"{server.base}/s/{server.code}")
        check(page, f"question {question['kind']}")
    http.post(f"{api}/step", json={"position": 2}, headers=fac)
    page.goto(f"{server.base}/s/{server.code}")
    check(page, "proposals")
    http.post(f"{api}/step", json={"position": 4}, headers=fac)
    page.goto(f"{server.base}/s/{server.code}")
    check(page, "vote")
    page.goto(f"{server.base}/prefs?big=1&next=/s/{server.code}")
    check(page, "larger text")
    ctx.close()
    http.close()
