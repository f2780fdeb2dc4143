"""The printable paper: the kit (poster, numbered ballot cards, proposal cards) and the
numbered cards of a vote. Printing N numbered cards records that cards 1..N exist."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from facilitation import i18n, printed
from facilitation.exports import kit as export
from facilitation.seances import Seance
from facilitation.store import printing
from facilitation.store import queries as q
from facilitation.store.proposals import list_subgroups
from facilitation.store.votes import vote_items
from facilitation.views.common import db_of, int_param, seance_for_link
from facilitation.views.organiser import require_organiser
from facilitation.voting import VoteSettings

PDF = "application/pdf"


async def _seance(request: Request) -> Seance:
    """The séance, from the facilitator's link or the organiser's session."""
    if "token" in request.path_params:
        seance, _token = await seance_for_link(request, "facilitator")
        return seance
    require_organiser(request)
    found = await q.get_session(db_of(request), int_param(request, "session_id"))
    if found is None:
        raise HTTPException(404)
    return found


def _translator(request: Request, seance: Seance) -> i18n.Translator:
    """Cards are read by the room: in the séance's language unless another is asked for."""
    wanted = str(request.query_params.get("lang", ""))
    for language in (wanted, seance.language):
        if language in i18n.LANGUAGES:
            return i18n.Translator(language)
    return i18n.Translator(i18n.DEFAULT)


def _download(body: bytes, name: str) -> Response:
    return Response(body, media_type=PDF,
                    headers={"content-disposition": f'attachment; filename="{name}.pdf"'})


async def kit(request: Request) -> Response:
    """The room poster, numbered ballot cards, proposal cards."""
    from facilitation import qr

    seance = await _seance(request)
    cards = printed.card_count(request.query_params.get("cards"))
    db = db_of(request)
    steps = await q.list_steps(db, seance.id)
    questions = [question for step in steps if step.kind == "poll"
                 for question in await q.list_questions(db, step.id)]
    proposing = next((step for step in steps if step.kind == "proposals"), None)
    subgroups = await list_subgroups(db, seance.id)
    settings = request.app.state.settings
    join_url = f"{settings.public_url}/j/{seance.code}"
    # Seconds of WeasyPrint for a few hundred cards: off the event loop, so that the room's
    # phones and projector carry on meanwhile.
    body = await run_in_threadpool(
        export.cards_pdf, request.app.state.templates, "report/kit.html",
        _translator(request, seance), cards, numbered=bool(questions), seance=seance,
        questions=questions, poster=True, qr=qr.svg(join_url),
        short_url=settings.public_url.split("://")[-1], sms_number=settings.sms_number,
        proposal_cards=printed.proposal_card_count(cards) if proposing else 0,
        prompt=proposing.prompt if proposing else "",
        slots=printed.proposal_slots(proposing) if proposing else 0, subgroups=subgroups)
    if questions:
        await printing.note_printed(db, seance.id, cards)
    return _download(body, f"kit_{seance.code}")


async def vote_cards(request: Request) -> Response:
    """Numbered cards for one vote, once its items are set; 404 before."""
    seance = await _seance(request)
    raw = request.query_params.get("step", "")
    db = db_of(request)
    step = next((s for s in await q.list_steps(db, seance.id)
                 if raw.isdecimal() and s.id == int(raw) and s.kind == "vote"), None)
    if step is None:
        raise HTTPException(404)
    card = printed.vote_card(step, await vote_items(db, seance.id,
                                                  VoteSettings.from_json(step.settings)))
    if card is None:
        raise HTTPException(404)
    cards = printed.card_count(request.query_params.get("cards"))
    body = await run_in_threadpool(
        export.cards_pdf, request.app.state.templates, "report/vote_cards.html",
        _translator(request, seance), cards, halves=printed.halves(len(card.columns)),
        seance=seance, vote=card)
    await printing.note_printed(db, seance.id, cards)
    return _download(body, f"vote_{seance.code}_{step.position + 1}")

