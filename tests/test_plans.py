import pytest

from facilitation.plans import PlanError, parse_plan
from tests.conftest import DEMO


def test_demo_plan_parses_with_questions_prompts_and_subgroups():
    plan = parse_plan(DEMO.read_bytes())
    first = plan.sessions[0]
    assert first.date == "2026-12-03" and first.time == "18:30" and first.place
    assert first.subgroups == ("Table 1", "Table 2", "Table 3")
    kinds = [step.kind for step in first.steps]
    assert kinds[0] == "welcome" and "poll" in kinds and "proposals" in kinds
    poll = first.steps[kinds.index("poll")]
    assert {q.kind for q in poll.questions} == {"single", "multiple", "matrix", "scale", "text",
                                                "ranking"}
    assert any(q.max_choices == 3 for q in poll.questions)
    assert first.steps[kinds.index("proposals")].prompt


BASE = '[workshop]\ntitle = "W"\n[[sessions]]\ntitle = "S"\n'


@pytest.mark.parametrize("source, fragment", [
    ("not toml = = ", "not valid TOML"),
    ('[[sessions]]\ntitle="S"', "no [workshop]"),
    ('[workshop]\ntitle="W"', "no [[sessions]]"),
    (BASE, "at least one step"),
    (BASE + '[[sessions.steps]]\nkind = "dance"\n', "unknown step kind"),
    (BASE + 'date = "03/12/2026"\n[[sessions.steps]]\nkind = "welcome"\n', "not a date"),
    (BASE + 'time = "6pm"\n[[sessions.steps]]\nkind = "welcome"\n', "not a time"),
    (BASE + '[[sessions.steps]]\nkind = "poll"\n[[sessions.steps.questions]]\ntext = "Q"\n'
     'choices = ["only one"]\n', "2 to 20"),
    (BASE + '[[sessions.steps]]\nkind = "poll"\n[[sessions.steps.questions]]\ntext = "Q"\n'
     'kind = "single"\nmax = 2\nchoices = ["a", "b"]\n', "“max”"),
    (BASE + '[[sessions.steps]]\nkind = "welcome"\n[[sessions.steps.questions]]\ntext = "Q"\n'
     'choices = ["a", "b"]\n', "only a poll step"),
    ('[workshop]\ntitle = 3\n[[sessions]]\ntitle = "S"\n', "must be text"),
])
def test_bad_plans_are_refused_with_a_message(source, fragment):
    with pytest.raises(PlanError) as error:
        parse_plan(source)
    assert fragment in str(error.value)


def test_oversized_and_binary_plans_are_refused():
    with pytest.raises(PlanError):
        parse_plan(b"#" * 300_000)
    with pytest.raises(PlanError):
        parse_plan(b"\xff\xfe\x00")
