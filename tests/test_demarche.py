"""The démarche synthesis across séances: results over time, consensus, cross-cutting."""

import io
import json
import re

from docx import Document

from facilitation import plans
from facilitation.demarche import recurring_candidates
from facilitation.store import demarche as qd
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from tests.conftest import csrf_of

PLAN = """
[workshop]
title = "Quartier nord"
[[sessions]]
title = "Première"
date = "2026-10-01"
[[sessions.steps]]
kind = "poll"
[[sessions.steps.questions]]
kind = "single"
text = "Êtes-vous à l'aise en ligne ?"
choices = ["Oui", "Non"]
[[sessions.steps]]
kind = "proposals"
[[sessions]]
title = "Deuxième"
date = "2026-11-05"
[[sessions.steps]]
kind = "poll"
[[sessions.steps.questions]]
kind = "single"
text = "Êtes-vous à l'aise en ligne ?"
choices = ["Oui", "Non"]
[[sessions.steps]]
kind = "proposals"
"""


def test_demarche_synthesis(organiser):
    c = organiser
    db = c.app.state.db
    workshop = c.portal.call(q.create_workshop, db, plans.parse_plan(PLAN))
    first, second = c.portal.call(q.list_sessions, db, workshop)
    for seance, yes in ((first, 1), (second, 3)):
        steps = c.portal.call(q.list_steps, db, seance.id)
        question = c.portal.call(q.list_questions, db, steps[0].id)[0]
        c.portal.call(q.set_question_state, db, seance.id, question.id, "open")
        for i in range(4):
            pid = c.portal.call(q.add_participant, db, seance.id, f"{seance.id}-{i}", "",
                                "fr-FR")
            choice = question.choices[0 if i < yes else 1].id
            c.portal.call(q.save_answer, db, question.id, pid, [choice])
        for text in ("une navette gratuite le mardi", "navette gratuite pour les aînés",
                     f"autre idée {seance.id}"):
            c.portal.call(qp.add_proposal, db, seance.id, steps[1].id, text, "phone")
    url = f"/organiser/workshops/{workshop}/synthesis"
    page = c.get(url)
    assert "Éléments transversaux" in page.text
    assert page.text.count("navette gratuite") >= 4  # a suggestion spanning both séances
    token = csrf_of(page.text)
    keys = re.findall(r'name="candidate" value="([0-9a-f]+)"', page.text)
    assert len(keys) == 2  # by list position, a second "Confirmer" took the other one
    sent = {"csrf": token, "candidate": keys[0], "action": "confirm",
            "title": "Une navette solidaire"}
    r = c.post(url, data=sent)
    assert r.status_code == 200 and "Une navette solidaire — confirmé" in r.text
    # The same "Confirmer" sent again (a double click, a stale tab) confirms nothing else.
    before = r.text.count("— confirmé")
    again = c.post(url, data=sent)
    assert again.status_code == 200 and again.text.count("— confirmé") == before
    assert again.text.count("Une navette solidaire") == r.text.count("Une navette solidaire")
    assert keys[1] in again.text  # the other suggestion is still waiting, untouched
    for bad in ({"candidate": "99", "action": "confirm"}, {"candidate": keys[0], "action": "x"},
                {"action": "undo", "decision": "abc"}):
        assert c.post(url, data={"csrf": token, **bad}).status_code == 422
    text = c.get(f"{url}/md").text.replace("\u202f", " ").replace("\xa0", " ")
    assert "# Quartier nord" in text and "## Les résultats au fil des séances" in text
    assert "| Oui | 25 % | 75 % |" in text and "| n | 4 | 4 |" in text
    assert "### Une navette solidaire" in text
    assert "une navette gratuite le mardi (séance 1)" in text
    assert "(séance 2)" in text
    document = Document(io.BytesIO(c.get(f"{url}/docx").content))
    assert "Éléments transversaux" in [p.text for p in document.paragraphs]
    assert c.get(f"{url}/pdf").content.startswith(b"%PDF")
    assert c.get(f"{url}/exe").status_code == 404
    # Undo, and the organiser alone reaches it.
    decision = r.text.split('name="decision" value="')[1].split('"')[0]
    c.post(url, data={"csrf": token, "action": "undo", "decision": decision})
    assert "### Une navette solidaire" not in c.get(f"{url}/md").text
    c.post("/organiser/logout", data={"csrf": token})
    assert c.get(url, follow_redirects=False).status_code == 303


PLAN3 = PLAN + """
[[sessions]]
title = "Troisième"
date = "2026-12-03"
[[sessions.steps]]
kind = "proposals"
"""


def _three_seances(c):
    """Séance 1 and 2 held, séance 3 planned; each closing carries proposals and themes."""
    db = c.app.state.db
    call = c.portal.call
    workshop = call(q.create_workshop, db, plans.parse_plan(PLAN3))
    seances = call(q.list_sessions, db, workshop)

    def step(seance):
        return next(s.id for s in call(q.list_steps, db, seance.id) if s.kind == "proposals")

    def add(seance, text):
        return call(qp.add_proposal, db, seance.id, step(seance), text, "phone")

    first, second, third = seances
    call(q.add_participant, db, first.id, "p1", "", "fr-FR")
    ids = {"mardi": add(first, "une navette gratuite le mardi"),
           "guichet": add(first, "garder le guichet papier ouvert"),
           "autre": add(first, "un atelier pour les démarches en ligne")}
    transport = call(qp.create_theme, db, first.id, "Transport")
    call(qp.move, db, first.id, ids["mardi"], transport)
    # Closing séance 1 leads to séance 2 (planned): copies of two proposals and the theme.
    call(qv.close_and_continue, db, first.id, qv.next_plan("Deuxième", "", "", "", "fr-FR"),
         [], [ids["mardi"], ids["guichet"]])
    call(q.add_participant, db, second.id, "p2", "", "fr-FR")
    ids["aines"] = add(second, "navette gratuite pour les aînés")
    ids["second"] = add(second, "un café numérique chaque mois")
    copy = next(p.id for p in call(qp.list_proposals, db, second.id)
                if p.text == "une navette gratuite le mardi")
    call(qv.close_and_continue, db, second.id,
         qv.next_plan("Troisième", "", "", "", "fr-FR"), [], [copy, ids["aines"]])
    # Séance 3 is only planned: what it holds (copies, or typed ahead) is not a member.
    ids["planned"] = add(third, "une navette gratuite le dimanche")
    return workshop, seances, ids


def test_candidates_come_from_seances_held_and_from_original_proposals(organiser):
    """Cross-cutting elements were built from carried copies and from a séance not held
    yet: a proposal carried once looked like it came back in two séances."""
    c = organiser
    db = c.app.state.db
    workshop, (first, second, third), ids = _three_seances(c)
    copies = c.portal.call(qp.list_proposals, db, second.id)
    assert {p.text for p in copies} >= {"une navette gratuite le mardi",
                                         "garder le guichet papier ouvert"}
    assert c.portal.call(qp.list_themes, db, second.id)  # the copied "Transport"
    sources = c.portal.call(qd.sources, db, workshop)
    assert {(m.kind, m.id) for m in sources} == {
        ("theme", c.portal.call(qp.list_themes, db, first.id)[0].id),
        *(("proposal", ids[k]) for k in ("mardi", "guichet", "autre", "aines", "second"))}
    candidates = recurring_candidates(sources)
    members = [m for candidate in candidates for m in candidate.items]
    assert all(m.number in (1, 2) for m in members)
    assert len(members) == len({(m.kind, m.id) for m in members})
    # A proposal and its own copy are one proposal: nothing recurs about the guichet.
    assert not any("guichet" in m.text for m in members)
    navette = next(cand for cand in candidates
                   if any(m.id == ids["aines"] for m in cand.items))
    assert {m.id for m in navette.items if m.kind == "proposal"} == {ids["mardi"],
                                                                      ids["aines"]}
    page = c.get(f"/organiser/workshops/{workshop}/synthesis").text
    assert "le dimanche" not in page  # not offered, not even to add by hand


def _form(c, url, **data):
    page = c.get(url).text
    return c.post(url, data={"csrf": csrf_of(page), **data})


def test_organiser_edits_a_confirmed_element(organiser):
    c = organiser
    db = c.app.state.db
    workshop, (first, second, third), ids = _three_seances(c)
    url = f"/organiser/workshops/{workshop}/synthesis"
    page = c.get(url).text
    key = re.search(r'name="candidate" value="([0-9a-f]+)"', page).group(1)
    r = _form(c, url, candidate=key, action="confirm", title="Navettes")
    assert r.status_code == 200 and "Navettes — confirmé" in r.text
    element = int(re.search(r'id="element-(\d+)"', r.text).group(1))
    assert key not in r.text  # decided: no longer suggested

    def held():
        found = c.portal.call(qd.elements, db, workshop)
        return next((e, rows) for i, e, _s, rows in found if i == element)

    def audit():
        return [a["action"] for a in c.portal.call(qd.audit, db, workshop)]

    # Rename; sent twice with the same key (a double click): one change, one audit line.
    sent = {"action": "rename", "element": str(element), "title": "  Navettes  solidaires ",
            "idem": "rename-once-1"}
    for _ in range(2):
        assert _form(c, url, **sent).status_code == 200
    assert held()[0].title == "Navettes solidaires"
    assert audit() == ["confirmed", "renamed"]
    for bad, message in (("", "Donnez un titre à l'élément."),
                         ("x" * 121, "Un titre compte au plus 120 caractères.")):
        r = _form(c, url, action="rename", element=str(element), title=bad)
        assert r.status_code == 422 and message in r.text.replace("\u202f", " ")
        # Said beside the form that was sent.
        assert r.text.index('id="cross-error"') > r.text.index(f'id="element-{element}"')
    assert held()[0].title == "Navettes solidaires"

    # Add a proposal of a séance held; twice with the same key, then again: one member.
    before = held()[0].refs
    sent = {"action": "add", "element": str(element), "proposal": str(ids["second"]),
            "idem": "add-once-123"}
    for _ in range(2):
        assert _form(c, url, **sent).status_code == 200
    assert _form(c, url, **{**sent, "idem": "add-again-12"}).status_code == 200
    assert held()[0].refs == before | {("proposal", ids["second"])}
    assert audit().count("added") == 1
    # Not from a séance held, a carried copy, nothing chosen, not a number: refused, said.
    copy = next(p.id for p in c.portal.call(qp.list_proposals, db, second.id)
                if p.text == "garder le guichet papier ouvert")
    for proposal in (str(ids["planned"]), str(copy), "999999"):
        r = _form(c, url, action="add", element=str(element), proposal=proposal)
        assert r.status_code == 422 and "ne peut pas être ajoutée" in r.text, proposal
    r = _form(c, url, action="add", element=str(element), proposal="")
    assert r.status_code == 422 and "Choisissez la proposition" in r.text
    r = _form(c, url, action="add", element="abc", proposal=str(ids["autre"]))
    assert r.status_code == 422 and "rechargez la page" in r.text
    assert held()[0].refs == before | {("proposal", ids["second"])}

    # Remove a member; the same form twice removes it once, a stale form says so.
    element_now, rows = held()
    row = rows[[m.id for m in element_now.items].index(ids["second"])]
    sent = {"action": "remove", "element": str(element), "member": str(row),
            "idem": "remove-once-1"}
    for _ in range(2):
        assert _form(c, url, **sent).status_code == 200
    assert held()[0].refs == before
    r = _form(c, url, **{**sent, "idem": "remove-stale-1"})
    assert r.status_code == 409 and "n'est plus dans cet élément" in r.text
    assert audit().count("removed") == 1
    # The suggestion it came from does not come back once the element was edited.
    assert key not in c.get(url).text
    # The last member stays: to drop the element, it is undone.
    element_now, rows = held()
    for row in rows[1:]:
        _form(c, url, action="remove", element=str(element), member=str(row))
    r = _form(c, url, action="remove", element=str(element), member=str(rows[0]))
    assert r.status_code == 409 and "au moins une proposition" in r.text
    assert len(held()[0].items) == 1

    # An element by hand: a title and proposals of séances held; sent twice, made once.
    sent = {"action": "create", "title": "Le numérique accompagné", "idem": "create-once-1",
            "proposals": [str(ids["autre"]), str(ids["second"])]}
    for _ in range(2):
        assert _form(c, url, **sent).status_code == 200
    made = [e for _i, e, s, _r in c.portal.call(qd.elements, db, workshop)
            if e.title == "Le numérique accompagné"]
    assert len(made) == 1 and made[0].members == (
        (1, "un atelier pour les démarches en ligne"), (2, "un café numérique chaque mois"))
    count = len(c.portal.call(qd.elements, db, workshop))
    r = _form(c, url, action="create", title="", proposals=[str(ids["autre"])])
    # Refused, said, and what was ticked is still ticked.
    assert r.status_code == 422 and "Donnez un titre" in r.text
    assert re.search(rf'value="{ids["autre"]}" checked', r.text)
    assert '<details id="new-element" open' in r.text
    assert r.text.index('id="cross-error"') > r.text.index('id="new-element"')
    r = _form(c, url, action="create", title="Rien")
    assert r.status_code == 422 and "Choisissez au moins une proposition" in r.text
    r = _form(c, url, action="create", title="Ailleurs", proposals=[str(ids["planned"])])
    assert r.status_code == 422
    assert len(c.portal.call(qd.elements, db, workshop)) == count

    # The exports read the elements as they stand now.
    text = c.get(f"{url}/md").text
    assert "### Navettes solidaires" in text and "### Le numérique accompagné" in text
    assert "un café numérique chaque mois (séance 2)" in text
    # Undone meanwhile (another tab): an edit changes nothing and says why.
    decision = str(element)
    _form(c, url, action="undo", decision=decision)
    r = _form(c, url, action="rename", element=decision, title="Encore")
    assert r.status_code == 404 and "n'existe plus" in r.text
    assert audit()[-1] == "undone"
    assert {a["who"] for a in c.portal.call(qd.audit, db, workshop)} == {"organiser:1"}


def test_elements_confirmed_before_members_had_ids_are_read(tmp_path, monkeypatch):
    import sqlite3

    from facilitation.store import schema

    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:15])
    schema.migrate(conn)
    conn.execute("INSERT INTO workshops (title, created_at) VALUES ('D', 'now')")
    for number in (1, 2):
        conn.execute("INSERT INTO sessions (workshop_id, number, title, code, created_at)"
                     " VALUES (1, ?, 'S', ?, 'now')", (number, f"C{number}"))
        conn.execute("INSERT INTO steps (session_id, position, kind, title)"
                     " VALUES (?, 0, 'proposals', '')", (number,))
    conn.executemany("INSERT INTO proposals (session_id, step_id, channel, text, created_at)"
                     " VALUES (?, ?, 'phone', ?, 'now')",
                     [(1, 1, "navette"), (2, 2, "navette"), (2, 2, "navette")])
    conn.execute("INSERT INTO themes (session_id, name, position, created_at)"
                 " VALUES (1, 'Transport', 0, 'now')")
    conn.execute("INSERT INTO crosscutting (workshop_id, title, members, state, created_at)"
                 " VALUES (1, 'Navettes', ?, 'confirmed', 'now')", (json.dumps(
                     [[1, "navette"], [2, "navette"], [2, "navette"], [1, "Transport"],
                      [2, "effacée depuis"]]),))
    monkeypatch.undo()
    schema.migrate(conn)
    rows = conn.execute("SELECT item_kind, item_id, number, text FROM crosscutting_members"
                        " ORDER BY position").fetchall()
    assert rows == [("proposal", 1, 1, "navette"), ("proposal", 2, 2, "navette"),
                    ("proposal", 3, 2, "navette"), ("theme", 1, 1, "Transport"),
                    ("text", None, 2, "effacée depuis")]

PLAN_FOUR = """
[workshop]
title = "Quartier sud"
organisation = "Centre social des Tilleuls"
""" + "".join(f"""
[[sessions]]
title = "Séance {title}"
date = "2026-0{number + 5}-1{number}"
objectives = "Comprendre :\\n- ce qui bloque\\n- ce qui aide"
[[sessions.steps]]
kind = "poll"
[[sessions.steps.questions]]
kind = "single"
text = "{question}"
choices = ["Oui", "Non"]
""" for number, title, question in (
    (0, "un", "Avez-vous un ordinateur ?"), (1, "deux", "Faites-vous vos démarches seul ?"),
    (2, "trois", "Connaissez-vous un lieu d'aide ?"), (3, "quatre", "Pas encore posée ?")))


def test_each_seance_held_has_its_part_with_its_consultation_results(organiser, tmp_path):
    """The synthesis left the consultation éclair out unless a question came back, and
    summed a séance up as a date and a count; a séance not held yet had a part too."""
    from odf import draw
    from odf.opendocument import load

    c = organiser
    db = c.app.state.db
    workshop = c.portal.call(q.create_workshop, db, plans.parse_plan(PLAN_FOUR))
    seances = c.portal.call(q.list_sessions, db, workshop)
    for index, seance in enumerate(seances[:3]):
        step = c.portal.call(q.list_steps, db, seance.id)[0]
        question = c.portal.call(q.list_questions, db, step.id)[0]
        c.portal.call(q.set_question_state, db, seance.id, question.id, "open")
        for i in range(3 + index):
            pid = c.portal.call(q.add_participant, db, seance.id, f"{seance.id}-{i}", "",
                                "fr-FR")
            c.portal.call(q.save_answer, db, question.id, pid, [question.choices[i % 2].id])
    url = f"/organiser/workshops/{workshop}/synthesis"
    md = c.get(f"{url}/md").text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Centre social des Tilleuls" in md
    parts = md.split("### Séance ")[1:]
    assert [p.split("\n")[0] for p in parts] == [
        "1 : Séance un", "2 : Séance deux", "3 : Séance trois"]  # the fourth is not held
    for part, (question, n) in zip(parts, (("Avez-vous un ordinateur ?", 3),
                                           ("Faites-vous vos démarches seul ?", 4),
                                           ("Connaissez-vous un lieu d'aide ?", 5)), strict=True):
        assert "#### Résultats de la consultation éclair" in part
        assert f"##### {question}" in part and f"n = {n}" in part
        assert "| Oui |" in part
        assert "- ce qui bloque\n- ce qui aide" in part  # its objectives, as a list
    assert "Pas encore posée" not in md
    assert "Les résultats au fil des séances" not in md  # no question came back: no section
    path = tmp_path / "s.odt"
    path.write_bytes(c.get(f"{url}/odt").content)
    assert len(load(str(path)).getElementsByType(draw.Frame)) == 3  # a chart per séance
    document = Document(io.BytesIO(c.get(f"{url}/docx").content))
    assert len(document.inline_shapes) == 3
    html = c.get(f"{url}/html").text
    assert html.count('<svg viewBox') >= 3 and 'id="section-seances"' in html
