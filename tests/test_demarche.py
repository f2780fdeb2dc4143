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
