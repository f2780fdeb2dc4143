"""Participant pages: home, join, the one-task panel, answers. Work without JavaScript."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.websockets import WebSocket

from facilitation import actions, codes, i18n, panels, security
from facilitation.broadcast import PanelPush
from facilitation.i18n_keys import N_, UserError
from facilitation.limits import RateLimited, client_of
from facilitation.live import topic
from facilitation.memory import SeanceMemory
from facilitation.panels import Panel
from facilitation.polls import raw_from_form, sent_back
from facilitation.seances import MAX_NAME, Participant, Seance
from facilitation.views.common import broadcaster, db_of, memory_of, pump, services
from facilitation.web import (
    BIG_COOKIE,
    LANG_COOKIE,
    idempotency_key,
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
    memory = await memory_of(request).by_code(code) if code else None
    if memory is None:
        return render(request, "pages/home.html", status_code=422, code=typed,
                      error=N_("No séance has this code. Check the code shown on the screen."))
    return RedirectResponse(request.url_for("participant:join", code=memory.seance.code), 303)


async def _memory(request: Request | WebSocket) -> SeanceMemory:
    code = str(request.path_params["code"])
    memory = await memory_of(request).by_code(code) if len(code) <= 6 else None
    if memory is None:
        raise HTTPException(404)
    return memory


class NotJoined(Exception):
    """The phone has not joined this séance: it is sent to the join page."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def _joined(request: Request) -> tuple[SeanceMemory, Participant]:
    memory = await _memory(request)
    participant = current_participant(request, memory)
    if participant is None:
        raise NotJoined(memory.seance.code)
    return memory, participant


async def joined(request: Request) -> tuple[SeanceMemory, Participant]:
    """The séance and who this phone joined it as; a phone that has not joined is sent to
    the join page (for the other participant views)."""
    return await _joined(request)


def not_joined(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotJoined)  # noqa: S101
    return RedirectResponse(request.url_for("participant:join", code=exc.code), 303)


def current_participant(request: Request | WebSocket,
                        memory: SeanceMemory) -> Participant | None:
    token = request.cookies.get(COOKIE_PREFIX + memory.seance.code)
    if not token or len(token) > 64:
        return None
    return memory.participant(security.hash_token(token))


async def join(request: Request) -> Response:
    memory = await _memory(request)
    seance = memory.seance
    form = await read_form(request) if request.method == "POST" else None
    if current_participant(request, memory) is not None:
        return RedirectResponse(request.url_for("participant:show", code=seance.code), 303)
    subgroups = memory.structure.subgroups
    if form is None:
        return render(request, "pages/join.html", seance=seance, name="",
                      chosen=language_of(request), subgroups=subgroups)
    language = str(form.get("language", ""))
    raw_name = str(form.get("name", ""))[:1000]
    raw_group = str(form.get("subgroup", ""))
    subgroup = int(raw_group) if raw_group.isdecimal() and len(raw_group) < 12 else None
    try:
        if language not in i18n.LANGUAGES:
            raise UserError(N_("Choose a language from the list."))
        if raw_group and subgroup is None:
            raise UserError(N_("Choose your table from the list."))
        _person, token = await actions.join(services(request), memory, name=raw_name,
                                            language=language, subgroup=subgroup,
                                            client=client_of(request))
    except UserError as error:
        # Everything chosen stays: "Take part" pressed again sends the same.
        return retry_after(render(
            request, "pages/join.html", status_code=error.status, seance=seance,
            name=raw_name[:MAX_NAME], chosen=language_of(request, language),
            error=error.message, error_params={"limit": MAX_NAME, **error.params},
            subgroups=subgroups, chosen_group=subgroup), error)
    response = RedirectResponse(request.url_for("participant:show", code=seance.code), 303)
    secure = request.app.state.settings.secure_cookies
    response.set_cookie(COOKIE_PREFIX + seance.code, token, max_age=YEAR // 12, httponly=True,
                        samesite="lax", secure=secure)
    response.set_cookie(LANG_COOKIE, language, max_age=YEAR, samesite="lax", secure=secure)
    return response


def _int_query(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdecimal() and len(raw) < 12 else None


async def respond(request: Request, memory: SeanceMemory, participant: Participant,
                  panel: Panel | None = None, status_code: int = 200,
                  **context: Any) -> Response:
    """The participant's panel as it is now (or `panel`): the partial for htmx, else the page."""
    state = memory.state()
    if panel is None:
        panel = await panels.panel_for(db_of(request), memory, participant.id,
                                       _int_query(request, "edit"), _int_query(request, "item"))
    template = "partials/participant_panel.html" if is_htmx(request) else "pages/participant.html"
    return render(request, template, status_code=status_code, seance=memory.seance,
                  state=state, panel=panel, participant=participant,
                  version=broadcaster(request).phone_version(memory.seance.id),
                  closed=memory.structure.closed, **context)


def retry_after(response: Response, error: UserError) -> Response:
    """A refusal for going too fast says when to send again."""
    if isinstance(error, RateLimited):
        response.headers["retry-after"] = str(error.retry_after)
    return response


async def refused(request: Request, memory: SeanceMemory, participant: Participant,
                  error: UserError, panel: Panel | None = None, **context: Any) -> Response:
    """The panel again with the refusal's message and what was sent. Sent too fast with
    JavaScript, only a line above the form, which sends the same again by itself after
    Retry-After (ranking.js, as for a server too busy)."""
    if isinstance(error, RateLimited) and is_htmx(request):
        return retry_after(render(request, "partials/busy.html", status_code=429,
                                  reason=error.reason), error)
    return retry_after(await respond(request, memory, participant, panel,
                                     status_code=error.status, error=error.message,
                                     error_params=error.params, **context), error)


def _saved(request: Request, seance: Seance) -> Response:
    """After a post without JavaScript: back to the séance page (post/redirect/get)."""
    target = request.url_for("participant:show", code=seance.code).include_query_params(saved=1)
    return RedirectResponse(target, 303)


async def show(request: Request) -> Response:
    memory, participant = await _joined(request)
    return await respond(request, memory, participant,
                         saved=request.query_params.get("saved") == "1",
                         deleted=request.query_params.get("deleted") == "1")


async def _done(request: Request, memory: SeanceMemory, participant: Participant) -> Response:
    if is_htmx(request):
        return await respond(request, memory, participant, saved=True)
    return _saved(request, memory.seance)


def _form_int(form: FormData, name: str) -> int | None:
    raw = str(form.get(name, ""))
    return int(raw) if raw.isdecimal() and len(raw) < 12 else None


async def answer(request: Request) -> Response:
    memory, participant = await _joined(request)
    form = await read_form(request)
    question_id = _form_int(form, "question")
    raw = raw_from_form(form)
    try:
        await actions.submit_answer(services(request), memory, participant, question_id,
                                    raw, key=idempotency_key(form), client=client_of(request))
    except UserError as error:
        # Keep the form on screen for a fixable mistake; a closed question moves on.
        question = memory.question(question_id) if question_id is not None else None
        keep = question is not None and question.is_open and error.status != 409
        return await refused(request, memory, participant, error,
                             Panel("question", question, sent_back(question, raw))
                             if keep and question is not None else None)
    return await _done(request, memory, participant)


async def propose(request: Request) -> Response:
    """A proposal from a phone, on the séance's current proposal step."""
    memory, participant = await _joined(request)
    form = await read_form(request)
    try:
        await actions.submit_proposal(services(request), memory, form.get("text"),
                                      participant=participant, channel="phone",
                                      key=idempotency_key(form), client=client_of(request))
    except UserError as error:
        return await refused(request, memory, participant, error,
                             draft=str(form.get("text", ""))[:2000])
    return await _done(request, memory, participant)


async def cast_vote(request: Request) -> Response:
    """A vote from a phone: one item (agree/disagree/pass), or the whole ballot."""
    memory, participant = await _joined(request)
    form = await read_form(request)
    try:
        await actions.cast_vote(services(request), memory, participant.id, form,
                                key=idempotency_key(form), client=client_of(request))
    except UserError as error:
        return await refused(request, memory, participant, error)
    return await _done(request, memory, participant)


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
    code = str(websocket.path_params["code"])
    memory = await memory_of(websocket).by_code(code) if len(code) <= 6 else None
    participant = current_participant(websocket, memory) if memory else None
    if memory is None or participant is None:
        await websocket.close(code=1008)
        return
    b = broadcaster(websocket)
    seance = memory.seance

    async def first() -> list[str]:
        # Catch up at once if the page is older than the séance's state (after a reconnect).
        return [] if websocket.query_params.get("v") == b.phone_version(seance.id) else [
            b.sync_fragment(seance)]

    language = language_of(websocket)
    csrf = websocket.cookies.get(security.CSRF_COOKIE, "")

    def resolve(message: Any) -> str:
        if isinstance(message, PanelPush):
            return message.for_phone(participant.id, language, csrf)
        return str(message)

    await pump(websocket, b.hub, topic(seance.id, "participant"), first, resolve)


__all__ = ["home", "join", "show", "answer", "prefs", "ws", "translator"]
