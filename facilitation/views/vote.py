"""Vote steps, the synthesis and closing: the facilitator's controls, paper votes, the API,
and what phones and the projector are given to show."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from facilitation import actions, plans, richtext
from facilitation.i18n_keys import N_, UserError
from facilitation.limits import RateLimited, client_of
from facilitation.seances import Seance, State, Step
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.store.proposals import list_proposals
from facilitation.store.votes import synthesis_of
from facilitation.views.api import ApiError, _participant, _seance, json_body
from facilitation.views.api import idempotency_key as api_idempotency_key
from facilitation.views.common import (
    broadcaster,
    db_of,
    int_param,
    memory_for_link,
    services,
)
from facilitation.views.organiser import _workshop, require_organiser
from facilitation.voting import (
    METHODS,
    ConsensusRule,
    VoteError,
    VoteSettings,
    carry_over,
    check_rule,
)
from facilitation.web import read_form


def vote_settings(step: Step | None) -> VoteSettings | None:
    return VoteSettings.from_json(step.settings) if step and step.kind == "vote" else None


# Facilitator -------------------------------------------------------------------------------


async def _facilitator_action(request: Request, action: Any) -> Response:
    from facilitation.views.facilitator import page  # noqa: PLC0415 - the page imports us

    memory, token = await memory_for_link(request, "facilitator")
    seance = memory.seance
    try:
        actions.still_open(memory)  # a closed séance's votes and closing are final
        await action(seance)
    except LookupError:
        raise HTTPException(404) from None
    except UserError as error:
        return await page(request, seance, token, status_code=error.status, error=error.message,
                          error_params=error.params)
    broadcaster(request).state_changed(seance.id)
    target = str(request.url_for("facilitator:show", token=token))
    if request.headers.get("hx-boosted"):
        return RedirectResponse(target, 303)  # redrawn in place, where the facilitator was
    return RedirectResponse(target + "#vote", 303)


def _current_vote(state: State) -> Step:
    if state.step is None or state.step.kind != "vote":
        raise VoteError(N_("The current step is not a vote."), 409)
    return state.step


async def configure(request: Request) -> Response:
    """Method, what is voted on, and points: set while the vote is closed."""
    form = await read_form(request)

    async def action(seance: Seance) -> None:
        db = db_of(request)
        state = await q.get_state(db, seance.id)
        assert state is not None  # noqa: S101
        step = _current_vote(state)
        current = VoteSettings.from_json(step.settings)
        if current.open:
            raise VoteError(N_("Close the vote before changing it."), 409)
        method, target = str(form.get("method", "")), str(form.get("target", ""))
        if method not in METHODS or target not in ("proposals", "theme", "selection",
                                                   "themes"):
            raise VoteError(N_("Choose a method and what is voted on."))
        raw_theme = str(form.get("theme", ""))
        selection = tuple(int(str(v)) for v in form.getlist("selection") if str(v).isdecimal())
        points, most = str(form.get("points", "5")), str(form.get("max_per_item", "3"))
        if not (points.isdecimal() and most.isdecimal() and 1 <= int(most) <= int(points) <= 100):
            raise VoteError(N_("Points: whole numbers, at most 100, and no more on one item "
                               "than in all."))
        if target == "theme" and not raw_theme.isdecimal():
            raise VoteError(N_("Choose the theme to vote on."))
        if target == "selection" and not selection:
            raise VoteError(N_("Choose the proposals to vote on."))
        chosen = VoteSettings(
            method=method, target=target,
            theme_id=int(raw_theme) if target == "theme" else None,
            selection=selection if target == "selection" else (),
            points=int(points), max_per_item=int(most))
        # "Open the vote" on the same form: the method chosen is the one opened, in one write.
        opening = form.get("open") == "1"
        if opening and not await qv.vote_items(db, seance.id, chosen):
            raise VoteError(N_("There is nothing to vote on yet."), 409)
        await qv.set_vote_settings(db, seance.id, step.id, replace(chosen, open=opening))

    return await _facilitator_action(request, action)


async def open_close(request: Request) -> Response:
    await read_form(request)
    opening = request.path_params["action"] == "open"
    if request.path_params["action"] not in ("open", "close"):
        raise HTTPException(404)

    async def action(seance: Seance) -> None:
        db = db_of(request)
        state = await q.get_state(db, seance.id)
        assert state is not None  # noqa: S101
        step = _current_vote(state)
        settings = VoteSettings.from_json(step.settings)
        if opening and not await qv.vote_items(db, seance.id, settings):
            raise VoteError(N_("There is nothing to vote on yet."), 409)
        await qv.set_vote_settings(db, seance.id, step.id, replace(settings, open=opening))

    return await _facilitator_action(request, action)


def agenda_lines(typed: str) -> list[str]:
    """The next séance's agenda as typed: one item a line, its list mark ("- ", "1. ")
    dropped, its level kept as two spaces each (a sub-item under the item above)."""
    items: list[tuple[int, str]] = []
    for line in typed.replace("\t", "  ").splitlines():
        if not line.strip():
            continue
        found = richtext.LIST_LINE.match(line)
        indent = len(line) - len(line.lstrip(" "))
        text = found.group(3) if found else line
        level = min(indent // 2, richtext.MAX_LEVEL, len(items) and 1 + items[-1][0])
        items.append((level, " ".join(text.split())[:300]))
    return ["  " * level + text for level, text in items[:50]]


async def close_seance(request: Request) -> Response:
    """Clôture: create the next séance with its agenda, carrying what is not settled."""
    form = await read_form(request)

    async def action(seance: Seance) -> None:
        db = db_of(request)
        state = await q.get_state(db, seance.id)
        assert state is not None  # noqa: S101
        title = " ".join(str(form.get("title", "")).split())[:plans.MAX_TITLE]
        if not title:
            raise VoteError(N_("Give the next séance a title."))
        date = plans.check_date(str(form.get("date", "")).strip()[:20])
        time = plans.check_time(str(form.get("time", "")).strip()[:10])
        place = " ".join(str(form.get("place", "")).split())[:plans.MAX_TITLE]
        agenda = agenda_lines(str(form.get("agenda", ""))[:20_000])
        summary = await synthesis_of(db, state)
        candidates = carry_over([p.id for p in await list_proposals(db, seance.id)
                                 if p.on_board], summary)
        if form.get("carry_list") == "1":
            # The facilitator's own list, among what may be carried.
            allowed = {pid for pid, _status, _default in candidates}
            ticked = {int(str(v)) for v in form.getlist("carry_ids")
                      if str(v).isdecimal() and len(str(v)) < 12}
            carry = [pid for pid, _status, _default in candidates
                     if pid in ticked and pid in allowed]
            themes = form.get("carry_themes") == "1"
        else:  # one box (the API, older forms): what goes by default, with its themes
            carry = [pid for pid, _status, default in candidates if default] \
                if form.get("carry") == "1" else []
            themes = bool(carry)
        await qv.close_and_continue(db, seance.id, qv.next_plan(
            title, date, time, place, seance.language), agenda, carry,
            carry_themes=themes)

    return await _facilitator_action(request, action)


async def set_rule(request: Request) -> Response:
    """The organiser states the séance's consensus rule (percentages in the form)."""

    require_organiser(request)
    session_id = int_param(request, "session_id")
    seance = await q.get_session(db_of(request), session_id)
    if seance is None:
        raise HTTPException(404)
    form = await read_form(request)
    raw = [str(form.get(k, "")).strip() for k in ("min_agree", "max_disagree", "min_votes")]
    try:
        if not all(v.isdecimal() and len(v) < 5 for v in raw):
            raise VoteError(N_("The rule's figures are whole numbers."))
        min_agree, max_disagree, min_votes = int(raw[0]) / 100, int(raw[1]) / 100, int(raw[2])
        check_rule(min_agree, max_disagree, min_votes)
    except UserError as error:
        return await _workshop(request, seance.workshop_id, error.status, error=error.message,
                               error_params=error.params)
    await qv.set_rule(db_of(request), session_id, ConsensusRule(
        min_agree, max_disagree, min_votes, form.get("every_subgroup") == "1"))
    target = request.url_for("organiser:workshop", workshop_id=seance.workshop_id)
    return RedirectResponse(f"{target}#seance-{session_id}", 303)


# Paper votes and the API -----------------------------------------------------------------


async def api_submit_vote(request: Request) -> Response:
    memory = await _seance(request)
    participant = _participant(request, memory)
    key = api_idempotency_key(request)
    body = await json_body(request)
    form: dict[str, Any] = {"item": str(body.get("item_id", "")), "value": body.get("value")}
    for name, prefix in (("dots", "dots-"), ("grades", "grade-")):
        if isinstance(body.get(name), dict):
            form.update({f"{prefix}{k}": v for k, v in body[name].items()})
    try:
        await actions.cast_vote(services(request), memory, participant.id, form, key=key,
                                client=client_of(request))
    except RateLimited:
        raise  # 429 with Retry-After, like every refusal for going too fast
    except UserError as error:
        code = "vote_closed" if error.status == 409 else "invalid_vote"
        raise ApiError(error.status, code, error.message, **error.params) from None
    return JSONResponse({"ok": True}, 201)
