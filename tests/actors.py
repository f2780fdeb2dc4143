"""Two séances of one démarche and everyone who may knock on Éclair's doors: the actors of
the authorisation matrix (tests/test_authz.py) and of the form fuzzing (test_form_fuzz.py).

The world is built once into a database file (`build`); each test opens its own copy
(`World.open`), so what one route's allowed actor changes (a link rotated, a step moved)
never reaches the next route.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.routing import BaseRoute
from starlette.testclient import TestClient

from facilitation import plans, security
from facilitation.app import create_app
from facilitation.settings import Settings
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.voting import VoteSettings
from tests.authz_rules import PATH, QUERY
from tests.conftest import DEMO, csrf_of

# Every actor's browser holds this CSRF cookie and sends it back in each form: the matrix
# asks who may do what, not whether a form came from Éclair (tests/test_roles.py does).
CSRF = "matrix-csrf-token-0123456789"
SMS_SECRET = "gateway-secret-for-tests"
USERNAME, PASSWORD = "orga", "correct horse battery"
LINK_ROLES = ("facilitator", "screen", "helper")
# The app's own routes (routes.py), to be knocked on: read from the app, never copied.
ROUTES: list[BaseRoute] = list(create_app(Settings(db_path=Path("unused.db"))).routes)
# The secret link a route takes, by the first part of its name.
LINK_ROLE = {"facilitator": "facilitator", "screen": "screen", "helper": "helper"}


def name_of(route: BaseRoute) -> str:
    return str(getattr(route, "name", ""))


@dataclass(frozen=True)
class Actor:
    """Someone knocking, with every credential they hold, presented on every request."""

    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    # What they put where a route takes a secret link, by the role the route is for.
    links: dict[str, str] = field(default_factory=dict)
    bearer: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def link(self, role: str) -> str:
        # Without a link of that role, a made-up one: knowing the address is all it takes.
        return self.links.get(role) or self.links.get("*") or "not-a-link-" + self.name


@dataclass(frozen=True)
class Template:
    db_path: Path
    ids: dict[str, int | str]  # séance A's ids, by the name of the path parameter
    actors: dict[str, Actor]


def settings_for(db_path: Path) -> Settings:
    return Settings(db_path=db_path, screen_interval=0.05, sms_secret=SMS_SECRET)


def _browser_cookies(client: TestClient) -> dict[str, str]:
    return {name: value for name, value in client.cookies.items()
            if name != security.CSRF_COOKIE}


def _join(client: TestClient, code: str) -> tuple[dict[str, str], str]:
    """Join séance `code` from a fresh browser: its cookies, and the participant's token."""
    client.cookies.clear()
    page = client.get(f"/j/{code}")
    response = client.post(f"/j/{code}", data={"csrf": csrf_of(page.text),
                                                 "language": "fr-FR", "name": ""})
    assert response.url.path == f"/s/{code}", response.status_code
    cookies = _browser_cookies(client)
    token = next(value for name, value in cookies.items() if name.endswith(code))
    return cookies, token


def _log_in(client: TestClient) -> dict[str, str]:
    client.cookies.clear()
    page = client.get("/organiser/login")
    response = client.post("/organiser/login", data={
        "csrf": csrf_of(page.text), "username": USERNAME, "password": PASSWORD})
    assert response.url.path == "/organiser", response.status_code
    return _browser_cookies(client)


def build(directory: Path) -> Template:
    """Séance A (the demo's first) with a proposal, a theme, a suggestion and a vote whose
    items are set; séance B (the demo's second); a participant in each; A's three links
    revoked once through the organiser's page; an organiser logged in."""
    db_path = directory / "template.db"
    with TestClient(create_app(settings_for(db_path)), base_url="http://testserver") as client:
        db = client.app.state.db

        def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
            return client.portal.call(lambda: fn(db, *args, **kwargs))

        workshop_id = call(q.create_workshop, plans.parse_plan(DEMO.read_bytes()))
        a, b = call(q.list_sessions, workshop_id)[:2]
        steps = {step.kind: step for step in reversed(call(q.list_steps, a.id))}
        questions = call(q.list_questions, steps["poll"].id)
        proposal = call(qp.add_proposal, a.id, steps["proposals"].id,
                        "Des ateliers le samedi matin", "aloud")
        call(qp.add_proposal, a.id, steps["proposals"].id, "Un ordinateur en prêt", "aloud")
        theme = call(qp.create_theme, a.id, "Horaires")
        call(qp.replace_suggestions, a.id, [("Prêt", [proposal])])
        suggestion = call(qp.list_suggestions, a.id)[0][0]
        call(qv.set_vote_settings, a.id, steps["vote"].id,
             VoteSettings(method="agree", target="proposals"))

        call(q.upsert_organiser, USERNAME, security.hash_password(PASSWORD))
        organiser = _log_in(client)
        revoked = call(q.active_links, a.id)
        for role in LINK_ROLES:
            client.cookies.clear()
            client.cookies.update(organiser)
            page = client.get(f"/organiser/workshops/{workshop_id}")
            response = client.post(f"/organiser/sessions/{a.id}/links/{role}",
                                   data={"csrf": csrf_of(page.text)})
            assert response.status_code == 200, response.status_code
        links_a, links_b = call(q.active_links, a.id), call(q.active_links, b.id)
        assert not set(links_a.values()) & set(revoked.values())

        cookies_a, token_a = _join(client, a.code)
        cookies_b, token_b = _join(client, b.code)
        client.cookies.clear()
        person_a = client.portal.call(db.fetchone, "SELECT id FROM participants"
                                      " WHERE session_id = ?", (a.id,))["id"]

    stranger = secrets.token_urlsafe(24)
    actors = [
        Actor("anonymous", links={"*": stranger}),
        Actor("participant", cookies=cookies_a, links={"*": token_a}, bearer=token_a),
        Actor("participant_elsewhere", cookies=cookies_b, links={"*": token_b},
              bearer=token_b),
        Actor("helper", links={"*": links_a["helper"]}, bearer=links_a["helper"]),
        Actor("projector", links={"*": links_a["screen"]}, bearer=links_a["screen"]),
        Actor("facilitator", links={"*": links_a["facilitator"]},
              bearer=links_a["facilitator"]),
        Actor("facilitator_elsewhere", links={"*": links_b["facilitator"]},
              bearer=links_b["facilitator"]),
        Actor("organiser", cookies=organiser, links={"*": stranger}),
        Actor("revoked", links=revoked, bearer=revoked["facilitator"]),
        Actor("sms_gateway", links={"*": stranger}, headers={"x-eclair-secret": SMS_SECRET}),
    ]
    ids: dict[str, int | str] = {
        "code": a.code, "session_id": a.id, "workshop_id": workshop_id,
        "question_id": questions[0].id, "proposal_id": proposal, "theme_id": theme,
        "suggestion_id": suggestion, "step_id": steps["poll"].id,
        "vote_step_id": steps["vote"].id, "participant_id": person_a,
        "username": USERNAME, "password": PASSWORD,
    }
    return Template(db_path, ids, {actor.name: actor for actor in actors})


@dataclass
class World:
    """A running app on a copy of the template's database."""

    client: TestClient
    ids: dict[str, int | str]
    actors: dict[str, Actor]

    @classmethod
    @contextmanager
    def open(cls, template: Template, directory: Path) -> Iterator[World]:
        db_path = directory / "eclair.db"
        shutil.copyfile(template.db_path, db_path)
        app = create_app(settings_for(db_path))
        with TestClient(app, base_url="http://testserver") as client:
            yield cls(client, template.ids, template.actors)

    def fill(self, text: str) -> str:
        """`text` with "{name}" replaced by séance A's id of that name."""
        return text.format(**self.ids)

    def address(self, route: BaseRoute, actor: Actor,
                chosen: dict[str, str] | None = None) -> str:
        """The route's path for `actor`: its own link where the route takes one, `chosen`
        or the rules' fixed values for the others, else séance A's ids; and the route's
        query string."""
        name = name_of(route)
        fixed = {**PATH.get(name, {}), **(chosen or {})}
        params: dict[str, object] = {}
        for param in getattr(route, "param_convertors", {}):
            if param == "token":
                params[param] = actor.link(LINK_ROLE.get(name.split(":")[0], "*"))
            elif param in fixed:
                params[param] = fixed[param]
            else:
                assert param in self.ids, (
                    f"{name}: no value for {{{param}}}: give séance A's in tests/actors.py"
                    " (ids) or a fixed one in tests/authz_rules.py (PATH)")
                params[param] = self.ids[param]
        path = str(self.client.app.url_path_for(name, **params))
        query = self.fill(QUERY.get(name, ""))
        return f"{path}?{query}" if query else path

    def _dress(self, actor: Actor) -> dict[str, str]:
        """Put the actor's cookies (and the CSRF cookie) in the browser; its headers."""
        self.client.cookies.clear()
        self.client.cookies.update({security.CSRF_COOKIE: CSRF, **actor.cookies})
        headers = dict(actor.headers)
        if actor.bearer:
            headers["authorization"] = f"Bearer {actor.bearer}"
        return headers

    def send(self, actor: Actor, method: str, path: str, *,
             form: dict[str, Any] | None = None, json: Any = None,
             files: dict[str, Any] | None = None) -> httpx.Response:
        """One request from `actor`, with all it holds; redirects are returned, not
        followed."""
        headers = self._dress(actor)
        return self.client.request(method, path, data=form, json=json, files=files,
                                   headers=headers, follow_redirects=False)

    def connect(self, actor: Actor, path: str) -> Any:
        """A WebSocket opened by `actor` (a context manager; closed with 1008 when refused)."""
        return self.client.websocket_connect(path, headers=self._dress(actor))
