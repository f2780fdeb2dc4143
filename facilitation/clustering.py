"""Suggested themes from the French text of proposals. Pure: texts (and their vectors) in,
groups out.

With vectors from the sentence encoder (facilitation/encoder.py), proposals that say the
same thing in other words are close. Each view of the vector is centred on what the séance
has in common, so what every proposal talks about ("numérique") does not pull them all
together; a small séance is centred mostly on a reference (proposals in general), as its own
mean is too noisy. Without vectors (the model could not be loaded), each proposal becomes a
TF-IDF vector over stemmed words and character n-grams, as before. Either way agglomerative
clustering (cosine, average linkage) with a distance threshold chooses the number of themes.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import ClusterWarning, fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from facilitation.words import expand_sms, group_key, strip_accents, words

# Chosen on tests/data/proposals_dev.tsv and paraphrases_dev.tsv (`bench/cluster.py
# --calibrate`), never on the test sets the README reports.
DISTANCE_THRESHOLD = 0.88  # TF-IDF features (the fallback)
VECTOR_THRESHOLD = 0.95  # the encoder's vectors, centred
# How many proposals the séance's own mean weighs against the reference mean: below ~20
# proposals the reference mostly decides what "in common" is.
PRIOR_WEIGHT = 20.0
MIN_SIZE = 2
TITLE_WORDS = 3
TITLE_LENGTH = 60
# A word in more than this share of a séance's proposals is everywhere: never a title.
EVERYWHERE = 0.25
# Words that say how one feels about a thing, not what it is about: never a title.
NOT_A_TITLE = frozenset("""sais sait savais veux voudrais voudrait faudrait pourrait peut
possible dur difficile compliqué besoin merci plaît svp jamais personne
quelqu aujourd hui presqu aller""".split())  # the last ones: "quelqu'un", cut at its apostrophe


@dataclass(frozen=True)
class Suggestion:
    title: str
    members: tuple[int, ...]  # indexes into the proposals given


def _stems(text: str) -> list[str]:
    return [group_key(word) for word in words(text)]


def _normalized(text: str) -> str:
    return strip_accents(text.lower())


# Features ---------------------------------------------------------------------------------


def word_features(texts: Sequence[str]) -> np.ndarray:
    """TF-IDF over stems and character 3–5-grams, one unit row per text (zeros: nothing
    to go on)."""
    if not texts:
        return np.zeros((0, 0))
    try:
        char_vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5),
                                       sublinear_tf=True,
                                       preprocessor=_normalized).fit_transform(texts)
    except ValueError:  # nothing but blanks or one-letter words
        return np.zeros((len(texts), 1))
    blocks = [char_vectors]
    if any(_stems(t) for t in texts):
        blocks.insert(0, TfidfVectorizer(analyzer=_stems, sublinear_tf=True)
                      .fit_transform(texts))
    dense = np.hstack([b.toarray() for b in blocks])
    return np.asarray(normalize(dense))


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def centred(vectors: np.ndarray, views: Sequence[int],
            reference: np.ndarray | None = None) -> np.ndarray:
    """The encoder's vectors (views side by side, `views` their widths), each view unit
    length and centred on what the séance has in common (shrunk towards `reference` for a
    small séance), side by side again: the dot product of two rows is the mean of their
    cosine similarities over the views."""
    blocks, start, n = [], 0, len(vectors)
    for width in views:
        view = _unit(np.asarray(vectors[:, start:start + width], dtype=np.float64))
        mean = view.mean(axis=0) if n else np.zeros(width)
        if reference is not None:
            mean = (n * mean + PRIOR_WEIGHT * reference[start:start + width]) / \
                (n + PRIOR_WEIGHT)
        blocks.append(_unit(view - mean) / np.sqrt(len(views)))
        start += width
    return np.hstack(blocks) if blocks else np.zeros((n, 0))


def without_length(features: np.ndarray, direction: np.ndarray | None) -> np.ndarray:
    """`centred` features with the direction that follows a proposal's length taken out,
    each row unit length again. Long proposals (a few sentences: a situation, then the
    idea) sit near each other in the encoders' space whatever they ask for; `direction`
    (encoder.length_direction) goes from short to long proposals, measured on the dev sets."""
    if direction is None or not len(features):
        return features
    return _unit(features - np.outer(features @ direction, direction))


def labels_of(features: np.ndarray, threshold: float) -> list[int]:
    """A cluster label per unit row (numbers carry no meaning): average linkage on cosine
    distance, cut at `threshold`. A row of zeros (nothing to go on) stays on its own."""
    n = len(features)
    found = list(range(n, 2 * n))
    rows = [i for i in range(n) if np.any(features[i])]
    if len(rows) < 2:
        return found
    kept = features[rows]
    distance = np.clip(1.0 - kept @ kept.T, 0.0, 2.0)
    distance = (distance + distance.T) / 2
    np.fill_diagonal(distance, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClusterWarning)
        tree = linkage(squareform(distance, checks=False), "average")
    for i, label in zip(rows, fcluster(tree, threshold, "distance"), strict=True):
        found[i] = int(label)
    return found


def labels(texts: Sequence[str], threshold: float = DISTANCE_THRESHOLD) -> list[int]:
    """A cluster label per text, by shared words (the engine without the model)."""
    if len(texts) < 2:
        return [0] * len(texts)
    return labels_of(word_features(texts), threshold)


# Titles -----------------------------------------------------------------------------------


def shorten(text: str, limit: int = TITLE_LENGTH) -> str:
    """The text on one line, cut at a word before `limit` characters (with "…")."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.!?-–'’(") + "…"


def central(features: np.ndarray, members: Sequence[int],
            texts: Sequence[str] | None = None) -> int:
    """The member closest on average to the others (the first one if they all tie). With
    the `texts`, one short enough to title the group whole where the group has one: a
    paragraph cut at TITLE_LENGTH says its situation, not its idea."""
    candidates = list(range(len(members)))
    if texts is not None:
        short = [i for i in candidates if len(" ".join(texts[members[i]].split())) <= TITLE_LENGTH]
        candidates = short or candidates
    if len(members) < 3:
        return members[candidates[0]]
    rows = features[list(members)]
    similarity = (rows @ rows.T).sum(axis=1)
    return members[max(candidates, key=lambda i: (similarity[i], -i))]


def _keys(text: str) -> dict[str, str]:
    """The text's word groups (SMS spellings written out), each with the form it used."""
    return {group_key(word): word for word in words(expand_sms(text))
            if word not in NOT_A_TITLE}


def title(texts: Sequence[str], others: Sequence[str], centre: str | None = None) -> str:
    """The words most of `texts` use and the rest of the séance (`others`) does not, in
    their commonest form; when they share none, `centre` (the most central proposal)
    shortened at a word. A word used everywhere in the séance is never a title."""
    seance: Counter[str] = Counter()
    for text in others:
        seance.update(_keys(text).keys())
    keyed = [_keys(text) for text in texts]
    for keys in keyed:
        seance.update(keys.keys())
    return _title(keyed, seance, len(texts) + len(others), centre or texts[0])


def _title(keyed: Sequence[dict[str, str]], seance: Counter[str], total: int,
           centre: str) -> str:
    inside: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for keys in keyed:
        for key, word in keys.items():
            inside[key] += 1
            forms.setdefault(key, Counter())[word] += 1
    size, others = len(keyed), max(total - len(keyed), 1)

    def lift(key: str) -> float:
        return inside[key] / size - (seance[key] - inside[key]) / others

    chosen = [key for key in inside
              if inside[key] >= 2 and inside[key] / size >= 0.5
              and (seance[key] - inside[key]) / others * 2 <= inside[key] / size
              and (total < 8 or seance[key] / total <= EVERYWHERE)]
    # Ties in the order the most central proposal says them ("navette · gratuite").
    said = {key: place for place, key in enumerate(_keys(centre))}
    chosen.sort(key=lambda k: (-round(lift(k), 6), said.get(k, len(said)), k))
    if chosen:
        return " · ".join(forms[key].most_common(1)[0][0] for key in chosen[:TITLE_WORDS])
    return shorten(centre)


# Suggestions ------------------------------------------------------------------------------


def suggest(texts: Sequence[str], vectors: np.ndarray | None = None,
            views: Sequence[int] = (), reference: np.ndarray | None = None,
            threshold: float | None = None,
            length: np.ndarray | None = None) -> list[Suggestion]:
    """Groups of at least MIN_SIZE proposals, largest first, each with a title. With
    `vectors` (a row per text, `views` their widths) by meaning, else by shared words;
    `reference` and `length` are the encoder's (encoder.reference, length_direction)."""
    if len(texts) < MIN_SIZE:
        return []
    if vectors is not None:
        features = without_length(centred(vectors, views or (vectors.shape[1],), reference),
                                  length)
        found = labels_of(features, VECTOR_THRESHOLD if threshold is None else threshold)
    else:
        features = word_features(texts)
        found = labels_of(features, DISTANCE_THRESHOLD if threshold is None else threshold)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(found):
        groups.setdefault(label, []).append(index)
    keyed = [_keys(text) for text in texts]
    seance: Counter[str] = Counter(key for keys in keyed for key in keys)
    suggestions = []
    for members in groups.values():
        if len(members) < MIN_SIZE:
            continue
        centre = texts[central(features, members, texts)]
        suggestions.append(Suggestion(_title([keyed[i] for i in members], seance, len(texts),
                                             centre), tuple(members)))
    suggestions.sort(key=lambda s: (-len(s.members), s.members[0]))
    return suggestions
