"""The démarche synthesis: the organiser confirms cross-cutting elements and downloads it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import i18n
from facilitation.demarche import OverTime, Recurring, over_time, recurring_candidates
from facilitation.exports.demarche import blocks
from facilitation.report import Report
from facilitation.seances import Workshop
from facilitation.store import demarche as qd
from facilitation.store import queries as q
from facilitation.views.common import db_of, int_param
from facilitation.views.organiser import require_organiser
from facilitation.views.report import FORMATS, write
from facilitation.web import read_form, render

Gathered = tuple[Workshop, list[Report], list[OverTime], list[tuple[int, Recurring, str]],
                 list[Recurring]]


async def _gather(request: Request) -> Gathered:
    require_organiser(request)
    workshop_id = int_param(request, "workshop_id")
    db = db_of(request)
    workshop = await q.get_workshop(db, workshop_id)
    if workshop is None:
        raise HTTPException(404)
    reports = await qd.reports(db, workshop_id, ZoneInfo(request.app.state.settings.timezone))
    decided = await qd.decisions(db, workshop_id)
    seen = {qd.signature(element.members) for _id, element, _state in decided}
    candidates = [c for c in recurring_candidates(reports)
                  if qd.signature(c.members) not in seen]
    return workshop, reports, over_time(reports), decided, candidates


async def show(request: Request) -> Response:
    workshop, reports, over, decided, candidates = await _gather(request)
    return render(request, "pages/demarche.html", workshop=workshop, reports=reports,
                  over=over, decided=decided, candidates=candidates,
                  candidate_key=qd.candidate_key, here=request.url.path)


async def decide(request: Request) -> Response:
    """Confirm (with a title) or reject a suggested cross-cutting element, or undo."""
    workshop, _reports, _over, decided, candidates = await _gather(request)
    form = await read_form(request)
    db = db_of(request)
    action = str(form.get("action", ""))
    if action == "undo":
        raw = str(form.get("decision", ""))
        if not raw.isdigit():
            raise HTTPException(422, "decision")
        try:
            await qd.undo(db, workshop.id, int(raw))
        except LookupError:
            raise HTTPException(404) from None
    else:
        raw = str(form.get("candidate", ""))[:32]
        if action not in ("confirm", "reject"):
            raise HTTPException(422, "action")
        chosen = next((c for c in candidates if qd.candidate_key(c.members) == raw), None)
        if chosen is None:
            if any(qd.candidate_key(element.members) == raw for _id, element, _s in decided):
                # Already decided (a double click, a stale tab): nothing more to do.
                return RedirectResponse(request.url.path, 303)
            raise HTTPException(422, "candidate")
        title = " ".join(str(form.get("title", "")).split())[:120] or chosen.title
        await qd.decide(db, workshop.id,
                        Recurring(title, chosen.members),
                        "confirmed" if action == "confirm" else "rejected")
    return RedirectResponse(request.url.path, 303)


async def download(request: Request) -> Response:
    workshop, reports, over, decided, _candidates = await _gather(request)
    fmt = str(request.path_params["fmt"])
    if fmt not in ("md", "html", "pdf", "odt", "docx"):
        raise HTTPException(404)
    wanted = request.query_params.get("lang")
    tr = i18n.Translator(wanted if wanted in i18n.LANGUAGES else i18n.DEFAULT)
    confirmed = [element for _id, element, state in decided if state == "confirmed"]
    document = blocks(workshop, reports, over, confirmed, tr)
    body = await write(request, document, fmt, tr, workshop.title)
    name = reports[0].slug().split("_seance")[0] if reports else "demarche"
    return Response(body, media_type=FORMATS[fmt], headers={
        "content-disposition": f'attachment; filename="{name}_synthese.{fmt}"'})
