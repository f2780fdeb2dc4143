"""The helper (aidant) page: type paper ballot cards into the open question."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import actions, security
from facilitation.i18n_keys import N_, UserError
from facilitation.polls import Question, blank, raw_from_form, sent_back, validate_answer
from facilitation.proposals import ProposalError
from facilitation.seances import Seance
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.store.cards import card_count
from facilitation.views.common import db_of, memory_for_link, seance_for_link, services
from facilitation.voting import VoteSettings
from facilitation.web import idempotency_key, read_form, render


async def show(request: Request) -> Response:
    seance, token = await seance_for_link(request, "helper")
    return await _page(request, seance, token)


async def _page(request: Request, seance: Seance, token: str, status_code: int = 200,
                **context: Any) -> Response:
    state = await q.get_state(db_of(request), seance.id)
    assert state is not None  # noqa: S101
    presence = await q.presence(db_of(request), seance.id)
    saved = request.query_params.get("saved", "")
    entered = [p for p in await qp.list_proposals(db_of(request), seance.id)
               if p.channel == "paper"][-10:]
    vote_settings, vote_items = None, []
    if state.step is not None and state.step.kind == "vote":
        settings = VoteSettings.from_json(state.step.settings)
        if settings.open:
            vote_settings = settings
            vote_items = await qv.vote_items(db_of(request), seance.id, settings)
    context.setdefault("cards", await card_count(db_of(request), seance.id))
    # The card as printed: every poll question of the séance, open, closed or not yet.
    sheet = [question for step in state.steps if step.kind == "poll"
             for question in await q.list_questions(db_of(request), step.id)]
    return render(request, "pages/helper.html", status_code=status_code, seance=seance,
                  state=state, token=token, presence=presence, entered=entered[::-1],
                  vote_settings=vote_settings, vote_items=vote_items, sheet=sheet,
                  subgroups=await qp.list_subgroups(db_of(request), seance.id),
                  saved=int(saved) if saved.isdigit() and len(saved) < 7 else None, **context)


async def answer(request: Request) -> Response:
    """A paper ballot card's answer to a question."""
    memory, token = await memory_for_link(request, "helper")
    form = await read_form(request)
    raw_card = str(form.get("card", "")).strip()
    correction = form.get("correction") == "1"
    raw_question = str(form.get("question", ""))
    question = (memory.question(int(raw_question))
                if raw_question.isdigit() and len(raw_question) < 12 else None)
    try:
        card = actions.card_number(raw_card)
        await actions.enter_card(services(request), memory, card,
                                 None if question is None else question.id,
                                 raw_from_form(form), correction=correction,
                                 who=f"helper:{security.hash_token(token)[:8]}",
                                 key=idempotency_key(form))
    except UserError as error:
        # The card's ticks stay on the form: after "already entered", the helper only ticks
        # "correction" and saves again.
        return await _page(request, memory.seance, token, status_code=error.status,
                           error=error.message, error_params=error.params, card=raw_card[:6],
                           kept=_ticks(question, form), correction=correction)
    target = request.url_for("helper:show", token=token).include_query_params(saved=card)
    return RedirectResponse(target, 303)


async def card(request: Request) -> Response:
    """A whole paper card, typed as it is printed: every question of the séance in one form,
    open or already closed (cards are collected during the poll and typed after it)."""
    memory, token = await memory_for_link(request, "helper")
    form = await read_form(request)
    raw_card = str(form.get("card", "")).strip()
    correction = form.get("correction") == "1"
    questions = actions.card_questions(memory)
    raws = {question.id: raw_from_form(form, f"q{question.id}-") for question in questions}
    try:
        number = actions.card_number(raw_card)
        await actions.enter_card_sheet(services(request), memory, number, raws,
                                       correction=correction,
                                       who=f"helper:{security.hash_token(token)[:8]}",
                                       key=idempotency_key(form))
    except UserError as error:
        # Nothing typed is lost: the card comes back as it was, the refusal beside it.
        kept = {question.id: sent_back(question, raws[question.id]) for question in questions
                if not blank(raws[question.id])}
        return await _page(request, memory.seance, token, status_code=error.status,
                           error=error.message, error_params=error.params, card=raw_card[:6],
                           kept=kept, correction=correction,
                           failed=getattr(error, "question_id", None))
    target = request.url_for("helper:show", token=token).include_query_params(saved=number)
    return RedirectResponse(target, 303)


def _ticks(question: Question | None, form: FormData) -> dict[int, Any]:
    """What a refused card carried, to show it again (nothing if it was not valid)."""
    if question is None or not question.is_open:
        return {}
    try:
        return {question.id: validate_answer(question, raw_from_form(form))}
    except UserError:
        return {}


async def propose(request: Request) -> Response:
    """A proposal written on a paper card or said to the helper: added, never moderated."""
    memory, token = await memory_for_link(request, "helper")
    form = await read_form(request)
    raw_group = str(form.get("subgroup", ""))
    subgroup = int(raw_group) if raw_group.isdigit() and len(raw_group) < 12 else None
    try:
        if raw_group and subgroup is None:
            raise ProposalError(N_("Choose your table from the list."))
        await actions.submit_proposal(services(request), memory, form.get("text"),
                                      participant=None, channel="paper", subgroup=subgroup,
                                      key=idempotency_key(form),
                                      scope=f"helper:{security.hash_token(token)[:16]}")
    except UserError as error:
        return await _page(request, memory.seance, token, status_code=error.status,
                           error=error.message, error_params=error.params,
                           draft=str(form.get("text", ""))[:2000])
    target = request.url_for("helper:show", token=token).include_query_params(proposed=1)
    return RedirectResponse(target, 303)
