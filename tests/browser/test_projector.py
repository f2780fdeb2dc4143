"""The projector fits a real room: every step at 1920 × 1080 and 1280 × 720, with the worst
cases a séance brings (long labels, many items, long proposals), nothing cut, nothing
scrolled, text readable from the back; what does not fit comes as pages."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe

from facilitation import plans, polls
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.store.database import Database
from facilitation.voting import AGREE, DISAGREE, PASS, VoteSettings
from tests.server import Server, free_port

AXE = Axe()
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}
SHOTS = Path("/tmp/projector-shots")
SIZES = {"1920": (1920, 1080), "1280": (1280, 720)}
MIN_PX = 28  # the smallest text the room reads, at 1920 wide

LONG = ("Ouvrir une permanence d'aide au numérique dans chaque maison de quartier, le samedi "
        "matin, avec des bénévoles formés, pour que chacun puisse venir avec son téléphone, ses "
        "papiers et ses questions, sans rendez-vous et sans avoir peur d'être jugé sur ce qu'il "
        "ne sait pas encore faire seul.")[:280]
assert len(LONG) == 280
SHORT = ["Une navette gratuite vers la médiathèque", "Des ateliers le samedi matin",
         "Garder un guichet papier à la mairie", "Prêter des tablettes pour un mois",
         "Un numéro de téléphone pour poser ses questions",
         "Des affiches en langage simple, avec des dessins"]
THEMES = ["Transport et déplacements", "Accompagnement humain", "Matériel et connexion",
          "Démarches administratives et accès aux droits sociaux", "Formation et ateliers",
          "Confiance et sécurité",
          "Information du public", "Jeunes et familles", "Personnes âgées", "Langues",
          "Emploi et insertion", "Santé en ligne", "Lieux d'accueil", "Bénévolat",
          "Financement des actions"]
MATRIX_ITEMS = [
    "Prendre un rendez-vous médical en ligne sur une plateforme inconnue",
    "Remplir un formulaire administratif de demande d'aide au logement",
    "Lire et trier ses courriels importants sans se tromper",
    "Payer une facture d'électricité ou d'eau sur internet",
    "Faire une visioconférence avec sa famille qui vit loin",
    "Déclarer ses revenus aux impôts sur le site officiel",
    "Retrouver un mot de passe oublié après plusieurs essais",
]
WORDS = ["accompagnement", "personnalisé", "formation", "patience", "permanence", "confiance",
         "matériel", "connexion", "bienveillance", "simplicité", "proximité", "disponibilité",
         "interlocuteur", "ordinateur", "téléphone", "explications", "ateliers", "transport",
         "imprimante", "internet", "sécurité", "courage", "temps", "écoute", "entraide"]
CHOICES = [f"Réponse numéro {i} : une raison assez longue pour passer à la ligne" for i in
           range(1, 13)]

LONG_QUESTION = ("Quelle raison vous a fait venir ce soir à cette séance, parmi toutes celles-ci, "
                 "même si plusieurs vous concernent un peu ?")

PLAN = f"""
[workshop]
title = "Projecteur"
[[sessions]]
title = "Séance 1 : tout à l'écran"
language = "fr-FR"
[[sessions.steps]]
kind = "welcome"
title = "Accueil"
[[sessions.steps]]
kind = "poll"
title = "Consultation éclair"
[[sessions.steps.questions]]
kind = "single"
text = "{LONG_QUESTION}"
choices = {CHOICES!r}
[[sessions.steps.questions]]
kind = "scale"
min = 0
max = 10
labels = ["Pas du tout à l'aise", "Tout à fait à l'aise"]
text = "Avec un téléphone, vous sentez-vous à l'aise ?"
[[sessions.steps.questions]]
kind = "matrix"
text = "À quelle fréquence ces situations vous mettent-elles en difficulté ?"
items = {MATRIX_ITEMS!r}
levels = ["Jamais", "Rarement", "Parfois", "Souvent", "Très souvent"]
[[sessions.steps.questions]]
kind = "ranking"
text = "Classez ces aides, de la plus utile à la moins utile."
choices = {SHORT!r}
[[sessions.steps.questions]]
kind = "text"
text = "En un ou deux mots : de quoi auriez-vous besoin ?"
[[sessions.steps]]
kind = "proposals"
title = "Propositions"
prompt = "Quelles solutions non technologiques proposez-vous ?"
[[sessions.steps]]
kind = "clustering"
title = "Regroupement"
[[sessions.steps]]
kind = "vote"
title = "Vote"
method = "agree"
[[sessions.steps]]
kind = "vote"
title = "Vote"
method = "dots"
[[sessions.steps]]
kind = "vote"
title = "Vote"
method = "judgment"
[[sessions.steps]]
kind = "synthesis"
title = "Synthèse"
[[sessions.steps]]
kind = "closing"
title = "Clôture"
[[sessions]]
title = "Séance 2 : on continue"
date = "2027-01-14"
time = "18:30"
place = "Salle polyvalente, 12 rue des Lilas"
language = "fr-FR"
[[sessions.steps]]
kind = "welcome"
"""

# Agree / disagree / pass on 14 proposals: 2 consensus, 8 dividing, the 4/1 one (neither),
# 3 with too few votes.
AGREE_VOTES = [(9, 0, 1), (8, 1, 0)] + [(5, 5, 2), (6, 5, 1), (4, 4, 4), (5, 6, 1), (7, 5, 0),
                                        (4, 5, 3), (6, 6, 0), (5, 4, 1)] + [(4, 1, 0)] + \
    [(1, 0, 0), (2, 1, 0), (0, 1, 1)]
FOUR_ONE = 10  # its index in AGREE_VOTES


def proposal_text(i: int) -> str:
    if i % 3 == 0:
        return f"{i}. {LONG}"[:280]
    return f"{i}. {SHORT[i % len(SHORT)]}, et pour tout le monde dans le quartier"


async def seed(db_path: Path) -> None:
    """A séance with everything at its worst, written before the server starts."""
    db = Database(db_path)
    await db.open()
    try:
        workshop = await q.create_workshop(db, plans.parse_plan(PLAN.encode()))
        await q.set_meta_if_missing(db, "demo_workshop_id", str(workshop))
        first, second = await q.list_sessions(db, workshop)
        sid = first.id
        await db.write(lambda conn: conn.execute(
            "UPDATE sessions SET previous_id = ? WHERE id = ?", (sid, second.id)))
        people = [await q.add_participant(db, sid, f"hash{i}", "", "fr-FR") for i in range(14)]
        steps = await q.list_steps(db, sid)
        by_kind = {}
        for step in steps:
            by_kind.setdefault(step.kind, []).append(step)
        # Answers to every question, then closed.
        poll = by_kind["poll"][0]
        for question in await q.list_questions(db, poll.id):
            await q.set_question_state(db, sid, question.id, "open")
            question = await q.get_question(db, question.id, sid)
            for n, who in enumerate(people):
                ids = [c.id for c in question.choices]
                raw = {"single": lambda: polls.RawAnswer(choices=[ids[n % len(ids)]]),
                       "scale": lambda: polls.RawAnswer(value=n % 11),
                       "matrix": lambda: polls.RawAnswer(items={
                           str(c): (n + k) % 5 for k, c in enumerate(ids)}),
                       "ranking": lambda: polls.RawAnswer(
                           choices=ids[n % len(ids):] + ids[:n % len(ids)]),
                       # Every long word given twice: all at the cloud's largest size.
                       "text": lambda: polls.RawAnswer(text=" ".join(
                           WORDS[(2 * n + k) % len(WORDS)] for k in (0, 1, 2, 3))),
                       }[question.kind]()
                await q.save_answer(db, question.id, who,
                                    polls.validate_answer(question, raw))
            await q.set_question_state(db, sid, question.id, "closed")
        # 60 proposals, 15 themes, some left unsorted.
        step = by_kind["proposals"][0].id
        ids = [await qp.add_proposal(db, sid, step, proposal_text(i), "phone")
               for i in range(60)]
        themes = [await qp.create_theme(db, sid, name) for name in THEMES]
        for i, pid in enumerate(ids[:52]):
            await qp.move(db, sid, pid, themes[i % len(themes)])
        # Votes: agree on 14 proposals, dots and judgment on 12.
        agree, dots, judgment = by_kind["vote"]
        chosen = tuple(ids[:14])
        for vote_step, method, items in ((agree, "agree", chosen), (dots, "dots", chosen[:12]),
                                         (judgment, "judgment", chosen[:12])):
            settings = VoteSettings(method=method, target="selection", selection=items,
                                    open=True)
            await qv.set_vote_settings(db, sid, vote_step.id, settings)
            for n, who in enumerate(people):
                if method == "agree":
                    values = {}
                    for item, (yes, no, skip) in zip(items, AGREE_VOTES, strict=True):
                        if n < yes:
                            values[item] = AGREE
                        elif n < yes + no:
                            values[item] = DISAGREE
                        elif n < yes + no + skip:
                            values[item] = PASS
                elif method == "dots":
                    values = {items[n % 12]: 3, items[(n * 5) % 12]: 1} if n % 12 != (
                        n * 5) % 12 else {items[n % 12]: 3}
                else:
                    values = {item: (n + k) % 7 for k, item in enumerate(items)}
                if values:
                    await qv.save_votes(db, vote_step.id, who, "proposal", values)
            await qv.set_vote_settings(db, sid, vote_step.id,
                                       VoteSettings(method=method, target="selection",
                                                    selection=items))
    finally:
        await db.close()


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    path = tmp_path_factory.mktemp("projector") / "projector.db"
    # In a thread of its own: Playwright's sync API may already run a loop in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, seed(path)).result()
    server = Server(path, free_port()).start()
    http = httpx.Client(base_url=server.base, timeout=10)
    yield server, http
    http.close()
    server.stop()


MEASURE = """() => {
  const vw = innerWidth, vh = innerHeight, out = {clipped: [], outside: [], small: null,
    height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth};
  const visible = el => { const r = el.getBoundingClientRect();
    return r.width > 2 && r.height > 2 && !el.closest('[hidden], .visually-hidden'); };
  for (const el of document.querySelectorAll('#screen *')) {
    if (!visible(el) || el.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1)
      out.outside.push(el.tagName + '.' + el.className + ': ' + el.textContent.slice(0, 40));
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
      const style = getComputedStyle(el);
      if (style.display !== 'inline')
        out.clipped.push(el.tagName + '.' + el.className + ' ' + el.scrollWidth + '>' +
          el.clientWidth + ' ' + el.scrollHeight + '>' + el.clientHeight + ': ' +
          el.textContent.slice(0, 40));
    }
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) {
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (out.small === null || size < out.small[0])
        out.small = [size, el.textContent.slice(0, 40)];
    }
  }
  out.pages = document.querySelectorAll('#screen .screen-page').length;
  return out;
}"""

SHOW = """(index) => { const pages = document.querySelectorAll('#screen .screen-page');
  pages.forEach((p, i) => { p.hidden = i !== index; }); }"""


def steps_to_show():
    """(label, step position, question index or None)."""
    return ([("welcome", 0, None)] + [(f"poll-{kind}", 1, i) for i, kind in
                                      enumerate(["single", "scale", "matrix", "ranking", "text"])]
            + [("wall", 2, None), ("themes", 3, None), ("vote-agree", 4, None),
               ("vote-dots", 5, None), ("vote-judgment", 6, None), ("synthesis", 7, None),
               ("closing", 8, None)])


def go(server, http, position: int, question: int | None) -> None:
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    api = f"/api/sessions/{server.code}"
    assert http.post(f"{api}/step", json={"position": position}, headers=fac).status_code == 200
    if question is not None:
        state = http.get(f"{api}/state", headers=fac).json()
        qid = state["questions"][question]["id"]
        assert http.post(f"{api}/questions/{qid}/open", headers=fac).status_code == 200
        assert http.post(f"{api}/questions/{qid}/close", headers=fac).status_code == 200


def test_every_step_fits_both_screens(browser, room):
    server, http = room
    SHOTS.mkdir(exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    started = time.monotonic()
    contexts = {name: browser.new_context(viewport={"width": w, "height": h}, locale="fr-FR")
                for name, (w, h) in SIZES.items()}
    pages = {name: ctx.new_page() for name, ctx in contexts.items()}
    report = []
    problems = []
    for label, position, question in steps_to_show():
        go(server, http, position, question)
        for name, page in pages.items():
            page.goto(server.urls["screen"])
            page.locator("#screen .screen-footer").wait_for(timeout=5000)
            count = page.locator("#screen .screen-page").count()
            if name == "1920":
                results = AXE.run(page, options=AXE_OPTIONS)
                if results.violations_count:
                    problems.append(f"axe on {label}:\n{results.generate_report()}")
            if label == "synthesis":
                shown = page.evaluate("() => document.getElementById('screen').textContent")
                assert proposal_text(FOUR_ONE) in shown and "Pas de consensus" in shown
            for index in range(max(count, 1)):
                if count:
                    page.evaluate(SHOW, index)
                page.screenshot(path=str(SHOTS / f"{label}-{name}-{index + 1}.png"))
                m = page.evaluate(MEASURE)
                width = SIZES[name][0]
                smallest = m["small"][0] if m["small"] else None
                report.append((label, name, index + 1, count, m["height"], smallest))
                where = f"{label} at {name}, page {index + 1}/{max(count, 1)}"
                if m["height"] > SIZES[name][1] or m["width"] > width:
                    problems.append(f"{where}: document {m['width']}×{m['height']}")
                if m["clipped"]:
                    problems.append(f"{where}: clipped {m['clipped'][:4]}")
                if m["outside"]:
                    problems.append(f"{where}: outside {m['outside'][:4]}")
                if smallest is not None and smallest < MIN_PX * width / 1920 - 0.1:
                    problems.append(f"{where}: text of {smallest} px: {m['small'][1]}")
    for ctx in contexts.values():
        ctx.close()
    print("\n".join(f"{r[0]:14} {r[1]} page {r[2]}/{max(r[3], 1)} height {r[4]} "
                    f"smallest {r[5]}" for r in report))
    assert not problems, "\n".join(problems)
    assert time.monotonic() - started < 120


def test_pages_turn_with_the_clicker_before_the_step_moves(browser, room):
    server, http = room
    fac = {"authorization": f"Bearer {server.token('facilitator')}"}
    state = f"/api/sessions/{server.code}/state"
    go(server, http, 4, None)  # the agree vote: several pages
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale="fr-FR")
    page = ctx.new_page()
    page.goto(server.urls["screen"])
    pages = page.locator("#screen .screen-page")
    count = pages.count()
    assert count > 1
    visible = "els => els.map(e => !e.hidden)"
    assert pages.evaluate_all(visible) == [True] + [False] * (count - 1)
    page.keyboard.press("PageDown")
    assert pages.evaluate_all(visible) == [False, True] + [False] * (count - 2)
    # A live update (someone joins) redraws the screen: the room stays on its page.
    http.post("/api/sessions/join", json={"code": server.code})
    page.locator("#screen .screen-footer", has_text="15 personnes").wait_for(timeout=5000)
    assert pages.evaluate_all(visible) == [False, True] + [False] * (count - 2)
    page.keyboard.press("PageUp")
    page.keyboard.press("ArrowLeft")  # on the first page: back to the previous step
    deadline = time.monotonic() + 5
    while http.get(state, headers=fac).json()["step"]["position"] != 3:
        assert time.monotonic() < deadline, "the clicker did not move the step back"
        time.sleep(0.05)
    page.locator("#screen h1", has_text="Regroupement").wait_for(timeout=5000)
    for _ in range(pages.count() - 1):
        page.keyboard.press(" ")
    assert http.get(state, headers=fac).json()["step"]["position"] == 3
    page.keyboard.press("ArrowRight")  # past the last page: the next step
    page.locator("#screen h1", has_text="D'accord").wait_for(timeout=5000)
    ctx.close()


def test_without_javascript_the_first_page_shows_with_a_page_count(browser, room):
    server, http = room
    go(server, http, 2, None)  # the wall
    ctx = browser.new_context(java_script_enabled=False, locale="fr-FR",
                              viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    page.goto(server.urls["screen"])
    first = page.locator("#screen .screen-page").first
    assert first.is_visible()
    count = page.locator("#screen .screen-page").count()
    assert count > 1 and page.locator("#screen .screen-page:visible").count() == 1
    assert first.locator(".page-count").inner_text() == f"Page 1 sur {count}"
    ctx.close()
