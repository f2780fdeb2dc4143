"""A closed séance is read-only: its report is final. Every channel is refused and nothing
changes: phone page, JSON API, helper, SMS, the facilitator's controls and the clicker."""

from starlette.testclient import TestClient

from facilitation.app import create_app
from tests.conftest import csrf_of, fac, make_settings

SECRET = "sms-secret-for-tests"


def test_a_closed_seance_refuses_every_write(seance, client):
    api = f"/api/sessions/{seance.code}"
    question = seance.questions[0]
    client.post(f"{api}/step", json={"position": seance.poll_position}, headers=fac(seance))
    seance.open(0)
    token = client.post("/api/sessions/join", json={"code": seance.code}).json()["token"]
    me = {"authorization": f"Bearer {token}"}
    assert client.post(f"{api}/questions/{question['id']}/answers", headers=me,
                       json={"choices": [question["choices"][0]]}).status_code == 201
    seance.join()  # this client is also a phone
    f = f"/f/{seance.links['facilitator']}"
    r = client.post(f"{f}/close", data={"csrf": csrf_of(client.get(f).text),
                                         "title": "Séance suivante"})
    assert r.status_code == 200
    before = client.get(f"{api}/questions/{question['id']}/results", headers=fac(seance)).json()
    step = client.get(f"{api}/state", headers=fac(seance)).json()["step"]

    # The JSON API: answers, proposals, votes, steps, reopening.
    r = client.post(f"{api}/questions/{question['id']}/answers", headers=me,
                    json={"choices": [question["choices"][1]]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "session_closed"
    assert "close" in r.json()["error"]["message"]  # "… est close …" in the user's language
    assert client.post(f"{api}/proposals", headers=me, json={"text": "Encore une idée"}
                       ).json()["error"]["code"] == "session_closed"
    assert client.post(f"{api}/votes", headers=me, json={"item_id": 1, "value": "agree"}
                       ).status_code == 409
    for path in ("/step", f"/questions/{question['id']}/close",
                 f"/questions/{seance.questions[1]['id']}/open"):
        r = client.post(api + path, json={"move": "next"}, headers=fac(seance))
        assert r.status_code == 409, path
    # The phone page: no form to answer; sending anyway is refused in plain words.
    page = client.get(f"/s/{seance.code}")
    assert "Cette séance est close" in page.text and 'name="choice"' not in page.text
    r = client.post(f"/s/{seance.code}/answer", data={  # a form kept from before the close
        "csrf": client.cookies["eclair_csrf"], "question": str(question["id"]),
        "choice": str(question["choices"][1])})
    assert r.status_code == 409 and "Cette séance est close" in r.text
    # The helper's paper cards and proposals.
    h = f"/h/{seance.links['helper']}"
    page = client.get(h).text  # the helper page offers no form any more
    assert "Cette séance est close" in page and 'name="card"' not in page
    helper_csrf = client.cookies["eclair_csrf"]
    r = client.post(f"{h}/answer", data={"csrf": helper_csrf, "card": "3",
                                          "question": str(question["id"]),
                                          "choice": str(question["choices"][1])})
    assert r.status_code == 409 and "close" in r.text
    r = client.post(f"{h}/propose", data={"csrf": helper_csrf, "text": "Une idée papier"})
    assert r.status_code == 409
    r = client.post(f"{h}/card", data={"csrf": helper_csrf, "card": "4",
                                        f"q{question['id']}-choice": str(question["choices"][1])})
    assert r.status_code == 409 and "close" in r.text
    # The facilitator: no reopening, no moving, no spoken proposal; the clicker stays.
    facilitator_csrf = csrf_of(client.get(f).text)
    for path, data in ((f"/questions/{question['id']}/close", {}), ("/step", {"move": "next"}),
                       ("/walk", {"move": "next"}),
                       ("/walk", {"move": "next", "question": str(question["id"])}),
                       ("/proposals", {"text": "Dit à voix haute"})):
        r = client.post(f + path, data={"csrf": facilitator_csrf, **data})
        assert r.status_code == 409, path
    screen = f"/screen/{seance.links['screen']}"
    client.get(screen)
    r = client.post(f"{screen}/step", data={"csrf": client.cookies["eclair_csrf"],
                                             "move": "next"})
    assert r.status_code == 409
    # Nothing changed.
    assert client.get(f"{api}/questions/{question['id']}/results",
                      headers=fac(seance)).json() == before
    assert client.get(f"{api}/state", headers=fac(seance)).json()["step"] == step
    rows = client.portal.call(client.app.state.db.fetchall,
                              "SELECT count(*) AS n FROM proposals", ())
    assert rows[0]["n"] == 0


def test_sms_to_a_closed_seance_is_refused(tmp_path):
    settings = make_settings(tmp_path, sms_secret=SECRET)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        from facilitation import plans
        from facilitation.store import queries as q
        from tests.conftest import DEMO

        db = client.app.state.db
        workshop = client.portal.call(q.create_workshop, db, plans.parse_plan(DEMO.read_bytes()))
        first = client.portal.call(q.list_sessions, db, workshop)[0]
        links = client.portal.call(q.active_links, db, first.id)
        head = {"authorization": f"Bearer {links['facilitator']}"}
        api = f"/api/sessions/{first.code}"
        state = client.post(f"{api}/step", json={"move": "next"}, headers=head).json()
        question = state["questions"][0]
        client.post(f"{api}/questions/{question['id']}/open", headers=head)
        f = f"/f/{links['facilitator']}"
        client.post(f"{f}/close", data={"csrf": csrf_of(client.get(f).text), "title": "Suite"})
        r = client.post(f"/sms/inbound?secret={SECRET}",
                        data={"From": "+33600000000", "Body": f"{first.code} 1"})
        assert "close" in r.text and "enregistrée" not in r.text
        results = client.get(f"{api}/questions/{question['id']}/results", headers=head).json()
        assert results["n"] == 0
