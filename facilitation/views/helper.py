"""The helper (aidant) page: paper cards typed as they are printed, a running picture of
what is still missing, and the blind second entry that verifies the cards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.websockets import WebSocket

from facilitation import actions, paper, printed, security
from facilitation.i18n_keys import N_, UserError
from facilitation.live import topic
from facilitation.memory import SeanceMemory
from facilitation.polls import Question, blank, raw_from_form, sent_back
from facilitation.proposals import ProposalError
from facilitation.seances import Step
from facilitation.store import cards, printing
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.views.common import (
    broadcaster,
    db_of,
    memory_for_link,
    memory_of,
    pump,
    services,
)
from facilitation.voting import Item, VoteSettings
from facilitation.web import idempotency_key, language_of, read_form, render

MAX_HELPER_NAME = 40


@dataclass(frozen=True)
class Desk:
    """Who is typing at this helper page, and which entry: the one that counts, or the
    blind check. Carried in the address and in every form, so no cookie is needed."""

    name: str = ""
    round: int = cards.FIRST

    @classmethod
    def read(cls, values: Any) -> Desk:
        name = " ".join(str(values.get("by", "") or "").split())[:MAX_HELPER_NAME]
        return cls(name, cards.CHECK if str(values.get("round", "")) == "2" else cards.FIRST)

    def who(self, token: str) -> str:
        return f"helper:{security.hash_token(token)[:8]}:{self.name}"

    @property
    def params(self) -> dict[str, str]:
        return {k: v for k, v in (("by", self.name),
                                  ("round", "2" if self.round == cards.CHECK else "")) if v}


# Pages ------------------------------------------------------------------------------------


async def show(request: Request) -> Response:
    memory, token = await memory_for_link(request, "helper")
    return await _page(request, memory, token, Desk.read(request.query_params))


async def _page(request: Request, memory: SeanceMemory, token: str, desk: Desk,
                status_code: int = 200, form_name: str | None = None,
                **context: Any) -> Response:
    seance = memory.seance
    state = await q.get_state(db_of(request), seance.id)
    assert state is not None  # noqa: S101
    votes = await paper.paper_votes(db_of(request), memory)
    sheet = paper.card_questions(memory)
    forms = _forms(sheet, votes, state, desk)
    chosen = form_name or request.query_params.get("form", "")
    if chosen not in forms:
        chosen = _default_form(state, votes, forms)
    vote = next(((step, settings, items) for step, settings, items in votes
                 if chosen == f"vote-{step.id}"), None)
    entered = [p for p in await qp.list_proposals(db_of(request), seance.id)
               if p.channel == "paper"][-10:]
    try:
        actions.paper_proposal_step(memory)
        proposals_open = True
    except UserError:
        proposals_open = False
    saved = request.query_params.get("saved", "")
    table = request.query_params.get("table", "")
    context.setdefault("draft_group", int(table) if table.isdecimal() and len(table) < 12
                       else None)

    def link(**extra: str) -> str:
        """This page's address for the same helper and entry, with `extra`."""
        return str(request.url_for("helper:show", token=token).include_query_params(
            **desk.params, **extra))

    return render(request, "pages/helper.html", status_code=status_code, seance=seance,
                  state=state, token=token, desk=desk, forms=forms, chosen=chosen,
                  sheet=sheet, vote=vote,
                  columns=printed.vote_columns(vote[1].method) if vote else (),
                  entered=entered[::-1],
                  pic=await paper.picture(db_of(request), memory, votes),
                  helper_name=paper.helper_name,
                  subgroups=await qp.list_subgroups(db_of(request), seance.id),
                  saved=int(saved) if saved.isdecimal() and len(saved) < 7 else None,
                  proposed=request.query_params.get("proposed", "")[:4],
                  presence=memory.presence(), proposals_open=proposals_open, link=link,
                  **context)


def _forms(sheet: list[Question], votes: list[tuple[Step, VoteSettings, list[Item]]],
           state: Any, desk: Desk) -> dict[str, Any]:
    """The forms this séance's paper takes, in the order of the déroulé. The blind second
    entry checks ballot cards only: proposals are typed once."""
    forms: dict[str, Any] = {}
    if sheet:
        forms["poll"] = N_("Poll card")
    kinds = {step.kind for step in state.steps}
    if "proposals" in kinds and desk.round == cards.FIRST:
        forms["proposals"] = N_("Proposals on paper")
    for step, _settings, _items in votes:
        forms[f"vote-{step.id}"] = step
    return forms


def _default_form(state: Any, votes: list[tuple[Step, VoteSettings, list[Item]]],
                  forms: dict[str, Any]) -> str:
    """The form that fits the step the room is at; else the first one."""
    step = state.step
    if step is not None and step.kind == "vote" and f"vote-{step.id}" in forms:
        return f"vote-{step.id}"
    if step is not None and step.kind in ("proposals", "clustering") and "proposals" in forms:
        return "proposals"
    if step is not None and step.kind == "poll" and "poll" in forms:
        return "poll"
    return next(iter(forms), "")


def _back(request: Request, token: str, desk: Desk, form: str, **params: Any) -> Response:
    target = request.url_for("helper:show", token=token).include_query_params(
        **desk.params, form=form, **params)
    return RedirectResponse(target, 303)


# Paper cards ------------------------------------------------------------------------------


class NotPrinted(UserError):
    """A card number beyond the printed range: often a typing slip. Recorded only when the
    helper sends the same number again."""


async def _check_printed(request: Request, memory: SeanceMemory, number: int,
                         form: Any) -> None:
    printed = await printing.cards_printed(db_of(request), memory.seance.id)
    if printed and number > printed and str(form.get("beyond", "")) != str(number):
        raise NotPrinted(N_("Card %(card)s was not printed: the cards go from 1 to "
                            "%(printed)s. Check the number; if it is right, record the card "
                            "again."), card=number, printed=printed)


def _refused(error: UserError, number: str) -> dict[str, Any]:
    """Where the focus goes on a refused card, so that what the helper types next lands
    in the right place (never in front of the number already in the field)."""
    if isinstance(error, NotPrinted):
        return {"focus_on": "submit", "beyond": number}
    if getattr(error, "question_id", None):
        return {"focus_on": "question"}
    if error.status == 409 and "correction" in error.message:
        return {"focus_on": "correction"}
    return {"focus_on": "error"}



async def card(request: Request) -> Response:
    """A whole poll card, typed as it is printed: every question of the séance in one form,
    open or already closed (cards are collected during the poll and typed after it)."""
    memory, token = await memory_for_link(request, "helper")
    form = await read_form(request)
    desk = Desk.read(form)
    raw_card = str(form.get("card", "")).strip()
    correction = form.get("correction") == "1"
    questions = paper.card_questions(memory)
    raws = {question.id: raw_from_form(form, f"q{question.id}-") for question in questions}
    try:
        number = actions.card_number(raw_card)
        await _check_printed(request, memory, number, form)
        await actions.enter_card_sheet(services(request), memory, number, raws,
                                       correction=correction, who=desk.who(token),
                                       round_=desk.round, key=idempotency_key(form))
    except UserError as error:
        # Nothing typed is lost: the card comes back as it was, the refusal beside it.
        kept = {question.id: sent_back(question, raws[question.id]) for question in questions
                if not blank(raws[question.id])}
        return await _page(request, memory, token, desk, status_code=error.status,
                           form_name="poll", error=error.message, error_params=error.params,
                           card=raw_card[:6], kept=kept, correction=correction,
                           failed=getattr(error, "question_id", None),
                           **_refused(error, raw_card[:6]))
    return _back(request, token, desk, "poll", saved=number)


async def answer(request: Request) -> Response:
    """One question of a paper card while it is open (the form before whole cards, kept for
    the tools that post it)."""
    memory, token = await memory_for_link(request, "helper")
    form = await read_form(request)
    desk = Desk.read(form)
    raw_card = str(form.get("card", "")).strip()
    raw_question = str(form.get("question", ""))
    question = (memory.question(int(raw_question))
                if raw_question.isdecimal() and len(raw_question) < 12 else None)
    try:
        number = actions.card_number(raw_card)
        await actions.enter_card(services(request), memory, number,
                                 None if question is None else question.id,
                                 raw_from_form(form), correction=form.get("correction") == "1",
                                 who=desk.who(token), key=idempotency_key(form))
    except UserError as error:
        return await _page(request, memory, token, desk, status_code=error.status,
                           form_name="poll", error=error.message, error_params=error.params,
                           card=raw_card[:6])
    return _back(request, token, desk, "poll", saved=number)


async def vote_card(request: Request) -> Response:
    """A whole paper vote card: every item of the vote in one form."""
    memory, token = await memory_for_link(request, "helper")
    form = await read_form(request)
    desk = Desk.read(form)
    raw_card = str(form.get("card", "")).strip()
    raw_step = str(form.get("step", ""))
    if not raw_step.isdecimal() or len(raw_step) > 12:
        raise HTTPException(404)
    correction = form.get("correction") == "1"
    try:
        number = actions.card_number(raw_card)
        await _check_printed(request, memory, number, form)
        await actions.enter_vote_card(services(request), memory, int(raw_step), number, form,
                                      correction=correction, who=desk.who(token),
                                      round_=desk.round, key=idempotency_key(form))
    except UserError as error:
        kept = {key: str(value)[:8] for key, value in form.multi_items()
                if key.startswith(("v-", "dots-", "grade-"))}
        return await _page(request, memory, token, desk, status_code=error.status,
                           form_name=f"vote-{raw_step}", error=error.message,
                           error_params=error.params, card=raw_card[:6], kept_votes=kept,
                           correction=correction, **_refused(error, raw_card[:6]))
    return _back(request, token, desk, f"vote-{raw_step}", saved=number)


async def propose(request: Request) -> Response:
    """Proposals written on paper cards or said to the helper, one per line: added as they
    are, never moderated."""
    memory, token = await memory_for_link(request, "helper")
    form = await read_form(request)
    desk = Desk.read(form)
    raw_group = str(form.get("subgroup", ""))
    subgroup = int(raw_group) if raw_group.isdecimal() and len(raw_group) < 12 else None
    try:
        if desk.round == cards.CHECK:
            raise ProposalError(N_("The second entry checks ballot cards only: proposals are "
                                   "typed once."), 409)
        if raw_group and subgroup is None:
            raise ProposalError(N_("Choose your table from the list."))
        added = await actions.submit_paper_proposals(
            services(request), memory, form.get("text"), subgroup=subgroup,
            key=idempotency_key(form), scope=f"helper:{security.hash_token(token)[:16]}")
    except UserError as error:
        return await _page(request, memory, token, desk, status_code=error.status,
                           form_name="proposals", error=error.message,
                           error_params=error.params, draft=str(form.get("text", ""))[:20000],
                           draft_group=subgroup, failed_line=getattr(error, "line", None),
                           focus_on="error")
    return _back(request, token, desk, "proposals", proposed=added,
                 **({"table": subgroup} if subgroup is not None else {}))


async def back_to_page(request: Request) -> Response:
    """A reload of the address a refused card was shown at: the page, not a 405 that
    loses the helper's link."""
    _memory, token = await memory_for_link(request, "helper")
    if request.path_params["form"] not in ("card", "answer", "propose", "vote"):
        raise HTTPException(404)
    return RedirectResponse(request.url_for("helper:show", token=token), 303)


# Live -------------------------------------------------------------------------------------


async def ws(websocket: WebSocket) -> None:
    try:
        memory, token = await memory_for_link(websocket, "helper")
    except HTTPException:
        await websocket.close(code=1008)
        return
    b = broadcaster(websocket)
    language = language_of(websocket)
    session_id = memory.seance.id

    async def first() -> list[str]:
        now = await memory_of(websocket).get(session_id)
        if now is None:
            return []
        return [b.helper_fragment(await paper.picture(b.db, now), token, language)]

    await pump(websocket, b.hub, topic(session_id, f"helper:{language}"), first,
               credential=token)
