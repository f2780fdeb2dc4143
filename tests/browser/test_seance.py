"""A séance as people live it: projector QR code → phone → answer → projector bar."""

from __future__ import annotations

import io
import re
from pathlib import Path

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests import stores
from tests.browser.conftest import PHONE
from tests.server import Server, free_port

SHOTS = Path("/tmp/seance-shots")


def decode_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert results, "no QR code found in the projector screenshot"
    return results[0].text


def facilitator_open_first_question(page, server) -> str:
    page.goto(server.urls["facilitator"])
    page.get_by_role("button", name=re.compile("Étape suivante")).click()
    page.get_by_role("button", name=re.compile(r"^Ouvrir")).first.click()
    return page.locator(".questions li").first.locator("span").first.inner_text()


def run_seance(browser, server, javascript: bool) -> None:
    screen_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    screen = screen_ctx.new_page()
    screen.goto(server.urls["screen"])
    assert screen.locator(".code").inner_text() == server.code
    assert "0 personne présente" in screen.locator("#presence").inner_text()
    joined_url = decode_qr(screen.screenshot())
    assert joined_url == server.urls["join"]

    phone_ctx = browser.new_context(java_script_enabled=javascript, **PHONE)
    phone = phone_ctx.new_page()
    phone.goto(joined_url)
    phone.get_by_label("Votre prénom (facultatif)").fill("Awa")
    phone.get_by_role("button", name="Participer").click()
    assert "En attente de la prochaine étape" in phone.locator("#panel").inner_text()
    # The projector counts the newcomer live (it has JavaScript).
    screen.locator("#presence", has_text="1 personne présente").wait_for(timeout=3000)

    fac_ctx = browser.new_context(locale="fr-FR")
    fac = fac_ctx.new_page()
    question = facilitator_open_first_question(fac, server)

    if javascript:
        # The phone follows the facilitator without a reload.
        phone.get_by_role("heading", name=question).wait_for(timeout=5000)
    else:
        phone.get_by_role("link", name="Actualiser la page").click()
        assert question in phone.locator("legend").inner_text()
    phone.get_by_label("En bus ou en tram").check()
    phone.get_by_role("button", name="Envoyer ma réponse").click()
    phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for(timeout=5000)

    # The facilitator's screen reader hears the new count (a polite live region).
    fac.locator("#facilitator-announce", has_text="n = 1 répondant·e").wait_for(
        state="attached", timeout=3000)
    assert fac.locator("#facilitator-announce").get_attribute("aria-live") == "polite"

    # The projector shows n = 1 and the chosen bar at 100 %.
    screen.locator(".screen-status .n", has_text="n = 1").wait_for(timeout=3000)
    values = screen.locator(".sbar-value").all_text_contents()
    labels = screen.locator(".sbar-label").all_text_contents()
    chosen = labels.index("En bus ou en tram")
    assert re.fullmatch(r"1 · 100\s?%", values[chosen]), values
    assert all(v.startswith("0 ") for i, v in enumerate(values) if i != chosen)

    # Changing the answer moves the bar, still n = 1.
    phone.get_by_role("link", name=re.compile("Modifier ma réponse")).click()
    assert phone.get_by_label("En bus ou en tram").is_checked()
    phone.get_by_label("À vélo").check()
    phone.get_by_role("button", name="Envoyer ma réponse").click()
    phone.get_by_text("Merci, votre réponse est enregistrée.").wait_for(timeout=5000)
    # Wait for the bike's own bar: the bus bar already read "1 · 100 %" before the change.
    bike = screen.locator(".sbar-value").nth(labels.index("À vélo"))
    expect(bike).to_have_text(re.compile(r"^1 · 100\s?%$"), timeout=3000)
    values = screen.locator(".sbar-value").all_text_contents()
    assert values[chosen].startswith("0 "), values
    assert screen.locator(".screen-status .n").inner_text() == "n = 1"

    # Once closed, the phone is told clearly.
    fac.get_by_role("button", name=re.compile("^Fermer :")).first.click()
    if not javascript:
        phone.get_by_role("link", name="Actualiser la page").click()
    phone.get_by_text("Rien à répondre pour l'instant").wait_for(timeout=5000)
    for ctx in (screen_ctx, phone_ctx, fac_ctx):
        ctx.close()


def test_seance_with_javascript(browser, server):
    run_seance(browser, server, javascript=True)


def test_seance_on_postgresql(browser, tmp_path):
    """The same séance, phones and projector in Chromium, on PostgreSQL."""
    pg = Server(tmp_path / "unused.db", free_port(),
                env={"DATABASE_URL": stores.fresh_database()}).start()
    try:
        run_seance(browser, pg, javascript=True)
    finally:
        pg.stop()


def test_seance_without_javascript(browser, server):
    run_seance(browser, server, javascript=False)


def test_projector_keyboard_moves_steps(browser, server):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    screen = ctx.new_page()
    screen.goto(server.urls["screen"])
    screen.keyboard.press("ArrowRight")
    screen.get_by_role("heading", name="Consultation éclair").wait_for(timeout=3000)
    screen.keyboard.press("ArrowLeft")
    screen.locator(".code").wait_for(timeout=3000)
    ctx.close()


def test_phone_joins_by_typing_the_code(browser, server):
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    phone = ctx.new_page()
    phone.goto(server.base + "/")
    phone.get_by_label("Le code affiché à l'écran").fill("zzzzz")
    phone.get_by_role("button", name="Rejoindre").click()
    assert "Aucune séance n'a ce code" in phone.locator("[role=alert]").inner_text()
    phone.get_by_label("Le code affiché à l'écran").fill(server.code.lower())
    phone.get_by_role("button", name="Rejoindre").click()
    phone.get_by_label("English").check()
    phone.get_by_role("button", name="Participer").click()
    assert "Waiting for the next step" in phone.locator("#panel").inner_text()
    assert phone.locator("html").get_attribute("lang") == "en"
    ctx.close()


def test_the_way_in_stays_on_the_projector_until_the_first_question_opens(browser, server):
    """People are still arriving while the facilitator introduces the poll: the QR code,
    address and code stay on the screen until a question opens, within the screen."""
    screens = []
    for width, height in ((1920, 1080), (1280, 720)):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        screens.append((ctx, ctx.new_page(), height))
        screens[-1][1].goto(server.urls["screen"])
    phones = []
    for javascript in (True, False):
        ctx = browser.new_context(java_script_enabled=javascript, **PHONE)
        phones.append((ctx, ctx.new_page(), javascript))
        phones[-1][1].goto(server.urls["join"])
        phones[-1][1].get_by_role("button", name="Participer").click()
    fac_ctx = browser.new_context(locale="fr-FR")
    fac = fac_ctx.new_page()
    fac.goto(server.urls["facilitator"])
    fac.get_by_role("button", name=re.compile("Étape suivante")).click()
    # Phones say what the projector says: a question is coming (not "the next step").
    for ctx, phone, javascript in phones:
        if not javascript:
            phone.get_by_role("link", name="Actualiser la page").click()
        phone.locator("#panel .waiting", has_text="Les questions vont bientôt s'ouvrir.")\
            .wait_for(timeout=5000)
        ctx.close()
    for _, screen, height in screens:
        screen.get_by_text("Les questions vont bientôt s'ouvrir.").wait_for(timeout=5000)
        SHOTS.mkdir(exist_ok=True)
        png = screen.screenshot(path=str(SHOTS / f"poll-waiting-{height}.png"))
        assert decode_qr(png) == server.urls["join"]
        assert server.code in screen.locator(".welcome .code").inner_text()
        assert screen.evaluate("document.documentElement.scrollHeight") <= height
    fac.get_by_role("button", name=re.compile(r"^Ouvrir")).first.click()
    for ctx, screen, _ in screens:
        screen.locator(".screen-status .n").wait_for(timeout=5000)
        assert screen.locator(".qr-box").count() == 0  # the question takes the screen
        ctx.close()
    fac_ctx.close()
