"""Every UI message is translated; locale formats follow the language."""

from pathlib import Path

from babel.messages.pofile import read_po

from facilitation.i18n import Translator, negotiate

LOCALES = Path(__file__).resolve().parent.parent / "facilitation" / "locales"


def load(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def test_french_catalogue_translates_every_message():
    catalogue = load(LOCALES / "fr_FR" / "LC_MESSAGES" / "messages.po")
    template = load(LOCALES / "messages.pot")
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue
                  if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    assert ids - translated == set()


def test_template_is_up_to_date_with_the_code(tmp_path):
    from babel.messages.frontend import CommandLineInterface

    out = tmp_path / "fresh.pot"
    root = Path(__file__).resolve().parent.parent
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(root / "babel.cfg"),
                                "-k", "N_", "-k", "_", "-k", "gettext", "-k", "ngettext:1,2",
                                "--no-location", "--ignore-dirs", ".* _* .venv tests bench",
                                "-o", str(out), str(root)])
    fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in load(out) if m.id}
    known = {m.id if isinstance(m.id, str) else m.id[0]
             for m in load(LOCALES / "messages.pot") if m.id}
    assert len(fresh) > 150  # the extraction itself found the messages
    assert fresh == known, "run `make catalogues-update` and translate"


def test_negotiation():
    assert negotiate([None], "") == "fr-FR"
    assert negotiate([None], "en-US,en;q=0.9") == "en"
    assert negotiate([None], "fr-CA,fr;q=0.9") == "fr-CA"
    assert negotiate([None], "fr-BE,fr;q=0.9") == "fr-FR"
    assert negotiate(["en"], "fr") == "en"
    assert negotiate(["de"], "de-DE") == "fr-FR"


def test_locale_formats():
    fr, en = Translator("fr-FR"), Translator("en")
    assert fr.date("2026-12-03") == "jeudi 3 décembre 2026"
    assert en.date("2026-12-03") == "Thursday, December 3, 2026"
    assert fr.time("18:30") == "18:30" and en.time("18:30") == "6:30\u202fPM"
    assert fr.percent(46.4).replace("\u202f", " ").replace("\xa0", " ") == "46 %"
    assert fr.ngettext("%(num)s person present", "%(num)s people present", 2) == \
        "2 personnes présentes"


def test_quebec_catalogue_only_overrides_known_messages():
    import re

    known = {m.id if isinstance(m.id, str) else m.id[0] for m in load(LOCALES / "messages.pot")
             if m.id}
    for message in load(LOCALES / "fr_CA" / "LC_MESSAGES" / "messages.po"):
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        assert msgid in known, msgid
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert string and set(re.findall(r"%\(\w+\)s", string)) <= set(
                re.findall(r"%\(\w+\)s", " ".join(message.id if isinstance(message.id, tuple)
                                                 else (message.id,)))), msgid


def test_every_language_translates_every_message():
    """fr-FR has every message; fr-CA has each one itself or through fr-FR, its fallback."""
    from facilitation.i18n import translations

    ids = [m.id for m in load(LOCALES / "messages.pot") if m.id]
    for language in ("fr-FR", "fr-CA"):
        chain, catalogue = [], translations(language)
        while catalogue is not None:
            chain.append(catalogue._catalog)
            catalogue = catalogue._fallback
        for msgid in ids:
            key = (msgid[0], 0) if isinstance(msgid, tuple) else msgid
            assert any(key in entries for entries in chain), (language, msgid)
