"""The démarche synthesis across séances: results over time, consensus, cross-cutting."""

import io
import re

from docx import Document

from facilitation import plans
from facilitation.store import proposals as qp
from facilitation.store import queries as q
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
