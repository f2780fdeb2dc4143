"""The authorisation matrix: every route of facilitation/routes.py, HTTP and WebSocket,
knocked on by every actor of tests/actors.py, is allowed or refused as tests/authz_rules.py
declares; a route without a declared rule fails.

Refused: 401, 403, 404, or a redirect to a login page (the organiser's, or the séance's
join page for a participant's page); a WebSocket closed with 1008 before it opens.
Allowed: anything else below 500 (a 422 for an empty form has passed authorisation).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from facilitation.exports import kit
from tests import actors
from tests.actors import CSRF, ROUTES, Actor, Template, World, name_of
from tests.authz_rules import ACTORS, FORM, RULES

# Logging in and out answer with the login page itself: for them it is no refusal.
SESSION_ROUTES = {"organiser:login", "organiser:logout"}


def knocks() -> Iterator[tuple[str, str]]:
    """(route name, method) for every route: each HTTP method but HEAD, "WS" for sockets."""
    for route in ROUTES:
        if isinstance(route, WebSocketRoute):
            yield name_of(route), "WS"
        elif isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield name_of(route), method
        elif isinstance(route, Mount):
            yield name_of(route), "GET"
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return actors.build(tmp_path_factory.mktemp("authz"))


@pytest.fixture
def world(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # Who may print the paper kit is the question here, not the printing (test_kit.py):
    # seconds of WeasyPrint per allowed actor are left out.
    monkeypatch.setattr(kit, "cards_pdf", lambda *args, **kwargs: b"%PDF-1.7 not drawn")
    with World.open(template, tmp_path) as opened:
        yield opened


def test_every_route_has_a_declared_rule() -> None:
    names = [name_of(route) for route in ROUTES]
    undeclared = [name for name in names if name not in RULES]
    assert not undeclared, (
        f"routes without a rule: {undeclared}. Say who may use them in tests/authz_rules.py")
    gone = sorted(set(RULES) - set(names))
    assert not gone, f"rules for routes that no longer exist: {gone}"
    strangers = {name: sorted(rule - set(ACTORS)) for name, rule in RULES.items()
                 if rule - set(ACTORS)}
    assert not strangers, f"rules naming unknown actors: {strangers}"


def outcome(world: World, name: str, method: str, path: str, actor: Actor) -> str:
    """"allowed" or "refused", with what was answered."""
    if method == "WS":
        try:
            with world.connect(actor, path) as socket:
                socket.receive_text()  # what an accepted socket is sent first
        except WebSocketDisconnect as closed:
            assert closed.code == 1008, (name, actor.name, closed.code)
            return "refused (closed 1008)"
        return "allowed (accepted)"
    form = {"csrf": CSRF, **{k: world.fill(v) for k, v in FORM.get(name, {}).items()}}
    if method == "GET":
        response = world.send(actor, method, path)
    elif name.startswith("api:"):
        response = world.send(actor, method, path, json={})
    else:
        response = world.send(actor, method, path, form=form)
    status = response.status_code
    assert status < 500, (name, method, actor.name, status, response.text[:500])
    if status in (401, 403, 404):
        return f"refused ({status})"
    if response.is_redirect and name not in SESSION_ROUTES:
        target = urlsplit(response.headers["location"]).path
        logins = {world.client.app.url_path_for("organiser:login"),
                  world.client.app.url_path_for("participant:join", code=world.ids["code"])}
        if target in logins:
            return f"refused ({status} to {target})"
        return f"allowed ({status} to {target})"
    return f"allowed ({status})"


@pytest.mark.parametrize(("name", "method"), list(knocks()),
                         ids=[f"{name} {method}" for name, method in knocks()])
def test_route_answers_each_actor_as_declared(world: World, name: str, method: str) -> None:
    rule = RULES.get(name)
    assert rule is not None, f"{name} has no rule: declare one in tests/authz_rules.py"
    route = next(route for route in ROUTES if name_of(route) == name)
    # Those who must be refused knock first: what an allowed actor changes (a link
    # rotated, a séance closed) cannot hide a door left open.
    order = [a for a in ACTORS if a not in rule] + [a for a in ACTORS if a in rule]
    seen = {}
    for actor_name in order:
        actor = world.actors[actor_name]
        seen[actor_name] = outcome(world, name, method, world.address(route, actor), actor)
    wrong = {actor: answer for actor, answer in seen.items()
             if answer.startswith("allowed") != (actor in rule)}
    assert not wrong, (f"{name} {method}: declared for {sorted(rule)}, but "
                       + "; ".join(f"{actor} {answer}" for actor, answer in wrong.items()))


def test_a_form_naming_another_seances_participant_changes_nothing(world: World) -> None:
    """The matrix reads answers; an id sent in a form instead of the path is looked up in
    the link's own séance, which only the database can show."""

    def excluded() -> bool:
        row = world.client.portal.call(
            world.client.app.state.db.fetchone,
            "SELECT excluded_at FROM participants WHERE id = ?", (world.ids["participant_id"],))
        return row["excluded_at"] is not None

    form = {"csrf": CSRF, "action": "exclude", "participant": str(world.ids["participant_id"])}
    for name in ("facilitator_elsewhere", "facilitator"):
        actor = world.actors[name]
        path = world.client.app.url_path_for("facilitator:exclude", token=actor.link("*"))
        assert world.send(actor, "POST", str(path), form=form).status_code == 303
        assert excluded() == (name == "facilitator"), name
