"""Paper as it is really collected: whole vote cards in one form, typed during or after the
vote; proposals from paper in a batch; every entry kept with who typed it; a blind second
entry compared with the first and settled by the facilitator; the helpers' live picture."""

from __future__ import annotations

import re

from facilitation.store import printing
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from tests.conftest import Seance, csrf_of, fac, go

TEXTS = [f"Proposition {n} : des permanences numériques le samedi matin"
         for n in range(1, 12)]


def helper(seance: Seance) -> str:
    return f"/h/{seance.links['helper']}"


def set_vote(seance: Seance, method: str = "agree", *, open_it: bool = True) -> tuple[int, list]:
    """Eleven proposals and a vote on them (saved, opened unless told otherwise)."""
    step = next(s.id for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    ids = [seance.call(qp.add_proposal, seance.id, step, text, "phone") for text in TEXTS]
    go(seance, "vote")
    r = seance.facilitator_post("/vote", method=method, target="proposals", points="5",
                                max_per_item="3", **({"open": "1"} if open_it else {}))
    assert r.status_code in (200, 303)
    vote = next(s for s in seance.call(q.list_steps, seance.id) if s.kind == "vote")
    return vote.id, ids


def post(seance: Seance, path: str, query: str = "", **data):
    page = seance.client.get(f"{helper(seance)}{query}")
    return seance.client.post(f"{helper(seance)}{path}", data={"csrf": csrf_of(page.text),
                                                                **data})


def vote_card(seance: Seance, step: int, card: str, values: dict, **extra):
    return post(seance, "/vote", card=card, step=str(step), **values, **extra)


def ballots(seance: Seance, step: int) -> dict[int, dict[int, int]]:
    """Votes by card number: {card: {item: value}}."""
    rows = seance.client.portal.call(
        seance.client.app.state.db.fetchall,
        "SELECT p.card, v.item_id, v.value FROM votes v JOIN participants p"
        " ON p.id = v.participant_id WHERE v.step_id = ? AND p.card IS NOT NULL", (step,))
    out: dict[int, dict[int, int]] = {}
    for row in rows:
        out.setdefault(row["card"], {})[row["item_id"]] = row["value"]
    return out


def entries(seance: Seance) -> list[tuple]:
    rows = seance.client.portal.call(
        seance.client.app.state.db.fetchall,
        "SELECT card, part, round, who, late FROM card_entries ORDER BY id", ())
    return [(r["card"], r["part"], r["round"], r["who"].split(":", 2)[-1], r["late"])
            for r in rows]


def test_a_whole_vote_card_is_one_submission_and_a_second_one_is_refused(seance):
    step, ids = set_vote(seance)
    page = seance.client.get(helper(seance)).text
    # The card as printed: every item, numbered, with the method's three boxes.
    for number, item in enumerate(ids, start=1):
        assert f'name="v-{item}"' in page and f"{number}. {TEXTS[number - 1]}" in page
    values = {f"v-{item}": ("agree", "disagree", "pass")[n % 3] for n, item in enumerate(ids)}
    values.pop(f"v-{ids[10]}")  # left blank on the card
    r = vote_card(seance, step, "6", values, by="Awa")
    assert r.status_code == 200 and "Bulletin 6 enregistré." in r.text
    assert ballots(seance, step)[6] == {item: (1, -1, 0)[n % 3]
                                        for n, item in enumerate(ids[:10])}
    # The same card again: refused, the ticks come back, nothing changes.
    again = {**values, f"v-{ids[0]}": "pass"}
    r = vote_card(seance, step, "6", again, by="Awa")
    assert r.status_code == 409 and "déjà été saisi pour ce vote" in r.text
    assert f'name="v-{ids[0]}" value="pass" aria-labelledby="item-{ids[0]} col-2" checked' \
        in r.text
    assert ballots(seance, step)[6][ids[0]] == 1
    # As a correction it replaces the whole card.
    r = vote_card(seance, step, "6", {f"v-{ids[0]}": "pass"}, correction="1", by="Awa")
    assert r.status_code == 200
    assert ballots(seance, step)[6] == {ids[0]: 0}
    assert [e[:4] for e in entries(seance)] == [(6, f"vote:{step}", 1, "Awa")] * 2
    # An empty card is refused in plain words.
    r = vote_card(seance, step, "7", {})
    assert r.status_code == 422 and "Rien n'a été coché ni écrit pour ce bulletin." in r.text


def test_vote_cards_typed_after_the_vote_closed_count_and_are_late(seance):
    step, ids = set_vote(seance)
    seance.facilitator_post("/vote/close")
    page = seance.client.get(helper(seance)).text
    assert "Le vote n'est pas ouvert : un bulletin saisi maintenant compte" in page
    r = vote_card(seance, step, "3", {f"v-{ids[0]}": "agree", f"v-{ids[1]}": "disagree"})
    assert r.status_code == 200
    results = seance.call(qv.results_of, seance.id,
                          next(s for s in seance.call(q.list_steps, seance.id) if s.id == step))
    counted = {row.item.id: (row.verdict.tally.agree, row.verdict.tally.disagree)
               for row in results.rows if row.verdict}
    assert counted[ids[0]] == (1, 0) and counted[ids[1]] == (0, 1)
    assert entries(seance) == [(3, f"vote:{step}", 1, "", 1)]
    # Once the séance is closed, nothing more.
    seance.facilitator_post("/close", title="Suite")
    r = seance.client.post(f"{helper(seance)}/vote", data={
        "csrf": seance.client.cookies["eclair_csrf"], "card": "4", "step": str(step),
        f"v-{ids[0]}": "agree"})
    assert r.status_code == 409 and 4 not in ballots(seance, step)


def test_dot_voting_cards(seance):
    step, ids = set_vote(seance, "dots")
    page = seance.client.get(helper(seance)).text
    assert "5 points en tout." in page and "3 points au plus sur un même élément." in page
    r = vote_card(seance, step, "1", {f"dots-{ids[0]}": "3", f"dots-{ids[4]}": "2"})
    assert r.status_code == 200 and ballots(seance, step)[1] == {ids[0]: 3, ids[4]: 2}
    r = vote_card(seance, step, "2", {f"dots-{ids[0]}": "3", f"dots-{ids[1]}": "3"})
    assert r.status_code == 422 and "vous en avez donné 6" in r.text
    assert 2 not in ballots(seance, step)
    # Once cards are typed, the method stays: points are not grades.
    seance.facilitator_post("/vote/close")
    r = seance.facilitator_post("/vote", method="judgment", target="proposals", points="5",
                                max_per_item="3", open="1")
    assert r.status_code == 409 and ballots(seance, step)[1] == {ids[0]: 3, ids[4]: 2}


def test_majority_judgment_cards(seance):
    step, ids = set_vote(seance, "judgment")
    page = seance.client.get(helper(seance)).text
    assert "À rejeter" in page and f'name="grade-{ids[0]}"' in page
    r = vote_card(seance, step, "9", {f"grade-{ids[0]}": "0", f"grade-{ids[2]}": "6"})
    assert r.status_code == 200 and ballots(seance, step)[9] == {ids[0]: 0, ids[2]: 6}


def test_paper_proposals_in_a_batch_with_their_table(seance):
    go(seance, "proposals")
    groups = seance.call(qp.list_subgroups, seance.id)
    text = "Un atelier le samedi\n\n  Des ordinateurs prêtés  \nUne permanence à la mairie\n"
    r = post(seance, "/propose", "?form=proposals", text=text, subgroup=str(groups[1][0]))
    assert r.status_code == 200 and "3 propositions enregistrées." in r.text
    paper = [p for p in seance.call(qp.list_proposals, seance.id) if p.channel == "paper"]
    assert [(p.text, p.subgroup) for p in paper] == [
        ("Un atelier le samedi", groups[1][1]), ("Des ordinateurs prêtés", groups[1][1]),
        ("Une permanence à la mairie", groups[1][1])]
    # One line too long: nothing is added, the line is named, the text comes back whole.
    long = "Une idée\n" + "x" * 400
    r = post(seance, "/propose", "?form=proposals", text=long)
    assert r.status_code == 422 and "Ligne 2 :" in r.text and "x" * 400 in r.text
    assert len([p for p in seance.call(qp.list_proposals, seance.id)
                if p.channel == "paper"]) == 3
    # Cards are still typed while the facilitator groups the proposals; not after.
    go(seance, "clustering")
    assert post(seance, "/propose", text="Tardive mais comptée").status_code == 200
    go(seance, "vote")
    r = post(seance, "/propose", text="Trop tard")
    assert r.status_code == 409
    assert "Trop tard" not in [p.text for p in seance.call(qp.list_proposals, seance.id)]


def test_a_blind_second_entry_is_compared_and_settled_by_the_facilitator(seance):
    step, ids = set_vote(seance)
    single = seance.questions[0]
    # First entries (Awa), then the blind check (Lou): card 1 agrees, card 2 differs.
    for number in ("1", "2"):
        assert vote_card(seance, step, number, {f"v-{ids[0]}": "agree",
                                                f"v-{ids[1]}": "pass"}, by="Awa").is_success
    check = {"by": "Lou", "round": "2"}
    assert vote_card(seance, step, "1", {f"v-{ids[0]}": "agree", f"v-{ids[1]}": "pass"},
                     **check).is_success
    r = vote_card(seance, step, "2", {f"v-{ids[0]}": "disagree", f"v-{ids[1]}": "pass"},
                  **check)
    assert r.is_success and "(deuxième saisie)" in r.text
    # The check counts nowhere.
    assert ballots(seance, step)[2] == {ids[0]: 1, ids[1]: 0}
    # A poll card typed only in the check is listed too.
    r = post(seance, "/card", card="5", **check, **{f"q{single['id']}-choice":
                                                   str(single["choices"][0])})
    assert r.is_success
    f = f"/f/{seance.links['facilitator']}"
    page = seance.client.get(f"{f}/cards").text
    assert "2 bulletins à trancher" in page and "1 vérifié" in page
    mismatch = re.search(r"Bulletin n° 2 — .*?</section>", page, re.S).group(0)
    side_by_side = r".*?<td>D&#39;accord</td><td>Pas d&#39;accord"
    assert re.search(r"1\. " + re.escape(TEXTS[0]) + side_by_side, mismatch, re.S)
    assert TEXTS[1] not in mismatch  # only what differs
    assert "n'a été tapé que dans la deuxième saisie" in page
    # The helper's picture says a difference waits; the helper cannot open the page.
    assert "diffèrent entre les deux saisies" in seance.client.get(helper(seance)).text
    assert seance.client.get(f"{helper(seance)}/cards").status_code == 404
    assert seance.client.get(f"/f/{seance.links['helper']}/cards").status_code == 404
    # Keep the second for card 2: it now counts; keep the first (nothing) for card 5.
    token = csrf_of(page)
    r = seance.client.post(f"{f}/cards/resolve", data={"csrf": token, "card": "2",
                                                      "part": f"vote:{step}", "keep": "second"})
    assert r.status_code == 200 and "Bulletin 2 tranché" in r.text
    assert ballots(seance, step)[2] == {ids[0]: -1, ids[1]: 0}
    # The same button sent again (a double click, a stale tab) changes nothing.
    r = seance.client.post(f"{f}/cards/resolve", data={"csrf": token, "card": "2",
                                                      "part": f"vote:{step}", "keep": "first"})
    assert ballots(seance, step)[2] == {ids[0]: -1, ids[1]: 0}
    r = seance.client.post(f"{f}/cards/resolve", data={"csrf": token, "card": "5",
                                                      "part": "poll", "keep": "first"})
    assert "Tous les bulletins saisis deux fois concordent" in r.text
    assert seance.call(q.results, next(
        qu for st in seance.call(q.list_steps, seance.id) if st.kind == "poll"
        for qu in seance.call(q.list_questions, st.id) if qu.id == single["id"])).n == 0
    # The report says how many paper cards were checked.
    report = seance.client.get(f"{f}/report").text
    assert "Bulletins papier saisis deux fois" in report
    assert "2 saisis deux fois, à l&#39;aveugle ; 2 vérifiés" in report
    # Bad input changes nothing and says so.
    r = seance.client.post(f"{f}/cards/resolve", data={"csrf": token, "card": "2",
                                                      "part": "vote:x", "keep": "second"})
    assert r.status_code == 422 and "Choisissez la saisie à garder." in r.text


def test_a_poll_card_settled_on_the_second_entry_replaces_its_answers(seance):
    single, multiple = seance.questions[0], seance.questions[1]
    go(seance, "poll")
    seance.open(0)
    first = {f"q{single['id']}-choice": str(single["choices"][0]),
             f"q{multiple['id']}-choice": [str(multiple["choices"][0])]}
    assert post(seance, "/card", card="8", by="Awa", **first).is_success
    second = {f"q{single['id']}-choice": str(single["choices"][2])}  # multiple left blank
    assert post(seance, "/card", card="8", by="Lou", round="2", **second).is_success
    f = f"/f/{seance.links['facilitator']}"
    page = seance.client.get(f"{f}/cards").text
    assert "Bulletin n° 8 — Bulletin de la consultation" in page and "(vide)" in page
    seance.client.post(f"{f}/cards/resolve", data={"csrf": csrf_of(page), "card": "8",
                                                  "part": "poll", "keep": "second"})
    api = f"/api/sessions/{seance.code}/questions"
    counted = seance.client.get(f"{api}/{single['id']}/results", headers=fac(seance)).json()
    assert counted["n"] == 1 and counted["choices"][2]["count"] == 1
    assert seance.client.get(f"{api}/{multiple['id']}/results",
                             headers=fac(seance)).json()["n"] == 0
    assert "Tous les bulletins saisis deux fois concordent" in seance.client.get(
        f"{f}/cards").text


def test_the_helpers_picture_shows_what_is_missing_and_who_typed(seance):
    single = seance.questions[0]
    go(seance, "poll")
    seance.open(0)
    seance.call(printing.note_printed, seance.id, 12)
    tick = {f"q{single['id']}-choice": str(single["choices"][0])}
    for number, who in (("1", "Awa"), ("2", "Awa"), ("5", "Lou")):
        assert post(seance, "/card", card=number, by=who, **tick).is_success
    # A number beyond the printed range is often a slip: recorded only when sent again.
    r = post(seance, "/card", card="14", **tick)
    assert r.status_code == 422
    assert re.search(r"Le bulletin 14 n(&#39;|')a pas été imprimé : les bulletins vont de 1 à 12",
                     r.text)
    assert '<input type="hidden" name="beyond" value="14">' in r.text
    assert re.search(r'<button type="submit" class="primary" autofocus>', r.text)
    assert post(seance, "/card", card="14", beyond="14", **tick).is_success
    page = seance.client.get(helper(seance)).text
    status = re.search(r'<section id="helper-status".*?</section>', page, re.S).group(0)
    assert "Bulletins imprimés : n° 1 à 12." in status
    # Beyond the printed range, the highest number typed counts as printed.
    assert re.search(r'class="missing">3, 4, 6–13<', status)
    assert "Question 1 : 4 bulletins" in status and "Question 2 : 0 bulletin" in status
    assert "Awa : 2" in status and "Lou : 1" in status and "Sans prénom : 1" in status


def test_the_helper_page_is_live(seance):
    single = seance.questions[0]
    go(seance, "poll")
    seance.open(0)
    with seance.client.websocket_connect(f"{helper(seance)}/ws",
                                         headers={"accept-language": "fr-FR"}) as ws:
        first = ws.receive_text()
        assert 'id="helper-status"' in first and 'hx-swap-oob="true"' in first
        assert "0 bulletin papier saisi" in first
        assert post(seance, "/card", card="3", **{f"q{single['id']}-choice":
                                                 str(single["choices"][0])}).is_success
        pushed = ws.receive_text()
        assert "1 bulletin papier saisi" in pushed and 'class="missing">1, 2<' in pushed
        # No secret of another role travels in the helper's push.
        for role in ("facilitator", "screen"):
            assert seance.links[role] not in pushed


def test_paper_cards_carry_no_credential(seance):
    """Nothing a helper types can be used from outside to read or change a card."""
    step, ids = set_vote(seance)
    assert vote_card(seance, step, "4", {f"v-{ids[0]}": "agree"}).is_success
    rows = seance.client.portal.call(
        seance.client.app.state.db.fetchall,
        "SELECT token_hash FROM participants WHERE card = 4", ())
    assert len(rows) == 1 and rows[0]["token_hash"].startswith("paper:")
    # Neither the card number nor anything derived from it opens a participant's API.
    for guess in ("4", "paper:4", f"paper:{seance.id}:4", rows[0]["token_hash"]):
        r = seance.client.post(f"/api/sessions/{seance.code}/votes",
                               json={"item_id": ids[0], "value": "disagree"},
                               headers={"authorization": f"Bearer {guess}"})
        assert r.status_code in (401, 403, 404)
    assert ballots(seance, step)[4] == {ids[0]: 1}
    # A helper's pages and pushes never show another card's stored values by number.
    page = seance.client.get(helper(seance)).text
    assert "paper:" not in page


def test_what_a_real_room_does_wrong_is_caught(seance):
    """Found by walking a séance: a second entry adding proposals twice, a form kept from
    before the items changed, a partly numbered ranking, a reload after a refused card."""
    go(seance, "proposals")
    page = seance.client.get(f"{helper(seance)}?round=2").text
    assert "?form=proposals" not in page  # the check types ballot cards only
    r = post(seance, "/propose", "?round=2", text="En double", round="2")
    assert r.status_code == 409 and "les propositions se saisissent une seule fois" in r.text
    assert "En double" not in [p.text for p in seance.call(qp.list_proposals, seance.id)]
    # A vote form from before the items changed is refused, not silently cut.
    step, ids = set_vote(seance)
    stale = post(seance, "/vote", card="2", step=str(step), **{f"v-{ids[0]}": "agree",
                                                               "v-99999": "pass"})
    assert stale.status_code == 409 and "ont changé depuis l" in stale.text
    assert 2 not in ballots(seance, step)
    # A reload of the address a refused card was shown at leads back to the page.
    r = seance.client.get(f"{helper(seance)}/vote", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(helper(seance))
    # A ranking numbered only for its first choices is kept as numbered.
    ranking = next(qu for qu in seance.questions if qu["kind"] == "ranking")
    first, second = ranking["choices"][2], ranking["choices"][0]
    r = post(seance, "/card", card="6", **{f"q{ranking['id']}-rank-{first}": "1",
                                           f"q{ranking['id']}-rank-{second}": "2"})
    assert r.is_success
    stored = seance.client.portal.call(
        seance.client.app.state.db.fetchone,
        "SELECT a.value FROM answers a JOIN participants p ON p.id = a.participant_id"
        " WHERE p.card = 6 AND a.question_id = ?", (ranking["id"],))
    assert stored["value"] == f"[{first}, {second}]"
    r = post(seance, "/card", card="7", **{f"q{ranking['id']}-rank-{first}": "2"})
    assert r.status_code == 422  # "2" alone: the first choice is missing


def test_closing_says_what_paper_is_left_and_stops_the_helpers_forms(seance):
    single = seance.questions[0]
    go(seance, "poll")
    seance.open(0)
    seance.call(printing.note_printed, seance.id, 4)
    assert post(seance, "/card", card="2", **{f"q{single['id']}-choice":
                                             str(single["choices"][0])}).is_success
    go(seance, "closing")
    page = seance.client.get(f"/f/{seance.links['facilitator']}").text
    left = re.search(r'<div class="notice" id="paper-left">.*?</div>', page, re.S).group(0)
    assert "Avant de clore" in left and "1, 3, 4" in left
    with seance.client.websocket_connect(f"{helper(seance)}/ws") as ws:
        ws.receive_text()
        seance.facilitator_post("/close", title="Suite")
        pushed = ws.receive_text()
        while "helper-forms" not in pushed:
            pushed = ws.receive_text()
        assert '<div id="helper-forms" hx-swap-oob="true">' in pushed
        assert "Cette séance est close" in pushed
