"""Printing from the facilitator's page with the keyboard alone: the kit and a vote's cards
are downloaded as PDF, as many numbered cards as typed."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from tests.browser.test_vote import room  # noqa: F401 - the fixture: three proposals, a vote


def _download(page, field: str, cards: str) -> str:
    """Type how many cards in `field` and press Enter; return the PDF's text."""
    page.locator(field).focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(cards)
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    pdf = PdfReader(io.BytesIO(Path(info.value.path()).read_bytes()))
    return " ".join(sheet.extract_text() for sheet in pdf.pages)


def test_the_kit_and_vote_cards_download_with_the_keyboard(browser, server, room):  # noqa: F811
    ctx = browser.new_context(locale="fr-FR", accept_downloads=True)
    page = ctx.new_page()
    page.goto(server.urls["facilitator"])
    text = _download(page, "#kit-cards", "3")
    assert "Bulletin n° 3" in text and "Bulletin n° 4" not in text
    # The vote's form is in the part of the page htmx redraws: it still downloads.
    text = _download(page, "#vote-cards", "5")
    assert "Bulletin n° 5" in text and "Bulletin n° 6" not in text
    assert all(item in text for item in ("une navette gratuite", "garder le guichet papier"))
    assert page.url == server.urls["facilitator"]  # the page stays where it was
    ctx.close()
