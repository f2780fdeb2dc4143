"""The printed paper: vote cards laid out like the helper's form, proposal cards with the
tables, the kit's options, and the range of numbered cards printed."""

import io
import re

import pytest
from pypdf import PdfReader

from facilitation import printed
from facilitation.store import printing
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.voting import VoteSettings
from tests.conftest import go

SHORT = ["une navette gratuite", "des ateliers le samedi", "garder le guichet papier",
         "un numéro d'aide unique", "des affiches en gros caractères",
         "un café numérique mensuel", "former les commerçants", "un prêt de tablettes"]


def long_item(i: int) -> str:
    """A proposal of the longest length allowed (280 characters), each one different."""
    text = (f"Proposition {i} : créer une permanence hebdomadaire d'aide aux démarches en ligne "
            "à la médiathèque, tenue par des bénévoles formés et un conseiller numérique, "
            "avec un accueil sans rendez-vous le samedi matin et un prêt d'ordinateurs "
            "portables pour les familles qui n'en ont pas chez elles, pendant toute l'année")
    return text[:280]


def words(pdf: bytes) -> list[str]:
    """Each page's text, spaces made plain and runs of white space made one."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [" ".join(page.extract_text().replace("\u202f", " ").replace("\xa0", " ").split())
            for page in pages]


def vote_step(seance, items: list[str], **settings) -> int:
    """The demo's vote step, over `items` as proposals, with these settings saved."""
    steps = seance.call(q.list_steps, seance.id)
    proposing = next(s for s in steps if s.kind == "proposals")
    for text in items:
        seance.call(qp.add_proposal, seance.id, proposing.id, text, "paper")
    step = next(s for s in steps if s.kind == "vote")
    chosen = VoteSettings(**settings).to_json()
    seance.call(lambda db: db.write(lambda conn: conn.execute(
        "UPDATE steps SET settings = ? WHERE id = ?", (chosen, step.id))))
    return step.id


def vote_cards(seance, step_id: int, cards: int):
    return seance.client.get(
        f"/f/{seance.links['facilitator']}/vote-cards.pdf?step={step_id}&cards={cards}")


def test_how_many_cards():
    assert printed.card_count(None) == printed.card_count("abc") == printed.card_count("") == 20
    count = printed.card_count
    assert (count("0"), count("7"), count("500")) == (1, 7, 300)
    assert printed.vote_columns("agree") == ("Agree", "Disagree", "Pass")
    assert len(printed.vote_columns("judgment")) == 7
    assert printed.vote_columns("dots") == ("Points",)


def test_agree_cards_carry_every_item_whole_and_their_number_on_each_page(seance):
    items = [long_item(i) for i in range(1, 13)]
    step = vote_step(seance, items, method="agree")
    response = vote_cards(seance, step, 3)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pages = words(response.content)
    text = " ".join(pages)
    for item in items:  # the full text, never cut
        assert " ".join(item.split()) in text
    # Numbered rows in the vote's order: the helper's form reads the same numbers.
    assert all(f"{i} Proposition {i} :" in text for i in range(1, 13))
    # A long card runs over a few pages, its number on each of them.
    assert len(pages) <= 3 * 3
    for page in pages:
        assert len(re.findall(r"Bulletin n° [123](?!\d)", page)) == 1
        assert "D'accord" in page and "Pas d'accord" in page and "Je passe" in page
    for number in (1, 2, 3):
        assert any(f"Bulletin n° {number}" in page for page in pages)
    assert "Pour chaque ligne, cochez une case" in text


def test_short_cards_print_two_a_page(seance):
    step = vote_step(seance, SHORT, method="agree")
    pages = words(vote_cards(seance, step, 20).content)
    assert len(pages) == 10 and all(page.count("Bulletin n°") == 2 for page in pages)
    numbers = [int(n) for page in pages for n in re.findall(r"Bulletin n° (\d+)", page)]
    assert numbers == list(range(1, 21))
    assert all(f"8 {SHORT[7]}" in page for page in pages)


def test_dot_voting_cards_state_the_rule(seance):
    step = vote_step(seance, SHORT[:5], method="dots", points=5, max_per_item=2)
    text = " ".join(words(vote_cards(seance, step, 2).content))
    assert "Vous avez 5 points en tout." in text
    assert "2 points au plus sur un même élément." in text
    assert "Points" in text and all(item in text for item in SHORT[:5])


def test_majority_judgment_cards_have_a_column_per_grade(seance):
    step = vote_step(seance, SHORT[:6], method="judgment")
    pages = words(vote_cards(seance, step, 4).content)
    assert len(pages) == 2  # two to a page, one above the other
    for grade in ("Excellent", "Très bien", "Bien", "Assez bien", "Passable", "Insuffisant",
                  "À rejeter"):
        assert all(grade in page for page in pages)


def test_vote_cards_only_once_the_items_are_set(seance, client, organiser):
    steps = seance.call(q.list_steps, seance.id)
    vote = next(s for s in steps if s.kind == "vote")
    poll = next(s for s in steps if s.kind == "poll")
    assert vote_cards(seance, vote.id, 5).status_code == 404  # nothing to vote on yet
    step = vote_step(seance, SHORT[:3], method="agree")
    assert vote_cards(seance, step, 5).status_code == 200
    for other in (poll.id, 999999, "x"):
        assert vote_cards(seance, other, 5).status_code == 404
    # Settings never saved (a step made for the next séance): nothing is printed.
    seance.call(lambda db: db.write(lambda conn: conn.execute(
        "UPDATE steps SET settings = '{}' WHERE id = ?", (step,))))
    assert vote_cards(seance, step, 5).status_code == 404
    step = vote_step(seance, [], method="judgment")
    # Paper carries no credential: the helper's link (or any other) prints nothing.
    for role in ("helper", "screen"):
        url = f"/f/{seance.links[role]}/vote-cards.pdf?step={step}"
        assert client.get(url).status_code == 404
        assert client.get(f"/f/{seance.links[role]}/kit.pdf").status_code == 404
    assert client.get(f"/h/{seance.links['helper']}/vote-cards.pdf?step={step}").status_code \
        == 404
    response = organiser.get(f"/organiser/sessions/{seance.id}/vote-cards.pdf?step={step}"
                             "&cards=2")
    assert response.status_code == 200 and "Bulletin n° 2" in " ".join(words(response.content))
    workshop = seance.call(q.get_session, seance.id).workshop_id
    page = organiser.get(f"/organiser/workshops/{workshop}")
    assert f'name="step" value="{step}"' in page.text


def test_the_printed_range_only_grows(seance, client):
    f = f"/f/{seance.links['facilitator']}"
    assert seance.call(printing.cards_printed, seance.id) == 0
    assert client.get(f"{f}/kit.pdf?cards=6").status_code == 200
    assert seance.call(printing.cards_printed, seance.id) == 6
    step = vote_step(seance, SHORT[:3], method="agree")
    vote_cards(seance, step, 2)
    assert seance.call(printing.cards_printed, seance.id) == 6
    vote_cards(seance, step, 9)
    assert seance.call(printing.cards_printed, seance.id) == 9


def test_the_facilitator_chooses_how_many_cards(seance, client):
    f = f"/f/{seance.links['facilitator']}"
    page = client.get(f).text
    assert re.search(r'<form method="get" action="[^"]*/kit.pdf" class="print-form">\s*'
                     r'<label for="kit-cards">Kit papier \(PDF\) : nombre de bulletins, '
                     r'de 1 à 300</label>\s*<input id="kit-cards" name="cards"', page)
    assert "vote-cards.pdf" not in page
    step = vote_step(seance, SHORT[:3], method="agree")
    go(seance, "vote")
    page = client.get(f).text
    assert f'name="step" value="{step}"' in page and "Bulletins de vote à imprimer" in page
    assert '<label for="vote-cards">' in page


@pytest.mark.parametrize("tables", [True, False])
def test_proposal_cards_carry_the_tables(seance, client, tables):
    if not tables:
        seance.call(lambda db: db.write(lambda conn: conn.execute(
            "DELETE FROM subgroups WHERE session_id = ?", (seance.id,))))
    text = " ".join(words(client.get(f"/f/{seance.links['facilitator']}/kit.pdf?cards=4")
                          .content))
    prompt = "Quelles solutions simples, sans nouvelle technologie, pourraient aider ?"
    assert text.count(prompt) == 6  # as many cards as ballot cards, the last page filled
    assert text.count(f"{prompt} 1. 2. 3. ") == 6  # the step's limit: three proposals
    if tables:
        assert text.count("Votre table : Table 1 Table 2 Table 3") == 6
    else:
        assert text.count("Table : ______________") == 6
