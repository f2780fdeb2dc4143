"""What every view shares: the template environment, locale and CSRF of a request."""

from __future__ import annotations

import secrets
from typing import Any

import jinja2
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response

from facilitation import (
    charts,
    i18n,
    paging,
    paper,
    polls,
    printed,
    proposals,
    richtext,
    security,
    steering,
    voting,
)
from facilitation.exports.blocks import grouped, kept
from facilitation.seances import CHANNEL_LABELS, STEP_LABELS
from facilitation.static import hashed_name
from facilitation.text import clean

FAVICON = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
           "%3Crect width='16' height='16' rx='3' fill='%230b4f8a'/%3E"
           "%3Cpath d='M9 2 4 9h3l-1 5 5-7H8z' fill='%23fff'/%3E%3C/svg%3E")
LANG_COOKIE = "eclair_lang"
BIG_COOKIE = "eclair_big"
MAX_FORM_FIELDS = 100
MAX_FIELD_BYTES = 64 * 1024


def make_environment(templates_dir: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals["STEP_LABELS"] = STEP_LABELS
    env.globals["CHANNEL_LABELS"] = CHANNEL_LABELS
    env.globals["NATIVE_NAMES"] = i18n.NATIVE_NAMES
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    env.globals["KIND_LABELS"] = polls.KIND_LABELS
    # Inline, so a phone's first load makes one request fewer.
    env.globals["FAVICON"] = FAVICON
    env.globals["level_colors"] = charts.level_colors
    env.globals["word_size"] = charts.word_size
    env.globals["wall"] = proposals.wall
    env.globals["walk"] = steering.walk
    env.globals["reveals"] = steering.reveals
    env.globals["GRADES"] = voting.GRADES
    env.globals["METHOD_LABELS"] = voting.METHOD_LABELS
    env.globals["wall_pages"] = proposals.wall_pages
    env.globals["level_indexes"] = charts.level_indexes
    env.globals["segment_widths"] = charts.segment_widths
    env.globals["paginate"] = paging.paginate
    env.globals["paginate_groups"] = paging.paginate_groups
    env.globals["text_lines"] = paging.text_lines
    env.globals["card_ranges"] = paper.card_ranges
    env.globals["rich"] = richtext.html
    env.globals["grouped"] = grouped
    env.globals["keep_groups"] = kept
    env.globals["vote_settings_saved"] = printed.settings_saved
    env.globals["new_key"] = lambda: secrets.token_urlsafe(12)
    return env


def language_of(conn: HTTPConnection, *preferred: str | None) -> str:
    """The request's language: an explicit choice, then the cookie, then the browser's."""
    return i18n.negotiate(
        [*preferred, conn.cookies.get(LANG_COOKIE)], conn.headers.get("accept-language", "")
    )


def translator(conn: HTTPConnection, *preferred: str | None) -> i18n.Translator:
    return i18n.Translator(language_of(conn, *preferred))


def csrf_token(request: HTTPConnection) -> str:
    """The CSRF token for this browser; a new one is set as a cookie by `render` if missing."""
    token = request.cookies.get(security.CSRF_COOKIE) or request.scope.get("eclair.csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.scope["eclair.csrf"] = token
    return str(token)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def path_for(app: Any) -> Any:
    """`url_for` for templates: site-relative paths, so links work behind any host name."""

    root = app.state.settings.static_dir

    def url_for(name: str, **params: Any) -> str:
        if name == "static":  # content-hashed names, cached for a year
            params["path"] = hashed_name(root, params["path"])
        return str(app.url_path_for(name, **params))

    return url_for


def render_string(env: jinja2.Environment, template: str, tr: i18n.Translator,
                  **context: Any) -> str:
    """Render a template (a page or a fragment) in one language, without a request."""
    return env.get_template(template).render(**tr.jinja_callables(), tr=tr, **context)


def render(request: Request, template: str, status_code: int = 200,
           tr: i18n.Translator | None = None, **context: Any) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.templates
    tr = tr or translator(request)
    token = csrf_token(request)
    html = render_string(
        env, template, tr, request=request, csrf=token, url_for=path_for(request.app),
        big=request.cookies.get(BIG_COOKIE) == "1", **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    remember_csrf(request, response)
    response.headers["cache-control"] = "no-store"
    return response


def remember_csrf(request: HTTPConnection, response: Response) -> None:
    if request.cookies.get(security.CSRF_COOKIE) is None and "eclair.csrf" in request.scope:
        response.set_cookie(security.CSRF_COOKIE, request.scope["eclair.csrf"], httponly=True,
                            samesite="lax", secure=request.app.state.settings.secure_cookies)


async def read_form(request: Request, *, raw: tuple[str, ...] = ()) -> FormData:
    """Parse a posted form, refusing it (403) unless it carries this browser's CSRF token;
    every text field is cleaned (see text.py) but those named in `raw` (a password)."""
    try:
        form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS,
                                  max_part_size=MAX_FIELD_BYTES * 4)
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001 - a malformed body is the sender's error
        raise HTTPException(400) from None
    sent = form.get(security.CSRF_FIELD) or request.headers.get(security.CSRF_HEADER)
    if not security.csrf_ok(request.cookies.get(security.CSRF_COOKIE),
                            sent if isinstance(sent, str) else None):
        await form.close()
        raise HTTPException(403, "csrf")
    return FormData([(key, clean(value) if isinstance(value, str) and key not in raw
                      else value) for key, value in form.multi_items()])


def idempotency_key(form: FormData) -> str | None:
    """The key a form carries (see `csrf_field`), if it is a sensible one."""
    key = form.get("idem")
    return key if isinstance(key, str) and 8 <= len(key) <= 64 else None


def field(form: FormData, name: str, limit: int = 1000) -> str:
    """A text field, trimmed; over-long values are refused rather than silently cut."""
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    value = clean(value)
    if len(value) > limit:
        raise FieldTooLong(name, limit)
    return value.strip()


class FieldTooLong(ValueError):
    def __init__(self, name: str, limit: int) -> None:
        super().__init__(name)
        self.name = name
        self.limit = limit
