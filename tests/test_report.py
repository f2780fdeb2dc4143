"""The compte-rendu: content from what happened, edits kept apart, every format readable."""

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import report as qr
from facilitation.store import votes as qv
from tests.conftest import csrf_of, fac, go

GOLDEN = Path(__file__).resolve().parent / "data" / "report_golden.md"



def plain(text: str) -> str:
    """Babel writes "50 %" with a narrow no-break space; compare with plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def lived(seance, client):
    """A séance that happened: answers, proposals in a theme, a vote; fixed step times."""
    api = f"/api/sessions/{seance.code}"
    steps = seance.call(q.list_steps, seance.id)
    by_kind = {s.kind: s for s in steps}
    client.post(f"{api}/step", json={"position": by_kind["poll"].position}, headers=fac(seance))
    people = [{"authorization": "Bearer " + client.post(
        "/api/sessions/join", json={"code": seance.code}).json()["token"]} for _ in range(6)]
    first = seance.questions[0]
    client.post(f"{api}/questions/{first['id']}/open", headers=fac(seance))
    for i, who in enumerate(people):
        client.post(f"{api}/questions/{first['id']}/answers",
                    json={"choices": [first["choices"][i % 2]]}, headers=who)
    client.post(f"{api}/questions/{first['id']}/close", headers=fac(seance))
    step = by_kind["proposals"].id
    ids = [seance.call(qp.add_proposal, seance.id, step, text, "phone")
           for text in ("une navette gratuite", "des ateliers le samedi", "garder le papier")]
    theme = seance.call(qp.create_theme, seance.id, "Mobilité")
    seance.call(qp.move, seance.id, ids[0], theme)
    client.post(f"{api}/step", json={"position": by_kind["vote"].position},
                headers=fac(seance))
    base = f"/f/{seance.links['facilitator']}"
    token = csrf_of(client.get(base).text)
    client.post(f"{base}/vote/open", data={"csrf": token})
    for who in people:
        client.post(f"{api}/votes", json={"item_id": ids[0], "value": "agree"}, headers=who)
    client.post(f"{base}/vote/close", data={"csrf": token})
    db = client.app.state.db

    def fix_times(conn):
        start = dt.datetime(2026, 12, 3, 17, 30, tzinfo=dt.UTC)
        for i, s in enumerate(steps[:5]):
            conn.execute("UPDATE steps SET started_at = ? WHERE id = ?",
                               ((start + dt.timedelta(minutes=12 * i)).isoformat(), s.id))

    client.portal.call(db.write, fix_times)
    return base, token, ids, theme


def test_markdown_report_matches_the_golden_file(seance, client, lived):
    base, *_ = lived
    text = client.get(f"{base}/report/md").text
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_report_content_follows_the_data(seance, client, lived):
    base, token, ids, theme = lived
    text = plain(client.get(f"{base}/report/md").text)
    assert "# Séance 1 : ce qui bloque" in text and "brouillon" in text
    assert "| À pied | 3 | 50 % |" in text and "n = 6 (téléphone : 6)" in text
    assert "### Mobilité" in text and "- une navette gratuite" in text
    assert "**une navette gratuite** — 6 d'accord" in text
    assert "| Consultation éclair | 18:42 | 12 min |" in text  # Europe/Paris, durations
    # The facilitator's own headcount is the number present; who joined stays beside it.
    assert client.post(f"{base}/headcount", data={"csrf": token, "headcount": "lots"}
                       ).status_code == 422
    client.post(f"{base}/headcount", data={"csrf": token, "headcount": "23"})
    text = client.get(f"{base}/report/md").text
    assert "- **Personnes présentes** : 23 (compté par l'animation)" in text
    assert "- **Ont pris part** : 6 (téléphone : 6)" in text
    # Edits: notes, a theme's wording, a hidden section, a moved section.
    client.post(f"{base}/report", data={"csrf": token, "intro": "Bienvenue à toutes et tous.",
                                        "conclusion": "", f"theme-{theme}": "Se déplacer",
                                        "hide-annex": "1"})
    client.post(f"{base}/report", data={"csrf": token, "move": "decisions:up"})
    edited = client.get(f"{base}/report/md").text
    assert "Bienvenue à toutes et tous." in edited and "### Se déplacer" in edited
    assert "Annexe" not in edited
    assert edited.index("## Propositions qui font consensus") < edited.index(
        "## Propositions par thème")
    # The data never changed.
    assert seance.call(qp.list_themes, seance.id)[0].name == "Mobilité"
    assert client.post(f"{base}/report", data={"csrf": token, "move": "nope:up"}
                       ).status_code == 422


def test_raw_data_as_json_and_csv(seance, client, lived):
    base, *_ = lived
    data = json.loads(client.get(f"{base}/report/json").content)
    assert data["seance"]["title"] == "Séance 1 : ce qui bloque"
    assert len(data["answers"]) == 6 and len(data["votes"]) == 6
    assert "token_hash" not in json.dumps(data)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/report/zip").content))
    assert {"answers.csv", "proposals.csv", "votes.csv", "participants.csv"} <= set(
        archive.namelist())
    answers = archive.read("answers.csv").decode("utf-8-sig").splitlines()
    assert len(answers) == 7  # a header and six answers
    proposals = archive.read("proposals.csv").decode("utf-8-sig")
    assert "une navette gratuite" in proposals


def test_raw_data_has_totals_json_values_and_the_polis_layout(seance, client, lived):
    base, _token, ids, _theme = lived
    first = seance.questions[0]
    matrix = next(qu for qu in seance.questions if qu["kind"] == "matrix")
    # A matrix answer, to see it as a JSON object and not a string inside a string.
    api = f"/api/sessions/{seance.code}"
    who = {"authorization": "Bearer " + client.post(
        "/api/sessions/join", json={"code": seance.code}).json()["token"]}
    client.post(f"{api}/questions/{matrix['id']}/open", headers=fac(seance))
    r = client.post(f"{api}/questions/{matrix['id']}/answers", headers=who,
                    json={"items": {str(matrix["choices"][0]): 1}})
    assert r.status_code == 201, r.text
    data = json.loads(client.get(f"{base}/report/json").content)
    stored = next(a["value"] for a in data["answers"] if a["question_id"] == matrix["id"])
    assert stored == {str(matrix["choices"][0]): 1}
    assert isinstance(data["questions"][0]["settings"], dict)
    totals = [t for t in data["totals"]["questions"] if t["question_id"] == first["id"]]
    # Six answers split over the first two choices, three each (n = 6).
    assert [(t["count"], t["n"]) for t in totals[:2]] == [(3, 6), (3, 6)]
    assert sum(t["count"] for t in totals) == 6
    votes = {(t["item_id"], t["agree"], t["disagree"]) for t in data["totals"]["votes"]}
    assert (ids[0], 6, 0) in votes
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/report/zip").content))
    names = set(archive.namelist())
    assert {"question_totals.csv", "vote_totals.csv", "polis/comments.csv",
            "polis/votes.csv"} <= names
    comments = list(csv.DictReader(io.StringIO(archive.read("polis/comments.csv").decode())))
    assert list(comments[0]) == ["timestamp", "datetime", "comment-id", "author-id",
                                 "agrees", "disagrees", "moderated", "comment-body"]
    navette = next(c for c in comments if c["comment-body"] == "une navette gratuite")
    assert (navette["agrees"], navette["disagrees"], navette["moderated"]) == ("6", "0", "1")
    votes_csv = list(csv.DictReader(io.StringIO(archive.read("polis/votes.csv").decode())))
    assert len(votes_csv) == 6 and {v["vote"] for v in votes_csv} == {"1"}
    assert all(v["comment-id"] == str(ids[0]) and v["timestamp"].isdigit() for v in votes_csv)


def test_pdf_report_reads_back_and_is_not_blank(seance, client, lived, tmp_path):
    base, *_ = lived
    response = client.get(f"{base}/report/pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert "acces-au-numerique-dans-le-quartier_seance-1_2026-12-03.pdf" in \
        response.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = plain("\n".join(page.extract_text() for page in reader.pages))
    for fragment in ("Séance 1 : ce qui bloque", "Résultats de la consultation éclair",
                     "Comment êtes-vous venu·e ce soir ?", "50 %", "Mobilité",
                     "une navette gratuite", "Propositions qui font consensus"):
        assert fragment in text, fragment
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "2", "-png", str(pdf),
                    str(tmp_path / "page")], check=True)
    for png in sorted(tmp_path.glob("page*.png")):
        dark = sum(Image.open(png).convert("L").histogram()[:128])
        assert dark > 500, png  # text and charts, not a blank page


def test_html_report_is_a_document_with_its_charts(seance, client, lived):
    base, *_ = lived
    html = client.get(f"{base}/report/html").text
    assert html.startswith("<!doctype html>") and "<svg" in html and "<style>" in html
    assert 'fill="#0072b2"' in html  # vector chart, colours as attributes


def test_report_only_for_facilitator_and_organiser(seance, client, lived, organiser):
    seance.join()
    participant = client.cookies.get(f"eclair_p_{seance.code}")
    for role_token in (participant, seance.links["helper"], seance.links["screen"]):
        assert client.get(f"/f/{role_token}/report").status_code == 404
        assert client.get(f"/f/{role_token}/report/md").status_code == 404
    assert client.get(f"/f/{seance.links['facilitator']}/report/exe").status_code == 404
    page = organiser.get(f"/organiser/sessions/{seance.id}/report")
    assert page.status_code == 200 and "Compte-rendu" in page.text
    assert organiser.get(f"/organiser/sessions/{seance.id}/report/md").status_code == 200


def test_final_after_closing(seance, client, lived):
    base, token, *_ = lived
    steps = seance.call(q.list_steps, seance.id)
    closing = next(s.position for s in steps if s.kind == "closing")
    client.post(f"/api/sessions/{seance.code}/step", json={"position": closing},
                headers=fac(seance))
    client.post(f"{base}/close", data={"csrf": token, "title": "Séance 2",
                                       "agenda": "Bilan"})
    text = client.get(f"{base}/report/md").text
    assert "compte-rendu définitif" in text and "- Bilan" in text
    report = seance.call(qr.build, seance.id)
    assert report.final and report.next_seance.title == "Séance 2"
    assert seance.call(qv.list_agenda, report.next_seance.id) == ["Bilan"]


def test_odt_and_docx_carry_every_section_figures_and_charts(seance, client, lived, tmp_path):
    from docx import Document
    from odf import draw, teletype
    from odf import text as odf_text
    from odf.opendocument import load

    base, *_ = lived
    sections = ["La séance", "Objectifs et ordre du jour", "Méthode",
                "Résultats de la consultation éclair", "Propositions par thème",
                "Propositions qui font consensus", "Résultats des votes",
                "Annexe : méthode de calcul"]
    empty = ["Notes de l'animation", "Ordre du jour de la séance suivante"]  # nothing to say
    response = client.get(f"{base}/report/docx")
    assert response.headers["content-disposition"].endswith('2026-12-03.docx"')
    document = Document(io.BytesIO(response.content))
    paragraphs = [p.text for p in document.paragraphs]
    assert all(title in paragraphs for title in sections)
    assert not any(title in paragraphs for title in empty)
    first = document.tables[1]  # after the method's table: the first question's
    rows = [[cell.text for cell in row.cells] for row in first.rows]
    assert rows[0] == ["Réponse", "Nombre", "Pourcentage"]
    assert [rows[1][0], rows[1][1]] == ["À pied", "3"]
    assert len(document.inline_shapes) == 2  # the question's and the vote's charts
    assert any(p.startswith("une navette gratuite — 6 d'accord") for p in paragraphs)

    path = tmp_path / "report.odt"
    path.write_bytes(client.get(f"{base}/report/odt").content)
    odt = load(str(path))
    headings = [teletype.extractText(h) for h in odt.getElementsByType(odf_text.H)]
    assert all(title in headings for title in sections)
    assert not any(title in headings for title in empty)
    # Lists carry a list style (bullet or number) and no bullet typed in their text: a
    # list without a style showed the reader's bullet before ours ("• • Date").
    lists = odt.getElementsByType(odf_text.List)
    assert lists and all(lst.getAttribute("stylename") in ("Bullets", "Numbers")
                         for lst in lists)
    items = [teletype.extractText(i) for i in odt.getElementsByType(odf_text.ListItem)]
    assert items and not any(i.startswith(("•", "1. ")) for i in items)
    body = plain(teletype.extractText(odt.text))
    assert "Comment êtes-vous venu·e ce soir ?" in body and "À pied" in body
    images = [i.getAttribute("href") for i in odt.getElementsByType(draw.Image)]
    assert any(h.endswith(".svg") for h in images)  # the chart stays a vector
    assert any(h.endswith(".png") for h in images)  # with a picture for older readers


def test_an_english_report_of_a_french_seance(seance, client, lived):
    base, *_ = lived
    page = client.get(f"{base}/report").text
    assert f"{base}/report/pdf?lang=en" in page
    english = client.get(f"{base}/report/md?lang=en").text
    assert "## Flash poll results" in english and "| On foot" not in english
    assert "| À pied | 3 |" in english  # the séance's own words stay as they were said


def test_paper_kit(seance, client, tmp_path):
    response = client.get(f"/f/{seance.links['facilitator']}/kit.pdf?cards=4")
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(plain("\n".join(page.extract_text() for page in reader.pages)).split())
    assert seance.code in text and "Scannez le QR code" in text
    for number in range(1, 5):
        assert f"Bulletin n° {number}" in text
    assert "Bulletin n° 5" not in text
    assert "Comment êtes-vous venu·e ce soir ?" in text and "À pied" in text
    # Proposal cards: the step's prompt, and a box for each of the séance's tables.
    assert "Quelles solutions simples" in text and "Votre table : Table 1 Table 2 Table 3" in text
    assert len(reader.pages) >= 1 + 2 + 1  # poster, cards (two a page when short), proposals
    assert seance.code in reader.pages[0].extract_text()  # the poster comes first
    pdf = tmp_path / "kit.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-r", "30", "-f", "1", "-l", "1", "-png", str(pdf),
                    str(tmp_path / "poster")], check=True)
    (png,) = tmp_path.glob("poster*.png")
    assert sum(Image.open(png).convert("L").histogram()[:128]) > 2000  # the QR code, printed
    assert client.get(f"/f/{seance.links['helper']}/kit.pdf").status_code == 404


def test_the_kit_prints_two_cards_a_page_and_no_empty_card(seance, client):
    f = f"/f/{seance.links['facilitator']}"
    reader = PdfReader(io.BytesIO(client.get(f"{f}/kit.pdf?cards=20").content))
    texts = [plain(page.extract_text()) for page in reader.pages]
    with_cards = [t for t in texts if "Bulletin n°" in t]
    # The demo's card (six questions, a matrix among them) is the worst case: still two
    # cards to a landscape page, 20 cards in 10 pages.
    assert len(with_cards) == 10 and all(t.count("Bulletin n°") == 2 for t in with_cards)
    assert "Bulletin n° 20" in with_cards[-1]
    # A ranking asks for numbers, not ticks.
    assert "Écrivez un numéro dans chaque case : 1 pour votre premier choix, jusqu'à 4." in \
        " ".join(" ".join(texts).split())
    # A séance without poll questions gets no ballot card at all (it would be empty).
    steps = seance.call(q.list_steps, seance.id)
    poll = next(s for s in steps if s.kind == "poll")
    for question in seance.questions:
        client.portal.call(client.app.state.db.write, lambda conn, qid=question["id"]:
                           conn.execute("DELETE FROM questions WHERE id = ?", (qid,)))
    assert seance.call(q.list_questions, poll.id) == ()
    empty = PdfReader(io.BytesIO(client.get(f"{f}/kit.pdf?cards=20").content))
    assert not any("Bulletin n°" in page.extract_text() for page in empty.pages)


def test_nothing_empty_is_printed_and_the_annex_explains_only_what_was_used(seance, client):
    """A séance where nothing was asked, proposed or voted: no section saying so, no annex
    explaining Borda or majority judgment to nobody."""
    base = f"/f/{seance.links['facilitator']}"
    text = plain(client.get(f"{base}/report/md").text)
    for absent in ("Aucune question n'a été posée", "Aucune proposition ne fait consensus",
                   "Résultats de la consultation éclair", "Propositions qui font consensus",
                   "Pas de notes", "Annexe", "Borda", "Jugement majoritaire",
                   "Personnes inscrites"):
        assert absent not in text, absent
    assert "## La séance" in text and "**Ont pris part** : 0" in text
    # Dot voting alone: its priorities, without a consensus rule nobody voted on.
    step = next(s.id for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    ids = [seance.call(qp.add_proposal, seance.id, step, t, "phone") for t in ("a", "b")]
    go(seance, "vote")
    token = csrf_of(client.get(base).text)
    client.post(f"{base}/vote", data={"csrf": token, "method": "dots", "target": "proposals",
                                      "points": "5", "max_per_item": "3", "open": "1"})
    who = {"authorization": "Bearer " + client.post(
        "/api/sessions/join", json={"code": seance.code}).json()["token"]}
    assert client.post(f"/api/sessions/{seance.code}/votes", headers=who,
                       json={"dots": {str(ids[0]): 3}}).status_code == 201
    text = plain(client.get(f"{base}/report/md").text)
    assert "Priorités" in text or "priorités" in text
    assert "Consensus : au moins" not in text and "Aucune proposition ne fait consensus" \
        not in text


NOTE = ("Ce qui a été présenté :\n- Dialogue avec les habitants\n- Temps de parole\n"
        "  - pour les aînés\n  - pour les jeunes\n- Suite <b>donnée</b>\n\n"
        "Deux lignes\nà garder")


def test_lists_and_line_breaks_in_notes_survive_every_format(seance, client, lived,
                                                            tmp_path):
    """A note typed with a list and a line break collapsed into one paragraph
    ("… : - Dialogue … - Temps …") in HTML, PDF and ODT."""
    from docx import Document
    from odf import teletype
    from odf import text as odf_text
    from odf.opendocument import load

    base, token, *_ = lived
    client.post(f"{base}/report", data={"csrf": token, "intro": NOTE, "conclusion": ""})
    html = client.get(f"{base}/report/html").text
    assert ("<ul><li>Dialogue avec les habitants</li><li>Temps de parole<ul>"
            "<li>pour les aînés</li><li>pour les jeunes</li></ul></li>"
            "<li>Suite &lt;b&gt;donnée&lt;/b&gt;</li></ul>") in html
    assert "<p>Deux lignes<br>à garder</p>" in html
    md = client.get(f"{base}/report/md").text
    assert "- Dialogue avec les habitants\n- Temps de parole\n  - pour les aînés\n" in md
    assert "Deux lignes\\\nà garder" in md
    document = Document(io.BytesIO(client.get(f"{base}/report/docx").content))
    styles = {p.text: p.style.name for p in document.paragraphs}
    assert styles["Dialogue avec les habitants"] == "List Bullet"
    assert styles["pour les aînés"] == "List Bullet 2"
    assert "Deux lignes\nà garder" in styles  # one paragraph, a line break inside
    path = tmp_path / "notes.odt"
    path.write_bytes(client.get(f"{base}/report/odt").content)
    odt = load(str(path))
    nested = [lst for lst in odt.getElementsByType(odf_text.List)
              if "pour les aînés" in teletype.extractText(lst)]
    assert len(nested) == 2  # the sub-list inside the list
    assert any(p.getElementsByType(odf_text.LineBreak)
               for p in odt.getElementsByType(odf_text.P))
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(client.get(f"{base}/report/pdf").content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    lines = [line.strip() for line in text.splitlines()]
    assert "• Dialogue avec les habitants" in lines and "• Temps de parole" in lines
    assert "Deux lignes" in lines and "à garder" in lines


def test_the_deroule_starts_with_the_first_step_and_the_seance_has_an_end(seance, client):
    """The first step is never moved to: its start was missing from the déroulé; and the
    report said when the séance began, never when it ended."""
    base = f"/f/{seance.links['facilitator']}"
    client.post("/api/sessions/join", json={"code": seance.code})  # someone arrives
    steps = seance.call(q.list_steps, seance.id)
    assert steps[0].started_at is not None and steps[1].started_at is None
    go(seance, "closing")
    client.post(f"{base}/close", data={"csrf": csrf_of(client.get(base).text),
                                       "title": "Suite"})
    text = plain(client.get(f"{base}/report/md").text)
    welcome = steps[0].title or "Accueil"
    assert re.search(rf"\| {re.escape(welcome)} \| \d\d:\d\d \| \d+ min \|", text), text
    assert re.search(r"Heure\*\* : 18:30 – \d\d:\d\d", text), text
    assert not re.search(r"\| — \|", text.split("## Méthode")[1].split("##")[0])


def test_file_names_are_cut_between_words():
    """File names were cut mid-word at 60 characters."""
    from dataclasses import replace as copy

    from facilitation.report import Report
    from facilitation.seances import Seance, Workshop

    workshop = Workshop(1, "Réduire la fracture numérique dans les quartiers prioritaires de "
                           "la ville")
    seance = Seance(1, 1, 2, "Séance", "ABCDE", date="2026-12-03", time="18:30")
    report = Report(workshop=workshop, seance=seance, final=False, presence=None,
                    agenda=(), runs=(), polls=(), themes=(), unsorted=(), synthesis=None,
                    rule=None, next_seance=None, next_agenda=(), edits=None)
    name, rest = report.slug().split("_", 1)
    assert rest == "seance-2_2026-12-03"
    assert name == "reduire-la-fracture-numerique-dans-les-quartiers"  # not "…prioritair"
    long = copy(report, workshop=copy(workshop, title="x" * 80))
    assert long.slug().split("_")[0] == "x" * 60  # one word longer than the limit


LONG_ITEM = ("Créer un réseau de personnes relais dans chaque quartier, formées ensemble, qui "
             "accompagnent les habitants dans leurs démarches en ligne et orientent vers les "
             "lieux d'aide, avec une permanence chaque semaine au centre social et une ligne "
             "téléphonique pour celles et ceux qui ne se déplacent pas, numéro ")


def test_synthesis_of_the_exchanges_step_lines_and_bold_in_every_format(seance, client,
                                                                        lived, tmp_path):
    """The synthèse des échanges had no place of its own, a step could not say what
    happened in it, and bold was lost."""
    from docx import Document
    from odf import teletype
    from odf import text as odf_text
    from odf.opendocument import load

    base, token, *_ = lived
    steps = seance.call(q.list_steps, seance.id)
    poll = next(s for s in steps if s.kind == "poll")
    client.post(f"{base}/report", data={
        "csrf": token, "intro": "", "conclusion": "",
        "discussion": "Présentation par **l'équipe du centre social**.\n\n"
                      "- Actions en place :\n  - des postes en accès libre\n",
        f"step-{poll.id}": "Questions   projetées, réponses à main levée",
        "step-999999": "une étape d'une autre séance"})
    md = client.get(f"{base}/report/md").text
    assert md.index("## Méthode") < md.index("## Synthèse des échanges") < md.index(
        "## Résultats de la consultation éclair")
    assert "Présentation par **l'équipe du centre social**." in md
    assert "- Actions en place :\n  - des postes en accès libre" in md
    assert "| Ce qui s'est passé |" in md
    assert "Questions projetées, réponses à main levée |" in md  # spaces folded
    assert "autre séance" not in md  # a step of another séance is ignored
    html = client.get(f"{base}/report/html").text
    assert 'id="section-discussion"' in html
    assert "<strong>l&#39;équipe du centre social</strong>" in html
    document = Document(io.BytesIO(client.get(f"{base}/report/docx").content))
    bold = [run.text for p in document.paragraphs for run in p.runs if run.bold]
    assert "l'équipe du centre social" in bold
    method = next(t for t in document.tables if t.rows[0].cells[0].text == "Étape")
    assert method.rows[0].cells[-1].text == "Ce qui s'est passé"
    path = tmp_path / "r.odt"
    path.write_bytes(client.get(f"{base}/report/odt").content)
    odt = load(str(path))
    spans = [teletype.extractText(s) for s in odt.getElementsByType(odf_text.Span)]
    assert "l'équipe du centre social" in spans


def test_no_pdf_page_ends_on_a_heading_and_no_word_is_split_in_tables(seance, client,
                                                                      tmp_path):
    """A dozen long vote items: the vote's heading and its "n voters" were left alone at
    the foot of a page (the chart went to the next), and narrow table columns split
    "D'accord" and "18" in two."""
    from docx import Document

    api = f"/api/sessions/{seance.code}"
    steps = {s.kind: s for s in seance.call(q.list_steps, seance.id)}
    people = [{"authorization": "Bearer " + client.post(
        "/api/sessions/join", json={"code": seance.code}).json()["token"]} for _ in range(18)]
    ids = [seance.call(qp.add_proposal, seance.id, steps["proposals"].id,
                       (LONG_ITEM + str(i))[:280], "phone") for i in range(12)]
    client.post(f"{api}/step", json={"position": steps["vote"].position}, headers=fac(seance))
    base = f"/f/{seance.links['facilitator']}"
    token = csrf_of(client.get(base).text)
    client.post(f"{base}/vote/open", data={"csrf": token})
    for n, who in enumerate(people):
        for k, pid in enumerate(ids):
            client.post(f"{api}/votes", headers=who, json={
                "item_id": pid, "value": ("agree", "disagree", "pass")[(n + k) % 3]})
    client.post(f"{base}/vote/close", data={"csrf": token})
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(client.get(f"{base}/report/pdf").content)
    pages = len(PdfReader(str(pdf)).pages)
    headings = {"Résultats des votes", "Vote", "18 votant·es", "Propositions par thème",
                "Propositions qui font consensus", "Ce qui divise la salle : à approfondir",
                "Pas de consensus", "Non classées", "Annexe : méthode de calcul"}
    for page in range(1, pages):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        last = [line.strip() for line in text.splitlines() if line.strip()][-1]
        assert last not in headings, f"page {page} ends on {last!r}"
    document = Document(io.BytesIO(client.get(f"{base}/report/docx").content))
    votes = next(t for t in document.tables if t.rows[0].cells[0].text == "Élément")
    widths = [cell.width for cell in votes.rows[0].cells]
    assert widths[0] > 2 * sum(widths[1:]) / 4  # the items get the room
    assert min(widths[1:]) >= 0.9 * 360000  # ≥ 0.9 cm: "D'accord", "18" on one line
