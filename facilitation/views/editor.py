"""The organiser's séance editor: steps, questions and tables; reopening a closed séance.

Each change is one store write announced as a change of the séance, so the facilitator's
page, the projector and the phones show it at once. A refused form comes back with what
was typed and a plain message beside it."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import editing
from facilitation.i18n_keys import N_, UserError
from facilitation.seances import Seance
from facilitation.store import editor as se
from facilitation.store import queries as q
from facilitation.views.common import db_of, int_param, services
from facilitation.views.organiser import require_organiser
from facilitation.web import read_form, render

QUESTION_FIELDS = ("kind", "text", "choices", "levels", "max", "scale", "low_label",
                   "high_label", "results_closed", "no_change")
MOVES = {"up": -1, "down": 1}
REOPEN_UNCONFIRMED = N_("Tick the box to confirm that the séance opens again.")


async def _seance(request: Request) -> Seance:
    require_organiser(request)
    seance = await q.get_session(db_of(request), int_param(request, "session_id"))
    if seance is None:
        raise HTTPException(404)
    return seance


def _typed(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k not in ("csrf", "idem")}


async def show(request: Request) -> Response:
    return await _page(request, await _seance(request))


async def _page(request: Request, seance: Seance, status_code: int = 200,
                **context: Any) -> Response:
    db = db_of(request)
    steps = await q.list_steps(db, seance.id)
    questions = {s.id: await q.list_questions(db, s.id) for s in steps if s.kind == "poll"}
    started = any(s.started_at for s in steps)
    return render(request, "pages/organiser_editor.html", status_code=status_code,
                  seance=seance, steps=steps, questions=questions,
                  usage=await se.usage(db, seance.id),
                  subgroups=await se.subgroup_names(db, seance.id),
                  current=seance.current_step if started else None,
                  settings_of={s.id: json.loads(s.settings or "{}") for s in steps},
                  question_values=editing.question_values, **context)


async def _apply(request: Request, seance: Seance, op: se.Op, anchor: str,
                 failed: str = "", typed: dict[str, str] | None = None) -> Response:
    """Run the write as a change of the séance; back to the editor, or the refusal."""
    try:
        await services(request).change(seance.id, db_of(request).write(op))
    except LookupError:
        raise HTTPException(404) from None
    except UserError as error:
        return await _refused(request, seance, error, failed, typed)
    target = request.url_for("organiser:editor", session_id=seance.id)
    # The page opens where the change was made, and says there that it is done.
    return RedirectResponse(f"{target}?saved={anchor}#{anchor}", 303)


async def _refused(request: Request, seance: Seance, error: UserError, failed: str,
                   typed: dict[str, str] | None) -> Response:
    return await _page(request, seance, error.status, error=error.message,
                       error_params=error.params, failed=failed, typed=typed or {})


# The séance, its tables and steps --------------------------------------------------------


async def set_details(request: Request) -> Response:
    seance = await _seance(request)
    form = await read_form(request)
    typed = _typed(form)
    try:
        d = editing.details_from_form(typed)
    except UserError as error:
        return await _refused(request, seance, error, "details", typed)
    return await _apply(request, seance, se.update_details(
        seance.id, d.title, d.date, d.time, d.place, d.objectives), "details", "details", typed)


# Tables and steps ----------------------------------------------------------------------


async def set_subgroups(request: Request) -> Response:
    seance = await _seance(request)
    form = await read_form(request)
    typed = _typed(form)
    try:
        names = editing.subgroups_from_text(typed.get("subgroups", ""))
    except UserError as error:
        return await _refused(request, seance, error, "tables", typed)
    return await _apply(request, seance, se.set_subgroups(seance.id, names), "tables",
                        "tables", typed)


async def add_step(request: Request) -> Response:
    seance = await _seance(request)
    form = await read_form(request)
    typed = _typed(form)
    try:
        kind, title, settings = editing.new_step(typed.get("kind", ""), typed.get("title", ""))
    except UserError as error:
        return await _refused(request, seance, error, "new-step", typed)
    return await _apply(request, seance, se.add_step(seance.id, kind, title, settings),
                        "new-step", "new-step", typed)


async def edit_step(request: Request) -> Response:
    seance = await _seance(request)
    step_id = int_param(request, "step_id")
    step = next((s for s in await q.list_steps(db_of(request), seance.id) if s.id == step_id),
                None)
    if step is None:
        raise HTTPException(404)
    form = await read_form(request)
    typed = _typed(form)
    key = f"step-{step_id}"
    try:
        edit = editing.step_from_form(step.kind, typed, step.settings)
    except UserError as error:
        return await _refused(request, seance, error, key, typed)
    return await _apply(request, seance, se.update_step(
        seance.id, step_id, edit.title, edit.prompt, edit.settings), key, key, typed)


async def step_action(request: Request) -> Response:
    seance = await _seance(request)
    step_id = int_param(request, "step_id")
    action = str(request.path_params["action"])
    await read_form(request)
    if action in MOVES:
        op = se.move_step(seance.id, step_id, MOVES[action])
    elif action == "delete":
        op = se.delete_step(seance.id, step_id)
    else:
        raise HTTPException(404)
    return await _apply(request, seance, op, "steps" if action == "delete" else f"step-{step_id}")


# Questions -----------------------------------------------------------------------------


async def add_question(request: Request) -> Response:
    seance = await _seance(request)
    form = await read_form(request)
    typed = _typed(form)
    raw_step = typed.get("step", "")
    step_id = int(raw_step) if raw_step.isdecimal() and len(raw_step) <= 12 else 0
    key = f"add-{step_id}"
    try:
        question = editing.question_from_form(typed)
    except UserError as error:
        return await _refused(request, seance, error, key, typed)
    return await _apply(request, seance, se.add_question(seance.id, step_id, question),
                        f"step-{step_id}", key, typed)


async def edit_question(request: Request) -> Response:
    seance = await _seance(request)
    question_id = int_param(request, "question_id")
    form = await read_form(request)
    typed = _typed(form)
    key = f"question-{question_id}"
    try:
        question = editing.question_from_form(typed)
    except UserError as error:
        return await _refused(request, seance, error, key, typed)
    return await _apply(request, seance, se.update_question(seance.id, question_id, question),
                        key, key, typed)


async def question_action(request: Request) -> Response:
    seance = await _seance(request)
    question_id = int_param(request, "question_id")
    action = str(request.path_params["action"])
    await read_form(request)
    anchor = f"question-{question_id}"
    if action in MOVES:
        op = se.move_question(seance.id, question_id, MOVES[action])
    elif action == "duplicate":
        op = se.duplicate_question(seance.id, question_id)
    elif action == "delete":
        op, anchor = se.delete_question(seance.id, question_id), "steps"
    else:
        raise HTTPException(404)
    return await _apply(request, seance, op, anchor)


# Reopening -----------------------------------------------------------------------------


async def reopen(request: Request) -> Response:
    """GET: the confirmation page. POST: reopen, once the box is ticked; audited."""
    seance = await _seance(request)
    closed = (await se.usage(db_of(request), seance.id)).closed
    if request.method == "GET":
        return render(request, "pages/organiser_reopen.html", seance=seance, closed=closed)
    form = await read_form(request)
    if form.get("confirm") != "1":
        return render(request, "pages/organiser_reopen.html", status_code=422, seance=seance,
                      closed=closed, error=REOPEN_UNCONFIRMED)
    who = f"organiser:{require_organiser(request)}"
    try:
        await services(request).change(seance.id, db_of(request).write(
            se.reopen(seance.id, who)))
    except UserError as error:
        return render(request, "pages/organiser_reopen.html", status_code=error.status,
                      seance=seance, closed=closed, error=error.message)
    target = request.url_for("organiser:editor", session_id=seance.id)
    return RedirectResponse(f"{target}?reopened=1", 303)

