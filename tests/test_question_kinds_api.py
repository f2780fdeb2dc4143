"""Every kind through the API and the forms: validation, results, hiding, one answer only."""

import pytest

from facilitation.store import queries as q
from tests.conftest import csrf_of, fac


def kinds(seance) -> dict:
    seance.client.post(f"/api/sessions/{seance.code}/step", json={"position": seance.poll_position},
                       headers=fac(seance))
    state = seance.client.get(f"/api/sessions/{seance.code}/state", headers=fac(seance)).json()
    return {question["kind"]: question for question in state["questions"]}


def participant(seance) -> dict:
    r = seance.client.post("/api/sessions/join", json={"code": seance.code})
    return {"authorization": f"Bearer {r.json()['token']}"}


def answer(seance, question, headers, **body):
    return seance.client.post(
        f"/api/sessions/{seance.code}/questions/{question['id']}/answers", json=body,
        headers=headers)


def results(seance, question, headers=None):
    return seance.client.get(f"/api/sessions/{seance.code}/questions/{question['id']}/results",
                             headers=headers or fac(seance)).json()


def open_(seance, question):
    r = seance.client.post(f"/api/sessions/{seance.code}/questions/{question['id']}/open",
                           headers=fac(seance))
    assert r.status_code == 200


def test_state_describes_each_kind(seance):
    k = kinds(seance)
    assert k["matrix"]["levels"] == ["Jamais", "Rarement", "Parfois", "Souvent", "Très souvent"]
    assert len(k["matrix"]["choices"]) == 5
    assert (k["scale"]["min"], k["scale"]["max"]) == (1, 5) and k["scale"]["labels"][0]
    assert k["text"]["results"] == "closed"
    assert k["ranking"]["allow_change"] is False


@pytest.mark.parametrize("kind, body", [
    ("matrix", {"items": {"999": 1}}), ("matrix", {"items": {}}), ("matrix", {"items": [1]}),
    ("matrix", {"items": "x"}), ("scale", {"value": 6}), ("scale", {"value": "3"}),
    ("scale", {}), ("text", {"text": ""}), ("text", {"text": "x" * 500}), ("text", {"text": 3}),
    ("ranking", {"choices": [1, 2]}), ("ranking", {"choices": "abc"}), ("ranking", {}),
])
def test_bad_answers_of_each_kind_are_refused_and_store_nothing(seance, kind, body):
    question = kinds(seance)[kind]
    open_(seance, question)
    r = answer(seance, question, participant(seance), **body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]
    assert seance.answers() == 0


def test_matrix_scale_text_and_ranking_results(seance):
    k = kinds(seance)
    people = [participant(seance) for _ in range(3)]
    items = [c["id"] for c in k["matrix"]["choices"]]
    options = [c["id"] for c in k["ranking"]["choices"]]
    for question in k.values():
        open_(seance, question)
    for i, person in enumerate(people):
        assert answer(seance, k["matrix"], person, items={str(items[0]): i, str(items[1]): 4})\
            .status_code == 201
        assert answer(seance, k["scale"], person, value=i + 2).status_code == 201
        assert answer(seance, k["text"], person, text=["Formation", "des formations",
                                                       "ateliers"][i]).status_code == 201
        assert answer(seance, k["ranking"], person, choices=options).status_code == 201
    matrix = results(seance, k["matrix"])
    rows = {row["id"]: row for row in matrix["items"]}
    assert matrix["n"] == 3 and rows[items[0]]["counts"] == [1, 1, 1, 0, 0]
    assert rows[items[1]]["counts"] == [0, 0, 0, 0, 3] and rows[items[2]]["n"] == 0
    # Ordered by frequency (the plan asks for it): the most frequent item first.
    assert matrix["items"][0]["id"] == items[1]
    scale = results(seance, k["scale"])
    assert scale["mean"] == 3 and scale["median"] == 3
    assert [v["count"] for v in scale["values"]] == [0, 1, 1, 1, 0]
    text = results(seance, k["text"])
    assert text["words"][0]["count"] == 2 and set(text["words"][0]["forms"]) == {
        "formation", "formations"}
    ranking = results(seance, k["ranking"])
    assert ranking["method"] == "borda"
    assert [row["points"] for row in ranking["choices"]] == [9, 6, 3, 0]


def test_one_answer_only_questions_refuse_a_change(seance):
    question = kinds(seance)["ranking"]
    open_(seance, question)
    person = participant(seance)
    options = [c["id"] for c in question["choices"]]
    assert answer(seance, question, person, choices=options).status_code == 201
    again = answer(seance, question, person, choices=list(reversed(options)))
    assert again.status_code == 409 and "déjà répondu" in again.json()["error"]["message"]
    assert results(seance, question)["choices"][0]["id"] == options[0]


def test_results_hidden_from_participants_until_closed(seance):
    question = kinds(seance)["text"]
    open_(seance, question)
    person = participant(seance)
    answer(seance, question, person, text="confiance")
    assert results(seance, question, person).get("hidden") is True
    assert results(seance, question)["words"][0]["word"] == "confiance"  # the facilitator sees
    seance.client.post(f"/api/sessions/{seance.code}/questions/{question['id']}/close",
                       headers=fac(seance))
    assert results(seance, question, person)["words"][0]["word"] == "confiance"


def test_facilitator_hides_a_word_and_switches_results_mode(seance, client):
    question = kinds(seance)["text"]
    open_(seance, question)
    for text in ("nul", "nul", "patience"):
        answer(seance, question, participant(seance), text=text)
    page = client.get(f"/f/{seance.links['facilitator']}")
    assert "Masquer « nul »" in page.text
    token = csrf_of(page.text)
    key = seance.call(q.get_question, question["id"], seance.id)
    from facilitation.words import group_key

    r = client.post(f"/f/{seance.links['facilitator']}/questions/{question['id']}/words",
                    data={"csrf": token, "word": group_key("nul"), "hidden": "1"})
    assert r.status_code == 200 and "Réafficher « nul »" in r.text
    assert [w["word"] for w in results(seance, question)["words"]] == ["patience"]
    r = client.post(f"/f/{seance.links['facilitator']}/questions/{question['id']}/results",
                    data={"csrf": token, "mode": "live"})
    assert r.status_code == 200
    screen = client.get(f"/screen/{seance.links['screen']}").text
    assert "patience" in screen and "nul" not in screen.split('id="screen"')[1]
    for bad in ({"mode": "sometimes"}, {}):
        r = client.post(f"/f/{seance.links['facilitator']}/questions/{question['id']}/results",
                        data={"csrf": token, **bad})
        assert r.status_code == 422
    # Only the facilitator link reaches these controls.
    for role in ("screen", "helper"):
        r = client.post(f"/f/{seance.links[role]}/questions/{question['id']}/words",
                        data={"csrf": token, "word": "x", "hidden": "1"})
        assert r.status_code == 404
    r = client.post(f"/f/{seance.links['facilitator']}/questions/999999/results",
                    data={"csrf": token, "mode": "live"})
    assert r.status_code == 404
    assert key is not None


def test_participant_forms_for_every_kind(seance, client):
    k = kinds(seance)
    seance.join()
    token = client.cookies.get("eclair_csrf")
    url = f"/s/{seance.code}/answer"
    items = [c["id"] for c in k["matrix"]["choices"]]
    options = [c["id"] for c in k["ranking"]["choices"]]
    open_(seance, k["matrix"])
    r = client.post(url, data={"csrf": token, "question": k["matrix"]["id"],
                               f"item-{items[0]}": "9"})
    assert r.status_code == 422 and "Choisissez une des réponses proposées" in r.text
    r = client.post(url, data={"csrf": token, "question": k["matrix"]["id"],
                               f"item-{items[0]}": "2", f"item-{items[1]}": ""})
    assert "Merci" in r.text
    open_(seance, k["ranking"])
    ranks = {f"rank-{cid}": str(i + 1) for i, cid in enumerate(options)}
    ranks[f"rank-{options[0]}"] = "2"
    r = client.post(url, data={"csrf": token, "question": k["ranking"]["id"], **ranks})
    assert r.status_code == 422 and "même rang" in r.text
    ranks[f"rank-{options[0]}"] = "1"
    r = client.post(url, data={"csrf": token, "question": k["ranking"]["id"], **ranks})
    assert "Merci" in r.text
    assert seance.answers() == 2
    # Changing the ranking is not offered, and refused if forced.
    assert f"edit={k['ranking']['id']}" not in r.text
    r = client.post(url, data={"csrf": token, "question": k["ranking"]["id"], **ranks})
    assert r.status_code == 409


def test_helper_enters_a_paper_scale(seance, client):
    scale = kinds(seance)["scale"]
    open_(seance, scale)
    page = client.get(f"/h/{seance.links['helper']}")
    r = client.post(f"/h/{seance.links['helper']}/answer", data={
        "csrf": csrf_of(page.text), "card": "7", "question": scale["id"], "value": "5"})
    assert "Bulletin 7 enregistré" in r.text
    assert results(seance, scale)["mean"] == 5


def test_quebec_wording_and_formats(client):
    page = client.get("/organiser/login", headers={"accept-language": "fr-CA"})
    assert 'lang="fr-CA"' in page.text and "Ouvrir une session" in page.text
    assert "Passer au contenu" in page.text
    from facilitation.i18n import Translator

    ca = Translator("fr-CA")
    assert ca.gettext("Send my answer") == "Envoyer ma réponse"  # from fr-FR
    assert ca.time("18:30").replace("\xa0", " ") == "18 h 30"
