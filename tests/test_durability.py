"""An acknowledged answer survives kill -9; the séance resumes where it was."""

import httpx

from tests.server import Server, free_port


def test_acknowledged_answers_survive_sigkill(tmp_path):
    db = tmp_path / "durable.db"
    server = Server(db, free_port()).start()
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    try:
        with httpx.Client(base_url=server.base, timeout=10) as http:
            http.post(f"/api/sessions/{server.code}/step", json={"move": "next"}, headers=fac)
            state = http.get(f"/api/sessions/{server.code}/state", headers=fac).json()
            question = state["questions"][1]
            http.post(f"/api/sessions/{server.code}/questions/{question['id']}/open", headers=fac)
            acknowledged = []
            for i in range(25):
                token = http.post("/api/sessions/join", json={"code": server.code}).json()["token"]
                r = http.post(f"/api/sessions/{server.code}/questions/{question['id']}/answers",
                              json={"choices": [question["choices"][i % 4]["id"]]},
                              headers={"authorization": f"Bearer {token}"})
                assert r.status_code == 201
                acknowledged.append(i % 4)
        server.kill9()  # no shutdown, no flush: only what was committed survives
    finally:
        server.stop()

    again = Server(db, server.port).start()  # same file, same port
    try:
        with httpx.Client(base_url=again.base, timeout=10) as http:
            state = http.get(f"/api/sessions/{again.code}/state", headers=fac).json()
            assert state["step"]["kind"] == "poll"
            assert state["open_questions"] == [question["id"]]
            results = http.get(
                f"/api/sessions/{again.code}/questions/{question['id']}/results",
                headers=fac).json()
    finally:
        again.stop()
    assert again.code == server.code  # the demo is not imported twice
    assert results["n"] == 25
    assert [c["count"] for c in results["choices"][:4]] == [
        acknowledged.count(k) for k in range(4)]
