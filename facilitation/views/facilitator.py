"""The facilitator's control page: move through the déroulé, open and close questions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.websockets import WebSocket

from facilitation import actions, paper
from facilitation.i18n_keys import N_, UserError
from facilitation.live import topic
from facilitation.memory import SeanceMemory
from facilitation.polls import RESULTS_MODES, Settings
from facilitation.seances import Seance
from facilitation.steering import MOVES
from facilitation.store import people as sp
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.timer import read_minutes
from facilitation.views.common import (
    broadcaster,
    db_of,
    int_param,
    memory_for_link,
    pump,
    seance_for_link,
    services,
)
from facilitation.voting import CARRY_LABELS, VoteSettings, agenda_draft, carry_over, voted_themes
from facilitation.web import is_htmx, language_of, read_form, render, translator


class _Off:
    enabled = False


_OFF = _Off()


async def show(request: Request) -> Response:
    seance, token = await seance_for_link(request, "facilitator")
    return await page(request, seance, token)


async def page(request: Request, seance: Seance, token: str, status_code: int = 200,
               **context: Any) -> Response:
    """The facilitator's page, also re-shown with an error message after a refused action
    (only that message for an action sent in the background from the run view)."""
    if request.headers.get("hx-target") == "run-error":
        return render(request, "partials/run_error.html", status_code=status_code, **context)
    db = db_of(request)
    snap = await broadcaster(request).snapshot(seance.id)
    assert snap is not None  # noqa: S101
    links = await q.active_links(db, seance.id)
    kind = snap.state.step.kind if snap.state.step else ""
    board: dict[str, Any] = {}
    if kind in ("proposals", "clustering", "vote"):
        board = {
            "proposals": await qp.list_proposals(db, seance.id),
            "themes": await qp.list_themes(db, seance.id),
            "subgroups": await qp.list_subgroups(db, seance.id),
            "suggestions": await qp.list_suggestions(db, seance.id),
            # The model is off here, or could not be loaded: say so beside the button.
            "by_words": not (services(request).embedder or _OFF).enabled,
        }
    if kind == "closing" and snap.synthesis is not None:
        themes = await qp.list_themes(db, seance.id)
        theme_of = {p.id: p.theme_id for p in await qp.list_proposals(db, seance.id)}
        voted = voted_themes([item for step in snap.state.steps if step.kind == "vote"
                              for item in await qv.vote_items(
                                  db, seance.id, VoteSettings.from_json(step.settings))],
                             theme_of)
        tr = translator(request)
        board["agenda"] = agenda_draft(snap.synthesis, voted, {t.id: t.name for t in themes},
                                       tr.gettext)
        board["following"] = await qv.following(db, seance.id)
        proposals = {p.id: p for p in await qp.list_proposals(db, seance.id) if p.on_board}
        board["carry"] = [(proposals[pid], status, default) for pid, status, default
                          in carry_over(list(proposals), snap.synthesis)]
        memory = await broadcaster(request).memory.get(seance.id)
        if memory is not None:
            board["paper"] = await paper.picture(db, memory)
    zone = ZoneInfo(request.app.state.settings.timezone)
    people = {
        "listed": await sp.list_people(db, seance.id),
        "excluded": await sp.list_people(db, seance.id, excluded=True),
        "minutes": await sp.busy_minutes(db, seance.id),
        "changed": _int_query(request, "excluded"), "included": _int_query(request, "included"),
        "local_time": lambda iso: local_time(iso, zone),
    }
    return render(request, "pages/facilitator.html", status_code=status_code,
                  seance=snap.state.seance, snap=snap, token=token, links=links,
                  board=board, CARRY_LABELS=CARRY_LABELS, people=people, **context)


def _int_query(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdecimal() and len(raw) < 7 else None


def local_time(iso: str, zone: dt.tzinfo) -> str:
    """A stored UTC time ("…T18:42:05+00:00", or a minute "…T18:42") in the room's zone."""
    minute = len(iso) == 16
    try:
        moment = dt.datetime.fromisoformat(iso + "+00:00" if minute else iso)
    except ValueError:
        return ""
    return moment.astimezone(zone).strftime("%H:%M" if minute else "%H:%M:%S")


def _back(request: Request, token: str) -> Response:
    if is_htmx(request):
        return Response(status_code=204)  # sent in the background: the push redraws
    return RedirectResponse(request.url_for("facilitator:show", token=token), 303)


async def step(request: Request) -> Response:
    """Go to a step: `position`, or `move` = next / previous."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    current = memory.seance.current_step
    target = target_step(current, str(form.get("move", "")), str(form.get("position", "")))
    if target is None:
        raise HTTPException(422, "position")
    if str(form.get("from", current)) != str(current):
        # "Next" pressed twice (a double click, another tab): the first already moved.
        return _back(request, token)
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
    if position.isdecimal() and len(position) < 6:
        return int(position)
    return None


async def walk(request: Request) -> Response:
    """The facilitator's clicker (keys on the run view) and "close and open the next
    question": `move` = next / previous, `question` = the question that must still be open."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    move, expected = str(form.get("move", "")), str(form.get("question", ""))
    if move not in MOVES or (expected and not (expected.isdecimal() and len(expected) < 12)):
        raise HTTPException(422, "move")
    try:
        await actions.walk(services(request), memory, move,
                           int(expected) if expected else None)
    except UserError as error:
        return await page(request, memory.seance, token, status_code=error.status,
                          error=error.message)
    return _back(request, token)


async def timer(request: Request) -> Response:
    """Start the current step's timer (`minutes`), or stop it (`stop`)."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    try:
        minutes = None if form.get("stop") else read_minutes(str(form.get("minutes", ""))[:20])
        await actions.set_timer(services(request), memory, minutes)
    except UserError as error:
        return await page(request, memory.seance, token, status_code=error.status,
                          error=error.message, error_params=error.params)
    return _back(request, token)


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
    return _back(request, token)


async def _change_settings(request: Request, memory: SeanceMemory, token: str,
                           change: Callable[[Settings], Settings]) -> Response:
    try:
        # What the room and the phones see may change: everything is redrawn.
        await actions.change_question(services(request), memory,
                                      int_param(request, "question_id"), change)
    except LookupError:
        raise HTTPException(404) from None
    return _back(request, token)


async def results_mode(request: Request) -> Response:
    """Show a question's results to the room live, or only once it is closed."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    mode = str(form.get("mode", ""))
    if mode not in RESULTS_MODES:
        raise HTTPException(422, "mode")
    return await _change_settings(request, memory, token, lambda s: replace(s, results=mode))


async def phone_results(request: Request) -> Response:
    """Let phones see a question's results once it is closed (or stop showing them)."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    show = form.get("show") == "1"
    return await _change_settings(request, memory, token,
                                  lambda s: replace(s, phone_results=show))


async def hide_word(request: Request) -> Response:
    """Hide (or show again) a word group of a free-text question, on every screen."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    word, hidden = str(form.get("word", ""))[:100], form.get("hidden") == "1"
    if not word:
        raise HTTPException(422, "word")

    def change(settings: Settings) -> Settings:
        words = set(settings.hidden_words)
        (words.add if hidden else words.discard)(word)
        return replace(settings, hidden_words=tuple(sorted(words)))

    return await _change_settings(request, memory, token, change)


async def ws(websocket: WebSocket) -> None:
    try:
        seance, token = await seance_for_link(websocket, "facilitator")
    except HTTPException:
        await websocket.close(code=1008)
        return
    b = broadcaster(websocket)
    language = language_of(websocket)

    async def first() -> list[str]:
        snap = await b.snapshot(seance.id)
        assert snap is not None  # noqa: S101
        return [b.facilitator_fragment(snap, language)]

    await pump(websocket, b.hub, topic(seance.id, f"facilitator:{language}"), first,
               credential=token)


MINUTE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d$")


async def exclusion(request: Request) -> Response:
    """Exclude participants (ticked, or all who joined in one minute), or include them
    again: `action` = exclude / include, `participant` (any number), `minute`."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    action = form.get("action")
    minute = str(form.get("minute", ""))
    if action not in ("exclude", "include") or (minute and not MINUTE.match(minute)):
        raise HTTPException(422, "action")
    ids = [int(raw) for raw in form.getlist("participant")
           if isinstance(raw, str) and raw.isdecimal() and len(raw) < 12]
    try:
        changed = await actions.exclude(services(request), memory, ids,
                                        excluded=action == "exclude", minute=minute or None)
    except UserError as error:
        return await page(request, memory.seance, token, status_code=error.status,
                          error=error.message, error_params=error.params)
    # Back to the list (redrawn in place with JavaScript), saying what was done.
    target = request.url_for("facilitator:show", token=token).include_query_params(
        **{"excluded" if action == "exclude" else "included": changed})
    return RedirectResponse(str(target) + "#exclusion", 303)


async def set_count(request: Request) -> Response:
    """The facilitator's own count of the people in the room, written in the report."""
    memory, token = await memory_for_link(request, "facilitator")
    form = await read_form(request)
    raw = str(form.get("headcount", "")).strip()
    if raw and (not raw.isdecimal() or int(raw) > 100_000):
        return await page(request, memory.seance, token, status_code=422,
                          error=N_("The headcount is a whole number."))
    await actions.set_headcount(services(request), memory, int(raw) if raw else None)
    return _back(request, token)
