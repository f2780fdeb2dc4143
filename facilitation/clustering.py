"""Suggested themes from the French text of proposals. Pure: text in, groups out.

Each proposal becomes a TF-IDF vector over stemmed words (accents and case removed,
French stop words dropped) and character n-grams (robust to typos and SMS spelling).
Agglomerative clustering with cosine distance and a distance threshold chooses the number
of themes itself; a theme's title is made of its most characteristic words.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import ClusterWarning
from scipy.sparse import hstack
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from facilitation.words import group_key, strip_accents, words

# Chosen on tests/data/proposals_dev.tsv (not on the test set the README reports).
DISTANCE_THRESHOLD = 0.88
MIN_SIZE = 2
TITLE_WORDS = 3


@dataclass(frozen=True)
class Suggestion:
    title: str
    members: tuple[int, ...]  # indexes into the proposals given


def _stems(text: str) -> list[str]:
    return [group_key(word) for word in words(text)]


def _normalized(text: str) -> str:
    return strip_accents(text.lower())


def labels(texts: Sequence[str], threshold: float = DISTANCE_THRESHOLD) -> list[int]:
    """A cluster label per text (numbers carry no meaning); one text alone gets its own."""
    if len(texts) < 2:
        return [0] * len(texts)
    word_vectors = TfidfVectorizer(analyzer=_stems, sublinear_tf=True).fit_transform(texts) \
        if any(_stems(t) for t in texts) else None
    try:
        char_vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5),
                                       sublinear_tf=True,
                                       preprocessor=_normalized).fit_transform(texts)
    except ValueError:  # nothing but blanks or one-letter words: no grouping to offer
        return list(range(len(texts)))
    matrix = char_vectors if word_vectors is None else hstack([word_vectors, char_vectors])
    dense = normalize(matrix).toarray()
    # A text with no features at all (blank, punctuation) stays on its own.
    rows = [i for i in range(len(texts)) if np.any(dense[i])]
    found = list(range(len(texts), 2 * len(texts)))
    if len(rows) >= 2:
        model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                        distance_threshold=threshold)
        with warnings.catch_warnings():
            # SciPy mistakes a 2×2 matrix for a distance matrix and says so; it is not.
            warnings.simplefilter("ignore", ClusterWarning)
            predicted = model.fit_predict(dense[rows])
        for i, label in zip(rows, predicted, strict=True):
            found[i] = int(label)
    return found


def title(texts: Sequence[str], others: Sequence[str]) -> str:
    """The words most used in `texts` and least elsewhere, in their commonest form."""
    inside: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        for word in set(words(text)):
            key = group_key(word)
            inside[key] += 1
            forms.setdefault(key, Counter())[word] += 1
    outside: Counter[str] = Counter(key for text in others for key in set(_stems(text)))
    scored = sorted(inside, key=lambda k: (-(inside[k] / len(texts)) +
                                           outside[k] / max(len(others), 1), k))
    chosen = [forms[key].most_common(1)[0][0] for key in scored[:TITLE_WORDS]
              if inside[key] > 1 or len(texts) == 1]
    return " · ".join(chosen) if chosen else texts[0][:40]


def suggest(texts: Sequence[str], threshold: float = DISTANCE_THRESHOLD) -> list[Suggestion]:
    """Groups of at least MIN_SIZE proposals, largest first, each with a title."""
    found = labels(texts, threshold)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(found):
        groups.setdefault(label, []).append(index)
    suggestions = []
    for members in groups.values():
        if len(members) < MIN_SIZE:
            continue
        inside = [texts[i] for i in members]
        outside = [t for i, t in enumerate(texts) if i not in set(members)]
        suggestions.append(Suggestion(title(inside, outside), tuple(members)))
    suggestions.sort(key=lambda s: (-len(s.members), s.members[0]))
    return suggestions
