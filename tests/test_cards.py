"""A paper card is typed as it is printed: one form per card number with every question of
the séance, open, closed or not opened yet, until the séance is closed. Cards typed after
a question closed count in its results and are marked late in the audit."""

from __future__ import annotations

from tests.conftest import Seance, csrf_of, fac, go


def helper(seance: Seance) -> str:
    return f"/h/{seance.links['helper']}"


def send_card(seance: Seance, card: str, fields: dict[str, object], **extra: str):
    h = helper(seance)
    page = seance.client.get(h)
    return seance.client.post(f"{h}/card", data={"csrf": csrf_of(page.text), "card": card,
                                                 **fields, **extra})


def results(seance: Seance, question: dict) -> dict:
    return seance.client.get(f"/api/sessions/{seance.code}/questions/{question['id']}/results",
                             headers=fac(seance)).json()


def audit(seance: Seance) -> list[tuple]:
    rows = seance.client.portal.call(
        seance.client.app.state.db.fetchall,
        "SELECT card, question_id, before, late FROM card_audit ORDER BY id", ())
    return [(r["card"], r["question_id"], r["before"], r["late"]) for r in rows]


def test_a_card_typed_after_the_poll_counts_and_is_marked_late(seance):
    single, multiple = seance.questions[0], seance.questions[1]
    go(seance, "poll")
    seance.open(0)
    seance.close(0)  # the cards were collected during the poll; typed now
    page = seance.client.get(helper(seance)).text
    # Every question of the card is on the form, whatever its state.
    assert all(f'name="q{q["id"]}-' in page for q in seance.questions)
    assert "fermée : saisie en retard, elle compte quand même" in page
    r = send_card(seance, "7", {f"q{single['id']}-choice": str(single["choices"][1]),
                                f"q{multiple['id']}-choice": [str(multiple["choices"][0]),
                                                              str(multiple["choices"][2])]})
    assert r.status_code == 200 and "Bulletin 7 enregistré." in r.text
    counted = results(seance, single)
    assert counted["n"] == 1 and counted["choices"][1]["count"] == 1
    assert results(seance, multiple)["n"] == 1  # not opened yet: counted when it opens
    # Late for the closed question only; a first entry has nothing before it.
    assert audit(seance) == [(7, single["id"], "", 1)]


def test_a_card_typed_twice_is_refused_unless_it_is_a_correction(seance):
    single = seance.questions[0]
    go(seance, "poll")
    seance.open(0)
    field = f"q{single['id']}-choice"
    assert send_card(seance, "3", {field: str(single["choices"][0])}).status_code == 200
    r = send_card(seance, "3", {field: str(single["choices"][2])})
    assert r.status_code == 409 and "déjà saisi" in r.text
    # Nothing is lost: the ticks come back, the helper only ticks "correction".
    assert f'value="{single["choices"][2]}" checked' in r.text
    assert results(seance, single)["choices"][0]["count"] == 1
    r = send_card(seance, "3", {field: str(single["choices"][2])}, correction="1")
    assert r.status_code == 200
    counted = results(seance, single)
    assert counted["n"] == 1 and counted["choices"][2]["count"] == 1
    assert audit(seance) == [(3, single["id"], f"[{single['choices'][0]}]", 0)]


def test_a_refused_answer_is_shown_beside_its_question_and_nothing_is_stored(seance):
    single, multiple = seance.questions[0], seance.questions[1]
    go(seance, "poll")
    too_many = [str(c) for c in multiple["choices"][:4]]  # "3 au plus"
    r = send_card(seance, "5", {f"q{single['id']}-choice": str(single["choices"][0]),
                                f"q{multiple['id']}-choice": too_many})
    assert r.status_code == 422
    assert 'class="sheet-question failed" id="sheet-' + str(multiple["id"]) in r.text
    assert "Choisissez 3 réponses au plus." in r.text
    assert results(seance, single)["n"] == 0  # all or nothing
    assert 'value="5"' in r.text  # the card number stays
    blank = send_card(seance, "6", {})
    assert blank.status_code == 422 and "Rien n'a été coché ni écrit" in blank.text
    for bad in ("", "0", "abc", "100000"):
        assert send_card(seance, bad, {f"q{single['id']}-choice": str(single["choices"][0])}
                         ).status_code == 422
    assert results(seance, single)["n"] == 0
