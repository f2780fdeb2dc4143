"""The organiser's side of privacy: how long raw data is kept, and deleting a séance or a
whole démarche (a confirmation page first; the deletion is written in the audit log)."""

from __future__ import annotations

from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation.i18n_keys import N_, UserError
from facilitation.memory import Erased
from facilitation.retention import check_days
from facilitation.seances import Seance
from facilitation.store import audit
from facilitation.store import deletion as qd
from facilitation.store import privacy as qp
from facilitation.store import queries as q
from facilitation.views.common import db_of, int_param, services
from facilitation.views.organiser import require_organiser, workshop_page
from facilitation.web import read_form, render

UNCONFIRMED = N_("Tick the box to confirm the deletion.")
SHOWN = ("participants", "answers", "proposals", "votes", "card_entries", "sms_senders")


async def _who(request: Request) -> str:
    return await audit.organiser_name(db_of(request), require_organiser(request))


async def set_retention(request: Request) -> Response:
    """The démarche's retention period, in days (empty: the default)."""
    who = await _who(request)
    workshop_id = int_param(request, "workshop_id")
    form = await read_form(request)
    try:
        days = check_days(form.get("days"))
    except UserError as error:
        return await workshop_page(request, workshop_id, error.status, error=error.message,
                               error_params=error.params, typed_days=str(form.get("days"))[:6])
    try:
        await db_of(request).write(qp.set_retention(workshop_id, days, who), lambda _: None)
    except LookupError:
        raise HTTPException(404) from None
    target = request.url_for("organiser:workshop", workshop_id=workshop_id)
    return RedirectResponse(f"{target}#retention", 303)


async def _counts(request: Request, sessions: list[Seance]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for seance in sessions:
        total.update(await qp.raw_counts(db_of(request), seance.id))
    return {kind: total[kind] for kind in SHOWN}


async def _confirm(request: Request, op: qd.Op, target: str, **page: Any) -> Response:
    """The confirmation page (GET), or the deletion once the box is ticked (POST)."""
    if request.method == "GET":
        return render(request, "pages/organiser_delete.html", **page)
    form = await read_form(request)
    if form.get("confirm") != "1":
        return render(request, "pages/organiser_delete.html", status_code=422,
                      error=UNCONFIRMED, **page)
    s = services(request)

    def forget(done: qd.Deleted) -> None:
        for session_id in done.sessions:
            s.announce(Erased(session_id))

    try:
        await s.db.write(op, forget)
    except LookupError:
        raise HTTPException(404) from None
    return RedirectResponse(target, 303)


async def delete_session(request: Request) -> Response:
    who = await _who(request)
    db = db_of(request)
    seance = await q.get_session(db, int_param(request, "session_id"))
    if seance is None:
        raise HTTPException(404)
    workshop = await q.get_workshop(db, seance.workshop_id)
    target = request.url_for("organiser:workshop", workshop_id=seance.workshop_id)
    return await _confirm(request, qd.delete_session(seance.id, who), str(target),
                          workshop=workshop, seance=seance, sessions=[seance],
                          counts=await _counts(request, [seance]))


async def delete_workshop(request: Request) -> Response:
    who = await _who(request)
    db = db_of(request)
    workshop = await q.get_workshop(db, int_param(request, "workshop_id"))
    if workshop is None:
        raise HTTPException(404)
    sessions = await q.list_sessions(db, workshop.id)
    retention = await qp.retention(db, workshop.id,
                                   ZoneInfo(request.app.state.settings.timezone))
    return await _confirm(request, qd.delete_workshop(workshop.id, who),
                          str(request.url_for("organiser:home")), workshop=workshop,
                          seance=None, sessions=sessions, retention=retention,
                          counts=await _counts(request, sessions))
