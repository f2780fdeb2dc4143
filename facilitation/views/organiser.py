"""The organiser's console: démarches, séances, plan import, secret links."""

from __future__ import annotations

import asyncio
import math
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import plans, printed, ready_plans, security
from facilitation.i18n_keys import N_
from facilitation.plans import PlanError, SessionPlan, StepPlan, WorkshopPlan
from facilitation.polls import Question
from facilitation.seances import Step
from facilitation.store import organisers as logins
from facilitation.store import privacy
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.store.editor import closed_sessions
from facilitation.views.common import db_of, int_param
from facilitation.voting import VoteSettings
from facilitation.web import FieldTooLong, field, read_form, render

# The session cookie names a login held on the server (store/organisers.py); the
# OrganiserLogins middleware puts the organiser it opened in the request's scope.
SESSION_KEY = "organiser_login"
ORGANISER = "eclair.organiser"
DEFAULT_STEPS = ("welcome", "poll", "proposals", "clustering", "vote", "synthesis", "closing")


class LoginRequired(Exception):
    pass


def require_organiser(request: Request) -> int:
    organiser = request.scope.get(ORGANISER)
    if not isinstance(organiser, int):
        raise LoginRequired
    return organiser


def login_redirect(request: Request, exc: Exception) -> Response:
    return RedirectResponse(request.url_for("organiser:login"), 303)


async def login(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "pages/organiser_login.html", username="")
    form = await read_form(request, raw=("password",))
    username = str(form.get("username", ""))[:100].strip()
    password = str(form.get("password", ""))[:200]
    throttle: security.LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    wait = throttle.address_wait(address)
    if wait:
        return _refused(request, username, wait, N_(
            "Too many failed attempts from this connection. Try again in %(minutes)s min."),
            minutes=max(1, math.ceil(wait / 60)))
    attempt = throttle.attempt(address, username)
    db = db_of(request)
    found = await q.get_organiser_hash(db, username)
    # An unknown name is checked against a dummy hash: it answers in the same time.
    matched = await throttle.check(password, found[1] if found else None)
    if found is None or not matched:
        pause = throttle.name_pause(username)
        if pause:  # guessed at from anywhere: slow wrong passwords, never the right one
            await asyncio.sleep(pause)
            return _refused(request, username, pause, N_(
                "Wrong name or password. Many attempts failed with this name: wait "
                "%(seconds)s s before trying again."), seconds=math.ceil(pause))
        return render(request, "pages/organiser_login.html", status_code=401, username=username,
                      error=N_("Wrong name or password."))
    throttle.succeeded(address, username, attempt)
    organiser_id, stored = found
    if security.needs_rehash(stored):
        await logins.set_password_hash(db, organiser_id, await throttle.hash(password))
    token = security.new_token()
    await logins.open_session(db, organiser_id, security.hash_token(token))
    request.session.clear()
    request.session[SESSION_KEY] = token
    return RedirectResponse(request.url_for("organiser:home"), 303)


def _refused(request: Request, username: str, wait: float, error: str,
             **params: object) -> Response:
    response = render(request, "pages/organiser_login.html", status_code=429,
                      username=username, error=error, error_params=params)
    response.headers["retry-after"] = str(math.ceil(wait))
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    token = request.session.get(SESSION_KEY)
    if isinstance(token, str):
        await logins.end_session(db_of(request), security.hash_token(token))
    request.session.clear()
    return RedirectResponse(request.url_for("organiser:login"), 303)


async def home(request: Request) -> Response:
    require_organiser(request)
    return await _home(request)


async def _home(request: Request, status_code: int = 200, **context: Any) -> Response:
    workshops = await q.list_workshops(db_of(request))
    plan_files = sorted(p.name for p in request.app.state.settings.sessions_dir.glob("*.toml"))
    return render(request, "pages/organiser_home.html", status_code=status_code,
                  workshops=workshops, plan_files=plan_files, **context)


async def create_workshop(request: Request) -> Response:
    require_organiser(request)
    form = await read_form(request)
    try:
        title = field(form, "title", plans.MAX_TITLE)
        organisation = field(form, "organisation", plans.MAX_TITLE)
        objectives = field(form, "objectives", plans.MAX_LONG_TEXT)
    except FieldTooLong as error:
        return await _home(request, 422, error=N_("“%(field)s” is too long (%(limit)s characters "
                                                  "at most)."),
                           error_params={"field": error.name, "limit": error.limit})
    if not title:
        return await _home(request, 422, error=N_("Give the démarche a title."))
    plan = WorkshopPlan(title=title, organisation=organisation, objectives=objectives)
    workshop_id = await q.create_workshop(db_of(request), plan)
    return RedirectResponse(request.url_for("organiser:workshop", workshop_id=workshop_id), 303)


async def import_plan(request: Request) -> Response:
    require_organiser(request)
    form = await read_form(request)
    upload = form.get("plan")
    source: bytes | str = ""
    bundled = str(form.get("bundled", ""))
    if isinstance(upload, UploadFile) and upload.filename:
        source = await upload.read(plans.MAX_PLAN_BYTES + 1)
    elif bundled:
        names = {p.name: p for p in request.app.state.settings.sessions_dir.glob("*.toml")}
        if bundled not in names:
            return await _home(request, 422, error=N_("Choose a plan file to import."))
        source = names[bundled].read_bytes()
    await form.close()  # uploaded files are spooled to temporary files
    if not source:
        return await _home(request, 422, error=N_("Choose a plan file to import."))
    try:
        plan = plans.parse_plan(source)
    except PlanError as error:
        return await _home(request, 422, error=error.message, error_params=error.params)
    workshop_id = await q.create_workshop(db_of(request), plan)
    return RedirectResponse(request.url_for("organiser:workshop", workshop_id=workshop_id), 303)


async def workshop(request: Request) -> Response:
    require_organiser(request)
    return await _workshop(request, int_param(request, "workshop_id"))


async def _workshop(request: Request, workshop_id: int, status_code: int = 200,
                    **context: Any) -> Response:
    db = db_of(request)
    found = await q.get_workshop(db, workshop_id)
    if found is None:
        raise HTTPException(404)
    sessions = await q.list_sessions(db, workshop_id)
    links = {s.id: await q.active_links(db, s.id) for s in sessions}
    polls: dict[int, list[tuple[Step, tuple[Question, ...]]]] = {}
    steps_of = {s.id: await q.list_steps(db, s.id) for s in sessions}
    for s in sessions:
        polls[s.id] = [(step, await q.list_questions(db, step.id))
                       for step in steps_of[s.id] if step.kind == "poll"]
    rules = {s.id: await qv.get_rule(db, s.id) for s in sessions}
    # Votes whose items are known (a séance voting on what an earlier one carried over):
    # their cards can be printed before the séance.
    printable = {step.id for s in sessions for step in steps_of[s.id]
                 if printed.settings_saved(step) and await qv.vote_items(
                     db, s.id, VoteSettings.from_json(step.settings))}
    ready = ready_plans.load(request.app.state.settings.sessions_dir)
    retention = await privacy.retention(db, workshop_id,
                                        ZoneInfo(request.app.state.settings.timezone))
    return render(request, "pages/organiser_workshop.html", status_code=status_code,
                  retention=retention,
                  workshop=found, sessions=sessions, links=links, polls=polls, rules=rules,
                  ready_plans=ready, typed=context.pop("typed", {}), steps_of=steps_of,
                  printable=printable,
                  closed=await closed_sessions(db, workshop_id),
                  public_url=request.app.state.settings.public_url, **context)


async def workshop_page(request: Request, workshop_id: int, status_code: int = 200,
                        **context: Any) -> Response:
    """The démarche's page, shown again with a refusal (for the other organiser views)."""
    return await _workshop(request, workshop_id, status_code, **context)


async def create_session(request: Request) -> Response:
    require_organiser(request)
    workshop_id = int_param(request, "workshop_id")
    if await q.get_workshop(db_of(request), workshop_id) is None:
        raise HTTPException(404)
    form = await read_form(request)
    typed = {k: v for k, v in form.items() if isinstance(v, str) and k not in ("csrf", "idem")}
    try:
        title = field(form, "title", plans.MAX_TITLE)
        place = field(form, "place", plans.MAX_TITLE)
        objectives = field(form, "objectives", plans.MAX_LONG_TEXT)
        date = plans.check_date(field(form, "date", 20))
        time = plans.check_time(field(form, "time", 10))
    except FieldTooLong as error:
        return await _workshop(request, workshop_id, 422, typed=typed,
                               error=N_("“%(field)s” is too long (%(limit)s characters at most)."),
                               error_params={"field": error.name, "limit": error.limit})
    except PlanError as error:
        return await _workshop(request, workshop_id, 422, error=error.message,
                               error_params=error.params, typed=typed)
    language = str(form.get("language", "fr-FR"))
    if not title:
        return await _workshop(request, workshop_id, 422, error=N_("Give the séance a title."),
                               typed=typed)
    if language not in plans.LANGUAGES:
        language = "fr-FR"
    chosen = str(form.get("plan", ""))
    ready = {p.key: p.steps for p in ready_plans.load(request.app.state.settings.sessions_dir)}
    if chosen == ready_plans.EMPTY:
        steps = ready_plans.empty_steps()
    elif chosen in ready:
        steps = ready[chosen]
    else:  # no choice sent (an old form): the usual déroulé
        steps = tuple(StepPlan(kind, "") for kind in DEFAULT_STEPS)
    plan = SessionPlan(title=title, date=date, time=time, place=place, objectives=objectives,
                       language=language, steps=steps)
    session_id = await q.create_session(db_of(request), workshop_id, plan)
    target = request.url_for("organiser:workshop", workshop_id=workshop_id)
    return RedirectResponse(f"{target}#seance-{session_id}", 303)


async def rotate_link(request: Request) -> Response:
    require_organiser(request)
    session_id = int_param(request, "session_id")
    role = str(request.path_params["role"])
    seance = await q.get_session(db_of(request), session_id)
    if seance is None or role not in q.ROLES:
        raise HTTPException(404)
    await read_form(request)
    old = (await q.active_links(db_of(request), session_id)).get(role)
    await q.rotate_link(db_of(request), session_id, role)
    if old:
        request.app.state.hub.revoke(old)  # its open pages stop receiving, at once
    target = request.url_for("organiser:workshop", workshop_id=seance.workshop_id)
    return RedirectResponse(str(target) + f"#seance-{session_id}", 303)
