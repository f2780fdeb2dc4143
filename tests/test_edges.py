"""The edges a hostile client or a bad network reaches: deep JSON, wrong methods, logs
without addresses or secrets, HSTS, no-store on downloads, revoked links closing their
WebSockets, SMS in one transaction, and the phone-number key kept out of the database."""

import json
import socket
import sqlite3
import stat
import time

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from facilitation.app import create_app
from facilitation.store import queries as q
from tests.conftest import csrf_of, make_settings
from tests.server import Server, free_port

SMS_SECRET = "gateway-secret-for-edges"


def test_deep_or_malformed_json_is_a_clear_400(seance, client):
    deep = "[" * 1000 + "]" * 1000  # 2 KB: a 500 with a 60-line traceback on every endpoint
    nested = json.dumps({"code": seance.code, "name": {"a": {"b": {"c": {"d": {"e": {
        "f": {"g": {"h": {"i": 1}}}}}}}}}})
    token = client.post("/api/sessions/join", json={"code": seance.code}).json()["token"]
    for body in (deep, '{"code": ' + deep + "}", nested, '{"code": "AB', "\x00", "[1, 2]"):
        for path in ("/api/sessions/join", f"/api/sessions/{seance.code}/votes",
                     f"/api/sessions/{seance.code}/proposals"):
            r = client.post(path, content=body.encode(), headers={
                "content-type": "application/json", "accept-language": "fr-FR",
                "authorization": f"Bearer {token}"})
            assert r.status_code in (400, 422), (path, body[:20], r.status_code)
            assert r.json()["error"]["message"]
    r = client.post("/api/sessions/join", content=deep.encode())
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_json"
    assert seance.participants() == 1  # nothing changed


def test_a_wrong_method_says_so_with_allow(seance, client):
    r = client.delete("/api/sessions/join", headers={"accept-language": "fr-FR"})
    assert r.status_code == 405 and "POST" in r.headers["allow"]
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert "de notre côté" not in r.json()["error"]["message"]
    page = client.put(f"/f/{seance.links['facilitator']}/report")
    assert page.status_code == 405 and "GET" in page.headers["allow"]
    heading = page.text.split("<h1>")[1].split("</h1>")[0]
    assert heading == "Cette adresse ne s'utilise pas ainsi"  # not "… de notre côté"


def test_openapi_lists_every_language(client):
    spec = client.get("/api/openapi.json").json()
    join = spec["paths"]["/api/sessions/join"]["post"]
    schema = join["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["language"]["enum"] == ["fr-FR", "fr-CA", "en"]


def test_downloads_are_not_stored_and_hsts_only_behind_https(seance, client, tmp_path):
    base = f"/f/{seance.links['facilitator']}"
    for path in (f"{base}/report/md", f"{base}/report/json", f"{base}/report/zip"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = client.get(base)
    assert "strict-transport-security" not in page.headers
    with TestClient(create_app(make_settings(tmp_path / "s", secure_cookies=True))) as https:
        assert https.get("/healthz").headers["strict-transport-security"].startswith(
            "max-age=")


def test_revoking_a_link_closes_its_open_websockets(seance, organiser):
    c = organiser
    old = seance.links["screen"]
    with c.websocket_connect(f"/screen/{old}/ws", headers={"origin": "http://testserver"}
                             ) as ws:
        assert ws.receive_text()  # the projector's first picture
        page = c.get("/organiser/workshops/1")
        r = c.post(f"/organiser/sessions/{seance.id}/links/screen",
                   data={"csrf": csrf_of(page.text)})
        assert r.status_code == 200
        c.post(f"/api/sessions/{seance.code}/step", json={"position": 1},
               headers={"authorization": f"Bearer {seance.links['facilitator']}"})
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(5):  # whatever was queued before, then the close
                ws.receive_text()
        assert closed.value.code == 1008
    with pytest.raises(WebSocketDisconnect), c.websocket_connect(f"/screen/{old}/ws") as ws:
        ws.receive_text()  # the old link opens nothing any more


@pytest.fixture
def sms_client(tmp_path):
    settings = make_settings(tmp_path, sms_secret=SMS_SECRET)
    with TestClient(create_app(settings), base_url="http://testserver") as c:
        yield c


def test_an_sms_person_and_their_answer_are_one_transaction(sms_client, monkeypatch):
    """A kill between the two commits left a person "present" with no answer."""
    from facilitation import actions
    from facilitation.store import crowd

    c = sms_client
    import facilitation.plans as plans
    from tests.conftest import DEMO

    db = c.app.state.db
    workshop = c.portal.call(q.create_workshop, db, plans.parse_plan(DEMO.read_bytes()))
    seance = c.portal.call(q.list_sessions, db, workshop)[0]
    links = c.portal.call(q.active_links, db, seance.id)
    fac = {"authorization": f"Bearer {links['facilitator']}"}
    api = f"/api/sessions/{seance.code}"
    c.post(f"{api}/step", json={"position": 1}, headers=fac)
    question = c.get(f"{api}/state", headers=fac).json()["questions"][0]
    c.post(f"{api}/questions/{question['id']}/open", headers=fac)
    real = crowd.save_answer

    def failing(*args, **kwargs):
        op = real(*args, **kwargs)

        def boom(conn):
            op(conn)
            raise RuntimeError("the server died here")
        return boom

    monkeypatch.setattr(actions.sc, "save_answer", failing)
    with pytest.raises(RuntimeError):
        c.post(f"/sms/inbound?secret={SMS_SECRET}",
               data={"From": "+33611111111", "Body": f"{seance.code} 2"})
    count = c.portal.call(db.fetchone, "SELECT count(*) AS n FROM participants", ())
    assert count["n"] == 0  # no person without their answer
    monkeypatch.setattr(actions.sc, "save_answer", real)
    r = c.post(f"/sms/inbound?secret={SMS_SECRET}",
               data={"From": "+33611111111", "Body": f"{seance.code} 2"})
    assert r.status_code == 200
    count = c.portal.call(db.fetchone, "SELECT count(*) AS n FROM participants", ())
    assert count["n"] == 1


def test_the_phone_number_key_is_kept_outside_the_database(sms_client, tmp_path,
                                                           monkeypatch):
    from facilitation import sms
    from facilitation.settings import Settings

    key = sms_client.app.state.phone_key
    path = tmp_path / "eclair.db.phone-key"
    assert path.read_text().strip() == key and len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(tmp_path / "eclair.db") as db:
        dump = "\n".join(db.iterdump())
    assert key not in dump
    # The same key after a restart; the environment's when it gives one.
    assert Settings(db_path=tmp_path / "eclair.db").load_phone_key() == key
    monkeypatch.setenv("ECLAIR_PHONE_KEY", "from-the-environment-" + "k" * 20)
    settings = Settings.from_env(db_path=tmp_path / "eclair.db")
    assert settings.load_phone_key().startswith("from-the-environment-")
    assert sms.number_hash(key, "0611") != sms.number_hash(settings.load_phone_key(), "0611")


def test_logs_hold_no_address_no_secret_and_one_line_for_a_client_gone(tmp_path):
    import websockets.sync.client

    server = Server(tmp_path / "logs.db", free_port()).start()
    try:
        screen = server.token("screen")
        with websockets.sync.client.connect(f"ws://127.0.0.1:{server.port}/screen/{screen}/ws"
                                            ) as ws:
            ws.recv(timeout=5)
        # A phone that hangs up in the middle of sending a form.
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.sendall(f"POST /j/{server.code} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\n"
                        "Content-Length: 5000\r\n\r\nname=abc".encode())
            time.sleep(0.3)
        with httpx.Client(base_url=server.base) as http:
            http.get(f"/f/{server.token('facilitator')}/nowhere")
        time.sleep(0.5)
    finally:
        server.stop()
    after_start = "".join(line for line in server.output
                          if "Uvicorn running on" not in line  # its own address
                          ).split("Application startup complete.")[-1]
    assert "127.0.0.1" not in after_start
    assert screen not in after_start and server.token("facilitator") not in after_start
    assert "Traceback" not in after_start
    assert after_start.count("client went away") <= 1
