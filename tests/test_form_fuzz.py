"""Hypothesis posts to every form: each POST route that takes a form, sent by the actor it
is for (tests/authz_rules.py) with a valid CSRF token, gets generated fields (control and
bidi characters, huge strings, numbers out of range and in other scripts, fields missing,
repeated or unknown) and never answers 5xx, nor shows a stack trace."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from facilitation.exports import kit
from facilitation.i18n import LANGUAGES
from facilitation.plans import STEP_KINDS
from facilitation.polls import KINDS, RESULTS_MODES
from facilitation.report import SECTIONS
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.voting import METHODS, VoteSettings
from tests import actors
from tests.actors import CSRF, ROUTES, Template, World, name_of
from tests.authz_rules import EVERYONE, RULES

# Per form: the fifty forms in well under a minute. ECLAIR_FUZZ_EXAMPLES=200 digs deeper.
EXAMPLES = int(os.environ.get("ECLAIR_FUZZ_EXAMPLES", "20"))

ANSWER = ["question", "choice", "value", "text", "item-{item}", "rank-{choice}", "idem"]
CARD = ["by", "round", "card", "correction", "beyond", "idem"]
QUESTION = ["step", "kind", "text", "choices", "levels", "max", "scale", "low_label",
            "high_label", "results_closed", "no_change"]
REPORT = ["move", "intro", "conclusion", "discussion", "theme-{theme}", "step-{step}",
          *(f"hide-{section}" for section in SECTIONS)]
# The fields each form's view reads; "{name}" is one of séance A's ids of that kind.
# Every POST route outside the JSON API takes a form and must be listed here.
FORMS: dict[str, list[str]] = {
    "participant:home": ["code"],
    "participant:join": ["language", "name", "subgroup"],
    "participant:answer": ANSWER,
    "participant:propose": ["text", "idem"],
    "participant:vote": ["item", "value", "dots-{proposal}", "grade-{proposal}", "idem"],
    "participant:delete": [],
    "facilitator:step": ["move", "position", "from"],
    "facilitator:walk": ["move", "question"],
    "facilitator:timer": ["minutes", "stop"],
    "facilitator:headcount": ["headcount"],
    "facilitator:results": ["mode"],
    "facilitator:phones": ["show"],
    "facilitator:words": ["word", "hidden"],
    "facilitator:question": [],
    "facilitator:propose": ["text", "subgroup"],
    "facilitator:moderate": ["text", "into", "theme", "position"],
    "facilitator:wall": ["by"],
    "facilitator:vote": ["method", "target", "theme", "selection", "points", "max_per_item",
                         "open"],
    "facilitator:vote_state": [],
    "facilitator:close": ["title", "date", "time", "place", "agenda", "carry_list",
                          "carry_ids", "carry_themes", "carry"],
    "facilitator:report_edit": REPORT,
    "facilitator:resolve_card": ["card", "part", "keep"],
    "facilitator:themes": ["name"],
    "facilitator:theme": ["name"],
    "facilitator:suggest": [],
    "facilitator:suggestion": ["name"],
    "facilitator:exclude": ["action", "participant", "minute"],
    "screen:step": ["move"],
    "helper:card": [*CARD, "q{question}-choice", "q{question}-value", "q{question}-text",
                    "q{question}-item-{item}", "q{question}-rank-{choice}"],
    "helper:answer": [*CARD, *ANSWER],
    "helper:propose": ["by", "round", "subgroup", "text", "idem"],
    "helper:vote": [*CARD, "step", "v-{proposal}", "dots-{proposal}", "grade-{proposal}"],
    "organiser:login": ["username", "password"],
    "organiser:logout": [],
    "organiser:create_workshop": ["title", "organisation", "objectives"],
    "organiser:import": ["bundled"],  # and an uploaded "plan"
    "organiser:synthesis_decide": ["action", "candidate", "title", "decision", "element",
                                   "member", "proposal", "proposals", "idem"],
    "organiser:create_session": ["title", "place", "objectives", "date", "time", "language",
                                 "plan"],
    "organiser:add_question": QUESTION,
    "organiser:edit_details": ["title", "date", "time", "place", "objectives"],
    "organiser:edit_tables": ["subgroups"],
    "organiser:add_step": ["kind", "title"],
    "organiser:edit_step": ["title", "prompt", "limit", "max_length", "method"],
    "organiser:step_action": [],
    "organiser:editor_add_question": QUESTION,
    "organiser:edit_question": QUESTION,
    "organiser:question_action": [],
    "organiser:reopen": ["confirm"],
    "organiser:report_edit": REPORT,
    "organiser:consensus": ["min_agree", "max_disagree", "min_votes", "every_subgroup"],
    "organiser:rotate_link": [],
    "organiser:retention": ["days"],
    "organiser:delete_workshop": ["confirm"],
    "organiser:delete_session": ["confirm"],
    "sms:inbound": ["From", "Body", "from", "text", "msisdn", "sender", "message"],
}
# Path parameters that name what to do: each is tried, not only the matrix's.
ACTIONS: dict[str, tuple[str, list[str]]] = {
    "facilitator:question": ("action", ["open", "close"]),
    "facilitator:moderate": ("action", ["hide", "show", "pin", "unpin", "edit", "merge",
                                        "unmerge", "move"]),
    "facilitator:vote_state": ("action", ["open", "close"]),
    "facilitator:theme": ("action", ["rename", "up", "down", "delete"]),
    "facilitator:suggestion": ("action", ["accept", "reject"]),
    "organiser:step_action": ("action", ["up", "down", "delete"]),
    "organiser:question_action": ("action", ["up", "down", "duplicate", "delete"]),
    "organiser:rotate_link": ("role", ["facilitator", "screen", "helper"]),
}
# Where the séance stands while a form is tried: where the form has something to do.
STAGE = {
    "participant:answer": "poll", "helper:card": "poll", "helper:answer": "poll",
    "facilitator:walk": "poll", "facilitator:words": "poll", "sms:inbound": "poll",
    "participant:propose": "proposals", "helper:propose": "proposals",
    "facilitator:propose": "proposals", "facilitator:moderate": "clustering",
    "facilitator:wall": "proposals", "facilitator:themes": "clustering",
    "facilitator:theme": "clustering", "facilitator:suggestion": "clustering",
    "facilitator:suggest": "clustering", "participant:vote": "vote",
    "helper:vote": "vote", "facilitator:vote": "vote_setup", "facilitator:vote_state": "vote",
    "facilitator:close": "closing",
}
# Fields that name one of the séance's things, or one of a few words, by kind (a paper
# card's "q7-choice" is question 7's "choice"): sent those now and then, a form gets past
# its first check and its deeper ones are tried too.
HINTS = {
    "question": {"question"},
    "choice": {"choice"},
    "proposal": {"item", "into", "selection", "carry_ids", "proposal", "proposals", "member",
                 "element"},
    "theme": {"theme"},
    "step": {"step"},
    "participant": {"participant"},
    "card": {"card", "beyond"},
    "word": {"language", "move", "method", "target", "kind", "action", "mode", "keep",
             "part", "value", "round", "date", "time", "plan", "bundled", "scale"},
}
WORDS = [*LANGUAGES, "next", "previous", *METHODS, "proposals", "theme", "selection",
         "themes", *KINDS, *STEP_KINDS, "confirm", "reject", "undo", "rename", "remove", "add",
         "create", "exclude", "include", *RESULTS_MODES, "first", "second", "poll", "agree",
         "disagree", "pass", "2", "2026-06-01", "18:30", "demo.toml", "1-5", "0-10",
         "3-suivi", "empty"]
PREFERRED = ["facilitator", "participant", "helper", "projector", "organiser", "sms_gateway"]

# Values that have broken parsers somewhere: digits int() does not read ("²", "①"),
# digits of other scripts it does ("١٢"), numbers too big for SQLite, control and
# bidi-override characters, markup and formulas.
TRICKY = ["", " ", "0", "-1", "1.5", "+3", "1e309", "NaN", "9" * 12, "9" * 30, "²", "①",
          "١٢", "𝟙", "\x00", "\x01", "\x7f", "\r\n", "\u202e", "\u2066", "\u200b", "\ufeff",
          "\ud7ff", "<script>alert(1)</script>", "=HYPERLINK(\"x\")", "{{7*7}}", "%s%n",
          "../../etc/passwd", "on", "1", "2", "open", "next", "agree", "dots", "themes",
          "selection", "confirm", "create", "2026-02-30", "25:61", "fr-FR", "1-5", "0-10"]
# Long texts (bidi and control characters in them), past the field limits, past the body's.
HUGE = st.sampled_from([2_000, 20_000, 70_000, 300_000]).map(
    lambda n: ("Une idée\u202e\x01 " * (n // 11))[:n])


def is_form_route(route: object) -> bool:
    return isinstance(route, Route) and "POST" in (route.methods or set()) \
        and not route.path.startswith("/api/")


FORM_ROUTES = sorted(route.name for route in ROUTES if is_form_route(route))


def actor_for(name: str) -> str:
    rule = RULES[name]
    if rule == EVERYONE:
        return "anonymous"
    return next(actor for actor in PREFERRED if actor in rule)


def test_every_form_has_its_fields_declared() -> None:
    assert sorted(FORMS) == FORM_ROUTES, (
        "forms without their fields in FORMS:", sorted(set(FORM_ROUTES) - set(FORMS)),
        "fields of forms that are gone:", sorted(set(FORMS) - set(FORM_ROUTES)))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return actors.build(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture
def world(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(kit, "cards_pdf", lambda *args, **kwargs: b"%PDF-1.7 not drawn")
    with World.open(template, tmp_path) as opened:
        yield opened


def stage(world: World, where: str | None) -> dict[str, list[str]]:
    """Move séance A to `where` (every poll question open on "poll", the vote open on
    "vote", closed on "vote_setup"), and return its real ids by kind, as text."""
    client, sid = world.client, int(world.ids["session_id"])

    def call(fn: Any, *args: Any) -> Any:
        return client.portal.call(lambda: fn(client.app.state.db, *args))

    steps = call(q.list_steps, sid)
    questions = [qu for step in steps if step.kind == "poll"
                 for qu in call(q.list_questions, step.id)]
    facilitator = {"authorization": f"Bearer {world.actors['facilitator'].bearer}"}
    api = f"/api/sessions/{world.ids['code']}"
    if where in ("vote", "vote_setup"):
        vote = next(step for step in steps if step.kind == "vote")
        call(qv.set_vote_settings, sid, vote.id,
             VoteSettings(method="agree", target="proposals", open=where == "vote"))
    if where is not None:
        kind = "vote" if where == "vote_setup" else where
        position = next(step.position for step in steps if step.kind == kind)
        moved = client.post(f"{api}/step", json={"position": position}, headers=facilitator)
        assert moved.status_code == 200, moved.text
    if where == "poll":
        for question in questions:
            opened = client.post(f"{api}/questions/{question.id}/open", headers=facilitator)
            assert opened.status_code == 200, opened.text
    return {
        "question": [str(qu.id) for qu in questions],
        "choice": [str(c.id) for qu in questions for c in qu.choices],
        "item": [str(c.id) for qu in questions if qu.kind == "matrix" for c in qu.choices],
        "proposal": [str(p.id) for p in call(qp.list_proposals, sid)],
        "theme": [str(t.id) for t in call(qp.list_themes, sid)],
        "step": [str(step.id) for step in steps],
        "participant": [str(row["id"]) for row in client.portal.call(
            client.app.state.db.fetchall, "SELECT id FROM participants", ())],
        "card": ["1", "2", "3"],
        "word": [*WORDS, *(f"vote:{step.id}" for step in steps if step.kind == "vote")],
    }


def fields(names: list[str], ids: dict[str, list[str]]) -> list[str]:
    """The form's field names, each "{kind}" spelled with every id of that kind."""
    spelled = []
    for name in names:
        kind = next((k for k in ids if "{" + k + "}" in name), None)
        spelled += [name.replace("{" + kind + "}", i) for i in ids[kind] or ["1"]] \
            if kind else [name]
    return spelled


def values(field: str, ids: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """What a field gets: séance A's ids of the kind the field names (a field named after
    no kind gets any), tricky values, any text, any integer."""
    bare = re.sub(r"^q\d+-", "", field)
    kind = next((kind for kind, names in HINTS.items() if bare in names), None)
    real = ids.get(kind or "", []) or sorted({i for kind in ids.values() for i in kind})
    return st.one_of(st.sampled_from(real), st.sampled_from(TRICKY), st.text(max_size=40),
                     st.integers().map(str))


@st.composite
def form_data(draw: st.DrawFn, names: list[str],
              ids: dict[str, list[str]]) -> dict[str, list[str]]:
    """Some of the form's fields (any may be missing), now and then an unknown one, each
    sent once or more; in one request of five, one of them huge."""
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=8)) if names else []
    chosen += draw(st.lists(st.text(min_size=1, max_size=12), max_size=2))
    data = {field: draw(st.lists(values(field, ids), min_size=1, max_size=3))
            for field in chosen}
    if chosen and draw(st.integers(0, 4)) == 0:
        data[draw(st.sampled_from(chosen))] = [draw(HUGE)]
    return data


@pytest.mark.parametrize("name", FORM_ROUTES)
def test_form_never_answers_5xx_nor_a_trace(world: World, name: str) -> None:
    route = next(route for route in ROUTES if name_of(route) == name)
    actor = world.actors[actor_for(name)]
    ids = stage(world, STAGE.get(name))
    names = fields(FORMS.get(name, []), ids)
    param, choices = ACTIONS.get(name, ("", [""]))

    # Importing a plan also takes an uploaded file: any bytes, or any text.
    plans = st.none() | st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode) \
        if name == "organiser:import" else st.none()

    @given(data=form_data(names, ids), action=st.sampled_from(choices), plan=plans)
    @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), database=None)
    def post(data: dict[str, list[str]], action: str, plan: bytes | None) -> None:
        path = world.address(route, actor, {param: action} if param else None)
        files = {"plan": ("plan.toml", plan)} if plan is not None else None
        form = {**data, "csrf": CSRF}
        response = world.send(actor, "POST", path, form=form, files=files)
        assert response.status_code < 500, (name, response.status_code, data)
        for trace in ("Traceback (most recent call last)", 'File "/'):
            assert trace not in response.text, (name, response.status_code, data)

    post()
