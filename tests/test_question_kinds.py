"""Validation and results of the matrix, scale, free-text and ranking questions."""

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitation.polls import AnswerError, Choice, Question, RawAnswer, Settings, validate_answer
from facilitation.tallies import aggregate
from facilitation.words import group_key, word_groups, words

ITEMS = tuple(Choice(20 + i, f"item {i}") for i in range(4))
LEVELS = ("Jamais", "Rarement", "Parfois", "Souvent", "Très souvent")
MATRIX = Question(1, 1, "matrix", "M?", ITEMS, state="open", settings=Settings(levels=LEVELS))
SCALE = Question(2, 1, "scale", "S?", (), state="open",
                 settings=Settings(scale_min=0, scale_max=10))
TEXT = Question(3, 1, "text", "T?", (), state="open")
OPTIONS = tuple(Choice(30 + i, f"option {i}") for i in range(4))
RANKING = Question(4, 1, "ranking", "R?", OPTIONS, state="open")


def refused(question, raw):
    with pytest.raises(AnswerError) as error:
        validate_answer(question, raw)
    return error.value


# Matrix ------------------------------------------------------------------------------


def test_matrix_accepts_some_items_and_skips_blank_ones():
    value = validate_answer(MATRIX, RawAnswer(items={"22": "4", "20": "0", "21": ""}))
    assert value == {"20": 0, "22": 4}


@pytest.mark.parametrize("items", [{}, {"20": ""}, {"99": "1"}, {"20": "5"}, {"20": "-1"},
                                   {"abc": "1"}, {"20": "x"}, {str(i): "1" for i in range(30)}])
def test_matrix_refuses_bad_items(items):
    assert refused(MATRIX, RawAnswer(items=items)).status == 422


def test_matrix_counts_each_item_with_its_own_n_and_orders_by_frequency():
    answers = [{"20": 0, "21": 4}, {"20": 1, "21": 3}, {"21": 4}]
    results = aggregate(MATRIX, answers)
    assert results.n == 3
    rows = {row.item.id: row for row in results.rows}
    assert rows[20].n == 2 and rows[20].counts == (1, 1, 0, 0, 0)
    assert rows[21].n == 3 and rows[21].counts == (0, 0, 0, 1, 2)
    assert rows[22].n == 0 and sum(rows[22].percents) == 0
    by_frequency = Question(1, 1, "matrix", "M?", ITEMS, settings=Settings(
        levels=LEVELS, order="frequency"))
    ordered = aggregate(by_frequency, answers)
    assert [row.item.id for row in ordered.rows][:2] == [21, 20]
    assert [row.item.id for row in results.rows] == [20, 21, 22, 23]  # the plan's order


matrix_answers = st.lists(st.dictionaries(st.sampled_from([str(c.id) for c in ITEMS]),
                                          st.integers(0, 4), min_size=1), max_size=80)


@given(matrix_answers)
def test_matrix_item_percentages_sum_to_100_and_n_bounds(answers):
    results = aggregate(MATRIX, answers)
    assert results.n == len(answers)
    for row in results.rows:
        assert row.n <= results.n and sum(row.counts) == row.n
        if row.n:
            assert sum(row.percents) == pytest.approx(100)


# Scale -------------------------------------------------------------------------------


def test_scale_accepts_values_within_its_ends():
    assert validate_answer(SCALE, RawAnswer(value="0")) == 0
    assert validate_answer(SCALE, RawAnswer(value=10)) == 10


@pytest.mark.parametrize("value", [None, "", "11", "-1", "5.5", True, "cinq", [3]])
def test_scale_refuses_values_off_the_scale(value):
    assert refused(SCALE, RawAnswer(value=value)).status == 422


@given(st.lists(st.integers(0, 10), max_size=100))
def test_scale_distribution_mean_and_median(values):
    results = aggregate(SCALE, values)
    assert results.n == len(values)
    assert [bar.count for bar in results.bars] == [values.count(v) for v in range(11)]
    if values:
        assert results.mean == pytest.approx(statistics.fmean(values))
        assert results.median == statistics.median(values)
        assert sum(bar.percent for bar in results.bars) == pytest.approx(100)
    else:
        assert results.mean is None and results.median is None


# Free text ----------------------------------------------------------------------------


def test_text_is_trimmed_and_limited():
    assert validate_answer(TEXT, RawAnswer(text="  plus   d'ateliers ")) == "plus d'ateliers"
    for text in (None, "", "   ", "x" * 121, 12):
        assert refused(TEXT, RawAnswer(text=text)).status == 422


def test_stop_words_are_removed_and_inflections_grouped():
    assert words("Des formations pour les aînés, et de l'accompagnement") == [
        "formations", "aînés", "accompagnement"]
    assert group_key("formation") == group_key("formations")
    assert group_key("accompagner") == group_key("accompagnement")


def test_word_groups_count_respondents_and_show_original_forms():
    groups = word_groups(["Formation", "des formations, encore des formations", "ateliers",
                          "un atelier de formation"])
    top = groups[0]
    assert top.count == 3  # three people, even if one wrote it twice
    assert set(top.forms) == {"formation", "formations"} and top.word in top.forms
    assert [(g.key, g.count) for g in groups] == [(top.key, 3), (group_key("atelier"), 2)]
    assert set(groups[1].forms) == {"ateliers", "atelier"}


def test_hidden_words_stay_counted_but_are_marked():
    key = group_key("nul")
    results = aggregate(Question(3, 1, "text", "T?", (), settings=Settings(hidden_words=(key,))),
                        ["nul", "nul", "super"])
    assert [g.word for g in results.visible] == ["super"]
    assert [g.word for g in results.groups if g.hidden] == ["nul"]
    assert results.n == 3


# Ranking ------------------------------------------------------------------------------


def test_ranking_from_numbered_selects_and_from_an_ordered_list():
    ranks = {"30": "2", "31": "1", "32": "4", "33": "3"}
    assert validate_answer(RANKING, RawAnswer(ranks=ranks)) == [31, 30, 33, 32]
    assert validate_answer(RANKING, RawAnswer(choices=[33, 32, 31, 30])) == [33, 32, 31, 30]


@pytest.mark.parametrize("raw", [
    RawAnswer(ranks={"30": "1", "31": "1", "32": "2", "33": "3"}),  # same rank twice
    RawAnswer(ranks={"30": "1", "31": "2", "32": "3"}),  # one missing
    RawAnswer(ranks={"30": "1", "31": "2", "32": "3", "33": "9"}),  # off the range
    RawAnswer(ranks={"30": "1", "31": "2", "32": "3", "99": "4"}),  # unknown option
    RawAnswer(ranks={"30": "", "31": "2", "32": "3", "33": "4"}),
    RawAnswer(choices=[30, 31, 32]), RawAnswer(choices=[30, 30, 31, 32]), RawAnswer(),
])
def test_ranking_refuses_incomplete_or_inconsistent_ranks(raw):
    assert refused(RANKING, raw).status == 422


def test_borda_points_and_mean_rank():
    results = aggregate(RANKING, [[30, 31, 32, 33], [31, 30, 32, 33], [30, 32, 31, 33]])
    points = {row.choice.id: row.points for row in results.rows}
    assert points == {30: 3 + 2 + 3, 31: 2 + 3 + 1, 32: 1 + 1 + 2, 33: 0}
    assert results.rows[0].choice.id == 30 and results.rows[0].mean_rank == pytest.approx(4 / 3)


@given(st.lists(st.permutations([c.id for c in OPTIONS]), max_size=60))
def test_borda_totals_are_fixed_by_the_number_of_ballots(ballots):
    results = aggregate(RANKING, ballots)
    k = len(OPTIONS)
    assert sum(row.points for row in results.rows) == len(ballots) * k * (k - 1) // 2
    assert results.n == len(ballots)
    # Independent of the order ballots arrive in.
    assert aggregate(RANKING, list(reversed(ballots))).rows == results.rows


# Every kind ---------------------------------------------------------------------------


@pytest.mark.parametrize("question, raw", [
    (MATRIX, RawAnswer(items={"20": "1"})), (SCALE, RawAnswer(value=3)),
    (TEXT, RawAnswer(text="ok")), (RANKING, RawAnswer(choices=[30, 31, 32, 33])),
])
def test_closed_questions_of_every_kind_refuse_with_409(question, raw):
    closed = Question(question.id, 1, question.kind, "?", question.choices, state="closed",
                      settings=question.settings)
    assert refused(closed, raw).status == 409
