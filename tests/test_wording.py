"""Counts agree with their number: a limit of one is said in the singular, in every
language (each form is its own message, chosen where the error is raised)."""

from __future__ import annotations

import pytest

from facilitation.i18n import Translator
from facilitation.i18n_keys import UserError
from facilitation.proposals import StepSettings, check_limit


@pytest.mark.parametrize(("limit", "french"), [
    (1, "Vous avez déjà envoyé votre proposition."),
    (3, "Vous avez atteint la limite de 3 propositions."),
])
def test_the_proposal_limit_agrees_with_its_number(limit, french):
    with pytest.raises(UserError) as caught:
        check_limit(limit, StepSettings(limit=limit))
    error = caught.value
    assert Translator("fr-FR").gettext(error.message, **error.params) == french


def test_plural_messages_have_their_french_forms():
    tr = Translator("fr-FR")
    assert tr.ngettext("and %(num)s more", "and %(num)s more", 1) == "et 1 autre"
    assert tr.ngettext("and %(num)s more", "and %(num)s more", 4) == "et 4 autres"


def test_the_consensus_rule_agrees_with_its_number_of_votes():
    tr = Translator("fr-FR")
    one = tr.ngettext(
        "Consensus: at least %(agree)s agree, at most %(disagree)s disagree, with at least "
        "%(num)s vote.",
        "Consensus: at least %(agree)s agree, at most %(disagree)s disagree, with at least "
        "%(num)s votes.", 1, agree="67 %", disagree="15 %")
    assert one.endswith("avec au moins 1 vote.")


def test_every_plural_has_whole_french_forms():
    """A plural entry filled like a singular one splits into letters ("C", "h"): it once put
    a lone "h" under a question on the helper's page."""
    from babel.messages import pofile  # noqa: PLC0415

    from facilitation.settings import PACKAGE  # noqa: PLC0415

    path = PACKAGE / "locales" / "fr_FR" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalogue = pofile.read_po(f)
    plurals = [m for m in catalogue if isinstance(m.id, tuple)]
    assert plurals
    broken = [m.id for m in plurals if any(len(form.strip()) < 4 for form in m.string)]
    assert broken == []
    tr = Translator("fr-FR")
    assert tr.gettext("One point at most on one item.") == "Un point au plus sur un même élément."
    assert tr.ngettext("Choose one answer at most.", "Choose up to %(num)s answers.", 3) == \
        "Choisissez 3 réponses au plus."
