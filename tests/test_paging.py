"""Projector pages and bar segments: every item shown once, in order, within the budget."""

from hypothesis import given
from hypothesis import strategies as st

from facilitation.charts import segment_widths
from facilitation.paging import paginate, paginate_groups, text_lines

WORDS = st.lists(st.text("abcdefghij", min_size=1, max_size=14), max_size=40).map(" ".join)


def test_text_lines_wraps_whole_words():
    assert text_lines("", 10) == 1
    assert text_lines("un deux trois", 10) == 2  # "un deux" / "trois"
    assert text_lines("a" * 25, 10) == 3  # a word longer than a line is broken


@given(st.lists(WORDS, max_size=30), st.integers(5, 60), st.floats(1, 30))
def test_every_item_once_in_order(texts, per_line, budget):
    pages = paginate(list(range(len(texts))), texts, per_line, budget, 0.5, 1.2)
    assert [i for page in pages for i in page] == list(range(len(texts)))
    for page in pages:  # a page goes past its budget only to hold one big item
        cost = sum(max(text_lines(texts[i], per_line), 1.2) + 0.5 for i in page)
        assert cost <= budget or len(page) == 1


@given(st.lists(st.lists(WORDS, max_size=8), max_size=8), st.floats(3, 30))
def test_groups_keep_every_item_and_repeat_their_heading(groups, budget):
    named = [(f"g{k}", list(range(len(texts))), texts) for k, texts in enumerate(groups)]
    pages = paginate_groups(named, 20, budget)
    seen = [(name, i) for page in pages for name, items, _ in page for i in items]
    assert seen == [(name, i) for name, items, _ in named for i in items]
    openings = [name for page in pages for name, _, more in page if not more]
    assert openings == [name for name, _, _ in named]  # each heading once, then "continued"


@given(st.lists(st.integers(0, 500), max_size=8))
def test_segments_add_up_and_never_hide_a_vote(counts):
    widths = segment_widths(counts)
    assert len(widths) == len(counts)
    if sum(counts):
        assert 100 <= sum(widths) <= 100 + len(counts)
    assert all((w > 0) == (c > 0) for w, c in zip(widths, counts, strict=True))
