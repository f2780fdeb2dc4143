"""Proposals and themes over HTTP: who may do what, and what each action changes."""

import re

import pytest

from facilitation.store import proposals as qp
from facilitation.store import queries as q
from tests.conftest import csrf_of, fac, go


def proposals(seance):
    return seance.call(qp.list_proposals, seance.id)


def test_submit_proposal_through_the_api(seance):
    c = seance.client
    token = c.post("/api/sessions/join", json={"code": seance.code}).json()["token"]
    me = {"authorization": f"Bearer {token}"}
    url = f"/api/sessions/{seance.code}/proposals"
    r = c.post(url, json={"text": "des navettes"}, headers=me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "proposals_closed"
    go(seance, "proposals")
    for body in ({}, {"text": ""}, {"text": 12}, {"text": "x" * 281}):
        assert c.post(url, json=body, headers=me).status_code == 422
    for i in range(3):  # the demo allows 3 per person
        assert c.post(url, json={"text": f"idée {i}"}, headers=me).status_code == 201
    r = c.post(url, json={"text": "une de trop"}, headers=me)
    assert r.status_code == 409 and "limite de 3" in r.json()["error"]["message"]
    assert c.post(url, json={"text": "x"}).status_code == 401
    assert c.post(url, json={"text": "x"}, headers=fac(seance)).status_code == 403
    assert [p.text for p in proposals(seance)] == ["idée 0", "idée 1", "idée 2"]
    assert {p.channel for p in proposals(seance)} == {"phone"}


def test_participant_proposes_from_the_phone_with_their_table(seance, client):
    page = client.get(f"/j/{seance.code}")
    assert "Votre table" in page.text
    groups = seance.call(qp.list_subgroups, seance.id)
    r = client.post(f"/j/{seance.code}", data={"csrf": csrf_of(page.text), "language": "fr-FR",
                                               "subgroup": "999999"})
    assert r.status_code == 422 and "Choisissez votre table" in r.text
    r = client.post(f"/j/{seance.code}", data={"csrf": csrf_of(page.text), "language": "fr-FR",
                                               "subgroup": str(groups[1][0])})
    go(seance, "proposals")
    page = client.get(f"/s/{seance.code}")
    assert "Quelles solutions simples" in page.text
    token = client.cookies.get("eclair_csrf")
    r = client.post(f"/s/{seance.code}/propose", data={"csrf": token, "text": "  "})
    assert r.status_code == 422 and "Écrivez votre proposition" in r.text
    r = client.post(f"/s/{seance.code}/propose", data={"csrf": token, "text": "un minibus"})
    assert "Merci, votre proposition est enregistrée" in r.text and "un minibus" in r.text
    (proposal,) = proposals(seance)
    assert proposal.subgroup == groups[1][1]
    # Their proposal's status follows moderation.
    seance.call(qp.set_flag, seance.id, proposal.id, "hidden", True)
    assert "masquée par l'animation" in client.get(f"/s/{seance.code}").text


def test_a_participant_cannot_moderate_and_a_helper_can_only_add(seance, client):
    go(seance, "proposals")
    seance.join()
    pid = seance.call(qp.add_proposal, seance.id,
                      next(s.id for s in seance.call(q.list_steps, seance.id)
                           if s.kind == "proposals"), "navette", "phone")
    token = client.cookies.get("eclair_csrf")
    participant_token = client.cookies.get(f"eclair_p_{seance.code}")
    for role_token in (participant_token, seance.links["helper"], seance.links["screen"]):
        for path in (f"/proposals/{pid}/hide", f"/proposals/{pid}/edit", "/themes",
                     "/suggestions", f"/proposals/{pid}/move", "/proposals", "/wall"):
            r = client.post(f"/f/{role_token}{path}", data={"csrf": token, "text": "x",
                                                            "name": "x", "theme": ""})
            assert r.status_code == 404, (path,)
    # The helper adds, on paper, and sees what was entered; nothing else.
    helper = client.get(f"/h/{seance.links['helper']}")
    assert "Ajouter les propositions" in helper.text and "Masquer" not in helper.text
    r = client.post(f"/h/{seance.links['helper']}/propose",
                    data={"csrf": csrf_of(helper.text), "text": "garder le papier"})
    assert "1 proposition enregistrée." in r.text and "garder le papier" in r.text
    cards = proposals(seance)
    assert [(p.text, p.channel, p.hidden) for p in cards] == [
        ("navette", "phone", False), ("garder le papier", "paper", False)]


def test_facilitator_moderates(seance, client):
    go(seance, "proposals")
    page = client.get(f"/f/{seance.links['facilitator']}")
    token = csrf_of(page.text)
    base = f"/f/{seance.links['facilitator']}"
    r = client.post(f"{base}/proposals", data={"csrf": token, "text": "navete gratuite"})
    assert "navete gratuite" in r.text
    client.post(f"{base}/proposals", data={"csrf": token, "text": "navette gratuite svp"})
    client.post(f"{base}/proposals", data={"csrf": token, "text": "ateliers"})
    a, b, c = (p.id for p in proposals(seance))
    assert {p.channel for p in proposals(seance)} == {"aloud"}
    client.post(f"{base}/proposals/{a}/edit", data={"csrf": token, "text": "navette gratuite"})
    client.post(f"{base}/proposals/{b}/merge", data={"csrf": token, "into": str(a)})
    client.post(f"{base}/proposals/{c}/hide", data={"csrf": token})
    client.post(f"{base}/proposals/{a}/pin", data={"csrf": token})
    r = client.post(f"{base}/proposals/{a}/merge", data={"csrf": token, "into": str(a)})
    assert r.status_code == 422 and "elle-même" in r.text
    r = client.post(f"{base}/proposals/{b}/merge", data={"csrf": token, "into": str(c)})
    assert r.status_code == 409
    for bad in (f"{base}/proposals/999999/hide", f"{base}/proposals/{a}/explode",
                f"{base}/proposals/abc/hide"):
        assert client.post(bad, data={"csrf": token}).status_code == 404
    cards = {p.id: p for p in proposals(seance)}
    assert cards[a].text == "navette gratuite" and cards[a].count == 2 and cards[a].pinned
    assert cards[c].hidden and cards[b].merged_into == a
    trail = seance.call(qp.audit_trail, a)
    assert ("edit", "navete gratuite", "navette gratuite") in [
        (e["action"], e["before"], e["after"]) for e in trail]
    screen = client.get(f"/screen/{seance.links['screen']}").text.split('id="screen"')[1]
    assert "navette gratuite" in screen and "×2 fusionnées" in screen
    assert "ateliers" not in screen  # hidden
    client.post(f"{base}/proposals/{b}/unmerge", data={"csrf": token})
    assert {p.id: p for p in proposals(seance)}[a].count == 1


def test_themes_board_without_javascript(seance, client):
    go(seance, "proposals")
    step = next(s.id for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    texts = ["une navette gratuite", "navette gratuite le mardi", "navettes gratuites svp",
             "cours d'informatique", "des cours d'informatique", "cours informatique débutants"]
    ids = [seance.call(qp.add_proposal, seance.id, step, t, "phone") for t in texts]
    go(seance, "clustering")
    base = f"/f/{seance.links['facilitator']}"
    token = csrf_of(client.get(base).text)
    assert client.post(f"{base}/themes", data={"csrf": token, "name": " "}).status_code == 422
    client.post(f"{base}/themes", data={"csrf": token, "name": "Transport"})
    client.post(f"{base}/themes", data={"csrf": token, "name": "Formation"})
    transport, formation = (t.id for t in seance.call(qp.list_themes, seance.id))
    r = client.post(f"{base}/proposals/{ids[3]}/move", data={"csrf": token,
                                                             "theme": str(formation)})
    assert r.status_code == 200
    client.post(f"{base}/themes/{formation}/up", data={"csrf": token})
    client.post(f"{base}/themes/{transport}/rename", data={"csrf": token, "name": "Mobilité"})
    themes = seance.call(qp.list_themes, seance.id)
    assert [t.name for t in themes] == ["Formation", "Mobilité"]
    # Suggestions: nothing moves until accepted.
    r = client.post(f"{base}/suggestions", data={"csrf": token})
    suggestions = seance.call(qp.list_suggestions, seance.id)
    assert any(set(ids[:3]) == set(members) for _, _, members in suggestions)
    assert sum(1 for p in proposals(seance) if p.theme_id) == 1
    sid = next(s for s, _, members in suggestions if set(members) == set(ids[:3]))
    r = client.post(f"{base}/suggestions/{sid}/accept", data={"csrf": token,
                                                              "name": "Navettes"})
    assert r.status_code == 200
    named = {t.name: t.id for t in seance.call(qp.list_themes, seance.id)}
    assert {p.id for p in proposals(seance) if p.theme_id == named["Navettes"]} == set(ids[:3])
    for other, _, _ in seance.call(qp.list_suggestions, seance.id):
        client.post(f"{base}/suggestions/{other}/reject", data={"csrf": token})
    assert seance.call(qp.list_suggestions, seance.id) == []
    screen = client.get(f"/screen/{seance.links['screen']}").text
    box = re.search(r"Navettes</h2>\s*<ul>(.*?)</ul>", screen, re.S)
    assert box and all(text in box.group(1) for text in texts[:3])
    client.post(f"{base}/themes/{named['Navettes']}/delete", data={"csrf": token})
    assert all(p.theme_id != named["Navettes"] for p in proposals(seance))
    assert len(proposals(seance)) == 6  # deleting a theme loses no proposal


@pytest.mark.parametrize("path", ["/themes/999999/rename", "/themes/abc/up",
                                  "/suggestions/999999/accept", "/suggestions/999999/reject"])
def test_unknown_themes_and_suggestions(seance, client, path):
    go(seance, "clustering")
    base = f"/f/{seance.links['facilitator']}"
    token = csrf_of(client.get(base).text)
    assert client.post(base + path, data={"csrf": token, "name": "x"}).status_code == 404


def test_projector_wall_pages_and_tables(seance, client):
    go(seance, "proposals")
    step = next(s.id for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    groups = seance.call(qp.list_subgroups, seance.id)
    # Pages are cut by how much text they hold: 11 proposals of 280 characters need several.
    for i in range(11):
        db = seance.client.app.state.db
        seance.client.portal.call(lambda i=i: qp.add_proposal(
            db, seance.id, step, f"idée numéro {i} " + "et encore une idée " * 14, "phone",
            subgroup_id=groups[i % 2][0]))
    screen = client.get(f"/screen/{seance.links['screen']}").text
    count = screen.count('class="screen-page"')
    assert count >= 2 and f"Page {count} sur {count}" in screen
    # Only the first page shows until the projector turns it.
    assert re.search(r'data-page="2"[^>]*\shidden', screen)
    assert not re.search(r'data-page="1"[^>]*\shidden', screen)
    base = f"/f/{seance.links['facilitator']}"
    page = client.get(base)
    assert "11 propositions sur le mur" in page.text
    client.post(f"{base}/wall", data={"csrf": csrf_of(page.text), "by": "1"})
    screen = client.get(f"/screen/{seance.links['screen']}").text
    tables = re.findall(r'<h2 class="wall-group">([^<]+)</h2>', screen)
    assert [t for t in tables if not t.endswith("(suite)")] == [groups[0][1], groups[1][1]]
