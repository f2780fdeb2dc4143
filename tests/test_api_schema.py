"""Schemathesis against /api/openapi.json, in process: every operation of the JSON API,
fed what its schema allows and what it forbids, answers below 500 and as its schema says
(status codes, content type, body), and refuses a request without its token or with a
made-up one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode
from starlette.applications import Starlette
from starlette.testclient import TestClient

from facilitation import openapi, plans
from facilitation.app import create_app
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.voting import VoteSettings
from tests.conftest import DEMO, make_settings

# Per operation, schema-valid and not: about 10 s. ECLAIR_FUZZ_EXAMPLES=300 digs deeper.
EXAMPLES = int(os.environ.get("ECLAIR_FUZZ_EXAMPLES", "40"))
OPERATIONS = [operation["operationId"] for path in openapi.document("")["paths"].values()
              for operation in path.values()]
# Whether a body is valid also depends on the séance, which one schema cannot say: the kind
# of the question an answer names, the method of the vote, the proposal step's own length
# limit (and spaces are collapsed before a proposal's length counts). The schema gives the
# shape; these two checks would ask it for more.
BEYOND_THE_SCHEMA = {
    "submit_answer": [positive_data_acceptance],
    "submit_vote": [positive_data_acceptance],
    "submit_proposal": [positive_data_acceptance, negative_data_rejection],
}
# The step the séance is on while an operation is tried: where it has something to do.
STAGE = {"submit_proposal": "proposals", "submit_vote": "vote"}


@dataclass(frozen=True)
class ApiWorld:
    app: Starlette
    code: str
    tokens: dict[str, str]  # by security scheme: participant, facilitator


def api_world(directory: Path, stage: str) -> ApiWorld:
    """The demo séance with one participant, on `stage`: the poll with every question
    open, the proposal step, or an open agree/disagree vote on two proposals. The
    database is then opened afresh by the app schemathesis runs (on its own event loop)."""
    app_settings = make_settings(directory)
    with TestClient(create_app(app_settings), base_url="http://testserver") as client:
        db = client.app.state.db
        workshop_id = client.portal.call(q.create_workshop, db,
                                         plans.parse_plan(DEMO.read_bytes()))
        seance = client.portal.call(q.list_sessions, db, workshop_id)[0]
        api = f"/api/sessions/{seance.code}"
        facilitator = client.portal.call(q.active_links, db, seance.id)["facilitator"]
        joined = client.post("/api/sessions/join", json={"code": seance.code})
        assert joined.status_code == 201
        token = joined.json()["token"]
        steps = {step.kind: step for step in client.portal.call(q.list_steps, db, seance.id)}

        def drive(path: str, body: dict[str, Any] | None = None,
                  bearer: str = facilitator) -> None:
            response = client.post(api + path, json=body or {},
                                   headers={"authorization": f"Bearer {bearer}"})
            assert response.status_code in (200, 201), (path, response.text)

        if stage == "poll":
            for question in client.portal.call(q.list_questions, db, steps["poll"].id):
                drive(f"/questions/{question.id}/open")
        else:
            drive("/step", {"position": steps["proposals"].position})
            for text in ("Des ateliers le samedi", "Un ordinateur en prêt"):
                drive("/proposals", {"text": text}, bearer=token)
        if stage == "vote":
            client.portal.call(qv.set_vote_settings, db, seance.id, steps["vote"].id,
                               VoteSettings(method="agree", target="proposals", open=True))
            drive("/step", {"position": steps["vote"].position})
    return ApiWorld(create_app(app_settings), seance.code,
                    {"participant": token, "facilitator": facilitator})


def schema_for(world: ApiWorld, scheme: str) -> Any:
    """The API's schema, as one who holds `scheme`'s token: schemathesis sends it where an
    operation asks for that scheme, and also sends each such request without it and with
    a made-up one, which must be refused."""
    config = SchemathesisConfig.from_dict(
        {"auth": {"openapi": {scheme: {"bearer": world.tokens[scheme]}}}})
    return schemathesis.openapi.from_asgi("/api/openapi.json", world.app, config=config)


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_api_answers_as_its_schema_says(tmp_path: Path, operation_id: str) -> None:
    world = api_world(tmp_path, STAGE.get(operation_id, "poll"))
    strategies = []
    for scheme in world.tokens:
        operation = schema_for(world, scheme).find_operation_by_id(operation_id)
        declared = {name for requirement in operation.definition.raw.get("security", [])
                    for name in requirement}
        if declared and scheme not in declared:
            continue
        # Séance codes are random: a generated one never names the séance, so every
        # request is sent the real one (question ids are small numbers, and generated).
        fixed = {"path_parameters": {"code": world.code}} if "{code}" in operation.path else {}
        strategies += [operation.as_strategy(GenerationMode.POSITIVE, **fixed),
                       operation.as_strategy(GenerationMode.NEGATIVE, **fixed)]
    excluded = BEYOND_THE_SCHEMA.get(operation_id, [])

    @given(case=st.one_of(strategies))
    @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        case.call_and_validate(excluded_checks=excluded)

    check()
