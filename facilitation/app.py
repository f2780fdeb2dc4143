"""create_app(settings): routes, middleware, lifespan; nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import re
import secrets
import zoneinfo
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from facilitation import audit, encoder, i18n, purge, security, store, timer
from facilitation.actions import Services
from facilitation.broadcast import Broadcaster
from facilitation.embedder import Embedder
from facilitation.i18n_keys import N_
from facilitation.limits import Limits, RateLimited
from facilitation.live import Hub
from facilitation.live_redis import Consistent, RedisHub
from facilitation.memory import Erased, Memory
from facilitation.pressure import Shedder
from facilitation.routes import routes
from facilitation.settings import Settings
from facilitation.store import organisers as organiser_logins
from facilitation.store import queries as q
from facilitation.store.crowd import purge_idempotency
from facilitation.store.database import Overloaded, Unavailable
from facilitation.views import api, organiser, participant
from facilitation.web import make_environment, path_for, render

log = logging.getLogger("eclair")


class NoAddresses(logging.Filter):
    """Drops the server's own per-connection lines: uvicorn writes every WebSocket it
    accepts with the client's address and the path, a secret in it ("127.0.0.1:57868 -
    "WebSocket /screen/<secret>/ws" [accepted]"), and two lines more per connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not (message.startswith('%s - "WebSocket ')
                    or message in ("connection open", "connection closed"))


def quiet_server_logs() -> None:
    server = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, NoAddresses) for f in server.filters):
        server.addFilter(NoAddresses())
MAX_BODY = 256 * 1024
RETRY_AFTER = 1  # seconds
BACK = re.compile(r"^(/[sjh]/[\w-]{1,64})(/|$)")


class LazySessionMiddleware:
    """SessionMiddleware, built once the secret key is read from the database at start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inner: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if self.inner is None:
            key = scope["app"].state.secret_key
            self.inner = SessionMiddleware(
                self.app, secret_key=key, session_cookie="eclair_organiser",
                max_age=12 * 3600, same_site="lax",
                https_only=scope["app"].state.settings.secure_cookies,
            )
        await self.inner(scope, receive, send)


class OrganiserLogins:
    """Finds the organiser of a request from the login its session cookie names, on the
    server: a login that ended (logout, expiry, new password) opens nothing, even with a
    validly signed cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session")
        # Static files need no organiser (and are asked for often).
        wanted = session and not scope["path"].startswith("/static/")
        token = session.get(organiser.SESSION_KEY) if session and wanted else None
        if session is not None and isinstance(token, str) and len(token) <= 64:
            found = await organiser_logins.organiser_of_session(
                scope["app"].state.db, security.hash_token(token))
            if found is None:
                session.pop(organiser.SESSION_KEY)  # the browser forgets it too
            else:
                scope[organiser.ORGANISER] = found
        await self.app(scope, receive, send)


DOWN = N_("Éclair cannot save anything for a moment.")


def busy_response(request: Request, limited: RateLimited | None = None, *,
                  down: bool = False) -> Response:
    """The fast answer of a full server (503), of a database out of reach (503, `down`),
    or of a client going too fast (429): try again after Retry-After, with the same key."""
    path = request.url.path
    status = 429 if limited else 503
    wait = limited.retry_after if limited else RETRY_AFTER
    if path.startswith("/api/"):
        response: Response = api.error_response(request, api.ApiError(
            429, "too_many_requests", limited.message, **limited.params) if limited else
            api.ApiError(503, "unavailable", N_("Éclair cannot save anything for a moment. "
                                                "Nothing was recorded: send it again in a "
                                                "few seconds.")) if down else
            api.ApiError(503, "busy", N_("Many people are sending at the same time. Send it "
                                         "again in a moment.")))
    elif request.headers.get("hx-request") == "true":
        response = render(request, "partials/busy.html", status_code=status,
                          reason=limited.reason if limited else DOWN if down else None)
    else:
        # Back to the page the form was on (the browser's Back keeps what was typed).
        page = BACK.match(path)
        response = render(request, "pages/error.html", status_code=status, status=status,
                          back=page.group(1) if page else None, error=limited, down=down)
    response.headers["retry-after"] = str(wait)
    response.headers["cache-control"] = "no-store"
    return response


async def busy(scope: Scope, receive: Receive, send: Send) -> None:
    await busy_response(Request(scope, receive))(scope, receive, send)


async def overloaded(request: Request, exc: Exception) -> Response:
    """The writer's queue is full: the same fast refusal as a full server."""
    return busy_response(request)


async def unavailable(request: Request, exc: Exception) -> Response:
    """The database is out of reach: nothing of this request was kept; a 503 that says so,
    and the store connects again by itself."""
    log.warning("database unavailable during %s %s", request.method, route_of(request))
    return busy_response(request, down=True)


def route_of(request: Request) -> str:
    """The request's path with its parameters named, not given: "/f/{token}/report". A
    secret in an address never reaches a log."""
    path = request.url.path
    for name, value in sorted(request.path_params.items(), key=lambda kv: -len(str(kv[1]))):
        if str(value):
            path = path.replace(str(value), "{" + name + "}")
    return path


async def gone(request: Request, exc: Exception) -> Response:
    """The client hung up before its request was read: one short line, no traceback (an
    overloaded room can have thousands)."""
    log.info("client went away during %s %s", request.method, route_of(request))
    return Response(status_code=400)


async def too_fast(request: Request, exc: Exception) -> Response:
    """A rate limit no view answered itself (they do when they can keep what was typed)."""
    assert isinstance(exc, RateLimited)  # noqa: S101
    return busy_response(request, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = exc.headers if isinstance(exc, HTTPException) and exc.headers else {}
    if request.url.path.startswith("/api/") or request.url.path == "/healthz":
        return api.not_found_json(request, exc)
    if status >= 500:
        log.error("error on %s %s", request.method, route_of(request), exc_info=exc)
    response = render(request, "pages/error.html", status_code=status, status=status)
    response.headers.update(headers)  # Allow, on a 405
    return response


def announce_setup(settings: Settings) -> None:
    """Say at start which store and which hub this process uses: a misspelt variable would
    otherwise fall back to a local SQLite file and a hub of its own, silently."""
    if not log.handlers and not logging.getLogger().handlers:  # served, not under a test
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    if settings.database_url:
        where = settings.database_url.rsplit("@", 1)[-1].split("?", 1)[0]
        log.info("store: PostgreSQL at %s", where)
        if not settings.phone_key:
            log.warning("the key of SMS numbers' hashes is in %s: every host sharing this "
                        "database needs the same one (set ECLAIR_PHONE_KEY)",
                        settings.phone_key_path())
    else:
        log.info("store: the SQLite file %s", settings.db_path)
    if settings.redis_url:
        log.info("live events: through Redis at %s",
                 settings.redis_url.rsplit("@", 1)[-1].split("?", 1)[0])
    else:
        log.info("live events: in this process only")


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = store.connect(settings)
        await db.open()
        app.state.db = db
        app.state.secret_key = settings.secret_key or await q.set_meta_if_missing(
            db, "secret_key", secrets.token_urlsafe(32)
        )
        app.state.phone_key = settings.load_phone_key()
        announce_setup(settings)
        memory = Memory(db)
        app.state.broadcaster = Broadcaster(db, memory, app.state.hub, app.state.templates,
                                            settings, path_for(app))
        # The sentence encoder is loaded on the first proposal, not at start.
        embedder = Embedder(db, encoder.shared() if settings.themes_model else None)
        if not settings.themes_model:
            log.info("suggested themes by shared words only: ECLAIR_THEMES_MODEL=0")
        embedder.start()
        app.state.services = Services(db, memory, app.state.broadcaster, app.state.limits,
                                      embedder)
        # A write that does not say what it changed may have changed any séance.
        db.after_unannounced = app.state.services.relay.invalidate
        await app.state.hub.start()
        await db.write(purge_idempotency(
            (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat(timespec="seconds")))
        services: Services = app.state.services
        daily = asyncio.create_task(purge.daily(
            db, zoneinfo.ZoneInfo(settings.timezone), settings.purge_hours,
            lambda done: services.announce(Erased(done.session_id)))
        ) if settings.purge_hours > 0 else None
        try:
            yield
        finally:
            if daily is not None:
                daily.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await daily
            await app.state.broadcaster.close()
            await app.state.hub.close()
            await embedder.close()
            await db.close()

    app = Starlette(
        routes=routes(settings),
        middleware=[
            Middleware(security.SecurityHeadersMiddleware, hsts=settings.secure_cookies),
            Middleware(Shedder, max_in_flight=settings.max_in_flight, refuse=busy),
            Middleware(Consistent),
            Middleware(security.BodyLimitMiddleware, limit=MAX_BODY),
            Middleware(GZipMiddleware, minimum_size=500),
            Middleware(LazySessionMiddleware),
            Middleware(OrganiserLogins),
            Middleware(audit.AuditMiddleware),
        ],
        exception_handlers={
            HTTPException: http_error,
            ClientDisconnect: gone,
            Exception: http_error,
            api.ApiError: api.api_error_handler,
            Overloaded: overloaded,
            Unavailable: unavailable,
            RateLimited: too_fast,
            organiser.LoginRequired: organiser.login_redirect,
            participant.NotJoined: participant.not_joined,
        },
        lifespan=lifespan,
    )
    quiet_server_logs()
    app.state.settings = settings
    for language in i18n.LANGUAGES:  # a missing catalogue stops the start, not a first page
        i18n.translations(language)
    app.state.templates = make_environment(str(settings.templates_dir))
    # Timers end at a time of day in the room's zone ("until 19:45").
    app.state.templates.globals["countdown"] = functools.partial(
        timer.countdown, zone=zoneinfo.ZoneInfo(settings.timezone))
    app.state.hub = RedisHub(settings.redis_url, settings.send_queue,
                             prefix=settings.redis_prefix) if settings.redis_url \
        else Hub(settings.send_queue)
    app.state.login_throttle = security.LoginThrottle()
    # In memory only; the login (organiser.py) may ask it about an address too.
    app.state.limits = Limits(settings)
    return app


def from_env() -> Starlette:
    """The app of the settings in the environment: what each worker process builds
    (`eclair --workers N`)."""
    return create_app(Settings.from_env())
