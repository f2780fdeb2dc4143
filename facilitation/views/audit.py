"""The audit log, for organisers only: every organiser's and facilitator's action, newest
first, of all démarches, one démarche or one séance, 50 at a time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from facilitation.audit import ROLE_LABELS, label, names_a_step
from facilitation.store import audit
from facilitation.store import queries as q
from facilitation.views.common import db_of
from facilitation.views.organiser import require_organiser
from facilitation.web import render


def _id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdecimal() and len(raw) < 12 else None


async def show(request: Request) -> Response:
    require_organiser(request)
    db = db_of(request)
    workshop_id, session_id = _id(request, "workshop"), _id(request, "session")
    found = await audit.entries(db, workshop_id=workshop_id, session_id=session_id,
                                before=_id(request, "before"), limit=audit.PAGE + 1)
    entries, more = found[:audit.PAGE], len(found) > audit.PAGE
    workshop = await q.get_workshop(db, workshop_id) if workshop_id is not None else None
    seance = await q.get_session(db, session_id) if session_id is not None else None
    if seance is not None and workshop is None:
        workshop = await q.get_workshop(db, seance.workshop_id)
    zone = ZoneInfo(request.app.state.settings.timezone)
    older = None
    if more:
        params = {"workshop": workshop_id, "session": session_id, "before": entries[-1].id}
        older = request.url.include_query_params(
            **{k: v for k, v in params.items() if v is not None})
    return render(request, "pages/organiser_audit.html", entries=entries, older=older,
                  workshop=workshop, seance=seance, workshop_id=workshop_id,
                  session_id=session_id, label=label, names_a_step=names_a_step,
                  ROLE_LABELS=ROLE_LABELS,
                  when=lambda at: dt.datetime.fromisoformat(at).astimezone(zone))
