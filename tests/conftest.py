"""Shared fixtures: a real app on a real SQLite file, with the demo plan imported."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from starlette.testclient import TestClient

from facilitation import plans
from facilitation.app import create_app
from facilitation.settings import PACKAGE, Settings
from facilitation.store import queries as q
from tests import stores

DEMO = PACKAGE / "sessions" / "demo.toml"

# Property tests check counting rules, not speed: a busy machine (browsers running beside
# them) must not fail one on hypothesis's 200 ms per-example deadline.
hypothesis_settings.register_profile("eclair", deadline=None)
hypothesis_settings.load_profile("eclair")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def fac(seance: Seance) -> dict:
    """The facilitator's API headers for a séance."""
    return {"authorization": f"Bearer {seance.links['facilitator']}"}


def go(seance: Seance, kind: str) -> None:
    """Move the séance, through the API, to its first step of `kind`."""
    steps = seance.call(q.list_steps, seance.id)
    position = next(s.position for s in steps if s.kind == kind)
    r = seance.client.post(f"/api/sessions/{seance.code}/step", json={"position": position},
                           headers=fac(seance))
    assert r.status_code == 200


@dataclass
class Seance:
    """The demo's first séance as the tests see it."""

    client: TestClient
    id: int
    code: str
    links: dict[str, str]
    questions: list[dict]  # of the poll step: id, kind, choices (ids)
    poll_position: int

    def call(self, fn, *args):
        return self.client.portal.call(fn, self.client.app.state.db, *args)

    def join(self, client: TestClient | None = None, name: str = "", language: str = "fr-FR"):
        client = client or self.client
        page = client.get(f"/j/{self.code}")
        response = client.post(f"/j/{self.code}", data={
            "csrf": csrf_of(page.text), "language": language, "name": name})
        assert response.status_code == 200 and response.url.path == f"/s/{self.code}"
        return response

    def facilitator_post(self, path: str, **data: str):
        page = self.client.get(f"/f/{self.links['facilitator']}")
        return self.client.post(f"/f/{self.links['facilitator']}{path}",
                                data={"csrf": csrf_of(page.text), **data})

    def open(self, index: int = 0):
        return self.facilitator_post(f"/questions/{self.questions[index]['id']}/open")

    def close(self, index: int = 0):
        return self.facilitator_post(f"/questions/{self.questions[index]['id']}/close")

    def answers(self) -> int:
        row = self.client.portal.call(
            self.client.app.state.db.fetchone, "SELECT count(*) AS n FROM answers", ())
        return int(row["n"])

    def participants(self) -> int:
        row = self.client.portal.call(
            self.client.app.state.db.fetchone, "SELECT count(*) AS n FROM participants", ())
        return int(row["n"])


def make_settings(tmp_path: Path, store: str | None = None, **overrides) -> Settings:
    """Settings on the SQLite file in tmp_path, or on a fresh PostgreSQL database."""
    store = store or os.environ.get("ECLAIR_TEST_STORE", "sqlite")
    if store == "postgres" and "database_url" not in overrides:
        overrides["database_url"] = stores.fresh_database()
    # Suggestions by shared words unless a test asks for the model (tests/test_themes.py).
    overrides.setdefault("themes_model", False)
    return Settings(db_path=tmp_path / "eclair.db", screen_interval=0.05, **overrides)


def pytest_sessionfinish(session: pytest.Session) -> None:
    stores.drop_all()


# Every test that takes `store` (the app's fixtures do) runs on each store; browser tests
# on SQLite only: what they look at is drawn the same from either (tests/browser/
# test_seance.py runs a whole séance on PostgreSQL too). ECLAIR_TEST_STORES=sqlite narrows
# a local run.
STORES = tuple(s for s in os.environ.get("ECLAIR_TEST_STORES", "sqlite,postgres").split(",")
               if s)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    chosen = {name.strip() for mark in metafunc.definition.iter_markers("parametrize")
              for name in (mark.args[0].split(",") if isinstance(mark.args[0], str)
                           else mark.args[0])}
    if "store" in metafunc.fixturenames and "store" not in chosen:
        browser = "browser" in Path(str(metafunc.definition.path)).parts
        metafunc.parametrize("store", STORES[:1] if browser else STORES, scope="module")


@pytest.fixture
def app_settings(tmp_path: Path, store: str) -> Settings:
    return make_settings(tmp_path, store)


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def seance(client: TestClient) -> Seance:
    db = client.app.state.db
    plan = plans.parse_plan(DEMO.read_bytes())
    workshop_id = client.portal.call(q.create_workshop, db, plan)
    first = client.portal.call(q.list_sessions, db, workshop_id)[0]
    links = client.portal.call(q.active_links, db, first.id)
    steps = client.portal.call(q.list_steps, db, first.id)
    poll = next(step for step in steps if step.kind == "poll")
    questions = client.portal.call(q.list_questions, db, poll.id)
    return Seance(
        client=client, id=first.id, code=first.code, links=links,
        questions=[{"id": qu.id, "kind": qu.kind, "limit": qu.limit,
                    "choices": [c.id for c in qu.choices]} for qu in questions],
        poll_position=poll.position,
    )


@pytest.fixture
def organiser(client: TestClient) -> TestClient:
    """The client, logged in as an organiser."""
    from facilitation import security

    client.portal.call(q.upsert_organiser, client.app.state.db, "orga",
                       security.hash_password("correct horse battery"))
    page = client.get("/organiser/login")
    response = client.post("/organiser/login", data={
        "csrf": csrf_of(page.text), "username": "orga", "password": "correct horse battery"})
    assert response.url.path == "/organiser"
    return client
