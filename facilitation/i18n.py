"""Locales: gettext catalogues (Babel), negotiation, and locale-aware formats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.support import NullTranslations, Translations
from markupsafe import Markup, escape

from facilitation.settings import PACKAGE

LOCALES_DIR = PACKAGE / "locales"  # the compiled .mo ship in the wheel
LANGUAGES = ("fr-FR", "fr-CA", "en")
DEFAULT = "fr-FR"
# Shown in each language's own name, so someone who cannot read the current one finds theirs.
NATIVE_NAMES = {"fr-FR": "Français", "fr-CA": "Français (Canada)", "en": "English"}


# A regional catalogue holds only what differs; the rest comes from its fallback.
FALLBACKS = {"fr-CA": "fr-FR"}


@cache
def translations(language: str) -> NullTranslations:
    catalogue = Translations.load(str(LOCALES_DIR), [language.replace("-", "_")], "messages")
    # Babel falls back to untranslated text without a word: say that the .mo are missing.
    if not isinstance(catalogue, Translations):
        raise RuntimeError(f"no compiled catalogue for {language} in {LOCALES_DIR} "
                           "(in a checkout: `make catalogues`)")
    if language in FALLBACKS:
        catalogue.add_fallback(translations(FALLBACKS[language]))
    return catalogue


def negotiate(candidates: list[str | None], accept_language: str = "") -> str:
    """Return the first supported language among explicit choices, then the browser's."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    for part in accept_language.split(",")[:20]:
        tag = part.split(";")[0].strip().lower()
        if not tag:
            continue
        for language in LANGUAGES:
            if tag == language.lower():
                return language
        for language in LANGUAGES:  # fr-BE → fr-FR, en-GB → en: the first of its family
            if tag.split("-")[0] == language.split("-")[0].lower():
                return language
    return DEFAULT


@dataclass(frozen=True)
class Translator:
    """The gettext callables for one language, in the shape Jinja's i18n extension wants."""

    language: str

    @property
    def html_lang(self) -> str:
        return self.language

    def gettext(self, message: str, **params: Any) -> str:
        text = translations(self.language).gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        text = translations(self.language).ngettext(singular, plural, n)
        params.setdefault("num", n)
        return text % params

    def jinja_callables(self) -> dict[str, Callable[..., Any]]:
        def gettext(message: str, **params: Any) -> Markup:
            # Catalogue text is ours, not user input; parameters are escaped below.
            text = Markup(translations(self.language).gettext(message))  # noqa: S704
            return text % {k: escape(v) for k, v in params.items()} if params else text

        def ngettext(singular: str, plural: str, n: int, **params: Any) -> Markup:
            text = Markup(translations(self.language).ngettext(singular, plural, n))  # noqa: S704
            params.setdefault("num", n)
            return text % {k: escape(v) for k, v in params.items()}

        return {"gettext": gettext, "ngettext": ngettext, "_": gettext}

    def number(self, value: float, digits: int = 0) -> str:
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.babel_locale)

    def percent(self, value: float) -> str:
        """`value` in 0..100, rounded to a whole percent in the locale's style."""
        from babel.numbers import format_percent

        return format_percent(round(value) / 100, locale=self.babel_locale)

    @property
    def babel_locale(self) -> Locale:
        return Locale.parse(self.language.replace("-", "_"))

    def date(self, iso: str) -> str:
        if not iso:
            return ""
        try:
            return format_date(dt.date.fromisoformat(iso), format="full", locale=self.babel_locale)
        except ValueError:
            return iso

    def time(self, iso: str) -> str:
        if not iso:
            return ""
        try:
            return format_time(dt.time.fromisoformat(iso), format="short",
                               locale=self.babel_locale)
        except ValueError:
            return iso
