"""Voting rules: validation, consensus, division, dot voting, majority judgment."""

import functools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitation.voting import (
    AGREE,
    DISAGREE,
    PASS,
    Ballot,
    ConsensusRule,
    Item,
    VoteError,
    VoteSettings,
    agenda_draft,
    check_rule,
    majority_value,
    median_grade,
    order_for,
    rank_judgment,
    tally_agree,
    tally_dots,
    validate_agree,
    validate_dots,
    validate_grade,
    verdict,
    vote_results,
    voted_themes,
)
from facilitation.voting import synthesis as synthesis_of

RULE = ConsensusRule(min_agree=2 / 3, max_disagree=0.15, min_votes=5)


def test_validation():
    assert [validate_agree(v) for v in ("agree", "disagree", "pass", "1")] == [
        AGREE, DISAGREE, PASS, AGREE]
    for bad in ("yes", "", None, True, "2"):
        with pytest.raises(VoteError):
            validate_agree(bad)
    assert validate_grade("6") == 6
    for bad in ("7", "-1", "x", True, None):
        with pytest.raises(VoteError):
            validate_grade(bad)
    settings = VoteSettings(method="dots", points=5, max_per_item=3)
    assert validate_dots({1: "3", 2: "2", 3: "0"}, [1, 2, 3], settings) == {1: 3, 2: 2}
    for bad in ({1: "4"}, {1: "3", 2: "3"}, {9: "1"}, {1: "-1"}, {1: "x"}, {1: True}):
        with pytest.raises(VoteError):
            validate_dots(bad, [1, 2, 3], settings)
    for args in ((0.4, 0.1, 5), (0.7, 0.6, 5), (0.7, 0.1, 0)):
        with pytest.raises(VoteError):
            check_rule(*args)


def test_verdicts():
    assert verdict(tally_agree([AGREE] * 4), RULE).status == "too_few"
    assert verdict(tally_agree([AGREE] * 5), RULE).status == "consensus"
    assert verdict(tally_agree([AGREE] * 4 + [PASS] * 2), RULE).status == "consensus"
    assert verdict(tally_agree([AGREE] * 5 + [DISAGREE]), RULE).status == "none"  # 16.7 %
    assert verdict(tally_agree([AGREE] * 4 + [DISAGREE] * 4), RULE).status == "divisive"
    groups = {"A": tally_agree([AGREE] * 6), "B": tally_agree([AGREE, DISAGREE, DISAGREE])}
    every = ConsensusRule(min_votes=5, every_subgroup=True)
    total = tally_agree([AGREE] * 7 + [DISAGREE] * 2)  # 22 % disagree overall: not consensus
    assert verdict(total, every, groups, ["A", "B"]).status == "none"
    ok = tally_agree([AGREE] * 12)
    groups_ok = {"A": tally_agree([AGREE] * 6), "B": tally_agree([AGREE] * 6)}
    assert verdict(ok, every, groups_ok, ["A", "B"]).status == "consensus"
    one_against = {"A": tally_agree([AGREE] * 10), "B": tally_agree([AGREE, DISAGREE])}
    v = verdict(tally_agree([AGREE] * 11 + [DISAGREE]), every, one_against, ["A", "B"])
    assert v.status != "consensus" and v.failing_subgroups == ("B",)


votes = st.lists(st.tuples(st.sampled_from([AGREE, DISAGREE, PASS]),
                           st.sampled_from(["A", "B", "C"])), max_size=60)
rules = st.builds(ConsensusRule, min_agree=st.sampled_from([0.5, 2 / 3, 0.8, 1.0]),
                  max_disagree=st.sampled_from([0.0, 0.1, 0.15, 0.3]),
                  min_votes=st.integers(1, 10), every_subgroup=st.booleans())


def judge(ballots, rule, counted):
    total = tally_agree(v for v, _ in ballots)
    groups = {g: tally_agree(v for v, gg in ballots if gg == g) for g in "ABC"}
    return verdict(total, rule, groups, counted).status


@given(votes, rules, st.sampled_from(["A", "B", "C"]),
       st.lists(st.sampled_from(["A", "B", "C"]), unique=True))
def test_an_agree_vote_never_removes_consensus(ballots, rule, group, counted):
    if judge(ballots, rule, counted) == "consensus":
        assert judge(ballots + [(AGREE, group)], rule, counted) == "consensus"


def table_verdicts(ballots, rule):
    """Statuses by item through vote_results, which decides itself which tables count:
    `ballots` are (participant, table, item, value)."""
    items = sorted({item for _, _, item, _ in ballots})
    result = vote_results(VoteSettings(), rule, [Item("proposal", i, f"p{i}") for i in items],
                          [Ballot(p, i, v, table) for p, table, i, v in ballots])
    return {row.item.id: row.verdict.status for row in result.rows}


table_ballots = st.lists(st.tuples(st.integers(1, 40), st.sampled_from(["A", "B", "C", ""]),
                                   st.integers(1, 3), st.sampled_from([AGREE, DISAGREE, PASS])),
                         max_size=80, unique_by=lambda b: (b[0], b[2]))
table_rules = st.builds(ConsensusRule, min_agree=st.sampled_from([0.5, 2 / 3, 0.8]),
                        max_disagree=st.sampled_from([0.0, 0.15, 0.3]),
                        min_votes=st.integers(1, 6), every_subgroup=st.just(True))


def test_a_table_that_never_votes_does_not_block_consensus():
    # Tables A and B agree; table C has members who joined and never voted. Only ballots
    # say which tables count: C has none, so it cannot take the item away.
    rule = ConsensusRule(min_votes=5, every_subgroup=True)
    ballots = [(p, "A" if p <= 10 else "B", 1, AGREE) for p in range(1, 21)]
    assert table_verdicts(ballots, rule) == {1: "consensus"}
    # A table where enough members voted, one of five against (20 % > 15 %), does; the
    # room as a whole (24 of 25) would have agreed.
    against = ballots + [(p, "C", 1, AGREE) for p in range(21, 25)] + [(25, "C", 1, DISAGREE)]
    assert table_verdicts(against, rule) == {1: "none"}
    # Four votes from C, one against, are too few to speak for it.
    few = ballots + [(p, "C", 1, AGREE) for p in range(21, 24)] + [(25, "C", 1, DISAGREE)]
    assert table_verdicts(few, rule) == {1: "consensus"}


@given(table_ballots, table_rules)
def test_a_table_counts_for_an_item_only_when_enough_of_its_members_voted_on_it(ballots,
                                                                                  rule):
    """A table with fewer than `min_votes` votes on an item is judged as if its members
    sat at no table: it neither blocks nor carries the item."""
    verdicts = table_verdicts(ballots, rule)
    for item in verdicts:
        for table in "ABC":
            cast = [b for b in ballots if b[1] == table and b[2] == item]
            if len(cast) < rule.min_votes:
                moved = [(p, "" if (t, i) == (table, item) else t, i, v)
                         for p, t, i, v in ballots]
                assert table_verdicts(moved, rule)[item] == verdicts[item]


@given(votes, rules, st.randoms(use_true_random=False))
def test_verdicts_do_not_depend_on_vote_order(ballots, rule, rnd):
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert judge(ballots, rule, ["A", "B"]) == judge(shuffled, rule, ["A", "B"])


@given(st.lists(st.dictionaries(st.integers(1, 5), st.integers(1, 3)), max_size=30),
       st.randoms(use_true_random=False))
def test_dot_totals_do_not_depend_on_order(ballots, rnd):
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert tally_dots(ballots) == tally_dots(shuffled)
    assert sum(tally_dots(ballots).values()) == sum(sum(b.values()) for b in ballots)


def test_majority_grade_is_the_lower_median():
    assert median_grade([0, 1, 2]) == 1
    assert median_grade([0, 0, 3, 3]) == 3  # of two middles, the worse grade
    assert majority_value([0, 1, 1, 2, 6]) == (1, 2, 1, 6, 0)


def reference_compare(a, b):
    """Majority judgment's tie-break done by hand: while the majority grades are equal,
    remove that grade once from each side and look again."""
    a, b = sorted(a), sorted(b)
    while a and b:
        ma, mb = median_grade(a), median_grade(b)
        if ma != mb:
            return -1 if ma < mb else 1
        a.remove(ma)
        b.remove(mb)
    return 0


@given(st.integers(1, 15), st.integers(2, 6), st.randoms(use_true_random=False))
def test_majority_judgment_matches_the_reference_tie_break(voters, items, rnd):
    grades = {item: [rnd.randrange(7) for _ in range(voters)] for item in range(items)}
    ranked = [item for item, _ in rank_judgment(grades)]
    for better, worse in zip(ranked, ranked[1:], strict=False):
        assert reference_compare(grades[better], grades[worse]) <= 0
    expected = sorted(grades, key=functools.cmp_to_key(
        lambda x, y: reference_compare(grades[x], grades[y])))
    assert [majority_value(grades[i]) for i in ranked] == [
        majority_value(grades[i]) for i in expected]
    # Order of ballots does not matter.
    shuffled = {item: rnd.sample(g, len(g)) for item, g in grades.items()}
    assert rank_judgment(shuffled) == rank_judgment(grades)


def test_each_participant_gets_their_own_stable_order():
    items = list(range(10))
    assert order_for(7, items) == order_for(7, items)
    assert sorted(order_for(7, items)) == items
    assert len({tuple(order_for(p, items)) for p in range(20)}) > 10
    assert random.Random(0).random() >= 0  # the module's own random is untouched


def _agree_results(counts: dict[int, tuple[int, int, int]]):
    """Results of an agree vote: item id to (agree, disagree, pass) counts."""
    items = [Item("proposal", i, f"P{i}") for i in counts]
    ballots, voter = [], 0
    for item, (agree, disagree, passes) in counts.items():
        for value, times in ((AGREE, agree), (DISAGREE, disagree), (PASS, passes)):
            for _ in range(times):
                voter += 1
                ballots.append(Ballot(voter, item, value))
    return vote_results(VoteSettings(), RULE, items, ballots)


def test_synthesis_shows_every_proposal_once():
    # 4 agree / 1 disagree: enough votes, 20 % disagree is too many for consensus, and
    # too few disagree to divide the room. It used to appear in no group at all.
    results = _agree_results({1: (6, 0, 0), 2: (4, 4, 0), 3: (4, 1, 0), 4: (1, 0, 0)})
    summary = synthesis_of([results])
    assert [r.item.id for r in summary.consensus] == [1]
    assert [r.item.id for r in summary.divisive] == [2]
    assert [r.item.id for r in summary.no_consensus] == [3]
    assert summary.no_consensus[0].verdict.tally.agree == 4
    assert [r.item.id for r in summary.too_few] == [4]


@given(st.dictionaries(st.integers(1, 30), st.tuples(st.integers(0, 8), st.integers(0, 8),
                                                     st.integers(0, 8)), max_size=12))
def test_every_agree_row_lands_in_exactly_one_group(counts):
    summary = synthesis_of([_agree_results(counts)])
    groups = [summary.consensus, summary.divisive, summary.no_consensus, summary.too_few]
    ids = sorted(r.item.id for group in groups for r in group)
    assert ids == sorted(counts)


def test_a_theme_counts_as_voted_through_its_proposals():
    theme_of = {10: 1, 11: 1, 12: 2, 13: None}
    assert voted_themes([Item("proposal", 10, "a")], theme_of) == {1}
    assert voted_themes([Item("theme", 3, "t"), Item("proposal", 12, "b"),
                         Item("proposal", 13, "c")], theme_of) == {2, 3}
    assert voted_themes([], theme_of) == set()


def test_agenda_draft_leaves_out_themes_voted_through_their_proposals():
    summary = synthesis_of([_agree_results({1: (4, 4, 0)})])
    voted = voted_themes([Item("proposal", 1, "P1")], {1: 7})
    lines = agenda_draft(summary, voted, {7: "Transport", 8: "Santé"},
                         lambda message, **kw: message % kw)
    assert lines == ["To deepen: P1", "Theme not yet voted on: Santé"]
