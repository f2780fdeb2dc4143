"""The JSON API: the OpenAPI document, the séance flow, and bad input."""

import pytest

from facilitation.store.queries import get_state
from tests.conftest import Seance, fac


def join(seance: Seance, **body) -> str:
    response = seance.client.post("/api/sessions/join", json={"code": seance.code, **body})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def test_openapi_lists_the_operations(client):
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    operations = {op["operationId"] for path in doc["paths"].values() for op in path.values()}
    assert {"join_session", "get_session_state", "submit_answer", "get_results",
            "open_question", "close_question", "go_to_step", "submit_proposal",
            "submit_vote"} <= operations


def test_healthz(client):
    response = client.get("/healthz")
    assert response.json() == {"status": "ok"}


def test_full_flow_through_the_api(seance):
    c = seance.client
    token = join(seance, name="Lou", language="en")
    me = {"authorization": f"Bearer {token}"}
    state = c.get(f"/api/sessions/{seance.code}/state", headers=me).json()
    assert state["step"]["kind"] == "welcome" and state["open_questions"] == []
    assert state["presence"] == {"total": 1, "joined": 1, "headcount": None,
                                 "by_channel": {"phone": 1}}
    seance.facilitator_post("/headcount", headcount="12")
    presence = c.get(f"/api/sessions/{seance.code}/state", headers=me).json()["presence"]
    assert presence["total"] == 12 and presence["joined"] == 1 and presence["headcount"] == 12

    moved = c.post(f"/api/sessions/{seance.code}/step", json={"position": seance.poll_position},
                   headers=fac(seance)).json()
    assert moved["step"]["kind"] == "poll"
    question = seance.questions[1]  # multiple choice, max 3
    opened = c.post(f"/api/sessions/{seance.code}/questions/{question['id']}/open",
                    headers=fac(seance))
    assert opened.json()["state"] == "open"
    state = c.get(f"/api/sessions/{seance.code}/state", headers=me).json()
    assert state["open_questions"] == [question["id"]]

    url = f"/api/sessions/{seance.code}/questions/{question['id']}/answers"
    first = c.post(url, json={"choices": question["choices"][:2]}, headers=me)
    assert first.status_code == 201
    changed = c.post(url, json={"choices": [question["choices"][3]]}, headers=me)
    assert changed.status_code == 201
    results = c.get(f"/api/sessions/{seance.code}/questions/{question['id']}/results",
                    headers=me).json()
    assert results["n"] == 1 and results["channels"] == {"phone": 1}
    counts = {choice["id"]: choice["count"] for choice in results["choices"]}
    assert counts[question["choices"][3]] == 1 and sum(counts.values()) == 1

    closed = c.post(f"/api/sessions/{seance.code}/questions/{question['id']}/close",
                    headers=fac(seance))
    assert closed.json()["state"] == "closed"
    late = c.post(url, json={"choices": [question["choices"][0]]}, headers=me)
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "question_closed"
    assert "fermée" in late.json()["error"]["message"]  # French by default
    assert seance.answers() == 1


def test_errors_speak_the_callers_language(seance):
    response = seance.client.post("/api/sessions/join", json={"code": "ZZZZZ"},
                                  headers={"accept-language": "fr-FR"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Aucune séance n'a ce code."


@pytest.mark.parametrize("body, status", [
    ({"code": 12}, 422), ({"code": "ZZZZZ"}, 404), ({"code": None}, 422), ({}, 422),
    ({"code": "x" * 10_000}, 404), ({"code": "ABCD", "name": "n" * 41}, 422),
    ({"code": "ABCD", "language": "de"}, 422), ({"code": "ABCD", "name": ["x"]}, 422),
])
def test_join_refuses_bad_input(seance, body, status):
    before = seance.participants()
    body = {**body, "code": seance.code} if body.get("code") == "ABCD" else body
    response = seance.client.post("/api/sessions/join", json=body)
    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert seance.participants() == before


def test_malformed_and_huge_bodies_are_refused(seance):
    c = seance.client
    assert c.post("/api/sessions/join", content=b"{not json",
                  headers={"content-type": "application/json"}).status_code == 400
    assert c.post("/api/sessions/join", json=[1, 2]).status_code == 422
    assert c.post("/api/sessions/join", content=b"x" * 300_000).status_code == 413
    assert seance.participants() == 0


@pytest.mark.parametrize("choices, status", [
    ("x", 422), ([], 422), (["1"], 422), ([True], 422), ([999999], 422), (None, 422),
    ([1.5], 422),
])
def test_submit_answer_refuses_bad_choices(seance, choices, status):
    token = join(seance)
    seance.client.post(f"/api/sessions/{seance.code}/questions/{seance.questions[0]['id']}/open",
                       headers=fac(seance))
    response = seance.client.post(
        f"/api/sessions/{seance.code}/questions/{seance.questions[0]['id']}/answers",
        json={"choices": choices}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == status
    assert seance.answers() == 0


def test_too_many_choices_for_a_multiple_choice(seance):
    token = join(seance)
    q = seance.questions[1]
    seance.client.post(f"/api/sessions/{seance.code}/questions/{q['id']}/open", headers=fac(seance))
    response = seance.client.post(f"/api/sessions/{seance.code}/questions/{q['id']}/answers",
                                  json={"choices": q["choices"][:4]},
                                  headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 422 and "3" in response.json()["error"]["message"]
    assert seance.answers() == 0


def test_unknown_ids_and_tokens(seance):
    c = seance.client
    token = join(seance)
    me = {"authorization": f"Bearer {token}"}
    assert c.get("/api/sessions/ZZZZZ/state", headers=me).status_code == 404
    assert c.get(f"/api/sessions/{seance.code}/state").status_code == 401
    assert c.get(f"/api/sessions/{seance.code}/state",
                 headers={"authorization": "Bearer nope"}).status_code == 403
    for qid in ("999999", "abc", "1" * 40):
        r = c.post(f"/api/sessions/{seance.code}/questions/{qid}/answers",
                   json={"choices": [1]}, headers=me)
        assert r.status_code == 404, qid
    assert c.post(f"/api/sessions/{seance.code}/step", json={"position": "2"},
                  headers=fac(seance)).status_code == 422
    assert c.post(f"/api/sessions/{seance.code}/step", json={"move": "sideways"},
                  headers=fac(seance)).status_code == 422
    # A bad field is refused even beside a good one: it is not passed over.
    for body in ({"position": {"x": 1}, "move": "next"}, {"position": 1, "move": "up"},
                 {"position": None, "move": "next"}):
        assert c.post(f"/api/sessions/{seance.code}/step", json=body,
                      headers=fac(seance)).status_code == 422, body
    assert seance.call(get_state, seance.id).seance.current_step == 0


def test_participant_token_cannot_drive_the_seance(seance):
    token = join(seance)
    me = {"authorization": f"Bearer {token}"}
    q = seance.questions[0]["id"]
    for path in (f"/questions/{q}/open", f"/questions/{q}/close", "/step"):
        response = seance.client.post(f"/api/sessions/{seance.code}{path}", json={"move": "next"},
                                      headers=me)
        assert response.status_code == 403, path
    state = seance.client.get(f"/api/sessions/{seance.code}/state", headers=me).json()
    assert state["step"]["position"] == 0 and state["open_questions"] == []


def test_facilitator_secret_works_for_its_own_seance_only(seance):
    c = seance.client
    other = c.post("/api/sessions/join", json={"code": seance.code})
    assert other.status_code == 201
    # The second séance of the demo has its own links.
    from facilitation.store import queries as q

    sessions = seance.call(q.list_sessions, 1)
    second = sessions[1]
    response = c.post(f"/api/sessions/{second.code}/step", json={"move": "next"},
                      headers=fac(seance))
    assert response.status_code == 403
    assert seance.call(q.get_session, second.id).current_step == 0
    # A helper or projector secret is not a facilitator secret either.
    for role in ("helper", "screen"):
        r = c.post(f"/api/sessions/{seance.code}/step", json={"move": "next"},
                   headers={"authorization": f"Bearer {seance.links[role]}"})
        assert r.status_code == 403
