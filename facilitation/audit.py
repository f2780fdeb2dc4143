"""The audit log of what organisers and facilitators do, recorded in one place.

Every action of an organiser, a facilitator (their page, their API, the projector's
clicker) is a POST to a named route; the ones that succeeded (a 2xx or 3xx answer) are
written in `audit_log` after the answer: which action (the route's name, with its verb),
who (the organiser's login name; a secret link names nobody), where (démarche, séance) and
on what (a question's text, a step's title, a theme's name, a proposal's number). Never
what a participant wrote. Downloading a séance's raw data is recorded too.

`ACTIONS` declares what each route records; the deletions and the retention period write
their own entry inside their transaction (`SELF_AUDITED`). A test checks that every
organiser, facilitator and projector route is declared in one or the other.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facilitation.i18n_keys import N_
from facilitation.seances import STEP_LABELS
from facilitation.store import Database
from facilitation.store import audit as store

log = logging.getLogger("eclair.audit")
PREFIXES = ("/f/", "/organiser", "/screen/")
API_ACTIONS = ("/step", "/open", "/close")  # the facilitator's API; not people's answers
MAX_BODY = 64 * 1024  # the forms these routes take are small; an upload is not read here
ORGANISER = "eclair.organiser"  # set in the request by app.OrganiserLogins
LOGIN = "organiser_login"  # the session key of views.organiser: a login's token

# Action (route name, with its verb) → what the log says, and what it names: a question,
# the step shown after it, a step, a theme, a proposal, a form field, or the new démarche.
ACTIONS: dict[str, tuple[str, str]] = {
    "facilitator:step": (N_("Moved to a step"), "current_step"),
    "facilitator:walk:next": (N_("Went forward (clicker)"), "current_step"),
    "facilitator:walk:previous": (N_("Went back (clicker)"), "current_step"),
    "facilitator:timer": (N_("Started or stopped the step's timer"), "current_step"),
    "facilitator:headcount": (N_("Entered the headcount"), "form:headcount"),
    "facilitator:exclude": (N_("Excluded participants, or included them again"),
                            "form:action"),
    "facilitator:results": (N_("Changed when the room sees the results"), "question"),
    "facilitator:phones": (N_("Changed whether phones see the results"), "question"),
    "facilitator:words": (N_("Hid or showed a word of the word cloud"), "question"),
    "facilitator:question:open": (N_("Opened a question"), "question"),
    "facilitator:question:close": (N_("Closed a question"), "question"),
    "facilitator:propose": (N_("Typed a proposal said aloud"), ""),
    "facilitator:moderate:hide": (N_("Hid a proposal"), "proposal"),
    "facilitator:moderate:show": (N_("Showed a hidden proposal"), "proposal"),
    "facilitator:moderate:pin": (N_("Pinned a proposal"), "proposal"),
    "facilitator:moderate:unpin": (N_("Unpinned a proposal"), "proposal"),
    "facilitator:moderate:edit": (N_("Corrected a proposal"), "proposal"),
    "facilitator:moderate:merge": (N_("Merged a proposal into another"), "proposal"),
    "facilitator:moderate:unmerge": (N_("Undid a merge"), "proposal"),
    "facilitator:moderate:move": (N_("Moved a proposal on the board"), "proposal"),
    "facilitator:wall": (N_("Changed how the wall of proposals is shown"), ""),
    "facilitator:vote": (N_("Set up the vote"), "current_step"),
    "facilitator:vote_state:open": (N_("Opened the vote"), "current_step"),
    "facilitator:vote_state:close": (N_("Closed the vote"), "current_step"),
    "facilitator:close": (N_("Closed the séance"), ""),
    "facilitator:report_edit": (N_("Edited the report"), ""),
    "facilitator:resolve_card": (N_("Settled a paper card typed twice"), "form:card"),
    "facilitator:themes": (N_("Created a theme"), "form:name"),
    "facilitator:theme:rename": (N_("Renamed a theme"), "theme"),
    "facilitator:theme:up": (N_("Moved a theme up"), "theme"),
    "facilitator:theme:down": (N_("Moved a theme down"), "theme"),
    "facilitator:theme:delete": (N_("Deleted a theme"), "theme"),
    "facilitator:suggest": (N_("Asked for suggested themes"), ""),
    "facilitator:suggestion:accept": (N_("Accepted a suggested theme"), "form:name"),
    "facilitator:suggestion:reject": (N_("Rejected a suggested theme"), ""),
    "facilitator:report_download:raw": (N_("Downloaded the raw data"), "fmt"),
    "screen:step": (N_("Moved to a step from the projector"), "current_step"),
    "api:go_to_step": (N_("Moved to a step (API)"), "current_step"),
    "api:open_question": (N_("Opened a question (API)"), "question"),
    "api:close_question": (N_("Closed a question (API)"), "question"),
    "organiser:login": (N_("Logged in"), ""),
    "organiser:logout": (N_("Logged out"), ""),
    "organiser:create_workshop": (N_("Created a démarche"), "workshop"),
    "organiser:import": (N_("Imported a plan"), "workshop"),
    "organiser:synthesis_decide:confirm": (N_("Confirmed a cross-cutting element"),
                                           "form:title"),
    "organiser:synthesis_decide:reject": (N_("Rejected a cross-cutting element"), ""),
    "organiser:synthesis_decide:undo": (N_("Undid a decision on a cross-cutting element"),
                                        ""),
    "organiser:create_session": (N_("Created a séance"), "form:title"),
    "organiser:add_question": (N_("Added a question"), "form:text"),
    "organiser:editor_add_question": (N_("Added a question"), "form:text"),
    "organiser:edit_details": (N_("Changed the séance's title, date, time or place"), ""),
    "organiser:edit_tables": (N_("Changed the tables"), ""),
    "organiser:add_step": (N_("Added a step"), "form:title"),
    "organiser:edit_step": (N_("Changed a step"), "step"),
    "organiser:step_action:up": (N_("Moved a step up"), "step"),
    "organiser:step_action:down": (N_("Moved a step down"), "step"),
    "organiser:step_action:delete": (N_("Deleted a step"), ""),
    "organiser:edit_question": (N_("Changed a question"), "question"),
    "organiser:question_action:up": (N_("Moved a question up"), "question"),
    "organiser:question_action:down": (N_("Moved a question down"), "question"),
    "organiser:question_action:duplicate": (N_("Duplicated a question"), "question"),
    "organiser:question_action:delete": (N_("Deleted a question"), ""),
    "organiser:reopen": (N_("Reopened the séance"), ""),
    "organiser:report_edit": (N_("Edited the report"), ""),
    "organiser:report_download:raw": (N_("Downloaded the raw data"), "fmt"),
    "organiser:consensus": (N_("Changed the consensus rule"), ""),
    "organiser:rotate_link:facilitator": (N_("Revoked and replaced the facilitator's link"),
                                          ""),
    "organiser:rotate_link:screen": (N_("Revoked and replaced the projector's link"), ""),
    "organiser:rotate_link:helper": (N_("Revoked and replaced the helpers' link"), ""),
}
# Written inside their own transaction, with what they deleted or set.
SELF_AUDITED: dict[str, str] = {
    "organiser:delete_session": N_("Deleted the séance"),
    "organiser:delete_workshop": N_("Deleted the démarche"),
    "organiser:retention": N_("Set the retention period (days)"),
    "system:purge": N_("Purged the raw data (rows deleted)"),
}
# Routes of those roles that change nothing (pages, downloads of reports and kits).
READ_ONLY = ("facilitator:show", "facilitator:report", "facilitator:kit",
             "facilitator:vote_cards", "facilitator:cards", "facilitator:report_download",
             "screen:show", "organiser:home", "organiser:workshop", "organiser:synthesis",
             "organiser:synthesis_download", "organiser:editor", "organiser:report",
             "organiser:kit", "organiser:vote_cards", "organiser:report_download",
             "organiser:audit")
VERBS = {"facilitator:walk": "move", "organiser:synthesis_decide": "action"}
RAW_FORMATS = ("json", "zip")
ROLES = {"facilitator": "facilitator", "api": "facilitator", "screen": "projector",
         "organiser": "organiser"}
ROLE_LABELS = {"facilitator": N_("Facilitation (secret link)"),
               "projector": N_("Projector (secret link)"),
               "system": N_("Éclair (automatic purge)")}
CREATED = re.compile(r"/organiser/workshops/(\d+)(?:#seance-(\d+))?$")


def label(action: str) -> str:
    """What the log says of an action (a msgid)."""
    if action in SELF_AUDITED:
        return SELF_AUDITED[action]
    return ACTIONS[action][0] if action in ACTIONS else action


def names_a_step(action: str) -> bool:
    """Whether the detail of this action is a step's name (translated when shown)."""
    return ACTIONS.get(action, ("", ""))[1] in ("current_step", "step")


def action_key(name: str, params: Mapping[str, Any], form: Mapping[str, str],
               method: str) -> str | None:
    """The action a successful request did, with its verb; None if it records nothing."""
    if method == "GET":
        if name.endswith(":report_download") and params.get("fmt") in RAW_FORMATS:
            return f"{name}:raw"
        return None
    verb = params.get("action") or params.get("role") or form.get(VERBS.get(name, ""), "")
    key = f"{name}:{verb}" if verb else name
    return key if key in ACTIONS else None


class AuditMiddleware:
    """Records each organiser's and facilitator's action that succeeded, once answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _watched(scope["path"]):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        answer: dict[str, Any] = {"status": 0, "location": ""}
        organiser_before = _organiser(scope)  # logging out forgets who it was

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < MAX_BODY:
                body.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for key, value in message.get("headers", ()):
                    if key == b"location":
                        answer["location"] = value.decode("latin-1")
            await send(message)

        await self.app(scope, receiving, sending)
        route = scope.get("route")
        name = getattr(route, "name", None)
        if not name or not 200 <= int(answer["status"]) < 400:
            return
        try:
            await _record(scope, str(name), bytes(body), str(answer["location"]),
                          organiser_before)
        except Exception:
            log.exception("audit: %s was done but could not be recorded", name)


def _watched(path: str) -> bool:
    """Whether a request may be an organiser's or a facilitator's action (cheap: every
    answer of a room goes through here)."""
    return path.startswith(PREFIXES) or (path.startswith("/api/sessions/")
                                         and path.endswith(API_ACTIONS))


def _organiser(scope: Scope) -> int | None:
    """The organiser app.OrganiserLogins found for this request, from its login."""
    found = scope.get(ORGANISER)
    return found if isinstance(found, int) else None


async def _organiser_after(scope: Scope) -> int | None:
    """Who the organiser is once the request was answered: a login just made is named by
    the session now, not yet by the request."""
    found = _organiser(scope)
    token = scope.get("session", {}).get(LOGIN) if "session" in scope else None
    if found is None and isinstance(token, str) and len(token) <= 64:
        from facilitation import security
        from facilitation.store import organisers

        found = await organisers.organiser_of_session(scope["app"].state.db,
                                                      security.hash_token(token))
    return found


def _form(scope: Scope, body: bytes) -> dict[str, str]:
    headers = dict(scope.get("headers", ()))
    if not headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), max_num_fields=200)
    return {key: values[0] for key, values in parsed.items() if values}


async def _record(scope: Scope, name: str, body: bytes, location: str,
                  organiser_before: int | None) -> None:
    params: Mapping[str, Any] = scope.get("path_params", {})
    form = _form(scope, body)
    key = action_key(name, params, form, scope["method"])
    if key is None:
        return
    db: Database = scope["app"].state.db
    role = ROLES[name.split(":", 1)[0]]
    who = ""
    session_id: int | None = None
    workshop_id: int | None = None
    if role == "organiser":
        organiser = await _organiser_after(scope) or organiser_before
        if organiser is None:
            return  # not logged in: the request was sent to the login page
        who = await store.organiser_name(db, organiser)
        workshop_id = _int(params.get("workshop_id"))
        session_id = _int(params.get("session_id"))
        created = CREATED.search(location)
        if created and name in ("organiser:create_workshop", "organiser:import",
                                "organiser:create_session"):
            workshop_id, session_id = int(created.group(1)), _int(created.group(2))
    elif "token" in params:
        link = await db.fetchone("SELECT session_id FROM links WHERE token = ?",
                                 (str(params["token"]),))
        session_id = int(link["session_id"]) if link else None
    elif "code" in params:
        row = await db.fetchone("SELECT id FROM sessions WHERE code = ?", (str(params["code"]),))
        session_id = int(row["id"]) if row else None
    detail = await _detail(db, ACTIONS[key][1], params, form, session_id, workshop_id)
    await store.record(db, role, who, key, detail, workshop_id=workshop_id,
                       session_id=session_id)


def _int(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdecimal() and len(text) < 12 else None


async def _detail(db: Database, kind: str, params: Mapping[str, Any], form: Mapping[str, str],
                  session_id: int | None, workshop_id: int | None) -> str:
    """What the action acted on, in the words of the séance's plan (never a participant's)."""
    if kind.startswith("form:"):
        return " ".join(form.get(kind[5:], "").split())[:120]
    if kind == "fmt":
        return str(params.get("fmt", "")).upper()
    if kind == "proposal":
        return f"#{_int(params.get('proposal_id')) or ''}"
    if kind == "workshop":
        row = await db.fetchone("SELECT title FROM workshops WHERE id = ?", (workshop_id,))
    elif kind == "current_step":
        row = await db.fetchone(
            "SELECT coalesce(nullif(t.title, ''), t.kind) FROM sessions s JOIN steps t"
            " ON t.session_id = s.id AND t.position = s.current_step WHERE s.id = ?",
            (session_id,))
    elif kind in ONE_OF_THE_SEANCE:
        sql, param = ONE_OF_THE_SEANCE[kind]
        row = await db.fetchone(sql, (_int(params.get(param)), session_id))
        if row is None:  # deleted by the action itself: its number says which it was
            return f"#{_int(params.get(param)) or ''}"
    else:
        return ""
    if row is None:
        return ""
    text = str(row[0])
    return STEP_LABELS.get(text, text) if kind in ("step", "current_step") else text


ONE_OF_THE_SEANCE = {
    "question": ("SELECT text FROM questions WHERE id = ? AND session_id = ?", "question_id"),
    "theme": ("SELECT name FROM themes WHERE id = ? AND session_id = ?", "theme_id"),
    "step": ("SELECT coalesce(nullif(title, ''), kind) FROM steps WHERE id = ?"
             " AND session_id = ?", "step_id"),
}
