"""The projector: what the room sees, one thing at a time, huge."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from facilitation import actions, i18n
from facilitation.i18n_keys import UserError
from facilitation.live import topic
from facilitation.steering import MOVES
from facilitation.views.common import broadcaster, memory_for_link, pump, seance_for_link, services
from facilitation.web import read_form, render


async def show(request: Request) -> Response:
    seance, token = await seance_for_link(request, "screen")
    snap = await broadcaster(request).snapshot(seance.id)
    assert snap is not None  # noqa: S101
    language = seance.language if seance.language in i18n.LANGUAGES else i18n.DEFAULT
    return render(request, "pages/screen.html", tr=i18n.Translator(language), snap=snap,
                  seance=seance, token=token,
                  sms_number=request.app.state.settings.sms_number)


async def step(request: Request) -> Response:
    """Next / previous from the projector's keyboard (a presenter clicker): through the
    questions of a poll step, then the steps."""
    memory, _token = await memory_for_link(request, "screen")
    form = await read_form(request)
    move = str(form.get("move", ""))
    if move not in MOVES:
        raise HTTPException(422, "move")
    try:
        await actions.walk(services(request), memory, move)
    except UserError:
        return Response(status_code=409)  # a closed séance stays where it ended
    return Response(status_code=204)


async def ws(websocket: WebSocket) -> None:
    try:
        seance, token = await seance_for_link(websocket, "screen")
    except HTTPException:
        await websocket.close(code=1008)
        return
    b = broadcaster(websocket)

    async def first() -> list[str]:
        snap = await b.snapshot(seance.id)
        assert snap is not None  # noqa: S101
        return [b.screen_fragment(snap)]

    await pump(websocket, b.hub, topic(seance.id, "screen"), first, credential=token)
