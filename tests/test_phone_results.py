"""Phones may see a question's results once it is closed, if the facilitator chose so for
that question; otherwise they wait, as before."""

from __future__ import annotations

from tests.conftest import csrf_of, go


def test_phones_see_the_results_of_a_closed_question_only_when_chosen(seance, client):
    go(seance, "poll")
    seance.open(0)
    question = seance.questions[0]
    api = f"/api/sessions/{seance.code}"
    for choice in (0, 0, 1):
        token = client.post("/api/sessions/join", json={"code": seance.code}).json()["token"]
        r = client.post(f"{api}/questions/{question['id']}/answers",
                        json={"choices": [question["choices"][choice]]},
                        headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 201
    seance.join()  # this client's own phone
    seance.close(0)
    page = client.get(f"/s/{seance.code}").text
    assert "Voici ce que la salle a répondu" not in page and "n = 3" not in page

    r = seance.facilitator_post(f"/questions/{question['id']}/phones", show="1")
    assert r.status_code == 200
    page = client.get(f"/s/{seance.code}").text
    assert "La question est fermée. Voici ce que la salle a répondu." in page
    assert "n = 3 répondant·es" in page and "<strong>2</strong> (67" in page
    # Another question opens: phones answer it; the results are gone.
    seance.open(1)
    page = client.get(f"/s/{seance.code}").text
    assert "Voici ce que la salle a répondu" not in page
    # Turned on, then off again, for the question now closed on the projector.
    seance.close(1)
    second = seance.questions[1]
    f = f"/f/{seance.links['facilitator']}"
    for show, shown in (("1", True), ("0", False)):
        r = client.post(f"{f}/questions/{second['id']}/phones",
                        data={"csrf": csrf_of(client.get(f).text), "show": show})
        assert r.status_code == 200
        page = client.get(f"/s/{seance.code}").text
        assert ("Voici ce que la salle a répondu" in page) is shown
