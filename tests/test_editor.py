"""The organiser's séance editor: every action, what it refuses, and the audited reopen."""

from __future__ import annotations

import html
import re

import pytest

from facilitation.store import editor as se
from facilitation.store import queries as q
from tests.conftest import csrf_of, fac


def steps_of(client, session_id):
    return client.portal.call(q.list_steps, client.app.state.db, session_id)


def questions_of(client, step_id):
    return client.portal.call(q.list_questions, client.app.state.db, step_id)


class Editor:
    """A séance created from the form by a logged-in organiser, and its editor page."""

    def __init__(self, client, plan: str = "1-consultation") -> None:
        self.c = client
        self.token = csrf_of(client.get("/organiser").text)
        page = client.post("/organiser/workshops", data={"csrf": self.token,
                                                          "title": "Centre social"})
        client.post(page.url.path + "/sessions", data={"csrf": self.token, "title": "Atelier",
                                                       "plan": plan})
        self.seance = client.portal.call(q.list_sessions, client.app.state.db, 1)[-1]
        self.id = self.seance.id
        self.url = f"/organiser/sessions/{self.id}/edit"

    def post(self, path: str, **data):
        return self.c.post(self.url + path, data={"csrf": self.token, **data})

    def steps(self):
        return steps_of(self.c, self.id)

    def poll(self):
        return next(s for s in self.steps() if s.kind == "poll")


@pytest.fixture
def ed(organiser) -> Editor:
    return Editor(organiser)


def test_ready_made_plans_are_offered_and_used(organiser):
    token = csrf_of(organiser.get("/organiser").text)
    page = organiser.post("/organiser/workshops", data={"csrf": token, "title": "Quartier"})
    for name in ("Consultation éclair, propositions et vote", "Boîte à idées par thèmes",
                 "Séance de suivi", "Séance vide"):
        assert name in page.text
    assert 'name="plan" value="1-consultation" checked' in page.text
    made = {}
    for plan in ("1-consultation", "2-boite-a-idees", "3-suivi", "empty"):
        organiser.post(page.url.path + "/sessions", data={"csrf": token, "title": plan,
                                                          "plan": plan})
        seance = organiser.portal.call(q.list_sessions, organiser.app.state.db, 1)[-1]
        made[plan] = [s.kind for s in steps_of(organiser, seance.id)]
        if plan != "empty":
            assert "Préparer la séance" in organiser.get(page.url.path).text
    assert made["1-consultation"] == ["welcome", "poll", "proposals", "vote", "synthesis",
                                      "closing"]
    assert made["2-boite-a-idees"] == ["welcome", "proposals", "clustering", "vote",
                                       "synthesis", "closing"]
    assert made["3-suivi"] == ["welcome", "poll", "proposals", "vote", "closing"]
    assert made["empty"] == ["welcome"]
    # Every prompt of a proposals step is written, and the follow-up asks what changed.
    seance = organiser.portal.call(q.list_sessions, organiser.app.state.db, 1)[2]
    steps = steps_of(organiser, seance.id)
    assert all(s.prompt for s in steps if s.kind == "proposals")
    assert "changé" in questions_of(organiser, steps[1].id)[0].text


def test_a_create_form_error_keeps_what_was_typed(organiser):
    token = csrf_of(organiser.get("/organiser").text)
    page = organiser.post("/organiser/workshops", data={"csrf": token, "title": "Quartier"})
    r = organiser.post(page.url.path + "/sessions", data={
        "csrf": token, "title": "Atelier", "date": "demain", "place": "Salle B",
        "objectives": "Parler des écrans", "plan": "3-suivi"})
    assert r.status_code == 422 and "n'est pas une date" in r.text
    assert 'value="Salle B"' in r.text and "Parler des écrans</textarea>" in r.text
    assert 'value="3-suivi" checked' in r.text


def test_steps_are_added_edited_moved_and_deleted(ed):
    r = ed.post("/steps", kind="clustering", title="Nos thèmes")
    assert r.status_code == 200 and r.url.path == ed.url
    steps = ed.steps()
    assert [s.kind for s in steps][-1] == "clustering" and steps[-1].title == "Nos thèmes"
    new = steps[-1]
    ed.post(f"/steps/{new.id}/up")
    ed.post(f"/steps/{new.id}/up")
    assert [s.id for s in ed.steps()].index(new.id) == len(steps) - 3
    ed.post(f"/steps/{new.id}/down")
    assert [s.id for s in ed.steps()].index(new.id) == len(steps) - 2
    proposals = next(s for s in ed.steps() if s.kind == "proposals")
    r = ed.post(f"/steps/{proposals.id}", title="Vos idées", prompt="Que faire pour la salle ?",
                limit="2", max_length="200")
    assert r.status_code == 200
    proposals = next(s for s in ed.steps() if s.kind == "proposals")
    assert (proposals.title, proposals.prompt) == ("Vos idées", "Que faire pour la salle ?")
    assert '"limit": 2' in proposals.settings and '"max_length": 200' in proposals.settings
    vote = next(s for s in ed.steps() if s.kind == "vote")
    ed.post(f"/steps/{vote.id}", title="", prompt="", method="judgment")
    assert '"method": "judgment"' in next(s for s in ed.steps() if s.kind == "vote").settings
    r = ed.post(f"/steps/{new.id}/delete")
    assert r.status_code == 200 and new.id not in [s.id for s in ed.steps()]
    assert [s.position for s in ed.steps()] == list(range(len(ed.steps())))


def test_step_form_errors_keep_what_was_typed(ed):
    proposals = next(s for s in ed.steps() if s.kind == "proposals")
    r = ed.post(f"/steps/{proposals.id}", title="Mes idées", prompt="Une consigne",
                limit="500", max_length="280")
    assert r.status_code == 422
    assert "de 1 à 50" in r.text and 'value="Mes idées"' in r.text
    assert "Une consigne</textarea>" in r.text and 'value="500"' in r.text
    assert re.search(r"<details open>\s*<summary>Modifier cette étape", r.text)
    r = ed.post("/steps", kind="nap", title="Sieste")
    assert r.status_code == 422 and "Choisissez un type d'étape" in r.text
    assert 'value="Sieste"' in r.text


def test_tables_one_per_line(ed):
    r = ed.post("/tables", subgroups="Table bleue\n\n Table verte \ntable bleue\n")
    assert r.status_code == 200
    assert ed.c.portal.call(se.subgroup_names, ed.c.app.state.db, ed.id) == [
        "Table bleue", "Table verte"]
    r = ed.post("/tables", subgroups="x" * 41)
    assert r.status_code == 422 and "40 caractères au plus" in r.text
    assert "x" * 41 + "</textarea>" in r.text
    # A phone picks a table: it can no longer be removed, the others can.
    ed.post("/tables", subgroups="Table bleue\nTable verte\nTable rouge")
    phone = ed.seance.code
    page = ed.c.get(f"/j/{phone}")
    blue = re.search(r'<option value="(\d+)">Table bleue', page.text)
    assert blue, page.text
    ed.c.post(f"/j/{phone}", data={"csrf": csrf_of(page.text), "language": "fr-FR",
                                   "subgroup": blue.group(1)})
    r = ed.post("/tables", subgroups="Table verte")
    assert r.status_code == 409 and "Table bleue" in r.text
    r = ed.post("/tables", subgroups="Table bleue")
    assert r.status_code == 200
    assert ed.c.portal.call(se.subgroup_names, ed.c.app.state.db, ed.id) == ["Table bleue"]


def test_questions_are_added_edited_duplicated_moved_and_deleted(ed):
    poll = ed.poll()
    first, second = questions_of(ed.c, poll.id)
    r = ed.post("/questions", step=str(poll.id), kind="multiple", text="Qu'est-ce qui aide ?",
                choices="Un voisin\nUne bibliothèque\nUn atelier", max="2")
    assert r.status_code == 200
    third = questions_of(ed.c, poll.id)[-1]
    assert third.kind == "multiple" and third.limit == 2
    r = ed.post(f"/questions/{first.id}", kind="ranking", text="Classez :",
                choices="A\nB\nC")
    assert r.status_code == 200
    edited = questions_of(ed.c, poll.id)[0]
    assert edited.kind == "ranking" and [c.label for c in edited.choices] == ["A", "B", "C"]
    ed.post(f"/questions/{first.id}/duplicate")
    ids = [x.id for x in questions_of(ed.c, poll.id)]
    assert len(ids) == 4 and ids[0] == first.id
    copy = questions_of(ed.c, poll.id)[1]
    assert copy.text == "Classez :" and copy.state == "draft"
    ed.post(f"/questions/{third.id}/up")
    assert [x.id for x in questions_of(ed.c, poll.id)] == [first.id, copy.id, third.id,
                                                           second.id]
    ed.post(f"/questions/{first.id}/down")
    assert [x.id for x in questions_of(ed.c, poll.id)][:2] == [copy.id, first.id]
    r = ed.post(f"/questions/{copy.id}/delete")
    assert r.status_code == 200 and copy.id not in [x.id for x in questions_of(ed.c, poll.id)]


@pytest.mark.parametrize("data, message", [
    ({"kind": "single", "text": "", "choices": "Oui\nNon"}, "Écrivez la question"),
    ({"kind": "single", "text": "Venez-vous ?", "choices": "Oui"},
     "Donnez au moins 2 choix de réponse"),
    ({"kind": "multiple", "text": "Venez-vous ?", "choices": "Oui\nNon", "max": "9"},
     "de 1 à 2"),
    ({"kind": "matrix", "text": "Souvent ?", "choices": "Courriel", "levels": "Jamais"},
     "Donnez au moins 2 niveaux"),
    ({"kind": "scale", "text": "Note ?", "scale": "1-5", "low_label": "Bas"},
     "les deux bouts"),
    ({"kind": "poll", "text": "Venez-vous ?", "choices": "Oui\nNon"},
     "Choisissez un type de question"),
])
def test_a_bad_question_keeps_the_form_and_speaks_plainly(ed, data, message):
    poll = ed.poll()
    before = questions_of(ed.c, poll.id)
    r = ed.post("/questions", step=str(poll.id), **data)
    assert r.status_code == 422 and message in r.text, r.text[:3000]
    for key in ("choices", "text", "levels", "max", "labels", "kind"):
        assert f"« {key} »" not in r.text and f"“{key}”" not in r.text
    assert f'<details id="add-{poll.id}" open>' in r.text
    if data["text"]:
        assert f'value="{data["text"]}"' in r.text
    if "choices" in data:
        assert data["choices"] + "</textarea>" in r.text
    assert questions_of(ed.c, poll.id) == before
    # The same rules when changing a question.
    r = ed.post(f"/questions/{before[0].id}", **data)
    assert r.status_code == 422 and message in r.text
    assert "<details open>\n<summary>Modifier cette question" in r.text
    assert questions_of(ed.c, poll.id) == before


def test_answered_questions_take_wording_only_and_stay(ed):
    poll = ed.poll()
    question = questions_of(ed.c, poll.id)[0]
    links = ed.c.portal.call(q.active_links, ed.c.app.state.db, ed.id)
    f = f"/f/{links['facilitator']}"
    ed.c.post(f"{f}/questions/{question.id}/open", data={"csrf": csrf_of(ed.c.get(f).text)})
    page = ed.c.get(ed.url)
    assert "vous pouvez corriger le texte" in page.text
    # Opened, not yet answered: it cannot be deleted, nor change its kind.
    r = ed.post(f"/questions/{question.id}/delete")
    assert r.status_code == 409 and "a été ouverte" in r.text
    join = ed.c.get(f"/j/{ed.seance.code}")
    ed.c.post(f"/j/{ed.seance.code}", data={"csrf": csrf_of(join.text), "language": "fr-FR"})
    r = ed.c.post(f"/s/{ed.seance.code}/answer", data={
        "csrf": ed.token, "question": question.id, "choice": question.choices[0].id})
    assert r.status_code == 200
    r = ed.post(f"/questions/{question.id}/delete")
    assert r.status_code == 409 and "a déjà des réponses" in r.text
    labels = "\n".join(c.label for c in question.choices)
    r = ed.post(f"/questions/{question.id}", kind="multiple", text=question.text,
                choices=labels)
    assert r.status_code == 409 and "pas changer son type" in r.text
    r = ed.post(f"/questions/{question.id}", kind=question.kind, text=question.text,
                choices=labels + "\nEncore un")
    assert r.status_code == 409
    r = ed.post(f"/questions/{question.id}", kind=question.kind, text="Ce sujet vous touche ?",
                choices=labels.replace("Un peu", "Un petit peu"))
    assert r.status_code == 200
    after = questions_of(ed.c, poll.id)[0]
    assert after.text == "Ce sujet vous touche ?" and after.choices[1].label == "Un petit peu"
    assert [c.id for c in after.choices] == [c.id for c in question.choices]  # answers hold
    # The step holds an answer: it cannot be deleted.
    r = ed.post(f"/steps/{poll.id}/delete")
    assert r.status_code == 409 and "ne peut pas être supprimée" in r.text
    # The facilitator and the phone see the new wording right after saving.
    assert "Ce sujet vous touche ?" in ed.c.get(f).text
    assert "Ce sujet vous touche ?" in ed.c.get(f"/s/{ed.seance.code}").text
    assert "Un petit peu" in ed.c.get(f).text


def test_edits_show_on_the_facilitator_page_and_phones_at_once(ed):
    links = ed.c.portal.call(q.active_links, ed.c.app.state.db, ed.id)
    f = f"/f/{links['facilitator']}"
    assert "Nos règles du jeu" not in ed.c.get(f).text  # the séance is now in memory
    welcome = ed.steps()[0]
    ed.post(f"/steps/{welcome.id}", title="Nos règles du jeu", prompt="Bienvenue à toutes")
    assert "Nos règles du jeu" in ed.c.get(f).text
    join = ed.c.get(f"/j/{ed.seance.code}")
    ed.c.post(f"/j/{ed.seance.code}", data={"csrf": csrf_of(join.text), "language": "fr-FR"})
    assert "Bienvenue à toutes" in ed.c.get(f"/s/{ed.seance.code}").text
    ed.post(f"/steps/{welcome.id}", title="Accueil", prompt="Installez-vous")
    assert "Installez-vous" in ed.c.get(f"/s/{ed.seance.code}").text


def test_reached_steps_stay_and_the_seance_stays_on_its_step(ed):
    api = f"/api/sessions/{ed.seance.code}"
    links = ed.c.portal.call(q.active_links, ed.c.app.state.db, ed.id)
    head = {"authorization": f"Bearer {links['facilitator']}"}
    assert ed.c.post(f"{api}/step", json={"position": 2}, headers=head).status_code == 200
    steps = ed.steps()
    current = steps[2]
    for step in steps[:3]:  # reached (the welcome when the séance started, then on to 2)
        if step.started_at is None:
            continue
        r = ed.post(f"/steps/{step.id}/delete")
        assert r.status_code == 409 and "déjà été atteinte" in r.text
        r = ed.post(f"/steps/{step.id}/down")
        assert r.status_code == 409
    assert 'étape en cours' in ed.c.get(ed.url).text
    # A step not reached yet moves and goes; the séance stays on the same step.
    later = steps[4]
    ed.post(f"/steps/{later.id}/up")
    ed.post(f"/steps/{steps[3].id}/delete")
    assert ed.c.get(f"{api}/state", headers=head).json()["step"]["title"] == current.title
    assert ed.c.portal.call(q.get_session, ed.c.app.state.db, ed.id).current_step == 2
    # A step skipped before the current one (never reached) may go: the séance follows.
    assert steps[1].started_at is None
    assert ed.post(f"/steps/{steps[1].id}/delete").status_code == 200
    assert ed.c.portal.call(q.get_session, ed.c.app.state.db, ed.id).current_step == 1
    assert ed.c.get(f"{api}/state", headers=head).json()["step"]["title"] == current.title


def test_the_last_step_stays(organiser):
    ed = Editor(organiser, plan="empty")
    (only,) = ed.steps()
    r = ed.post(f"/steps/{only.id}/delete")
    assert r.status_code == 409 and "au moins une étape" in r.text


def test_only_the_organiser_reaches_the_editor(seance, client):
    url = f"/organiser/sessions/{seance.id}/edit"
    token = csrf_of(client.get(f"/f/{seance.links['facilitator']}").text)
    r = client.get(url, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/organiser/login")
    steps = seance.call(q.list_steps, seance.id)
    for path in ("/steps", f"/steps/{steps[0].id}", f"/steps/{steps[1].id}/delete",
                 "/questions", f"/questions/{seance.questions[0]['id']}/delete", "/tables"):
        r = client.post(url + path, data={"csrf": token, "kind": "vote", "subgroups": ""},
                        follow_redirects=False)
        assert r.status_code == 303, path
    for role in ("facilitator", "helper", "screen"):
        r = client.get(url, headers=fac(seance) if role == "facilitator" else {},
                       follow_redirects=False)
        assert r.status_code == 303
    r = client.post(f"/organiser/sessions/{seance.id}/reopen", data={"csrf": token,
                                                                     "confirm": "1"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/organiser/login")
    assert seance.call(q.list_steps, seance.id) == steps


def test_editor_forms_refuse_a_missing_csrf_token(ed):
    poll = ed.poll()
    for path in ("/steps", f"/steps/{poll.id}", f"/steps/{poll.id}/delete", "/tables",
                 "/questions"):
        r = ed.c.post(ed.url + path, data={"csrf": "forged", "kind": "vote",
                                           "step": str(poll.id)})
        assert r.status_code == 403, path
    assert ed.poll() == poll and len(ed.steps()) == 6


def test_unknown_things_are_not_found(ed):
    assert ed.c.get("/organiser/sessions/999/edit").status_code == 404
    assert ed.post("/steps/999/delete").status_code == 404
    assert ed.post("/questions/999/up").status_code == 404
    assert ed.post(f"/steps/{ed.poll().id}/jump").status_code == 404
    assert ed.post("/questions", step="abc", kind="text", text="Un mot ?").status_code == 404


def close(client, seance_code, links) -> None:
    f = f"/f/{links['facilitator']}"
    r = client.post(f"{f}/close", data={"csrf": csrf_of(client.get(f).text), "title": "Suite"})
    assert r.status_code == 200


def test_reopening_is_confirmed_audited_and_reported(seance, organiser):
    c = organiser
    question = seance.questions[0]
    seance.open(0)
    close(c, seance.code, seance.links)
    api = f"/api/sessions/{seance.code}"
    token = c.post("/api/sessions/join", json={"code": seance.code}).json()["token"]
    me = {"authorization": f"Bearer {token}"}
    answer = {"choices": [question["choices"][0]]}
    assert c.post(f"{api}/questions/{question['id']}/answers", headers=me,
                  json=answer).status_code == 409
    editor = c.get(f"/organiser/sessions/{seance.id}/edit")
    assert "Rouvrir la séance" in editor.text and "Enregistrer l'étape" not in editor.text
    steps = seance.call(q.list_steps, seance.id)
    r = c.post(f"/organiser/sessions/{seance.id}/edit/steps/{steps[0].id}",
               data={"csrf": csrf_of(editor.text), "title": "Autre"})
    assert r.status_code == 409 and "Cette séance est close" in r.text
    page = c.get(f"/organiser/sessions/{seance.id}/reopen")
    assert "Je confirme" in page.text
    r = c.post(f"/organiser/sessions/{seance.id}/reopen", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 422 and "Cochez la case" in r.text
    assert seance.call(se.audit, seance.id) == []
    r = c.post(f"/organiser/sessions/{seance.id}/reopen",
               data={"csrf": csrf_of(page.text), "confirm": "1"})
    assert r.status_code == 200 and "La séance est de nouveau ouverte" in r.text
    (entry,) = seance.call(se.audit, seance.id)
    assert entry["action"] == "reopened" and entry["who"].startswith("organiser:")
    assert entry["at"]
    # Answers are accepted again, by the API and the phone page.
    assert c.post(f"{api}/questions/{question['id']}/answers", headers=me,
                  json=answer).status_code == 201
    report = html.unescape(c.get(f"/organiser/sessions/{seance.id}/report").text)
    assert "Séance rouverte le" in report and "par l'organisation" in report
    markdown = c.get(f"/organiser/sessions/{seance.id}/report/md").text
    assert "Séance rouverte le" in markdown
    # Reopening an open séance is refused; nothing is audited twice.
    r = c.post(f"/organiser/sessions/{seance.id}/reopen",
               data={"csrf": csrf_of(page.text), "confirm": "1"})
    assert r.status_code == 409 and len(seance.call(se.audit, seance.id)) == 1


def test_facilitators_cannot_reopen(seance, client):
    close(client, seance.code, seance.links)
    f = f"/f/{seance.links['facilitator']}"
    token = csrf_of(client.get(f).text)
    r = client.post(f"/organiser/sessions/{seance.id}/reopen",
                    data={"csrf": token, "confirm": "1"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/api/sessions/{seance.code}/questions/{seance.questions[0]['id']}/open",
                    headers=fac(seance))
    assert r.status_code == 409
    assert seance.call(se.audit, seance.id) == []


def test_closing_again_after_a_reopen_updates_the_next_seance(seance, organiser):
    c = organiser
    seance.join()
    from tests.conftest import go

    go(seance, "proposals")
    page = c.get(f"/s/{seance.code}")
    c.post(f"/s/{seance.code}/propose", data={"csrf": csrf_of(page.text),
                                              "text": "Un atelier le samedi"})
    f = f"/f/{seance.links['facilitator']}"
    data = {"csrf": csrf_of(c.get(f).text), "title": "Suite", "carry": "1", "agenda": "Bilan"}
    assert c.post(f"{f}/close", data=data).status_code == 200
    count = len(c.portal.call(q.list_sessions, c.app.state.db, seance.call(
        q.get_session, seance.id).workshop_id))
    page = c.get(f"/organiser/sessions/{seance.id}/reopen")
    c.post(f"/organiser/sessions/{seance.id}/reopen", data={"csrf": csrf_of(page.text),
                                                             "confirm": "1"})
    data.update(title="Suite, nouvelle date", agenda="Bilan\nBudget")
    assert c.post(f"{f}/close", data=data).status_code == 200
    sessions = c.portal.call(q.list_sessions, c.app.state.db,
                             seance.call(q.get_session, seance.id).workshop_id)
    assert len(sessions) == count  # no second "next séance"
    from facilitation.store import votes as qv

    following = seance.call(qv.next_seance, seance.id)
    assert following.title == "Suite, nouvelle date"
    assert seance.call(qv.list_agenda, following.id) == ["Bilan", "Budget"]
    rows = c.portal.call(c.app.state.db.fetchall, "SELECT text FROM proposals WHERE"
                         " session_id = ?", (following.id,))
    assert [r["text"] for r in rows] == ["Un atelier le samedi"]


# Pure rules, without a server ------------------------------------------------------------


def test_every_ready_made_plan_parses():
    from facilitation import ready_plans
    from facilitation.settings import PACKAGE

    found = ready_plans.load(PACKAGE / "sessions")
    assert [p.key for p in found] == ["1-consultation", "2-boite-a-idees", "3-suivi"]
    for plan in found:
        assert plan.name and plan.description and plan.steps[0].kind == "welcome"
        assert all(s.prompt for s in plan.steps if s.kind == "proposals")


def test_wording_only_keeps_the_shape():
    from dataclasses import replace

    from facilitation.editing import EditError, check_wording_only, question_from_form
    from facilitation.polls import Choice, Question, Settings

    old = Question(1, 1, "multiple", "Q ?", (Choice(1, "a"), Choice(2, "b"), Choice(3, "c")),
                   2, "open", Settings())
    same = question_from_form({"kind": "multiple", "text": "Q, mieux dit ?",
                               "choices": "A\nB\nC", "max": "2"})
    check_wording_only(old, same)
    for changed in (replace(same, kind="single", max_choices=None),
                    replace(same, choices=("A", "B")), replace(same, max_choices=3)):
        with pytest.raises(EditError):
            check_wording_only(old, changed)


def test_tables_from_text():
    from facilitation.editing import EditError, subgroups_from_text

    assert subgroups_from_text(" A \n\nB\na\n  C  D ") == ("A", "B", "C D")
    with pytest.raises(EditError):
        subgroups_from_text("\n".join(f"T{i}" for i in range(31)))


def test_the_seance_details_are_edited_and_kept_on_error(ed):
    r = ed.post("/details", title="Atelier du jeudi", date="2027-03-04", time="18:00",
                place="Salle B", objectives="Choisir les priorités")
    assert r.status_code == 200 and "jeudi 4 mars 2027" in r.text
    seance = ed.c.portal.call(q.get_session, ed.c.app.state.db, ed.id)
    assert (seance.title, seance.place, seance.objectives) == (
        "Atelier du jeudi", "Salle B", "Choisir les priorités")
    r = ed.post("/details", title="Atelier", date="jeudi prochain", place="Salle C",
                objectives="Autre chose")
    assert r.status_code == 422 and "n'est pas une date" in r.text
    assert 'value="Salle C"' in r.text and "Autre chose</textarea>" in r.text
    r = ed.post("/details", title="", place="Salle D")
    assert r.status_code == 422 and "Donnez un titre à la séance" in r.text
    assert ed.c.portal.call(q.get_session, ed.c.app.state.db, ed.id).place == "Salle B"
