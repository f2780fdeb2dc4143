"""The audit log: what organisers and facilitators did, newest first, for organisers only;
every action route declared; nothing a participant wrote."""

from __future__ import annotations

import re
import sqlite3

from starlette.routing import Route

from facilitation import audit
from facilitation.routes import routes
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store.schema import MIGRATIONS, migrate
from tests.conftest import csrf_of, fac, go, make_settings


def rows(client, where: str = "1 = 1", *params) -> list[tuple]:
    found = client.portal.call(client.app.state.db.fetchall,
                               "SELECT role, who, action, detail FROM audit_log WHERE "
                               + where + " ORDER BY id", params)
    return [tuple(r) for r in found]


def test_every_action_route_says_what_it_records(tmp_path):
    """A new organiser, facilitator or projector route fails here until it is declared:
    recorded (ACTIONS), recording itself (SELF_AUDITED) or changing nothing (READ_ONLY)."""
    declared = set(audit.ACTIONS) | set(audit.SELF_AUDITED)
    missing = []
    for route in routes(make_settings(tmp_path)):
        name = getattr(route, "name", "") or ""
        methods = getattr(route, "methods", None) or set()
        if not isinstance(route, Route) or not name.startswith(
                ("facilitator:", "organiser:", "screen:")):
            continue  # WebSockets only read
        if "POST" in methods:
            if not any(key == name or key.startswith(name + ":") for key in declared):
                missing.append(name)
        elif name not in audit.READ_ONLY:
            missing.append(name)
    assert not missing, missing
    for key in audit.ACTIONS:  # and nothing declared that no route has
        name = key.split(":")[0] + ":" + key.split(":")[1]
        assert any(getattr(r, "name", "") == name for r in routes(make_settings(tmp_path))), key


def test_organiser_and_facilitator_actions_are_logged_newest_first(seance, client, organiser):
    go(seance, "poll")  # the API: a facilitator through its secret link
    seance.open(0)
    workshop = seance.call(q.get_session, seance.id).workshop_id
    page = client.get(f"/organiser/workshops/{workshop}")
    client.post(f"/organiser/sessions/{seance.id}/links/screen",
                data={"csrf": csrf_of(page.text)})
    client.post(f"/organiser/sessions/{seance.id}/consensus", data={
        "csrf": csrf_of(page.text), "min_agree": "70", "max_disagree": "10", "min_votes": "4"})
    client.get(f"/organiser/sessions/{seance.id}/report/zip")
    client.get(f"/organiser/sessions/{seance.id}/report/md")  # not raw data: not logged
    got = rows(client, "session_id = ?", seance.id)
    poll = next(s for s in seance.call(q.list_steps, seance.id) if s.kind == "poll")
    question = seance.call(q.list_questions, poll.id)[0].text
    assert got == [
        ("facilitator", "", "api:go_to_step", poll.title),
        ("facilitator", "", "facilitator:question:open", question),
        ("organiser", "orga", "organiser:rotate_link:screen", ""),
        ("organiser", "orga", "organiser:consensus", ""),
        ("organiser", "orga", "organiser:report_download:raw", "ZIP"),
    ]
    text = client.get(f"/organiser/audit?session={seance.id}").text
    assert text.index("Données brutes téléchargées") < text.index("Règle de consensus changée")
    assert text.index("Lien du projecteur révoqué") < text.index("Question ouverte")
    assert "Animation (lien secret)" in text and f"Passage à une étape (API) : {poll.title}" in text
    assert "Accès au numérique dans le quartier — 1. Séance 1" in text
    # The whole démarche and every démarche show it too; another séance does not.
    assert "Question ouverte" in client.get(f"/organiser/audit?workshop={workshop}").text
    assert "Question ouverte" in client.get("/organiser/audit").text
    other = seance.call(q.list_sessions, workshop)[1].id
    assert "Question ouverte" not in client.get(f"/organiser/audit?session={other}").text


def test_refused_actions_and_participants_are_not_logged(seance, client, organiser):
    before = rows(client)
    f = f"/f/{seance.links['facilitator']}"
    qid = seance.questions[0]["id"]
    assert client.post(f"{f}/questions/{qid}/open", data={}).status_code == 403  # no CSRF
    workshop = seance.call(q.get_session, seance.id).workshop_id
    r = client.post(f"/organiser/workshops/{workshop}/retention",
                    data={"csrf": csrf_of(client.get(f).text), "days": "0"})
    assert r.status_code == 422
    seance.join(name="Zoé")
    go(seance, "poll")
    seance.open(0)
    page = client.get(f"/s/{seance.code}")
    client.post(f"/s/{seance.code}/answer", data={
        "csrf": csrf_of(page.text), "question": str(qid),
        "choice": str(seance.questions[0]["choices"][0])})
    assert seance.answers() == 1  # done, and not a line of the log
    assert [r[2] for r in rows(client)][len(before):] == ["api:go_to_step",
                                                          "facilitator:question:open"]


def test_no_participant_words_in_the_log(seance, client, organiser):
    go(seance, "proposals")
    token = client.post("/api/sessions/join", json={"code": seance.code}).json()["token"]
    pid = client.post(f"/api/sessions/{seance.code}/proposals", json={
        "text": "mon idée confidentielle"}, headers={"authorization": f"Bearer {token}"}
    ).json()["id"]
    r = seance.facilitator_post(f"/proposals/{pid}/edit", text="un texte corrigé en privé")
    assert r.status_code in (200, 303)
    seance.facilitator_post(f"/proposals/{pid}/hide")
    seance.facilitator_post("/themes", name="Mobilité")
    logged = rows(client, "session_id = ?", seance.id)
    assert ("facilitator", "", "facilitator:moderate:edit", f"#{pid}") in logged
    assert ("facilitator", "", "facilitator:moderate:hide", f"#{pid}") in logged
    assert ("facilitator", "", "facilitator:themes", "Mobilité") in logged
    text = client.get(f"/organiser/audit?session={seance.id}").text
    assert "confidentielle" not in text and "corrigé en privé" not in text
    assert "Proposition corrigée : #" in text


def test_logins_and_the_log_is_for_organisers_only(seance, client):
    from facilitation import security

    client.portal.call(q.upsert_organiser, client.app.state.db, "camille",
                       security.hash_password("un mot de passe long"))
    for path in ("/organiser/audit", f"/organiser/audit?session={seance.id}"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].endswith("/organiser/login")
    seance.join()  # a participant's cookie opens nothing more
    assert client.get("/organiser/audit", follow_redirects=False).status_code == 303
    token = seance.links["facilitator"]
    assert client.get(f"/f/{token}/audit").status_code in (404, 405)
    page = client.get("/organiser/login")
    client.post("/organiser/login", data={"csrf": csrf_of(page.text), "username": "camille",
                                          "password": "faux"})
    client.post("/organiser/login", data={"csrf": csrf_of(page.text), "username": "camille",
                                          "password": "un mot de passe long"})
    log = client.get("/organiser/audit")
    assert log.status_code == 200
    assert rows(client) == [("organiser", "camille", "organiser:login", "")]
    client.post("/organiser/logout", data={"csrf": csrf_of(log.text)})
    assert rows(client)[-1] == ("organiser", "camille", "organiser:logout", "")


def test_the_log_is_shown_fifty_at_a_time(seance, client, organiser):
    for _ in range(60):
        client.post(f"/api/sessions/{seance.code}/step", json={"move": "next"},
                    headers=fac(seance))
    first = client.get(f"/organiser/audit?session={seance.id}")
    assert first.text.count("<tr>") == 50 + 1  # and the head
    older = re.search(r'href="([^"]*before=\d+[^"]*)">Actions plus anciennes', first.text)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count("<tr>") == 10 + 1 and "Actions plus anciennes" not in second.text


def test_earlier_reopenings_and_moderation_are_copied_into_the_log(tmp_path):
    """An existing database: its reopen and moderation trails go into the new log."""
    mine = next(i for i, step in enumerate(MIGRATIONS)
                if isinstance(step, str) and "CREATE TABLE audit_log" in step)
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys=ON")
    for number, step in enumerate(MIGRATIONS[:mine], start=1):
        if isinstance(step, str):
            conn.executescript(f"BEGIN;\n{step}\nPRAGMA user_version = {number};\nCOMMIT;")
        else:
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
    conn.executescript("""
        INSERT INTO organisers VALUES (3, 'dominique', 'x', '2026-01-01');
        INSERT INTO workshops (id, title, created_at) VALUES (1, 'Quartier', '2026-01-01');
        INSERT INTO sessions (id, workshop_id, number, title, code, created_at)
            VALUES (1, 1, 1, 'Atelier', 'ACEFG', '2026-01-01');
        INSERT INTO steps (id, session_id, position, kind, title) VALUES (1, 1, 0, 'proposals', '');
        INSERT INTO proposals (id, session_id, step_id, channel, text, created_at)
            VALUES (7, 1, 1, 'phone', 'un texte', '2026-01-02');
        INSERT INTO proposal_audit (proposal_id, action, before, after, role, at)
            VALUES (7, 'add', '', 'un texte', 'phone', '2026-01-02T10:00:00+00:00'),
                   (7, 'hidden', '0', '1', 'facilitator', '2026-01-02T10:05:00+00:00');
        INSERT INTO session_audit (session_id, action, who, at)
            VALUES (1, 'reopened', 'organiser:3', '2026-01-03T09:00:00+00:00');
    """)
    migrate(conn)
    got = [tuple(r) for r in conn.execute(
        "SELECT role, who, action, detail, place FROM audit_log ORDER BY id")]
    assert got == [
        ("facilitator", "", "facilitator:moderate:hide", "#7", "Quartier — 1. Atelier"),
        ("organiser", "dominique", "organiser:reopen", "", "Quartier — 1. Atelier"),
    ]
    conn.close()


def test_moderation_on_the_board_names_the_theme(seance, client, organiser):
    go(seance, "clustering")
    theme = seance.call(qp.create_theme, seance.id, "Transports")
    seance.facilitator_post(f"/themes/{theme}/rename", name="Se déplacer")
    seance.facilitator_post(f"/themes/{theme}/delete")
    logged = rows(client, "session_id = ?", seance.id)
    assert ("facilitator", "", "facilitator:theme:rename", "Se déplacer") in logged
    assert ("facilitator", "", "facilitator:theme:delete", f"#{theme}") in logged
