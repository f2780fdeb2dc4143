"""The facilitator's proposals: moderation, and the themes board (regroupement)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import actions
from facilitation.i18n_keys import N_, UserError
from facilitation.proposals import (
    MAX_LENGTH,
    ProposalError,
    StepSettings,
    clean_text,
    clean_theme_name,
)
from facilitation.seances import Seance, State
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.views.common import (
    broadcaster,
    db_of,
    int_param,
    memory_for_link,
    services,
)
from facilitation.views.facilitator import page
from facilitation.web import is_htmx, read_form


def proposal_step(state: State) -> tuple[int, StepSettings] | None:
    """The step proposals go to: the current one if it takes proposals, else the latest
    proposal step before it (the facilitator may add what is said during the grouping)."""
    candidates = [s for s in state.steps if s.kind == "proposals"
                  and s.position <= state.seance.current_step]
    if not candidates:
        return None
    step = candidates[-1]
    return step.id, StepSettings.from_json(step.settings)


async def _act(request: Request, action: Callable[[Seance], Awaitable[object]],
               anchor: str = "proposals") -> Response:
    """Run a board action; on success go back to the page (204 for scripts), on a refused
    action show the page again with the reason."""
    memory, token = await memory_for_link(request, "facilitator")
    seance = memory.seance
    try:
        actions.still_open(memory)  # the board of a closed séance is what its report says
        await action(seance)
    except LookupError:
        raise HTTPException(404) from None
    except UserError as error:
        return await page(request, seance, token, status_code=error.status, error=error.message,
                          error_params=error.params)
    broadcaster(request).answers_changed(seance.id)
    # A drag on the board (a script) needs nothing back; a boosted form redraws the board.
    if (is_htmx(request) and not request.headers.get("hx-boosted")) \
            or request.headers.get("x-requested-with") == "fetch":
        return Response(status_code=204)
    target = request.url_for("facilitator:show", token=token)
    if request.headers.get("hx-boosted"):
        return RedirectResponse(str(target), 303)  # the board is redrawn in place
    return RedirectResponse(f"{target}#{anchor}", 303)


def _optional_int(raw: object) -> int | None:
    text = str(raw or "")
    return int(text) if text.isdecimal() and len(text) < 12 else None


async def add(request: Request) -> Response:
    """A proposal said aloud in the room, typed by the facilitator."""
    form = await read_form(request)

    async def action(seance: Seance) -> None:
        db = db_of(request)
        state = await q.get_state(db, seance.id)
        assert state is not None  # noqa: S101
        target = proposal_step(state)
        if target is None:
            raise ProposalError(N_("This séance has no proposal step yet."), 409)
        step_id, settings = target
        subgroup = _optional_int(form.get("subgroup"))
        if subgroup is not None and subgroup not in {
                sid for sid, _ in await qp.list_subgroups(db, seance.id)}:
            raise ProposalError(N_("Choose your table from the list."))
        text = clean_text(form.get("text"), settings.max_length)
        services(request).proposed([await qp.add_proposal(db, seance.id, step_id, text,
                                                          "aloud", subgroup_id=subgroup)])

    return await _act(request, action)


async def moderate(request: Request) -> Response:
    form = await read_form(request)
    proposal_id = int_param(request, "proposal_id")
    verb = str(request.path_params["action"])

    async def action(seance: Seance) -> None:
        db = db_of(request)
        if verb in ("hide", "show"):
            await qp.set_flag(db, seance.id, proposal_id, "hidden", verb == "hide")
        elif verb in ("pin", "unpin"):
            await qp.set_flag(db, seance.id, proposal_id, "pinned", verb == "pin")
        elif verb == "edit":
            await qp.edit_text(db, seance.id, proposal_id,
                               clean_text(form.get("text"), MAX_LENGTH * 4))
            services(request).proposed([proposal_id])  # its vector is made again
        elif verb == "merge":
            target = _optional_int(form.get("into"))
            if target is None:
                raise ProposalError(N_("Choose the proposal to merge it into."))
            await qp.merge(db, seance.id, target, [proposal_id])
        elif verb == "unmerge":
            await qp.unmerge(db, seance.id, proposal_id)
        elif verb == "move":
            raw_theme = str(form.get("theme", ""))
            theme = _optional_int(raw_theme)
            if raw_theme not in ("", "unsorted") and theme is None:
                raise LookupError(raw_theme)
            await qp.move(db, seance.id, proposal_id, theme, _optional_int(form.get("position")))
        else:
            raise LookupError(verb)

    return await _act(request, action, "board" if verb == "move" else f"p{proposal_id}")


async def create_theme(request: Request) -> Response:
    form = await read_form(request)

    async def action(seance: Seance) -> None:
        await qp.create_theme(db_of(request), seance.id, clean_theme_name(form.get("name")))

    return await _act(request, action, "board")


async def theme(request: Request) -> Response:
    form = await read_form(request)
    theme_id = int_param(request, "theme_id")
    verb = str(request.path_params["action"])

    async def action(seance: Seance) -> None:
        db = db_of(request)
        if verb == "rename":
            await qp.rename_theme(db, seance.id, theme_id, clean_theme_name(form.get("name")))
        elif verb in ("up", "down"):
            await qp.shift_theme(db, seance.id, theme_id, -1 if verb == "up" else 1)
        elif verb == "delete":
            await qp.delete_theme(db, seance.id, theme_id)
        else:
            raise LookupError(verb)

    return await _act(request, action, "board")


async def suggest(request: Request) -> Response:
    """Propose groupings of the unsorted proposals; nothing moves until accepted."""
    await read_form(request)

    async def action(seance: Seance) -> None:
        from facilitation import themes  # scikit-learn: loaded on first use (~100 MiB)

        db = db_of(request)
        unsorted = [p for p in await qp.list_proposals(db, seance.id)
                    if p.on_board and p.theme_id is None]
        if len(unsorted) < themes.MIN_SIZE:
            raise ProposalError(N_("There are not enough unsorted proposals to group."), 409)
        found = await themes.suggest(services(request).embedder,
                                     [(p.id, p.text) for p in unsorted])
        if not found:
            raise ProposalError(N_("No grouping stands out: group these proposals by hand."),
                                409)
        await qp.replace_suggestions(db, seance.id, [
            (s.title, [unsorted[i].id for i in s.members]) for s in found])

    return await _act(request, action, "suggestions")


async def suggestion(request: Request) -> Response:
    form = await read_form(request)
    suggestion_id = int_param(request, "suggestion_id")
    verb = str(request.path_params["action"])

    async def action(seance: Seance) -> None:
        db = db_of(request)
        if verb == "accept":
            await qp.accept_suggestion(db, seance.id, suggestion_id,
                                       clean_theme_name(form.get("name")))
        elif verb == "reject":
            await qp.reject_suggestion(db, seance.id, suggestion_id)
        else:
            raise LookupError(verb)

    return await _act(request, action, "board")


async def wall_mode(request: Request) -> Response:
    """Show the projector's wall all together or table by table."""
    form = await read_form(request)

    async def action(seance: Seance) -> None:
        db = db_of(request)
        state = await q.get_state(db, seance.id)
        assert state is not None  # noqa: S101
        if state.step is None or state.step.kind != "proposals":
            raise ProposalError(N_("This séance has no proposal step yet."), 409)
        await qp.set_wall_by_subgroup(db, seance.id, state.step.id, form.get("by") == "1")

    return await _act(request, action)
