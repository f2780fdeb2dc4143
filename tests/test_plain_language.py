"""Plain language on the participant's side, in fr-FR, fr-CA and en: short sentences, one
idea each, no jargon. A person's review did the rewriting (see README, "Plain language");
this keeps later changes from drifting back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from facilitation.i18n import LANGUAGES, translations

PACKAGE = Path(__file__).resolve().parent.parent / "facilitation"
# Everything a participant can read: their pages, their errors, the SMS replies, what the
# séance decided (shown on phones), the paper kit.
PARTICIPANT_FILES = (
    "templates/pages/home.html", "templates/pages/join.html",
    "templates/pages/participant.html", "templates/pages/error.html",
    "templates/pages/accessibility.html", "templates/partials/participant_header.html",
    "templates/pages/privacy.html", "templates/pages/participant_delete.html",
    "store/deletion.py",
    "templates/partials/participant_panel.html", "templates/components/answers.html",
    "templates/components/decisions.html", "templates/report/kit.html",
    "templates/report/cards.html", "templates/report/vote_cards.html",
    "views/participant.py", "views/sms.py", "sms.py",
    "polls.py", "limits.py", "templates/partials/busy.html",
)
MAX_WORDS = 20  # per sentence
# Words a participant should not meet: technical or administrative jargon.
JARGON = {
    "fr": r"\b(soumett\w*|invalide\w*|requête\w*|paramètre\w*|jeton\w*|erreur\w*|"
          r"identifiant\w*|session\w*|serveur\w*|valider|formulaire\w*|données)\b",
    "en": r"\b(submit\w*|invalid\w*|request\w*|parameter\w*|token\w*|error\w*|"
          r"credential\w*|séances?|server\w*|form|forms|data)\b",
}


def participant_messages() -> list[tuple[str, str | None]]:
    found: dict[str, str | None] = {}
    for name in PARTICIPANT_FILES:
        method = "jinja2" if name.endswith(".html") else "python"
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
        for _line, message, _comments, _context in extract_from_file(
                method, str(PACKAGE / name), keywords=keywords, options=options):
            singular, plural = message if isinstance(message, tuple) else (message, None)
            found.setdefault(singular, plural)
    return list(found.items())


MESSAGES = participant_messages()


def rendered(language: str, singular: str, plural: str | None) -> list[str]:
    catalogue = translations(language)
    if plural is None:
        return [catalogue.gettext(singular)]
    return [catalogue.ngettext(singular, plural, n) for n in (1, 2)]


def sentences(text: str) -> list[str]:
    text = re.sub(r"%\(\w+\)s", "X", text)
    return [s for s in re.split(r"(?<=[.!?:;])\s+", text) if s.strip()]


def test_the_participant_messages_were_found():
    assert len(MESSAGES) > 100
    assert ("Send my answer", None) in MESSAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_participant_sentences_are_short_and_free_of_jargon(language):
    jargon = re.compile(JARGON[language[:2]], re.IGNORECASE)
    long, technical = [], []
    for singular, plural in MESSAGES:
        for text in rendered(language, singular, plural):
            long += [s for s in sentences(text) if len(s.split()) > MAX_WORDS]
            technical += [text] if jargon.search(text) else []
    assert not long, f"sentences over {MAX_WORDS} words: {long}"
    assert not technical, f"jargon: {technical}"


def test_the_check_catches_a_long_sentence_and_jargon():
    text = " ".join(["mot"] * (MAX_WORDS + 1)) + "."
    assert [s for s in sentences(text) if len(s.split()) > MAX_WORDS]
    assert re.search(JARGON["fr"], "Le formulaire est invalide", re.IGNORECASE)
    assert re.search(JARGON["en"], "Submit the form", re.IGNORECASE)
