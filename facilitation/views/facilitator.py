"""The facilitator's control page: move through the déroulé, open and close questions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.websockets import WebSocket

from facilitation import actions
from facilitation.i18n_keys import N_, UserError
from facilitation.live import topic
from facilitation.polls import RESULTS_MODES, Settings
from facilitation.seances import Seance
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.views.common import (
    broadcaster,
    db_of,
    int_param,
    memory_for_link,
    pump,
    seance_for_link,
    services,
)
from facilitation.voting import VoteSettings, agenda_draft
from facilitation.web import is_htmx, language_of, read_form, render, translator


async def show(request: Request) -> Response:
    seance, token = await seance_for_link(request, "facilitator")
    return await page(request, seance, token)


async def page(request: Request, seance: Seance, token: str, status_code: int = 200,
               **context: Any) -> Response:
    """The facilitator's page, also re-shown with an error message after a refused action."""
    db = db_of(request)
    snap = await broadcaster(request).snapshot(seance.id)
    assert snap is not None  # noqa: S101
    links = await q.active_links(db, seance.id)
    participants = await q.list_participants(db, seance.id, limit=200)
    kind = snap.state.step.kind if snap.state.step else ""
    board: dict[str, Any] = {}
    if kind in ("proposals", "clustering", "vote"):
        board = {
            "proposals": await qp.list_proposals(db, seance.id),
            "themes": await qp.list_themes(db, seance.id),
            "subgroups": await qp.list_subgroups(db, seance.id),
            "suggestions": await qp.list_suggestions(db, seance.id),
        }
    if kind == "closing" and snap.synthesis is not None:
        themes = await qp.list_themes(db, seance.id)
        voted = {item.id for step in snap.state.steps if step.kind == "vote"
                 for item in await qv.vote_items(db, seance.id,
                                                 VoteSettings.from_json(step.settings))
                 if item.kind == "theme"}
        tr = translator(request)
        board["agenda"] = agenda_draft(snap.synthesis, voted, {t.id: t.name for t in themes},
                                       tr.gettext)
    return render(request, "pages/facilitator.html", status_code=status_code,
                  seance=snap.state.seance, snap=snap, token=token, links=links,
                  participants=participants, board=board, **context)


def _back(request: Request, token: str) -> Response:
    return RedirectResponse(request.url_for("facilitator:show", token=token), 303)


async def step(request: Request) -> Response:
    """Go to a step: `position`, or `move` = next / previous."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    target = target_step(memory.seance.current_step, str(form.get("move", "")),
                         str(form.get("position", "")))
    if target is None:
        raise HTTPException(422, "position")
    try:
        await actions.go_to_step(services(request), memory, target)
    except UserError as error:
        return await page(request, memory.seance, token, status_code=error.status,
                          error=error.message)
    return _back(request, token)


def target_step(current: int, move: str, position: str) -> int | None:
    """The step a navigation form asks for, or None if it asks for nothing sensible."""
    if move == "next":
        return current + 1
    if move == "previous":
        return max(current - 1, 0)
    if position.isdigit() and len(position) < 6:
        return int(position)
    return None


async def question_state(request: Request) -> Response:
    memory, token = await memory_for_link(request, "facilitator")
    await read_form(request)
    question_id = int_param(request, "question_id")
    if request.path_params["action"] not in ("open", "close"):
        raise HTTPException(404)
    state = "open" if request.path_params["action"] == "open" else "closed"
    try:
        await actions.set_question_state(services(request), memory, question_id, state)
    except LookupError:
        raise HTTPException(404) from None
    except UserError as error:
        return await page(request, memory.seance, token, status_code=error.status,
                          error=error.message)
    if is_htmx(request):
        return Response(status_code=204)
    return _back(request, token)


async def _change_settings(request: Request, change: Callable[[Settings], Settings]) -> Response:
    memory, token = await memory_for_link(request, "facilitator")
    try:
        # What the room and the phones see may change: everything is redrawn.
        await actions.change_question(services(request), memory,
                                      int_param(request, "question_id"), change)
    except LookupError:
        raise HTTPException(404) from None
    if is_htmx(request):
        return Response(status_code=204)
    return _back(request, token)


async def results_mode(request: Request) -> Response:
    """Show a question's results to the room live, or only once it is closed."""
    form = await read_form(request)
    mode = str(form.get("mode", ""))
    if mode not in RESULTS_MODES:
        raise HTTPException(422, "mode")
    return await _change_settings(request, lambda s: replace(s, results=mode))


async def hide_word(request: Request) -> Response:
    """Hide (or show again) a word group of a free-text question, on every screen."""
    form = await read_form(request)
    word, hidden = str(form.get("word", ""))[:100], form.get("hidden") == "1"
    if not word:
        raise HTTPException(422, "word")

    def change(settings: Settings) -> Settings:
        words = set(settings.hidden_words)
        (words.add if hidden else words.discard)(word)
        return replace(settings, hidden_words=tuple(sorted(words)))

    return await _change_settings(request, change)


async def ws(websocket: WebSocket) -> None:
    try:
        seance, _token = await seance_for_link(websocket, "facilitator")
    except HTTPException:
        await websocket.close(code=1008)
        return
    b = broadcaster(websocket)
    language = language_of(websocket)
    snap = await b.snapshot(seance.id)
    assert snap is not None  # noqa: S101
    await pump(websocket, b.hub, topic(seance.id, f"facilitator:{language}"),
               [b.facilitator_fragment(snap, language)])


async def set_count(request: Request) -> Response:
    """The facilitator's own count of the people in the room, written in the report."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    raw = str(form.get("headcount", "")).strip()
    if raw and (not raw.isdigit() or int(raw) > 100_000):
        return await page(request, memory.seance, token, status_code=422,
                          error=N_("The headcount is a whole number."))
    await actions.set_headcount(services(request), memory, int(raw) if raw else None)
    return _back(request, token)
