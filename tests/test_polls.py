import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitation.polls import AnswerError, Choice, Question, validate_answer
from facilitation.tallies import tally

CHOICES = tuple(Choice(10 + i, f"c{i}") for i in range(5))
SINGLE = Question(1, 1, "single", "Q?", CHOICES, state="open")
MULTI = Question(2, 1, "multiple", "Q?", CHOICES, max_choices=3, state="open")


def test_single_choice_accepts_one_known_choice():
    assert validate_answer(SINGLE, ["12"]) == [12]


def test_multiple_choice_keeps_question_order():
    assert validate_answer(MULTI, [14, "10"]) == [10, 14]


@pytest.mark.parametrize("raw, status", [
    ([], 422), (["99"], 422), (["abc"], 422), ([True], 422), (["11", "11"], 422),
    (["10", "11"], 422), ([None], 422), (["1e3"], 422),
])
def test_single_choice_refuses_bad_answers(raw, status):
    with pytest.raises(AnswerError) as error:
        validate_answer(SINGLE, raw)
    assert error.value.status == status


def test_multiple_choice_refuses_more_than_the_maximum():
    with pytest.raises(AnswerError) as error:
        validate_answer(MULTI, [10, 11, 12, 13])
    assert error.value.params == {"limit": 3}


def test_closed_question_refuses_with_409():
    for state in ("draft", "closed"):
        closed = Question(1, 1, "single", "Q?", CHOICES, state=state)
        with pytest.raises(AnswerError) as error:
            validate_answer(closed, ["10"])
        assert error.value.status == 409


def test_huge_input_is_refused_quickly():
    with pytest.raises(AnswerError):
        validate_answer(MULTI, ["10"] * 100_000)


def test_tally_counts_respondents_not_choices():
    results = tally(MULTI, [(10, 11), (10,), (12, 13, 14)])
    assert results.n == 3
    assert [bar.count for bar in results.bars] == [2, 1, 1, 1, 1]
    assert results.bars[0].percent == pytest.approx(200 / 3)


def test_tally_of_nothing_is_zero_everywhere():
    results = tally(SINGLE, [])
    assert results.n == 0 and all(bar.count == 0 and bar.percent == 0 for bar in results.bars)


answers_single = st.lists(st.sampled_from([c.id for c in CHOICES]).map(lambda c: (c,)),
                          max_size=200)
answers_multi = st.lists(st.sets(st.sampled_from([c.id for c in CHOICES]), min_size=1,
                                 max_size=3).map(tuple), max_size=200)


@given(answers_single)
def test_single_choice_percentages_sum_to_100(answers):
    results = tally(SINGLE, answers)
    assert results.n == len(answers)
    assert sum(bar.count for bar in results.bars) == results.n
    if results.n:
        assert sum(bar.percent for bar in results.bars) == pytest.approx(100)
        assert sum(round(bar.percent) for bar in results.bars) in range(98, 103)


@given(answers_multi)
def test_multiple_choice_counts_stay_within_n(answers):
    results = tally(MULTI, answers)
    assert results.n == len(answers)
    for bar in results.bars:
        assert 0 <= bar.count <= results.n
    assert sum(bar.count for bar in results.bars) <= 3 * results.n


@given(st.dictionaries(st.integers(1, 50), answers_single.map(lambda a: a[0] if a else (10,))),
       st.lists(st.tuples(st.integers(1, 50), st.sampled_from([c.id for c in CHOICES]))))
def test_a_changed_answer_is_counted_once(first, changes):
    # Storage keeps one answer per participant: replaying changes must not add respondents.
    stored = dict(first)
    for participant, choice in changes:
        stored[participant] = (choice,)
    results = tally(SINGLE, stored.values())
    assert results.n == len(stored)
    assert sum(bar.count for bar in results.bars) == len(stored)
