"""Answers by SMS, through real HTTP posts shaped like SMS gateways' webhooks."""

import sqlite3

import httpx
import pytest

from tests.server import Server, free_port

SECRET = "gateway-secret-for-tests"
NUMBER = "+33 6 12 34 56 78"


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "sms.db", free_port(),
               env={"ECLAIR_SMS_SECRET": SECRET, "ECLAIR_SMS_NUMBER": "06 44 55 66 77"}).start()
    yield s
    s.stop()


def test_answers_by_sms(server):
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"/api/sessions/{server.code}"
    with httpx.Client(base_url=server.base, timeout=10) as http:
        def sms(body, sender=NUMBER, fields=("From", "Body"), secret=SECRET):
            return http.post(f"/sms/inbound?secret={secret}",
                             data={fields[0]: sender, fields[1]: body})

        assert sms("2", secret="wrong").status_code == 403
        screen = http.get(server.urls["screen"]).text
        assert "06 44 55 66 77" in screen and server.code in screen
        r = sms("2")  # the number is not known yet
        assert "ABCD 2" in r.text and r.status_code == 422
        r = sms(f"{server.code}")
        assert "Aucune question n'est ouverte" in r.text
        http.post(f"{api}/step", json={"position": 1}, headers=fac)
        question = http.get(f"{api}/state", headers=fac).json()["questions"][0]
        http.post(f"{api}/questions/{question['id']}/open", headers=fac)
        r = sms(f"{server.code.lower()} 9")
        assert r.status_code == 422 and "de 1 à 5" in r.text
        r = sms("B")  # the number is known now: no code needed; a letter works too
        assert r.status_code == 200 and "Merci, votre réponse est enregistrée" in r.text
        r = sms("3")
        assert r.status_code == 422 and "déjà répondu" in r.text
        # Another gateway's field names, another person.
        r = sms(f"{server.code} 2", sender="+33700000000", fields=("msisdn", "text"))
        assert r.status_code == 200
        assert sms("ZZZZZ 1").text.startswith("Aucune séance n'a ce code")
        results = http.get(f"{api}/questions/{question['id']}/results", headers=fac).json()
    assert results["n"] == 2
    assert [c["count"] for c in results["choices"]][:2] == [0, 2]
    # The number is stored nowhere in clear; the channel is "sms".
    with sqlite3.connect(server.db) as db:
        dump = "\n".join(db.iterdump())
        channels = db.execute("SELECT channel, count(*) FROM participants GROUP BY channel"
                              ).fetchall()
    for form in (NUMBER, "612345678", "+33612345678", "700000000"):
        assert form not in dump
    assert ("sms", 2) in channels


def test_sms_webhook_is_off_without_a_secret(tmp_path):
    s = Server(tmp_path / "off.db", free_port()).start()
    try:
        r = httpx.post(f"{s.base}/sms/inbound?secret=", data={"From": NUMBER, "Body": "1"})
        assert r.status_code == 404
    finally:
        s.stop()


def test_reading_messages():
    from facilitation import sms
    from facilitation.polls import Choice, Question, Settings

    assert sms.parse("ACEF 2").code == "ACEF"
    assert sms.parse("  ACEF3   b ") == sms.Message("ACEF3", "b")
    assert sms.parse("2") == sms.Message(None, "2")
    with pytest.raises(sms.SmsError):
        sms.parse("   ")
    question = Question(1, 1, "multiple", "?", (Choice(10, "a"), Choice(11, "b"),
                                                  Choice(12, "c")), max_choices=2, state="open")
    assert sms.choices_of(question, "1, c") == [10, 12]
    for bad in ("4", "d", "x1"):
        with pytest.raises(sms.SmsError):
            sms.choices_of(question, bad)
    scale = Question(2, 1, "scale", "?", (), state="open", settings=Settings(scale_min=0,
                                                                            scale_max=10))
    assert sms.choices_of(scale, "7") == 7
    with pytest.raises(sms.SmsError):
        sms.choices_of(scale, "7 8")
    assert sms.number_hash("k", "+33 6 12") == sms.number_hash("k", "+33612")
    assert sms.number_hash("k", "+33612") != sms.number_hash("other", "+33612")
