"""An old phone on slow data: the séance page on a throttled network (Chrome's "3G"
preset: 400 kbit/s each way, 2 s round trip), from an empty cache."""

from __future__ import annotations

import time

import httpx

from tests.browser.conftest import PHONE

SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000,
           "uploadThroughput": 50_000}
MAX_REQUESTS = 6
MAX_BYTES = 30_000
MAX_SECONDS = 6.0


def test_question_page_on_slow_3g(browser, server):
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    with httpx.Client(base_url=server.base, timeout=10) as http:
        api = f"/api/sessions/{server.code}"
        http.post(f"{api}/step", json={"position": 1}, headers=fac)
        question = http.get(f"{api}/state", headers=fac).json()["questions"][0]
        http.post(f"{api}/questions/{question['id']}/open", headers=fac)
    # Join once to get the phone's cookie; then a cold cache with that cookie only.
    joined = browser.new_context(**PHONE)
    page = joined.new_page()
    page.goto(server.urls["join"])
    page.get_by_role("button", name="Participer").click()
    cookies = joined.cookies()
    joined.close()

    ctx = browser.new_context(**PHONE)
    ctx.add_cookies(cookies)
    phone = ctx.new_page()
    cdp = ctx.new_cdp_session(phone)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    sizes: list[tuple[str, int]] = []
    phone.on("requestfinished", lambda r: sizes.append(
        (r.url, r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"])))
    started = time.monotonic()
    phone.goto(f"{server.base}/s/{server.code}", wait_until="commit")
    phone.get_by_role("button", name="Envoyer ma réponse").wait_for(timeout=20_000)
    # Usable: the form is there and the stylesheet has applied (big buttons, not raw HTML).
    style = "() => getComputedStyle(document.querySelector('button.primary')).minHeight"
    while phone.evaluate(style) != "44px" and time.monotonic() - started < 20:
        phone.wait_for_timeout(50)
    usable = time.monotonic() - started
    phone.wait_for_load_state("load", timeout=30_000)
    loaded = time.monotonic() - started
    phone.wait_for_load_state("networkidle", timeout=30_000)
    ctx.close()
    total = sum(size for _url, size in sizes)
    print(f"\nslow 3G: form usable after {usable:.1f} s, page loaded after {loaded:.1f} s; "
          f"{len(sizes)} requests, {total} bytes")
    assert len(sizes) <= MAX_REQUESTS, sizes
    assert total <= MAX_BYTES, (total, sizes)
    assert usable <= MAX_SECONDS, usable
