"""A real séance replayed end to end, and its compte-rendu read back in every format
(issue 14).

The séance has the shape of a citizens' workshop on digital exclusion whose organisation
wrote its own compte-rendu (seeds/001 in the shared folder): 18 people, 18:30 to 21:00,
objectives with a two-item list, six steps each with a line of what happened, a synthèse
des échanges with a paragraph, a list of existing actions (one with six sub-items), the
problems raised and some bold, eight proposals (one with sub-points), a vote, the
proposals that reach consensus, and the next séance with a nested agenda. The wording
here is our own; only short facts (counts, times) come from the seed.

Everything goes through the app as it would on the evening: the organiser imports the
plan, people join by phone (one through the join page, the others through the API) and on
paper (a helper types their cards), the facilitator moves through the steps, groups the
proposals, runs the vote, closes the séance with the next one, then writes the report.
The report is then read back as Markdown (kept as a golden file, UPDATE_GOLDEN=1 rewrites
it), HTML, PDF (pdftotext), ODT (odfpy) and DOCX (python-docx), section by section.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from facilitation import i18n, security
from facilitation.app import create_app
from facilitation.exports.blocks import short
from facilitation.report import SECTION_TITLES
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from tests.conftest import csrf_of, make_settings

GOLDEN = Path(__file__).resolve().parent / "data" / "report_replay_golden.md"

ORGANISATION = "Forum citoyen, saison 2"
DEMARCHE = "Ateliers de faisabilité"
TITLE = "Moins d'exclusion numérique"
PLACE = "L'Aubette, salle du premier étage"
NEXT = {"title": "Séance 2 : prioriser", "date": "2027-02-04", "time": "18:30",
        "place": "Centre administratif, salle du conseil"}
OBJECTIVES_LEAD = "Dire précisément ce que l'on veut faire contre l'exclusion numérique :"
OBJECTIVES = ["Bâtir une culture commune à partir des propositions",
              "Prendre le temps d'interroger chaque proposition ensemble"]

# The déroulé: (kind, title, what happened, local start time).
STEPS = [
    ("welcome", "Accueil et ouverture", "Mot d'ouverture de l'élue chargée du numérique",
     "18:30"),
    ("poll", "Rappel de la démarche", "Étapes, règles d'échange et rôles rappelés par "
     "l'équipe d'animation ; une question pour se situer", "18:40"),
    ("proposals", "État des lieux et échanges", "Les services présentent la situation et "
     "les actions en cours, puis la salle propose", "18:55"),
    ("vote", "Vote sur les propositions", "Chacun dit s'il est d'accord, pas d'accord ou "
     "s'il passe, par téléphone ou sur papier", "20:15"),
    ("synthesis", "Ce qui fait consensus", "Lecture des propositions retenues par le "
     "groupe", "20:35"),
    ("closing", "Clôture", "Date et ordre du jour de la prochaine séance annoncés",
     "20:50"),
]
ENDED = "21:00"
DATE = "2026-12-17"

QUESTION = "Avant ce soir, connaissiez-vous une action contre l'exclusion numérique ?"
CHOICES = ["Oui, plusieurs", "Oui, une seule", "Non, aucune"]
# Who answered what: 14 phones then 4 paper cards, by choice index.
ANSWERS = [0] * 4 + [1] * 5 + [2] * 5 + [0, 1, 2, 2]

AMBASSADORS = "Créer un réseau d'ambassadeurs du numérique dans chaque structure"
# The proposals, how they came in, their theme, and the vote (agree, pass, disagree).
PROPOSALS = [
    ("Repérer les publics éloignés du numérique et adapter le message à chacun",
     "phone", 0, (15, 2, 1)),
    ("Informer sur papier, public par public, avec le magazine de la ville", "paper", 0,
     (11, 4, 3)),
    (AMBASSADORS, "aloud", 1, (17, 1, 0)),
    ("Organiser une journée du numérique ouverte à toute la ville", "phone", 0, (13, 3, 2)),
    ("Un comité d'usagers associé à la conception des services en ligne", "phone", 1,
     (10, 6, 2)),
    ("Chaque mois, un atelier sur une démarche qui passe en ligne", "paper", 2, (14, 4, 0)),
    ("Un bus numérique qui va au-devant des habitants", "phone", 2, (8, 2, 8)),
    ("Un annuaire commun des structures qui agissent déjà", "aloud", 1, (16, 1, 1)),
]
THEMES = ["Faire connaître", "Relais et réseau", "Lieux et rendez-vous"]
# Under the default rule (at least 2/3 agree, at most 15 % disagree), most agreement first.
CONSENSUS = [p[0] for p in sorted(PROPOSALS, key=lambda p: -p[3][0])
             if p[3][0] / 18 >= 2 / 3 and p[3][2] / 18 <= 0.15]
DIVISIVE = [PROPOSALS[6][0]]

EXISTING = ["Un groupe de travail sur la médiation numérique, entre plusieurs services",
            "Le conseil de développement forme des « habitants relais » du numérique",
            "Un chèque pour se former au numérique, testé dans tout le pays",
            "Le programme des médiathèques, ouvert sans abonnement :"]
LIBRARIES = ["Environ 300 ordinateurs en accès libre, avec internet et bureautique",
             "Dans chaque médiathèque, un référent numérique formé",
             "Des ateliers de 6 à 8 personnes, du clavier à la protection des données",
             "Des rendez-vous individuels sur demande",
             "Emploi et démarches en ligne, avec le service public de l'emploi",
             "Des dépliants papier qui présentent tout cela"]
PROBLEMS = ["Beaucoup de structures agissent, chacune de son côté",
            "Les médiathèques ne peuvent pas couvrir seules tout le territoire",
            "On ne parle de ces actions qu'à l'intérieur des lieux qui les mènent",
            "Les habitants reçoivent déjà trop d'informations pour tout remarquer",
            "Certains publics sont difficiles à joindre : aînés isolés, personnes à la rue, "
            "personnes qui lisent peu le français"]
AMBASSADOR_POINTS = ["Un ambassadeur dans chaque structure qui lutte contre l'exclusion",
                     "Un socle commun : valeurs, sujets, formations à prioriser",
                     "Les ambassadeurs forment eux-mêmes de nouveaux relais près de chez eux"]
PRESENTED = ("La cheffe de projet numérique de la collectivité dresse l'état des lieux,",
             "puis présente les **17 structures** repérées sur le territoire.")
DISCUSSION = "\n".join([
    *PRESENTED, "",
    "Actions déjà en place :",
    *(f"- {line}" for line in EXISTING),
    *(f"  - {line}" for line in LIBRARIES), "",
    "Difficultés soulevées :",
    *(f"- {line}" for line in PROBLEMS), "",
    "Précisions de la salle sur les propositions :",
    f"- {AMBASSADORS} :",
    *(f"  - {line}" for line in AMBASSADOR_POINTS),
])
CONCLUSION_LEAD = "La prochaine séance portera sur :"
CONCLUSION_POINTS = ["Quels publics toucher en premier", "Quelles propositions approfondir"]
CONCLUSION = "\n".join([f"- {CONCLUSION_LEAD}", *(f"  - {p}" for p in CONCLUSION_POINTS)])
# The next séance's agenda as the facilitator types it in the closing form.
NEXT_AGENDA = ["Prioriser les actions proposées", "Approfondir les propositions de la "
               "première séance"]
NEXT_AGENDA_SUB = ["Préciser comment chacune serait mise en œuvre et qui la porte"]
NEXT_AGENDA_TYPED = "\n".join([f"- {NEXT_AGENDA[0]}", f"- {NEXT_AGENDA[1]}",
                               *(f"  - {p}" for p in NEXT_AGENDA_SUB)])


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


PLAN = "\n".join([
    "[workshop]", f"title = {_toml(DEMARCHE)}", f"organisation = {_toml(ORGANISATION)}",
    "", "[[sessions]]", f"title = {_toml(TITLE)}", f"date = {_toml(DATE)}", 'time = "18:30"',
    f"place = {_toml(PLACE)}", 'language = "fr-FR"',
    "objectives = " + _toml("\n".join([OBJECTIVES_LEAD, *(f"- {o}" for o in OBJECTIVES)])),
    *(line for kind, title, _said, _at in STEPS for line in (
        "", "[[sessions.steps]]", f"kind = {_toml(kind)}", f"title = {_toml(title)}",
        *(["prompt = " + _toml("Quelles actions concrètes contre l'exclusion numérique ?")]
          if kind == "proposals" else []),
        *(["", "[[sessions.steps.questions]]", 'kind = "single"', f"text = {_toml(QUESTION)}",
           f"choices = {_toml(CHOICES)}"] if kind == "poll" else []))),
])


def plain(text: str) -> str:
    """Babel writes "50 %" with a narrow no-break space; compare with plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def squeeze(text: str) -> str:
    return " ".join(plain(text).split())


# The replay -------------------------------------------------------------------------------


@dataclass
class Replay:
    md: str
    html: str
    pdf: Path
    odt: Path
    docx: Path
    next_md: str  # the next séance's report, as it stands when it is created
    folder: Path


def _run(client: TestClient) -> tuple[str, int]:
    """The séance, as it happened; returns the facilitator's link and the séance id."""
    db = client.app.state.db
    call = client.portal.call
    # The organiser imports the plan.
    call(q.upsert_organiser, db, "orga", security.hash_password("correct horse battery"))
    login = client.get("/organiser/login")
    client.post("/organiser/login", data={"csrf": csrf_of(login.text), "username": "orga",
                                          "password": "correct horse battery"})
    r = client.post("/organiser/import", data={"csrf": csrf_of(client.get("/organiser").text)},
                    files={"plan": ("atelier.toml", PLAN.encode(), "text/plain")})
    assert r.status_code == 200 and TITLE in plain(r.text).replace("&#39;", "'"), r.text
    workshop_id = int(r.url.path.rsplit("/", 1)[1])  # the démarche's page
    (seance,) = call(q.list_sessions, db, workshop_id)
    code = seance.code
    links = call(q.active_links, db, seance.id)
    fac = f"/f/{links['facilitator']}"
    helper = f"/h/{links['helper']}"
    api = f"/api/sessions/{code}"
    steps = call(q.list_steps, db, seance.id)
    assert [s.kind for s in steps] == [kind for kind, *_ in STEPS]

    def fac_post(path: str, **data: object) -> None:
        token = csrf_of(client.get(fac).text)
        response = client.post(f"{fac}{path}", data={"csrf": token, **data})
        assert response.status_code == 200, (path, response.status_code)

    def helper_post(path: str, **data: object) -> None:
        token = csrf_of(client.get(helper).text)
        response = client.post(f"{helper}{path}", data={"csrf": token, **data})
        assert response.status_code == 200, (path, response.status_code, response.text[-500:])

    def next_step() -> None:
        current = call(q.get_session, db, seance.id).current_step
        fac_post("/step", move="next", **{"from": str(current)})

    # Accueil: one phone through the join page, thirteen through the API.
    page = client.get(f"/j/{code}")
    joined = client.post(f"/j/{code}", data={"csrf": csrf_of(page.text), "language": "fr-FR",
                                             "name": "Nadia"})
    assert joined.url.path == f"/s/{code}"
    phones = [{"authorization": "Bearer " + client.post(
        "/api/sessions/join", json={"code": code}).json()["token"]} for _ in range(13)]
    fac_post("/headcount", headcount="18")
    # The consultation éclair: phones answer, the helper types the four paper cards.
    next_step()
    (question,) = call(q.list_questions, db, steps[1].id)
    choices = [c.id for c in question.choices]
    fac_post(f"/questions/{question.id}/open")
    csrf = client.cookies.get(security.CSRF_COOKIE)
    r = client.post(f"/s/{code}/answer", data={"csrf": csrf, "question": question.id,
                                               "choice": choices[ANSWERS[0]]})
    assert r.status_code == 200
    for who, choice in zip(phones, ANSWERS[1:14], strict=True):
        r = client.post(f"{api}/questions/{question.id}/answers",
                        json={"choices": [choices[choice]]}, headers=who)
        assert r.status_code == 201, r.text
    fac_post(f"/questions/{question.id}/close")
    for card, choice in enumerate(ANSWERS[14:], start=1):
        helper_post("/card", card=str(card), **{f"q{question.id}-choice": str(choices[choice])})
    # Proposals: by phone, on paper (typed by the helper), said aloud (typed by the
    # facilitator); then grouped into themes.
    next_step()
    phone_texts = [text for text, channel, *_ in PROPOSALS if channel == "phone"]
    r = client.post(f"/s/{code}/propose", data={"csrf": csrf, "text": phone_texts[0]})
    assert r.status_code == 200
    for who, text in zip(phones, phone_texts[1:], strict=False):  # three of the phones
        assert client.post(f"{api}/proposals", json={"text": text},
                           headers=who).status_code == 201
    helper_post("/propose", text="\n".join(t for t, channel, *_ in PROPOSALS
                                           if channel == "paper"))
    for text, channel, *_ in PROPOSALS:
        if channel == "aloud":
            fac_post("/proposals", text=text)
    by_text = {p.text: p.id for p in call(qp.list_proposals, db, seance.id)}
    assert set(by_text) == {p[0] for p in PROPOSALS}
    for name in THEMES:
        fac_post("/themes", name=name)
    theme_ids = [t.id for t in call(qp.list_themes, db, seance.id)]
    for text, _channel, theme, _votes in PROPOSALS:
        fac_post(f"/proposals/{by_text[text]}/move", theme=str(theme_ids[theme]))
    # The vote: agree / pass / disagree on each proposal; the first phone on the phone
    # page, the others through the API, the paper cards typed by the helper.
    next_step()
    fac_post("/vote", method="agree", target="proposals", points="5", max_per_item="3",
             open="1")
    vote_step = steps[3].id
    values = ("agree", "pass", "disagree")
    ballots: list[dict[int, str]] = [{} for _ in range(18)]
    for text, _channel, _theme, counts in PROPOSALS:
        assert sum(counts) == 18
        marks = [v for v, n in zip(values, counts, strict=True) for _ in range(n)]
        for voter, mark in enumerate(marks):
            ballots[voter][by_text[text]] = mark
    for item, mark in ballots[0].items():
        r = client.post(f"/s/{code}/vote", data={"csrf": csrf, "item": str(item),
                                                 "value": mark})
        assert r.status_code == 200
    for who, ballot in zip(phones, ballots[1:14], strict=True):
        for item, mark in ballot.items():
            assert client.post(f"{api}/votes", json={"item_id": item, "value": mark},
                               headers=who).status_code == 201
    for card, ballot in enumerate(ballots[14:], start=1):
        helper_post("/vote", card=str(card), step=str(vote_step),
                    **{f"v-{item}": mark for item, mark in ballot.items()})
    fac_post("/vote/close")
    # Synthesis, then closing with the next séance and its agenda.
    next_step()
    next_step()
    fac_post("/close", title=NEXT["title"], date=NEXT["date"], time=NEXT["time"],
             place=NEXT["place"], agenda=NEXT_AGENDA_TYPED, carry_list="1")
    # Every step was run; the evening's clock replaces the test's (the replay takes
    # seconds, the séance took two and a half hours).
    run = call(q.list_steps, db, seance.id)
    assert all(s.started_at for s in run), [s.title for s in run if not s.started_at]

    zone = ZoneInfo(client.app.state.settings.timezone)

    def evening(conn):
        for s, (_k, _t, _said, at) in zip(run, STEPS, strict=True):
            conn.execute("UPDATE steps SET started_at = ? WHERE id = ?", (_utc(at, zone), s.id))
        conn.execute("UPDATE sessions SET closed_at = ? WHERE id = ?",
                     (_utc(ENDED, zone), seance.id))

    call(db.write, evening)
    # After the séance, the facilitator writes the report: a line per step, the synthèse
    # des échanges, a conclusion.
    token = csrf_of(client.get(f"{fac}/report").text)
    r = client.post(f"{fac}/report", data={
        "csrf": token, "intro": "", "conclusion": CONCLUSION, "discussion": DISCUSSION,
        **{f"step-{s.id}": said for s, (_k, _t, said, _at) in zip(run, STEPS, strict=True)}})
    assert r.status_code == 200
    return fac, seance.id


def _utc(local: str, zone: ZoneInfo) -> str:
    """A time of the evening ("20:15", the séance's own time zone) as stored (UTC)."""
    hours, minutes = (int(x) for x in local.split(":"))
    at = dt.datetime.fromisoformat(DATE).replace(hour=hours, minute=minutes, tzinfo=zone)
    return at.astimezone(dt.UTC).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory, store: str) -> Iterator[Replay]:
    folder = tmp_path_factory.mktemp("replay")
    with TestClient(create_app(make_settings(folder, store)),
                    base_url="http://testserver") as client:
        fac, seance_id = _run(client)
        files = {}
        for fmt in ("pdf", "odt", "docx"):
            response = client.get(f"{fac}/report/{fmt}")
            assert response.status_code == 200
            files[fmt] = folder / f"report.{fmt}"
            files[fmt].write_bytes(response.content)
        db = client.app.state.db
        following = client.portal.call(qv.next_seance, db, seance_id)
        next_links = client.portal.call(q.active_links, db, following.id)
        yield Replay(md=client.get(f"{fac}/report/md").text,
                     html=client.get(f"{fac}/report/html").text,
                     pdf=files["pdf"], odt=files["odt"], docx=files["docx"],
                     next_md=client.get(f"/f/{next_links['facilitator']}/report/md").text,
                     folder=folder)


# Reading each format back as the same units --------------------------------------------


@dataclass(frozen=True)
class Unit:
    """What a reader meets, in order: a heading, a paragraph, a list item (with its level),
    a table row; the bold pieces in it and the line breaks typed in it."""

    kind: str  # h1, h2, h3, p, li, row, figure
    text: str
    level: int = 0
    bold: tuple[str, ...] = ()
    breaks: int = 0


BOLD_MD = re.compile(r"\*\*(.+?)\*\*")


def md_units(text: str) -> list[Unit]:
    out: list[Unit] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            joined = "\n".join(line.removesuffix("\\") for line in para)
            out.append(Unit("p", BOLD_MD.sub(r"\1", joined), 0, tuple(BOLD_MD.findall(joined)),
                            sum(line.endswith("\\") for line in para)))
            para.clear()

    for line in text.splitlines():
        heading = re.match(r"^(#{1,3}) (.*)$", line)
        item = re.match(r"^( *)(?:-|\d+\.) (.*)$", line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            out.append(Unit(f"h{len(heading.group(1))}", heading.group(2)))
        elif item:
            flush()
            out.append(Unit("li", BOLD_MD.sub(r"\1", item.group(2)), len(item.group(1)) // 2,
                            tuple(BOLD_MD.findall(item.group(2)))))
        elif line.startswith("|"):
            flush()
            if not line.startswith("|---"):
                out.append(Unit("row", " | ".join(c.strip() for c in line.strip("|").split(" | "))))
        else:
            para.append(line)
    flush()
    return out


class _HtmlUnits(HTMLParser):
    """The report's <article> as units: a list item's own text (not its sub-list's), its
    depth among the open lists, the <strong> in it and the <br> that split it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: list[Unit] = []
        self.inside = False
        self.lists = 0
        self.skip = 0  # inside a chart's <svg> (its labels are read from its table)
        self.open: list[dict] = []  # units being read, innermost last
        self.cells: list[str] | None = None
        self.fact = ""

    def _start(self, kind: str, level: int = 0) -> None:
        self.open.append({"kind": kind, "level": level, "text": "", "bold": [], "breaks": 0,
                          "strong": False})

    def _end(self) -> None:
        unit = self.open.pop()
        text = unit["text"].strip()
        if text:
            self.units.append(Unit(unit["kind"], text, unit["level"], tuple(unit["bold"]),
                                   unit["breaks"]))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.inside = True
        if not self.inside:
            return
        if tag == "svg":
            self.skip += 1
        elif tag in ("ul", "ol"):
            if self.open and self.open[-1]["kind"] == "li":
                # A sub-list inside an item: the item's own text comes first, and its
                # </li> (after the sub-list) has nothing more to add.
                self._end()
                self._start("done")
            self.lists += 1
        elif tag == "li":
            self._start("li", self.lists - 1)
        elif tag in ("h1", "h2", "h3", "p", "dt", "dd", "figcaption"):
            self._start(tag)
        elif tag == "tr":
            self.cells = []
        elif tag in ("th", "td") and self.cells is not None:
            self._start("cell")
        elif tag == "br" and self.open:
            self.open[-1]["text"] += "\n"
            self.open[-1]["breaks"] += 1
        elif tag == "strong" and self.open:
            self.open[-1]["strong"] = True
            self.open[-1]["bold"].append("")

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "article":
            self.inside = False
        elif tag == "svg":
            self.skip -= 1
        elif tag in ("ul", "ol"):
            self.lists -= 1
        elif tag == "li" and self.open:
            if self.open[-1]["kind"] == "done":
                self.open.pop()
            else:
                self._end()
        elif tag in ("h1", "h2", "h3", "p", "figcaption") and self.open:
            self._end()
        elif tag == "dt" and self.open:
            self.fact = self.open.pop()["text"].strip()
        elif tag == "dd" and self.open:
            unit = self.open.pop()
            self.units.append(Unit("li", f"{self.fact} : {unit['text'].strip()}"))
        elif tag in ("th", "td") and self.open and self.cells is not None:
            self.cells.append(self.open.pop()["text"].strip())
        elif tag == "tr" and self.cells is not None:
            self.units.append(Unit("row", " | ".join(self.cells)))
            self.cells = None
        elif tag == "strong" and self.open:
            self.open[-1]["strong"] = False

    def handle_data(self, data: str) -> None:
        if not self.inside or self.skip or not self.open:
            return
        unit = self.open[-1]
        unit["text"] += data
        if unit["strong"]:
            unit["bold"][-1] += data


def html_units(text: str) -> list[Unit]:
    parser = _HtmlUnits()
    parser.feed(text)
    return parser.units


def odt_units(path: Path) -> list[Unit]:
    from odf.draw import Frame
    from odf.element import Node
    from odf.opendocument import load

    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    out: list[Unit] = []

    def read(element: Node, bold: list[str], in_bold: bool = False) -> tuple[str, int]:
        text, breaks = "", 0
        for child in element.childNodes:
            if child.nodeType == Node.TEXT_NODE:
                text += child.data
                if in_bold:
                    bold[-1] += child.data
            elif child.qname == (text_ns, "line-break"):
                text, breaks = text + "\n", breaks + 1
            elif child.qname == (text_ns, "s"):
                text += " " * int(child.getAttribute("c") or 1)
            elif child.qname == (text_ns, "span"):
                strong = child.getAttribute("stylename") == "Bold"
                if strong:
                    bold.append("")
                inner, more = read(child, bold, in_bold or strong)
                text, breaks = text + inner, breaks + more
        return text, breaks

    def walk(element: Node) -> None:
        for child in element.childNodes:
            if child.nodeType != Node.ELEMENT_NODE:
                continue
            name = child.qname[1]
            bold: list[str] = []
            if name == "h":
                out.append(Unit(f"h{child.getAttribute('outlinelevel')}", read(child, bold)[0]))
            elif name == "p":
                text, breaks = read(child, bold)
                kind = "figure" if child.getElementsByType(Frame) else "p"
                if text.strip() or kind == "figure":
                    out.append(Unit(kind, text, 0, tuple(bold), breaks))
            elif name == "list":
                walk_list(child, 0)
            elif name == "table":
                for row in child.childNodes:
                    if row.qname[1] == "table-row":
                        out.append(Unit("row", " | ".join(
                            read(cell.childNodes[0], [])[0] for cell in row.childNodes)))

    def walk_list(listing: Node, level: int) -> None:
        """A list's items, each followed by its sub-list (inside the item, as ODF has it)."""
        for item in listing.childNodes:
            for part in item.childNodes:
                if part.qname[1] == "p":
                    bold: list[str] = []
                    text, breaks = read(part, bold)
                    out.append(Unit("li", text, level, tuple(bold), breaks))
                elif part.qname[1] == "list":
                    walk_list(part, level + 1)

    walk(load(str(path)).text)
    return out


def docx_units(path: Path) -> list[Unit]:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = Document(str(path))
    kinds = {"Title": ("h1", 0), "Heading 1": ("h2", 0), "Heading 2": ("h3", 0),
             "List Bullet": ("li", 0), "List Bullet 2": ("li", 1), "List Bullet 3": ("li", 2),
             "List Number": ("li", 0), "List Number 2": ("li", 1), "List Number 3": ("li", 2)}
    out: list[Unit] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            kind, level = kinds.get(paragraph.style.name, ("p", 0))
            xml = paragraph._p.xml
            if kind == "p" and "<w:drawing" in xml:
                kind = "figure"
            if paragraph.text.strip() or kind == "figure":
                out.append(Unit(kind, paragraph.text, level,
                                tuple(r.text for r in paragraph.runs if r.bold),
                                xml.count("<w:br/>")))
        elif tag == "tbl":
            for row in Table(element, document).rows:
                out.append(Unit("row", " | ".join(cell.text for cell in row.cells)))
    return out


def pdf_text(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


# What the report must say -------------------------------------------------------------


TR = i18n.Translator("fr-FR")
ORDER = ("summary", "agenda", "method", "discussion", "poll", "exchanges", "decisions",
         "votes", "notes", "next", "annex")
TITLES = {key: TR.gettext(SECTION_TITLES[key]) for key in ORDER}
STRIP_BOLD = re.compile(r"\*\*")


def percent(count: int) -> str:
    return f"{round(100 * count / len(ANSWERS))} %"


def figures(agree: int, passes: int, disagree: int) -> str:
    return (f"{agree} d'accord · {passes} « je passe » · {disagree} pas d'accord "
            f"(n = {agree + passes + disagree})")


FACTS = [("Date", "jeudi 17 décembre 2026"), ("Heure", "18:30 – 21:00"), ("Lieu", PLACE),
         ("Personnes présentes", "18"), ("Ont pris part", "18 (téléphone : 14, papier : 4)"),
         ("Séance suivante", f"{NEXT['title']}, jeudi 4 février 2027, 18:30, {NEXT['place']}")]


def _said() -> dict[str, list[str]]:
    """Per section, what it must say, in this order (text fragments, not whole lines)."""
    counts = [ANSWERS.count(i) for i in range(len(CHOICES))]
    votes = {text: v for text, _c, _t, v in PROPOSALS}
    return {
        "summary": [f"{label} : {value}" for label, value in FACTS],
        "agenda": [OBJECTIVES_LEAD, *OBJECTIVES],
        "method": [part for _k, title, said, at in STEPS for part in (title, at, said)],
        "discussion": [re.sub(r"^ *- ", "", STRIP_BOLD.sub("", line))
                       for line in DISCUSSION.splitlines() if line.strip()],
        "poll": [QUESTION, "n = 18", *(part for label, n in zip(CHOICES, counts, strict=True)
                                       for part in (label, str(n), percent(n)))],
        "exchanges": [part for i, theme in enumerate(THEMES) for part in (
            theme, *(text for text, _c, t, _v in PROPOSALS if t == i))],
        "decisions": ["au moins 67 % d'accord, au plus 15 % pas d'accord, avec au moins 5 "
                      "votes", *(f"{text} — {figures(*votes[text])}" for text in CONSENSUS),
                      *(f"{text} — {figures(*votes[text])}" for text in DIVISIVE)],
        "votes": [STEPS[3][1], "18 votant·es"],
        "notes": [CONCLUSION_LEAD, *CONCLUSION_POINTS],
        "next": [*NEXT_AGENDA, *NEXT_AGENDA_SUB],
        "annex": ["n est le nombre de personnes", "Consensus :", "le canal est conservé"],
    }


SAID = _said()
# Lists as a reader must see them: (level, text) in order, per section. The libraries'
# six actions sit under the last existing action, the one they detail.
LISTS = {
    "agenda": [(0, o) for o in OBJECTIVES],
    "discussion": [*((0, e) for e in EXISTING), *((1, lib) for lib in LIBRARIES),
                   *((0, p) for p in PROBLEMS), (0, AMBASSADORS + " :"),
                   *((1, a) for a in AMBASSADOR_POINTS)],
    "notes": [(0, CONCLUSION_LEAD), *((1, c) for c in CONCLUSION_POINTS)],
    "exchanges": [(0, text) for i in range(len(THEMES))
                  for text, _c, t, _v in PROPOSALS if t == i],
}
FORMATS = ("md", "html", "odt", "docx")


def units_of(replay: Replay, fmt: str) -> list[Unit]:
    if fmt == "md":
        return md_units(replay.md)
    if fmt == "html":
        return html_units(replay.html)
    return odt_units(replay.odt) if fmt == "odt" else docx_units(replay.docx)


def sections(units: list[Unit]) -> dict[str, list[Unit]]:
    """The units under each section title (h2), by section key; the title block as ""."""
    by_title = {title: key for key, title in TITLES.items()}
    out: dict[str, list[Unit]] = {"": []}
    current = ""
    for unit in units:
        if unit.kind == "h2":
            current = by_title.get(unit.text, unit.text)
            assert current not in out, f"section {unit.text!r} printed twice"
            out[current] = []
        else:
            out[current].append(unit)
    return out


def in_order(text: str, needles: list[str], where: str) -> None:
    """Each needle in `text`, after the one before it (spaces squeezed)."""
    text, at = squeeze(text), 0
    for needle in needles:
        found = text.find(squeeze(needle), at)
        assert found >= 0, f"{where}: {needle!r} missing or out of order after …" \
                           f"{text[max(0, at - 80):at]!r}"
        at = found + len(squeeze(needle))


@pytest.fixture(scope="module")
def units(replay: Replay) -> dict[str, list[Unit]]:
    return {fmt: units_of(replay, fmt) for fmt in FORMATS}


# The Markdown, kept as a golden file ----------------------------------------------------


def test_markdown_matches_the_golden_file(replay):
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(replay.md, encoding="utf-8")
    assert replay.md == GOLDEN.read_text(encoding="utf-8")


# Every format, section by section ---------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_title_block_and_every_section_in_order_none_empty(units, fmt):
    found = sections(units[fmt])
    title_block = found.pop("")
    assert [u.text for u in title_block if u.kind == "h1"] == [TITLE]
    in_order("\n".join(u.text for u in title_block),
             [ORGANISATION, DEMARCHE, "séance 1", "compte-rendu définitif"], f"{fmt} title")
    assert list(found) == list(ORDER)
    for key, parts in found.items():
        assert any(u.kind != "h3" for u in parts), f"{fmt}: section {key} is empty"


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_section_says_what_happened(units, fmt):
    found = sections(units[fmt])
    for key, needles in SAID.items():
        in_order("\n".join(u.text for u in found[key]), needles, f"{fmt} {key}")
    # The method has every step, in the order they were run, each on its own row.
    rows = [u.text for u in found["method"] if u.kind == "row"]
    assert len(rows) == 1 + len(STEPS)
    for row, (_k, title, said, at) in zip(rows[1:], STEPS, strict=True):
        assert squeeze(row).startswith(squeeze(f"{title} | {at} |")) and said in row, row
    # Vote results: a row per proposal with its figures.
    # Items are numbered as on the chart, and a long one is cut: its full text is above.
    rows = [squeeze(u.text) for u in found["votes"] if u.kind == "row"]
    for text, _c, _t, (agree, passes, disagree) in PROPOSALS:
        shown = squeeze(f"{short(text)} | {agree} | {passes} | {disagree} | 18")
        assert any(re.fullmatch(rf"\d+\. {re.escape(shown)}", row) for row in rows), \
            (fmt, text)
    # What the room divides on and what did not reach consensus, apart from consensus.
    subheads = [u.text for u in found["decisions"] if u.kind == "h3"]
    assert subheads == ["Ce qui divise la salle : à approfondir", "Pas de consensus"]
    # The annex explains only the methods used: n, consensus, channels.
    annex = [u.text for u in found["annex"] if u.kind == "li"]
    assert len(annex) == 3
    assert not re.search(r"Borda|Snowball|[Jj]ugement majoritaire", " ".join(annex))


@pytest.mark.parametrize("fmt", FORMATS)
def test_lists_are_lists_with_their_levels(units, replay, fmt):
    found = sections(units[fmt])
    for key, expected in LISTS.items():
        items = [(u.level, squeeze(u.text)) for u in found[key] if u.kind == "li"]
        assert items == [(level, squeeze(text)) for level, text in expected], (fmt, key)
    # Nothing typed as a list stayed in a paragraph ("… : - Dialogue … - Temps …"), and
    # no item carries a bullet of its own ("• • Date"). The next séance's agenda does
    # today: see test_the_next_seances_agenda_is_a_nested_list.
    for unit in (u for key, part in found.items() if key != "next" for u in part):
        assert not re.search(r"(^|\s)- \S", unit.text) or unit.kind == "row", (fmt, unit)
        assert not unit.text.startswith(("•", "- ", "◦")), (fmt, unit)
    if fmt == "html":  # the sub-list inside the item it details, not beside it
        assert "<li>Le programme des médiathèques, ouvert sans abonnement :<ul><li>" \
            "Environ 300" in replay.html
    # Proposals by theme: each theme a sub-heading over its own proposals.
    exchanges = found["exchanges"]
    for i, theme in enumerate(THEMES):
        at = exchanges.index(Unit("h3", theme))
        mine = [text for text, _c, t, _v in PROPOSALS if t == i]
        assert [u.text for u in exchanges[at + 1:at + 1 + len(mine)]] == mine


@pytest.mark.parametrize("fmt", FORMATS)
def test_line_breaks_and_bold_are_kept(units, fmt):
    found = sections(units[fmt])
    first = found["discussion"][0]
    assert first.kind == "p" and first.breaks == 1, (fmt, first)
    assert first.text == "\n".join(STRIP_BOLD.sub("", line) for line in PRESENTED)
    assert "17 structures" in first.bold
    consensus = [u for u in found["decisions"] if u.kind == "li"][:len(CONSENSUS)]
    assert sorted(u.bold[0] for u in consensus) == sorted(CONSENSUS), fmt


@pytest.mark.parametrize("fmt", ("html", "odt", "docx"))
def test_a_chart_for_the_question_and_one_for_the_vote(units, replay, fmt):
    found = sections(units[fmt])
    if fmt == "html":
        html = replay.html
        for key in ("poll", "votes"):
            part = html.split(f'id="section-{key}"')[1].split("</section>")[0]
            assert part.count('class="bars"') == 1, key
    else:
        assert [key for key, parts in found.items() for u in parts if u.kind == "figure"] \
            == ["poll", "votes"]


# The PDF ------------------------------------------------------------------------------------


def test_pdf_has_every_section_and_list_item_in_order(replay):
    text = pdf_text(replay.pdf)
    in_order(text, [TITLE, ORGANISATION], "pdf title")
    at = squeeze(text).index(squeeze(TITLES["summary"]))
    body = squeeze(text)[at:]
    starts = []
    for key in ORDER:
        found = body.find(squeeze(TITLES[key]), starts[-1] if starts else 0)
        assert found >= 0, f"pdf: section {TITLES[key]!r} missing or out of order"
        starts.append(found)
    for i, key in enumerate(ORDER):
        part = body[starts[i]:starts[i + 1] if i + 1 < len(ORDER) else None]
        if key == "method":  # a table whose cells wrap: pdftotext reads them in any
            # order, so each step is looked for alone (the order is checked in the others)
            for _k, title, said, _at in STEPS:
                assert squeeze(title) in part and squeeze(said) in part, (title, said)
            continue
        needles = {  # a fact's label and value side by side
            "summary": [f"{label} {value}" for label, value in FACTS],
        }.get(key, SAID[key])
        in_order(part, needles, f"pdf {key}")
    # Lists are lists: a bullet before every item, a different one and a deeper indent
    # for the sub-list.
    lines = pdf_text(replay.pdf, "-layout").splitlines()
    for key, expected in LISTS.items():
        indents: dict[int, set[int]] = {0: set(), 1: set()}
        for level, item in expected:
            mark = "•" if level == 0 else "◦"
            start = f"{mark} {item[:30]}"
            line = next((line for line in lines if line.strip().startswith(start)), None)
            assert line is not None, f"pdf {key}: no line {start!r}"
            indents[level].add(len(line) - len(line.lstrip()))
        if indents[1]:
            assert min(indents[1]) > max(indents[0]), (key, indents)
    # Line breaks: the two lines typed as two stay two.
    stripped = [line.strip() for line in lines]
    for line in PRESENTED:
        assert STRIP_BOLD.sub("", line) in stripped, line
    # Bold: what was typed between ** is set in a bold font, and so is each proposal
    # that reaches consensus (its beginning, at least: a long one wraps).
    from pypdf import PdfReader

    drawn: list[tuple[str, str]] = []
    for page in PdfReader(replay.pdf).pages:
        page.extract_text(visitor_text=lambda text, _cm, _tm, font, _size: drawn.append(
            (squeeze(text), str((font or {}).get("/BaseFont", "")))))
    bold = [text for text, font in drawn if "Bold" in font]
    assert "17 structures" in bold
    for text in CONSENSUS:
        assert any(len(b) > 20 and squeeze(text).startswith(b) for b in bold), text


def _page_texts(pdf: Path) -> list[str]:
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout).group(1))
    return [pdf_text(pdf, "-layout", "-f", str(n), "-l", str(n)) for n in range(1, pages + 1)]


def _headings(md: str) -> list[str]:
    return [squeeze(line.lstrip("#")) for line in md.splitlines() if line.startswith("#")]


def _ends_with_heading(page: str, headings: list[str], captions: bool) -> str | None:
    """The heading a page ends with, if it does; with `captions`, a heading followed only
    by its one-line caption ("n = 18 (…)", "18 votant·es") counts as alone too."""
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    if captions:
        while lines and re.fullmatch(r"n = \d+.*|\d+ votant·es", lines[-1]):
            lines.pop()
    ends = {squeeze(" ".join(lines[-k:])) for k in (1, 2, 3)}  # a heading may wrap
    return next((h for h in headings if h in ends), None)


def test_no_pdf_page_ends_with_a_heading(replay):
    pages = _page_texts(replay.pdf)
    headings = _headings(replay.md)
    assert len(pages) > 1
    for number, page in enumerate(pages[:-1], start=1):
        assert _ends_with_heading(page, headings, captions=False) is None, number


def test_no_pdf_heading_is_left_with_only_its_caption(replay):
    pages = _page_texts(replay.pdf)
    headings = _headings(replay.md)
    alone = [(number, _ends_with_heading(page, headings, captions=True))
             for number, page in enumerate(pages[:-1], start=1)]
    assert [pair for pair in alone if pair[1]] == []


def test_pdf_tables_keep_their_words_whole(replay):
    # pdftotext writes each cell's lines apart: a word cut by a narrow column shows as
    # pieces on lines of their own ("Dé", "bu", "t"; "1", "8").
    lines = [line.strip() for line in pdf_text(replay.pdf).splitlines()]
    assert "Début" in lines and "Durée" in lines
    for _k, _title, _said, at in STEPS:
        assert at in lines, at
    assert lines.count("18") >= len(PROPOSALS)  # the vote table's n column


def test_chart_labels_fit_in_their_chart(replay):
    from PIL import ImageFont

    try:
        ImageFont.truetype("DejaVuSans.ttf", 30)  # the font the charts are drawn in
    except OSError:
        pytest.skip("DejaVu Sans is not installed")
    labels = 0
    for width, body in re.findall(r'<svg viewBox="0 0 (\d+) \d+"[^>]*class="bars">(.*?)</svg>',
                                  replay.html, re.S):
        for x, size, label in re.findall(r'<text x="([\d.]+)"[^>]*class="bar-label" '
                                         r'font-size="(\d+)"[^>]*>(.*?)</text>', body):
            labels += 1
            length = ImageFont.truetype("DejaVuSans.ttf", int(size)).getlength(unescape(label))
            assert float(x) + length <= float(width), unescape(label)
    assert labels == len(CHOICES) + len(PROPOSALS)


# The next séance ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_next_seances_agenda_is_a_nested_list(units, fmt):
    items = [(u.level, u.text) for u in sections(units[fmt])["next"] if u.kind == "li"]
    assert items == [(0, NEXT_AGENDA[0]), (0, NEXT_AGENDA[1]), (1, NEXT_AGENDA_SUB[0])]


def test_the_next_seance_prints_its_agenda_once(replay):
    assert replay.next_md.count(NEXT_AGENDA[0]) == 1


# ODT and DOCX as LibreOffice prints them --------------------------------------------------


@pytest.fixture(scope="module")
def office_pdfs(replay: Replay) -> dict[str, Path]:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    out = {}
    for fmt in ("odt", "docx"):
        folder = replay.folder / f"lo-{fmt}"
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{folder}/profile",
                        "--convert-to", "pdf", "--outdir", str(folder),
                        str(getattr(replay, fmt))], capture_output=True, check=True,
                       timeout=180)
        out[fmt] = folder / "report.pdf"
    return out


@pytest.mark.parametrize("fmt", ("odt", "docx"))
def test_office_files_keep_headings_with_what_follows(replay, office_pdfs, fmt):
    pages = _page_texts(office_pdfs[fmt])
    headings = _headings(replay.md)
    alone = [(number, _ends_with_heading(page, headings, captions=True))
             for number, page in enumerate(pages[:-1], start=1)]
    assert [pair for pair in alone if pair[1]] == []


@pytest.mark.parametrize("fmt", ("odt", "docx"))
def test_office_tables_keep_their_words_whole(office_pdfs, fmt):
    words = set(pdf_text(office_pdfs[fmt]).split())
    missing = {"Début", "Durée"} | {at for *_rest, at in STEPS[1:]}
    assert missing - words == set()
