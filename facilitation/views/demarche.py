"""The démarche synthesis: the organiser settles cross-cutting elements and downloads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import i18n
from facilitation.demarche import (
    CrossError,
    Member,
    OverTime,
    Recurring,
    clean_title,
    hidden_by,
    over_time,
    recurring_candidates,
)
from facilitation.exports.demarche import blocks
from facilitation.i18n_keys import N_
from facilitation.report import Report
from facilitation.seances import Workshop
from facilitation.store import demarche as qd
from facilitation.store import queries as q
from facilitation.views.common import db_of, int_param, services
from facilitation.views.organiser import require_organiser
from facilitation.views.report import FORMATS, write
from facilitation.web import idempotency_key, read_form, render

INCOMPLETE = N_("This form is incomplete or out of date: reload the page and try again.")


@dataclass(frozen=True)
class Gathered:
    workshop: Workshop
    reports: list[Report]
    over: list[OverTime]
    decided: list[tuple[int, Recurring, str, tuple[int, ...]]]  # with member rows
    candidates: list[Recurring]
    sources: list[Member]  # what elements are made of: originals of the séances held
    keys: set[str]  # the suggestions already decided


async def _gather(request: Request, *, suggest: bool = True) -> Gathered:
    require_organiser(request)
    workshop_id = int_param(request, "workshop_id")
    db = db_of(request)
    workshop = await q.get_workshop(db, workshop_id)
    if workshop is None:
        raise HTTPException(404)
    reports = await qd.reports(db, workshop_id, ZoneInfo(request.app.state.settings.timezone))
    decided = await qd.elements(db, workshop_id)
    sources = await qd.sources(db, workshop_id) if suggest else []
    keys = await qd.decided_keys(db, workshop_id)
    elements = [element for _id, element, _state, _rows in decided]
    suggested = []
    if len(sources) >= 2:
        from facilitation import themes  # scikit-learn: loaded on first use (~100 MiB)

        suggested = await themes.suggest(services(request).embedder, [
            (m.id if m.kind == "proposal" else None, m.text) for m in sources])
    candidates = [c for c in recurring_candidates(sources, suggested)
                  if qd.candidate_key(c) not in keys and not hidden_by(c, elements)]
    return Gathered(workshop, reports, over_time(reports), decided, candidates, sources, keys)


async def _page(request: Request, found: Gathered, status_code: int = 200,
                **context: Any) -> Response:
    titles = {r.seance.number: r.seance.title for r in found.reports}
    held: dict[int, list[Member]] = {}
    for member in found.sources:
        if member.kind == "proposal":
            held.setdefault(member.number, []).append(member)
    return render(request, "pages/demarche.html", status_code=status_code,
                  workshop=found.workshop, reports=found.reports, over=found.over,
                  confirmed=[d for d in found.decided if d[2] == "confirmed"],
                  rejected=[d for d in found.decided if d[2] == "rejected"],
                  candidates=found.candidates,
                  held=[(n, titles.get(n, ""), held[n]) for n in sorted(held)],
                  candidate_key=qd.candidate_key, here=request.url.path, **context)


async def show(request: Request) -> Response:
    return await _page(request, await _gather(request))


def _number(form: FormData, name: str) -> int:
    raw = str(form.get(name, ""))
    if not raw.isdecimal() or len(raw) > 12:
        raise CrossError(INCOMPLETE)
    return int(raw)


async def _suggestion(form: FormData, found: Gathered, who: str, request: Request) -> str:
    """Confirm (with a title) or reject a suggestion named by its key."""
    action = str(form.get("action"))
    raw = str(form.get("candidate", ""))[:32]
    chosen = next((c for c in found.candidates if qd.candidate_key(c) == raw), None)
    if chosen is None:
        if raw in found.keys:
            return ""  # decided already (a double click, a stale tab): nothing more to do
        raise CrossError(N_("This suggestion is no longer offered: the page shows the"
                            " current ones."))
    title = " ".join(str(form.get("title", "")).split())[:120] or chosen.title
    element_id = await qd.decide(
        db_of(request), found.workshop.id, Recurring.of(title, chosen.items),
        "confirmed" if action == "confirm" else "rejected", who=who,
        origin=qd.candidate_key(chosen), key=idempotency_key(form))
    return f"element-{element_id}" if element_id else ""


async def decide(request: Request) -> Response:
    """Every change to the cross-cutting elements, one form each: confirm or reject a
    suggestion, undo a decision, rename an element, remove or add one of its proposals,
    make an element by hand. Sent twice, a form changes nothing the second time; a form
    that cannot be done changes nothing and says why."""
    form = await read_form(request)
    action = str(form.get("action", ""))
    found = await _gather(request, suggest=action in ("confirm", "reject"))
    db = db_of(request)
    workshop_id = found.workshop.id
    who = f"organiser:{require_organiser(request)}"
    key = idempotency_key(form)
    anchor = "cross-title"
    try:
        if action in ("confirm", "reject"):
            anchor = await _suggestion(form, found, who, request) or anchor
        elif action == "undo":
            await qd.undo(db, workshop_id, _number(form, "decision"), who=who, key=key)
        elif action == "rename":
            element_id = _number(form, "element")
            await qd.rename(db, workshop_id, element_id, clean_title(form.get("title")),
                            who=who, key=key)
            anchor = f"element-{element_id}"
        elif action == "remove":
            element_id = _number(form, "element")
            await qd.remove_member(db, workshop_id, element_id, _number(form, "member"),
                                   who=who, key=key)
            anchor = f"element-{element_id}"
        elif action == "add":
            element_id = _number(form, "element")
            if not form.get("proposal"):
                raise CrossError(N_("Choose the proposal to add."))
            await qd.add_member(db, workshop_id, element_id, _number(form, "proposal"),
                                who=who, key=key)
            anchor = f"element-{element_id}"
        elif action == "create":
            title = clean_title(form.get("title"))
            ticked = [str(v) for v in form.getlist("proposals")]
            if not all(v.isdecimal() and len(v) <= 12 for v in ticked):
                raise CrossError(INCOMPLETE)
            made = await qd.create(db, workshop_id, title, [int(v) for v in ticked],
                                   who=who, key=key)
            anchor = f"element-{made}" if made else anchor
        else:
            raise CrossError(INCOMPLETE)
    except CrossError as error:
        if action in ("confirm", "reject"):
            shown = found
        else:  # the page shows the suggestions again
            shown = await _gather(request)
        typed = {"title": str(form.get("title", ""))[:200],
                 "proposals": {str(v) for v in form.getlist("proposals")}} \
            if action == "create" else None
        # The message goes beside the form that was sent, when the page still shows it.
        places = {"new"} | {f"element-{i}" for i, _e, state, _r in shown.decided
                            if state == "confirmed"}
        where = "new" if action == "create" else f"element-{form.get('element')}"
        return await _page(request, shown, error.status, error=error.message,
                           error_params=error.params, typed=typed,
                           where=where if where in places else "")
    return RedirectResponse(f"{request.url.path}#{anchor}", 303)


async def download(request: Request) -> Response:
    found = await _gather(request, suggest=False)
    workshop, reports = found.workshop, found.reports
    fmt = str(request.path_params["fmt"])
    if fmt not in ("md", "html", "pdf", "odt", "docx"):
        raise HTTPException(404)
    wanted = request.query_params.get("lang")
    tr = i18n.Translator(wanted if wanted in i18n.LANGUAGES else i18n.DEFAULT)
    confirmed = [element for _id, element, state, _rows in found.decided
                 if state == "confirmed"]
    document = blocks(workshop, reports, found.over, confirmed, tr)
    body = await write(request, document, fmt, tr, workshop.title)
    name = reports[0].slug().split("_seance")[0] if reports else "demarche"
    return Response(body, media_type=FORMATS[fmt], headers={
        "content-disposition": f'attachment; filename="{name}_synthese.{fmt}"'})
