"""Proposals: text rules, merges, moves, the wall, and the audit trail."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitation.proposals import (
    Proposal,
    ProposalError,
    StepSettings,
    check_limit,
    check_merge,
    clean_text,
    clean_theme_name,
    group_merged,
    wall,
    wall_pages,
)
from facilitation.store import proposals as qp
from facilitation.store import queries as q


def p(pid, **kw):
    return Proposal(pid, kw.pop("text", f"proposal {pid}"), kw.pop("channel", "phone"), **kw)


def test_text_is_trimmed_and_limited():
    assert clean_text("  des   navettes \n gratuites ") == "des navettes gratuites"
    for raw in ("", "   ", None, 3, "x" * 281):
        with pytest.raises(ProposalError):
            clean_text(raw)
    assert clean_text("x" * 40, max_length=40)


def test_limit_per_participant():
    check_limit(2, StepSettings(limit=3))
    check_limit(100, StepSettings())
    with pytest.raises(ProposalError) as error:
        check_limit(3, StepSettings(limit=3))
    assert error.value.status == 409


def test_theme_names():
    assert clean_theme_name("  Accès  aux droits ") == "Accès aux droits"
    for raw in ("", " ", None, "x" * 81):
        with pytest.raises(ProposalError):
            clean_theme_name(raw)


def test_merge_rules():
    a, b, c = p(1), p(2), p(3, merged_into=1)
    assert check_merge(a, [b]) == [2]
    with pytest.raises(ProposalError):
        check_merge(a, [a])
    with pytest.raises(ProposalError):
        check_merge(a, [c])  # already merged
    with pytest.raises(ProposalError):
        check_merge(c, [b])  # into a merged one
    with pytest.raises(ProposalError):
        check_merge(a, [])


def test_merge_of_merges_keeps_every_original():
    rows = [p(1, text="navette"), p(2, text="navettes", merged_into=1),
            p(3, text="bus gratuit", merged_into=4), p(4, text="navette gratuite",
                                                        merged_into=1), p(5)]
    grouped = {x.id: x for x in group_merged(rows)}
    assert grouped[1].count == 4 and set(grouped[1].merged) == {2, 3, 4}
    assert set(grouped[1].originals) == {"navettes", "bus gratuit", "navette gratuite"}
    assert grouped[5].count == 1
    assert [x.id for x in wall(grouped.values())] == [5, 1]


def test_wall_pins_first_and_skips_hidden_and_merged():
    cards = wall([p(1), p(2, pinned=True), p(3, hidden=True), p(4, merged_into=1), p(5)])
    assert [c.id for c in cards] == [2, 5, 1]


@given(st.lists(st.sampled_from(["Table 1", "Table 2", ""]), max_size=40),
       st.booleans())
def test_wall_pages_show_every_card_once(groups, by_subgroup):
    cards = [p(i, subgroup=g) for i, g in enumerate(groups, start=1)]
    pages = wall_pages(cards, by_subgroup, size=4)
    shown = [c.id for _name, page in pages for c in page]
    assert sorted(shown) == [c.id for c in cards]
    assert all(len(page) <= 4 for _name, page in pages)
    if by_subgroup:
        assert all(all(c.subgroup == name for c in page) for name, page in pages)


@given(st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12)), max_size=30))
def test_counts_add_up_whatever_the_merges(merges):
    # However merges chain, every proposal is counted exactly once on the wall.
    parent: dict[int, int | None] = dict.fromkeys(range(1, 13))

    def root(x):
        while parent[x] is not None:
            x = parent[x]
        return x

    for source, target in merges:
        if root(source) != root(target) and parent[source] is None:
            parent[source] = root(target)
    grouped = group_merged(p(i, merged_into=parent[i]) for i in parent)
    assert sum(card.count for card in wall(grouped)) == 12


# Store: moderation and the audit trail -------------------------------------------------


def test_store_moderation_and_audit_trail(seance):
    db = seance.client.app.state.db
    call = seance.client.portal.call
    steps = call(q.list_steps, db, seance.id)
    step = next(s for s in steps if s.kind == "proposals")
    a = call(qp.add_proposal, db, seance.id, step.id, "navete gratuite", "phone")
    b = call(qp.add_proposal, db, seance.id, step.id, "une navette gratuite", "paper")
    call(qp.edit_text, db, seance.id, a, "navette gratuite")
    call(qp.merge, db, seance.id, a, [b])
    call(qp.set_flag, db, seance.id, a, "pinned", True)
    trail = call(qp.audit_trail, db, a)
    assert [(e["action"], e["before"], e["after"]) for e in trail] == [
        ("add", "", "navete gratuite"), ("edit", "navete gratuite", "navette gratuite"),
        ("pinned", "0", "1")]
    assert [e["action"] for e in call(qp.audit_trail, db, b)] == ["add", "merge"]
    (card,) = wall(call(qp.list_proposals, db, seance.id))
    assert card.text == "navette gratuite" and card.count == 2 and card.pinned
    assert card.originals == ("une navette gratuite",)
    # Moves: into a theme, back to unsorted; a merged proposal cannot move on its own.
    theme = call(qp.create_theme, db, seance.id, "Transport")
    call(qp.move, db, seance.id, a, theme)
    assert call(qp.list_proposals, db, seance.id)[0].theme_id == theme
    with pytest.raises(ProposalError):
        call(qp.move, db, seance.id, b, theme)
    call(qp.delete_theme, db, seance.id, theme)
    assert all(x.theme_id is None for x in call(qp.list_proposals, db, seance.id))
    with pytest.raises(LookupError):
        call(qp.move, db, seance.id, a, theme)  # the theme is gone
    with pytest.raises(LookupError):
        call(qp.set_flag, db, seance.id + 1, a, "hidden", True)  # another séance's
