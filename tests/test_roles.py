"""Each role reaches only its own pages and actions; CSRF; security headers."""

import re

import pytest
from starlette.testclient import TestClient

from facilitation.store import queries as q
from tests.conftest import csrf_of


def test_each_secret_link_opens_only_its_own_page(seance):
    c = seance.client
    pages = {"facilitator": "/f/{}", "screen": "/screen/{}", "helper": "/h/{}"}
    for role, pattern in pages.items():
        own = c.get(pattern.format(seance.links[role]))
        assert own.status_code == 200, role
        assert seance.code in own.text
        for other, token in seance.links.items():
            if other != role:
                assert c.get(pattern.format(token)).status_code == 404, (role, other)
        assert c.get(pattern.format("not-a-token")).status_code == 404
        assert c.get(pattern.format("x" * 500)).status_code == 404


def test_facilitator_actions_need_the_facilitator_link(seance):
    c = seance.client
    page = c.get(f"/f/{seance.links['facilitator']}")
    token = csrf_of(page.text)
    qid = seance.questions[0]["id"]
    for role in ("screen", "helper"):
        r = c.post(f"/f/{seance.links[role]}/questions/{qid}/open", data={"csrf": token})
        assert r.status_code == 404
        r = c.post(f"/f/{seance.links[role]}/step", data={"csrf": token, "move": "next"})
        assert r.status_code == 404
    state = seance.call(q.get_state, seance.id)
    assert state.seance.current_step == 0 and not state.open_questions


def test_a_participant_cannot_reach_other_roles(seance):
    c = seance.client
    seance.join()
    participant_cookie = c.cookies.get(f"eclair_p_{seance.code}")
    for path in (f"/f/{participant_cookie}", f"/h/{participant_cookie}",
                 f"/screen/{participant_cookie}", "/organiser"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code in (303, 404), path
        if r.status_code == 303:
            assert r.headers["location"].endswith("/organiser/login")


def test_participant_page_needs_joining_this_seance(seance, client):
    r = client.get(f"/s/{seance.code}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"/j/{seance.code}")
    seance.join()
    second = seance.call(q.list_sessions, 1)[1]
    r = client.get(f"/s/{second.code}", follow_redirects=False)
    assert r.status_code == 303  # joined the first séance, not the second


def test_revoked_links_stop_working(seance, organiser):
    c = organiser
    old = seance.links["facilitator"]
    page = c.get("/organiser/workshops/1")
    r = c.post(f"/organiser/sessions/{seance.id}/links/facilitator",
               data={"csrf": csrf_of(page.text)})
    assert r.status_code == 200
    new = seance.call(q.active_links, seance.id)["facilitator"]
    assert new != old and new in r.text
    assert c.get(f"/f/{old}").status_code == 404
    assert c.get(f"/f/{new}").status_code == 200


def test_organiser_pages_need_login(seance, client):
    for path in ("/organiser", "/organiser/workshops/1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].endswith("/organiser/login")
    page = client.get("/organiser/login")
    token = csrf_of(page.text)
    for path in ("/organiser/workshops", "/organiser/import", "/organiser/workshops/1/sessions",
                 f"/organiser/sessions/{seance.id}/links/facilitator"):
        r = client.post(path, data={"csrf": token, "title": "X", "bundled": "demo.toml"},
                        follow_redirects=False)
        assert r.status_code == 303, path
    assert seance.call(q.list_workshops)[0][1] == 2  # nothing created
    assert len(seance.call(q.list_workshops)) == 1
    assert seance.call(q.active_links, seance.id)["facilitator"] == seance.links["facilitator"]


def test_wrong_password(client):
    """Throttling has its own tests (test_login.py): it never refuses the right password
    because of someone else's failures."""
    from facilitation import security

    client.portal.call(q.upsert_organiser, client.app.state.db, "orga",
                       security.hash_password("right password"))
    token = csrf_of(client.get("/organiser/login").text)
    for _ in range(5):
        r = client.post("/organiser/login", data={"csrf": token, "username": "orga",
                                                  "password": "nope"})
        assert r.status_code == 401 and "Nom ou mot de passe incorrect" in r.text
    r = client.post("/organiser/login", data={"csrf": token, "username": "orga",
                                              "password": "right password"})
    assert r.status_code == 200 and r.url.path == "/organiser"


POSTS = [
    "/", "/j/{code}", "/s/{code}/answer", "/f/{facilitator}/step",
    "/f/{facilitator}/questions/{qid}/open", "/screen/{screen}/step", "/h/{helper}/answer",
    "/organiser/login", "/organiser/logout", "/organiser/workshops", "/organiser/import",
    "/organiser/workshops/1/sessions", "/organiser/sessions/1/links/helper",
]


@pytest.mark.parametrize("path", POSTS)
def test_every_form_refuses_a_missing_or_wrong_csrf_token(seance, organiser, path):
    c: TestClient = organiser
    seance.join()
    url = path.format(code=seance.code, qid=seance.questions[0]["id"], **seance.links)
    before = (seance.participants(), seance.answers(), seance.call(q.get_state, seance.id),
              seance.call(q.list_workshops), seance.call(q.active_links, seance.id))
    for data, headers in (({}, {}), ({"csrf": "forged"}, {}), ({}, {"x-csrf-token": "forged"})):
        r = c.post(url, data={**data, "move": "next", "title": "T", "code": seance.code,
                              "language": "fr-FR", "bundled": "demo.toml", "card": "1",
                              "question": str(seance.questions[0]["id"]),
                              "choice": str(seance.questions[0]["choices"][0])},
                   headers=headers, follow_redirects=False)
        assert r.status_code == 403, (path, data)
        assert "Cette page était trop ancienne" in r.text
    after = (seance.participants(), seance.answers(), seance.call(q.get_state, seance.id),
             seance.call(q.list_workshops), seance.call(q.active_links, seance.id))
    assert after == before


def test_security_headers_and_no_inline_script(seance):
    c = seance.client
    seance.join()
    for path in ("/", f"/s/{seance.code}", f"/f/{seance.links['facilitator']}",
                 f"/screen/{seance.links['screen']}", f"/h/{seance.links['helper']}",
                 "/organiser/login", "/nope"):
        r = c.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        # Only the projector may be framed, and only by Éclair (the facilitator's preview).
        framed = path.startswith("/screen/")
        assert r.headers["x-frame-options"] == ("SAMEORIGIN" if framed else "DENY")
        assert ("frame-ancestors 'self'" if framed else "frame-ancestors 'none'") in csp
        assert r.headers["referrer-policy"] == "no-referrer"
        for tag in re.findall(r"<script[^>]*>", r.text):
            assert "src=" in tag, (path, tag)
        assert " on" not in " ".join(re.findall(r"<[^>]+ on[a-z]+=", r.text)), path


def test_open_redirects_are_refused(client):
    for target in ("//evil.example", "https://evil.example", "/\\evil.example"):
        r = client.get("/prefs", params={"lang": "en", "next": target}, follow_redirects=False)
        assert r.headers["location"] == "/", target
