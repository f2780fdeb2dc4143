"""The facilitator sees when joins exceed their headcount and can exclude a participant:
their answers, proposals and votes leave the live results, the projector and the report;
each exclusion is audited; including them again restores everything."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from facilitation.app import create_app
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import report as qr
from facilitation.store import votes as qv
from tests.conftest import csrf_of, fac, go


def join(seance) -> tuple[int, dict]:
    body = seance.client.post("/api/sessions/join", json={"code": seance.code}).json()
    return body["participant_id"], {"authorization": f"Bearer {body['token']}"}


def exclude(seance, *ids: int, action: str = "exclude", **extra: str):
    base = f"/f/{seance.links['facilitator']}"
    token = csrf_of(seance.client.get(base).text)
    return seance.client.post(f"{base}/participants", data={
        "csrf": token, "action": action, "participant": [str(i) for i in ids], **extra})


def results(seance, question) -> dict:
    return seance.client.get(
        f"/api/sessions/{seance.code}/questions/{question['id']}/results",
        headers=fac(seance)).json()


def audit(seance) -> list[tuple]:
    client = seance.client
    rows = client.portal.call(client.app.state.db.fetchall,
                              "SELECT participant_id, action, who FROM participant_audit"
                              " ORDER BY id", ())
    return [tuple(row) for row in rows]


def test_excluded_answers_leave_the_results_the_projector_and_the_report(seance, client):
    question = seance.questions[0]
    seance.facilitator_post("/step", position=str(seance.poll_position))
    seance.open(0)
    people = [join(seance) for _ in range(3)]
    url = f"/api/sessions/{seance.code}/questions/{question['id']}/answers"
    for (_pid, who), choice in zip(people, [0, 0, 1], strict=True):
        body = {"choices": [question["choices"][choice]]}
        assert client.post(url, json=body, headers=who).status_code == 201
    before = results(seance, question)
    assert before["n"] == 3 and [c["count"] for c in before["choices"][:2]] == [2, 1]

    r = exclude(seance, people[2][0])
    assert r.status_code == 200 and "1 participant·e exclu·e : ses envois ne comptent plus." \
        in r.text
    after = results(seance, question)
    assert after["n"] == 2 and [c["count"] for c in after["choices"][:2]] == [2, 0]
    assert after["channels"] == {"phone": 2}
    assert "n = 2" in client.get(f"/screen/{seance.links['screen']}").text
    report = seance.call(qr.build, seance.id)
    assert report.polls[0].results.n == 2 and report.presence.joined == 2
    assert audit(seance) == [(people[2][0], "exclude", "facilitator")]
    # Kept, and said to be excluded, in the raw data.
    raw = seance.call(qr.raw_data, seance.id)
    assert len(raw["answers"]) == 3
    assert [p["excluded_at"] is not None for p in raw["participants"]] == [False, False, True]
    # After a restart, read again from the database: still excluded.
    settings = client.app.state.settings
    with TestClient(create_app(settings)) as again:
        r = again.get(f"/api/sessions/{seance.code}/questions/{question['id']}/results",
                      headers=fac(seance))
        assert r.json()["n"] == 2

    r = exclude(seance, people[2][0], action="include")
    assert "1 participant·e réintégré·e" in r.text
    assert results(seance, question) == before
    assert seance.call(qr.build, seance.id).polls[0].results.n == 3
    assert audit(seance)[-1] == (people[2][0], "include", "facilitator")


def test_excluded_proposals_and_votes_leave_the_wall_and_the_vote(seance, client):
    go(seance, "proposals")
    (_honest, honest_who), (flood, flood_who) = join(seance), join(seance)
    url = f"/api/sessions/{seance.code}/proposals"
    kept = client.post(url, json={"text": "une permanence le mardi"}, headers=honest_who)
    spam = client.post(url, json={"text": "publicité"}, headers=flood_who)
    assert kept.status_code == spam.status_code == 201
    go(seance, "vote")
    seance.facilitator_post("/vote/open")
    votes = f"/api/sessions/{seance.code}/votes"
    voters = [join(seance)[1] for _ in range(5)]
    for who in [*voters, flood_who]:
        r = client.post(votes, json={"item_id": kept.json()["id"], "value": "agree"},
                        headers=who)
        assert r.status_code == 201
    state = seance.call(q.get_state, seance.id)
    assert seance.call(qv.results_of, seance.id, state.step).voters == 6

    exclude(seance, flood)
    texts = [p.text for p in seance.call(qp.list_proposals, seance.id)]
    assert texts == ["une permanence le mardi"]
    vote = seance.call(qv.results_of, seance.id, state.step)
    assert vote.voters == 5 and [row.item.text for row in vote.rows] == [texts[0]]
    items = client.get(f"/api/sessions/{seance.code}/state", headers=honest_who).json()
    assert [i["text"] for i in items["vote"]["items"]] == texts  # the phones' ballot too
    assert "publicité" not in client.get(f"/screen/{seance.links['screen']}").text

    exclude(seance, flood, action="include")
    assert len(seance.call(qp.list_proposals, seance.id)) == 2
    assert seance.call(qv.results_of, seance.id, state.step).voters == 6


def test_the_facilitator_sees_joins_beyond_the_headcount(seance, client):
    seance.facilitator_post("/headcount", headcount="2")
    ids = [join(seance)[0] for _ in range(3)]
    page = client.get(f"/f/{seance.links['facilitator']}").text
    warning = "3 personnes ont rejoint la séance : plus que les 2 comptées dans la salle."
    assert warning in page and 'href="#exclusion"' in page
    assert re.search(r'<details open>\s*<summary>Qui a rejoint la séance', page)
    # Each person is a labelled checkbox; the excluded are listed apart, to include again.
    assert len(re.findall(r'<label class="choice"><input type="checkbox" name="participant"',
                          page)) == 3
    page = exclude(seance, ids[0]).text
    assert warning not in page and "2 personnes présentes" in page
    assert "Réintégrer les personnes cochées" in page
    english = client.get(f"/f/{seance.links['facilitator']}",
                         headers={"accept-language": "en"}).text
    assert "1 participant excluded" in english or "1 participant·e" in english


def test_everyone_who_joined_in_one_minute_is_excluded_at_once(seance, client):
    ids = [join(seance)[0] for _ in range(12)]
    page = client.get(f"/f/{seance.links['facilitator']}").text
    minute = re.search(r'name="minute" value="([^"]+)"', page).group(1)
    assert "Exclure les 12 personnes arrivées à" in page
    r = exclude(seance, action="exclude", minute=minute)
    assert "12 participant·es exclu·es" in r.text
    assert seance.call(q.presence, seance.id).joined == 0
    assert sorted(pid for pid, action, _who in audit(seance)) == ids
    r = exclude(seance, action="include", minute=minute)
    assert seance.call(q.presence, seance.id).joined == 12


def test_exclusion_is_a_plain_form_with_csrf_and_a_closed_seance_is_final(seance, client):
    pid, _who = join(seance)
    base = f"/f/{seance.links['facilitator']}"
    r = client.post(f"{base}/participants", data={"action": "exclude", "participant": str(pid)})
    assert r.status_code == 403
    assert exclude(seance, pid, action="maybe").status_code == 422
    seance.call(close_seance, seance.id)
    r = exclude(seance, pid)
    assert r.status_code == 409 and audit(seance) == []


async def close_seance(db, session_id):
    def op(conn):
        conn.execute("UPDATE sessions SET closed_at = '2026-01-01T00:00:00+00:00'"
                     " WHERE id = ?", (session_id,))

    await db.write(op)


def test_a_participant_number_int_cannot_read_changes_nothing(seance, client):
    # "²".isdigit() is True and int("²") raised: a 500 (as on the other forms, issue 15).
    seance.join(name="Awa")
    response = seance.facilitator_post("/participants", action="exclude", participant="²")
    assert response.status_code == 200
    assert client.get(f"/f/{seance.links['facilitator']}?excluded=²").status_code == 200
