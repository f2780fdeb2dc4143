"""Participant pages: home, join, the one-task panel, answers. Work without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.websockets import WebSocket

from facilitation import codes, i18n, security
from facilitation.broadcast import version
from facilitation.i18n_keys import N_, UserError
from facilitation.live import topic
from facilitation.polls import AnswerError, Question, raw_from_form, validate_answer
from facilitation.proposals import Proposal, ProposalError, StepSettings, clean_text
from facilitation.seances import MAX_NAME, Participant, Seance, State, clean_name
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.views import vote
from facilitation.views.common import broadcaster, db_of, pump
from facilitation.voting import Synthesis, VoteError
from facilitation.web import (
    BIG_COOKIE,
    LANG_COOKIE,
    is_htmx,
    language_of,
    read_form,
    remember_csrf,
    render,
    translator,
)

COOKIE_PREFIX = "eclair_p_"
YEAR = 365 * 24 * 3600


async def home(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "pages/home.html", code="")
    form = await read_form(request)
    typed = str(form.get("code", ""))[:40]
    code = codes.normalize_code(typed)
    seance = await q.get_session_by_code(db_of(request), code) if code else None
    if seance is None:
        return render(request, "pages/home.html", status_code=422, code=typed,
                      error=N_("No séance has this code. Check the code shown on the screen."))
    return RedirectResponse(request.url_for("participant:join", code=seance.code), 303)


async def _seance(request: Request | WebSocket) -> Seance:
    code = str(request.path_params["code"])
    seance = await q.get_session_by_code(db_of(request), code) if len(code) <= 6 else None
    if seance is None:
        raise HTTPException(404)
    return seance


class NotJoined(Exception):
    """The phone has not joined this séance: it is sent to the join page."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def _joined(request: Request) -> tuple[Seance, Participant]:
    seance = await _seance(request)
    participant = await current_participant(request, seance)
    if participant is None:
        raise NotJoined(seance.code)
    return seance, participant


def not_joined(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotJoined)  # noqa: S101
    return RedirectResponse(request.url_for("participant:join", code=exc.code), 303)


async def current_participant(request: Request | WebSocket, seance: Seance) -> Participant | None:
    token = request.cookies.get(COOKIE_PREFIX + seance.code)
    if not token or len(token) > 64:
        return None
    participant = await q.get_participant(db_of(request), security.hash_token(token))
    if participant is None or participant.session_id != seance.id:
        return None
    return participant


async def join(request: Request) -> Response:
    seance = await _seance(request)
    form = await read_form(request) if request.method == "POST" else None
    if await current_participant(request, seance) is not None:
        return RedirectResponse(request.url_for("participant:show", code=seance.code), 303)
    subgroups = await qp.list_subgroups(db_of(request), seance.id)
    if form is None:
        return render(request, "pages/join.html", seance=seance, name="",
                      chosen=language_of(request), subgroups=subgroups)
    language = str(form.get("language", ""))
    raw_name = str(form.get("name", ""))
    raw_group = str(form.get("subgroup", ""))
    subgroup = int(raw_group) if raw_group.isdigit() and len(raw_group) < 12 else None
    error = None
    if language not in i18n.LANGUAGES:
        error = N_("Choose a language from the list.")
    elif len(" ".join(raw_name.split())) > MAX_NAME:
        error = N_("A first name has at most %(limit)s characters.")
    elif raw_group and subgroup not in {sid for sid, _name in subgroups}:
        error = N_("Choose your table from the list.")
    if error:
        return render(request, "pages/join.html", status_code=422, seance=seance,
                      name=raw_name[:MAX_NAME], chosen=language_of(request, language),
                      error=error, limit=MAX_NAME, subgroups=subgroups)
    token = security.new_token()
    await q.add_participant(db_of(request), seance.id, security.hash_token(token),
                            clean_name(raw_name), language, subgroup_id=subgroup)
    broadcaster(request).answers_changed(seance.id)
    response = RedirectResponse(request.url_for("participant:show", code=seance.code), 303)
    secure = request.app.state.settings.secure_cookies
    response.set_cookie(COOKIE_PREFIX + seance.code, token, max_age=YEAR // 12, httponly=True,
                        samesite="lax", secure=secure)
    response.set_cookie(LANG_COOKIE, language, max_age=YEAR, samesite="lax", secure=secure)
    return response


@dataclass(frozen=True)
class Panel:
    """What one participant's screen shows now."""

    kind: str  # "question", "thanks", "propose" or "waiting"
    question: Question | None = None
    chosen: Any = None
    answered: tuple[Question, ...] = ()
    proposals: tuple[Proposal, ...] = ()  # the participant's own, on a proposal step
    settings: StepSettings = StepSettings()
    ballot: vote.Ballot | None = None  # on a vote step
    summary: Synthesis | None = None  # on the synthesis and closing steps
    next_seance: Seance | None = None


async def panel_for(request: Request, state: State, participant: Participant,
                    edit: int | None = None) -> Panel:
    db = db_of(request)
    answered: list[Question] = []
    for question in state.open_questions:
        chosen = await q.get_answer(db, question.id, participant.id)
        if question.id == edit and question.settings.allow_change:
            return Panel("question", question, chosen)
        if chosen is None:
            return Panel("question", question)
        answered.append(question)
    if answered:
        return Panel("thanks", answered=tuple(answered))
    if state.step is not None and state.step.kind == "proposals":
        own = await qp.own_proposals(db, state.seance.id, participant.id)
        return Panel("propose", proposals=tuple(own),
                     settings=StepSettings.from_json(state.step.settings))
    if state.step is not None and state.step.kind == "vote":
        item = _int_query(request, "item")
        return Panel("vote", ballot=await vote.ballot_for(db, state.seance, state.step,
                                                          participant.id, item))
    if state.step is not None and state.step.kind in ("synthesis", "closing"):
        return Panel("decided", summary=await qv.synthesis_of(db, state),
                     next_seance=await qv.next_seance(db, state.seance.id))
    return Panel("waiting")


def _int_query(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _edit_param(request: Request) -> int | None:
    return _int_query(request, "edit")


async def respond(request: Request, seance: Seance, participant: Participant,
                  panel: Panel | None = None, status_code: int = 200,
                  **context: Any) -> Response:
    """The participant's panel as it is now (or `panel`): the partial for htmx, else the page."""
    state = await q.get_state(db_of(request), seance.id)
    assert state is not None  # noqa: S101 - the séance exists
    if panel is None:
        panel = await panel_for(request, state, participant, _edit_param(request))
    template = "partials/participant_panel.html" if is_htmx(request) else "pages/participant.html"
    return render(request, template, status_code=status_code, seance=seance, state=state,
                  panel=panel, participant=participant, version=version(state), **context)


def _saved(request: Request, seance: Seance) -> Response:
    """After a post without JavaScript: back to the séance page (post/redirect/get)."""
    target = request.url_for("participant:show", code=seance.code).include_query_params(saved=1)
    return RedirectResponse(target, 303)


async def show(request: Request) -> Response:
    seance, participant = await _joined(request)
    return await respond(request, seance, participant,
                         saved=request.query_params.get("saved") == "1")


async def answer(request: Request) -> Response:
    seance, participant = await _joined(request)
    form = await read_form(request)
    db = db_of(request)
    question = await _question_of_form(request, form, seance)
    try:
        if question is None:
            raise AnswerError(N_("This question is closed: your answer was not recorded."), 409)
        value = validate_answer(question, raw_from_form(form))
        await q.save_answer(db, question.id, participant.id, value)
    except AnswerError as error:
        # Keep the form on screen for a fixable mistake; a closed question moves on.
        keep = question is not None and question.is_open and error.status != 409
        return await respond(request, seance, participant,
                             Panel("question", question) if keep else None,
                             status_code=error.status, error=error.message,
                             error_params=error.params)
    broadcaster(request).answers_changed(seance.id)
    if is_htmx(request):
        return await respond(request, seance, participant, saved=True)
    return _saved(request, seance)


async def _question_of_form(request: Request, form: FormData, seance: Seance) -> Question | None:
    raw = str(form.get("question", ""))
    if not raw.isdigit() or len(raw) > 12:
        return None
    return await q.get_question(db_of(request), int(raw), seance.id)


async def propose(request: Request) -> Response:
    """A proposal from a phone, on the séance's current proposal step."""
    seance, participant = await _joined(request)
    form = await read_form(request)
    db = db_of(request)
    state = await q.get_state(db, seance.id)
    assert state is not None  # noqa: S101
    step = state.step
    try:
        if step is None or step.kind != "proposals":
            raise ProposalError(N_("Proposals are closed: yours was not recorded."), 409)
        settings = StepSettings.from_json(step.settings)
        text = clean_text(form.get("text"), settings.max_length)
        await qp.add_proposal(db, seance.id, step.id, text, "phone",
                              participant_id=participant.id,
                              subgroup_id=await qp.participant_subgroup(db, participant.id),
                              settings=settings)
    except ProposalError as error:
        return await respond(request, seance, participant, status_code=error.status,
                             error=error.message, error_params=error.params,
                             draft=str(form.get("text", ""))[:2000])
    broadcaster(request).answers_changed(seance.id)
    if is_htmx(request):
        return await respond(request, seance, participant, saved=True)
    return _saved(request, seance)


async def cast_vote(request: Request) -> Response:
    """A vote from a phone: one item (agree/disagree/pass), or the whole ballot."""
    seance, participant = await _joined(request)
    form = await read_form(request)
    db = db_of(request)
    state = await q.get_state(db, seance.id)
    assert state is not None  # noqa: S101
    try:
        if state.step is None or state.step.kind != "vote":
            raise VoteError(N_("The vote is closed: your vote was not recorded."), 409)
        await vote.save(db, seance, state.step, participant.id, form)
    except UserError as error:
        return await respond(request, seance, participant, status_code=error.status,
                             error=error.message, error_params=error.params)
    broadcaster(request).answers_changed(seance.id)
    if is_htmx(request):
        return await respond(request, seance, participant, saved=True)
    return _saved(request, seance)


async def accessibility(request: Request) -> Response:
    return render(request, "pages/accessibility.html")


async def prefs(request: Request) -> Response:
    """Language and text size, kept in cookies; works as a plain link."""
    target = security.safe_next(request.query_params.get("next"))
    response = RedirectResponse(target, 303)
    secure = request.app.state.settings.secure_cookies
    language = request.query_params.get("lang")
    if language in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=YEAR, samesite="lax", secure=secure)
    big = request.query_params.get("big")
    if big in ("0", "1"):
        response.set_cookie(BIG_COOKIE, big, max_age=YEAR, samesite="lax", secure=secure)
    remember_csrf(request, response)
    return response


async def ws(websocket: WebSocket) -> None:
    seance = await q.get_session_by_code(db_of(websocket), str(websocket.path_params["code"]))
    if seance is None or await current_participant(websocket, seance) is None:
        await websocket.close(code=1008)
        return
    state = await q.get_state(db_of(websocket), seance.id)
    assert state is not None  # noqa: S101
    b = broadcaster(websocket)
    # Catch up at once if the page is older than the séance's state (after a reconnect).
    first = [] if websocket.query_params.get("v") == version(state) else [
        b.sync_fragment(seance)]
    await pump(websocket, b.hub, topic(seance.id, "participant"), first)


__all__ = ["home", "join", "show", "answer", "prefs", "ws", "translator"]
