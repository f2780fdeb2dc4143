"""The facilitator's paper check: cards typed twice whose entries differ, side by side, to
be settled one by one; how many cards are verified."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import actions, paper
from facilitation.i18n_keys import N_, UserError
from facilitation.memory import SeanceMemory
from facilitation.polls import answer_words
from facilitation.store import cards
from facilitation.views.common import db_of, memory_for_link, services
from facilitation.voting import AGREE_LABELS, GRADES
from facilitation.web import read_form, render, translator


async def show(request: Request) -> Response:
    memory, token = await memory_for_link(request, "facilitator")
    return await _page(request, memory, token)


async def _page(request: Request, memory: SeanceMemory, token: str, status_code: int = 200,
                **context: Any) -> Response:
    db = db_of(request)
    sid = memory.seance.id
    questions = paper.card_questions(memory)
    votes = {cards.vote_part(step.id): (step, settings, items)
             for step, settings, items in await paper.paper_votes(db, memory)}
    tr = translator(request)
    checks = await cards.checks(db, sid, [question.id for question in questions])
    differing = []
    for check in checks:
        if check.verified:
            continue
        first, second = check.first or {}, check.second
        rows = []
        if check.part == cards.POLL:
            for number, question in enumerate(questions, start=1):
                a, b = first.get(str(question.id)), second.get(str(question.id))
                if a != b:
                    rows.append((f"{number}. {question.text}", answer_words(question, a),
                                 answer_words(question, b)))
            title = tr.gettext(N_("Poll card"))
        elif check.part in votes:
            step, settings, items = votes[check.part]
            for number, item in enumerate(items, start=1):
                a, b = first.get(str(item.id)), second.get(str(item.id))
                if a != b:
                    rows.append((f"{number}. {item.text}", _vote_words(settings.method, a, tr),
                                 _vote_words(settings.method, b, tr)))
            title = f"{tr.gettext(N_('Vote card'))} : {step.title or tr.gettext(N_('Vote'))}"
        else:
            continue  # a vote whose items are no longer set: nothing to compare against
        differing.append({"card": check.card, "part": check.part, "title": title,
                          "rows": rows, "only_second": check.first is None})
    verified, twice = await cards.verified_cards(db, sid, [question.id for question in questions])
    return render(request, "pages/facilitator_cards.html", status_code=status_code,
                  seance=memory.seance, token=token, differing=differing, verified=verified,
                  twice=twice, typed=await cards.card_count(db, sid),
                  closed=memory.structure.closed, **context)


def _vote_words(method: str, value: Any, tr: Any) -> str:
    if value is None:
        return ""
    if method == "agree":
        return str(tr.gettext(AGREE_LABELS.get(int(value), "?")))
    if method == "dots":
        return str(tr.ngettext("%(num)s point", "%(num)s points", int(value)) % {"num": value})
    return str(tr.gettext(GRADES[int(value)])) if 0 <= int(value) < len(GRADES) else "?"


async def resolve(request: Request) -> Response:
    """Keep the first or the second entry of a card that differs."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    raw_card, part, keep = (str(form.get(k, "")) for k in ("card", "part", "keep"))
    try:
        number = actions.card_number(raw_card)
        if keep not in ("first", "second") or not (
                part == cards.POLL or part.startswith("vote:") and part[5:].isdecimal()):
            raise UserError(N_("Choose which entry to keep."))
        await actions.resolve_check(services(request), memory, number, part, keep,
                                    who="facilitator")
    except UserError as error:
        return await _page(request, memory, token, status_code=error.status,
                           error=error.message, error_params=error.params)
    target = request.url_for("facilitator:cards", token=token).include_query_params(
        settled=number)
    return RedirectResponse(target, 303)
