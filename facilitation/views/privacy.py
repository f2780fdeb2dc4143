"""The participant's side of privacy: the notice, and deleting what one sent."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import actions, codes
from facilitation.i18n_keys import UserError
from facilitation.retention import DEFAULT_DAYS
from facilitation.store import privacy as qp
from facilitation.store import queries as q
from facilitation.views.common import db_of, memory_of, services
from facilitation.views.participant import joined
from facilitation.web import read_form, render


async def notice(request: Request) -> Response:
    """What is kept, why, for how long, who sees it, how to delete it. Reached from a
    séance (`?s=CODE`), it names its organisers and the day its raw data goes."""
    code = codes.normalize_code(request.query_params.get("s", "")[:12])
    memory = await memory_of(request).by_code(code) if code else None
    workshop = retention = None
    if memory is not None:
        db = db_of(request)
        workshop = await q.get_workshop(db, memory.seance.workshop_id)
        retention = await qp.retention(db, memory.seance.workshop_id,
                                       ZoneInfo(request.app.state.settings.timezone))
    return render(request, "pages/privacy.html", seance=memory.seance if memory else None,
                  workshop=workshop, retention=retention,
                  days=retention.days if retention else DEFAULT_DAYS)


async def delete(request: Request) -> Response:
    """GET: what will be deleted, and a button. POST: delete the participant's answers,
    proposals, votes and first name; refused once the séance is closed."""
    memory, participant = await joined(request)
    seance = memory.seance
    if request.method == "GET":
        return render(request, "pages/participant_delete.html", seance=seance,
                      closed=memory.structure.closed)
    await read_form(request)
    try:
        await actions.delete_contributions(services(request), memory, participant)
    except UserError as error:
        return render(request, "pages/participant_delete.html", status_code=error.status,
                      seance=seance, closed=True, error=error.message)
    target = request.url_for("participant:show", code=seance.code)
    return RedirectResponse(target.include_query_params(deleted=1), 303)
