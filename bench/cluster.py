"""Suggested themes: quality on the labelled sets, time to cluster 500 proposals, time to
embed a proposal, the models' load time and memory.

Usage: python bench/cluster.py               every figure the README reports
       python bench/cluster.py --calibrate   choose the thresholds and the reference centre
                                             on the dev sets only, write the centre, and
                                             the test sets' vectors that tests/test_themes.py
                                             clusters (it checks they are this engine's)

Four labelled sets in tests/data (theme<TAB>proposal): proposals_dev/test.tsv (words
shared within a theme: a quarter of same-theme pairs share a stem in the test set) and
paraphrases_dev/test.tsv (written apart, where 5% do). Thresholds are chosen on the two dev
sets (the mean of their adjusted Rand indexes), never on a test set. Two more, long_dev/test.tsv
(170 to 280 characters: a situation, then the idea), are reported alone and mixed into the
paraphrases of the same themes, as a séance where some people write a paragraph; the length
correction (clustering.without_length: the direction from short to long proposals, measured
on paraphrases_dev and long_dev together, taken out) is chosen on the dev sets too.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from facilitation import clustering, encoder  # noqa: E402

DEV = ("proposals_dev.tsv", "paraphrases_dev.tsv")
TEST = ("proposals_test.tsv", "paraphrases_test.tsv")
LONG = ("long_dev.tsv", "long_test.tsv")
GRID = np.round(np.arange(0.50, 1.20, 0.01), 2)
# Each model alone, for comparison: its two views.
ALONE = {"e5-small q4 alone": slice(0, 768), "USE v3 alone": slice(768, 1792)}
VECTORS = ROOT / "tests" / "data" / "themes_vectors.npz"


def load(name: str) -> tuple[list[str], list[str]]:
    rows = [line.split("\t", 1) for line in
            (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return [r[0] for r in rows], [r[1] for r in rows]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ari(themes: list[str], vectors: np.ndarray, views: tuple[int, ...],
        centre: np.ndarray | None, threshold: float, length: np.ndarray | None = None) -> float:
    features = clustering.without_length(clustering.centred(vectors, views, centre), length)
    return float(adjusted_rand_score(themes, clustering.labels_of(features, threshold)))


def mixed(sets: dict[str, tuple[list[str], list[str]]], vectors: dict[str, np.ndarray],
          which: str, correct: bool = True) -> tuple[float, int, int]:
    """A séance of paraphrases_<which> and long_<which> together: its adjusted Rand index,
    how many long proposals share the largest group of long ones, and how many there are."""
    short, long = f"paraphrases_{which}.tsv", f"long_{which}.tsv"
    themes = sets[short][0] + sets[long][0]
    features = clustering.centred(np.vstack([vectors[short], vectors[long]]), encoder.VIEWS,
                                  encoder.reference())
    if correct:
        features = clustering.without_length(features, encoder.length_direction())
    found = clustering.labels_of(features, clustering.VECTOR_THRESHOLD)
    heap = max(np.unique(found[len(sets[short][0]):], return_counts=True)[1])
    return float(adjusted_rand_score(themes, found)), int(heap), len(sets[long][0])


def reference_of(vectors: list[np.ndarray], views: tuple[int, ...]) -> np.ndarray:
    """The mean of the dev proposals, view by view (each row made unit length first)."""
    rows = np.vstack(vectors).astype(np.float64)
    parts, start = [], 0
    for width in views:
        block = rows[:, start:start + width]
        parts.append((block / np.linalg.norm(block, axis=1, keepdims=True)).mean(axis=0))
        start += width
    return np.concatenate(parts)


def choose(themes: dict[str, list[str]], vectors: dict[str, np.ndarray],
           views: tuple[int, ...], centre: np.ndarray | None,
           length: np.ndarray | None = None) -> tuple[float, float]:
    """The threshold with the best mean ARI over the dev sets, and that mean."""
    scores = [np.mean([ari(themes[n], vectors[n], views, centre, t, length) for n in DEV])
              for t in GRID]
    best = int(np.argmax(scores))
    return float(GRID[best]), float(scores[best])


def small_seances(themes: dict[str, list[str]], vectors: dict[str, np.ndarray],
                  size: int = 12, draws: int = 40) -> float:
    """Mean ARI over séances of `size` proposals drawn from 4 themes of the test sets."""
    rng = np.random.default_rng(0)
    centre = encoder.reference()
    scores = []
    for name in TEST:
        truth = np.array(themes[name])
        for _ in range(draws):
            chosen = rng.choice(sorted(set(truth)), size=4, replace=False)
            pool = np.flatnonzero(np.isin(truth, chosen))
            pick = rng.choice(pool, size=min(size, len(pool)), replace=False)
            scores.append(ari(list(truth[pick]), vectors[name][pick], encoder.VIEWS, centre,
                              clustering.VECTOR_THRESHOLD, encoder.length_direction()))
    return float(np.mean(scores))


def small_mixed(sets: dict[str, tuple[list[str], list[str]]], vectors: dict[str, np.ndarray],
                correct: bool = True, draws: int = 60) -> float:
    """Mean ARI over séances of 9 short and 3 long proposals from 3 themes of the test sets."""
    rng = np.random.default_rng(5)
    short, long = "paraphrases_test.tsv", "long_test.tsv"
    scores = []
    for _ in range(draws):
        chosen = rng.choice(sorted(set(sets[short][0])), size=3, replace=False)
        picks = [(name, rng.choice(np.flatnonzero(np.isin(sets[name][0], chosen)), size=k,
                                   replace=False)) for name, k in ((short, 9), (long, 3))]
        truth = [sets[name][0][i] for name, pick in picks for i in pick]
        rows = np.vstack([vectors[name][pick] for name, pick in picks])
        scores.append(ari(truth, rows, encoder.VIEWS, encoder.reference(),
                          clustering.VECTOR_THRESHOLD,
                          encoder.length_direction() if correct else None))
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    names = DEV + TEST + LONG
    sets = {n: load(n) for n in names}
    themes = {n: sets[n][0] for n in names}

    print("By shared words (TF-IDF, the fallback):")
    for name in names:
        found = clustering.labels(sets[name][1])
        print(f"  {name}: {len(found)} proposals, {len(set(themes[name]))} themes; "
              f"{len(set(found))} clusters; adjusted Rand index "
              f"{adjusted_rand_score(themes[name], found):.3f}")

    model = encoder.Encoder()
    before = rss_mib()
    started = time.perf_counter()
    model.load()
    print(f"\nModels loaded in {time.perf_counter() - started:.2f} s; resident memory "
          f"{before:.0f} MiB before, {rss_mib():.0f} MiB after")
    vectors, per = {}, []
    for name in names:
        started = time.perf_counter()
        vectors[name] = model.encode(sets[name][1])
        per.append((time.perf_counter() - started) / len(sets[name][1]))
    singles = []
    for text in sets[TEST[0]][1][:60]:
        started = time.perf_counter()
        model.encode([text])
        singles.append(time.perf_counter() - started)
    long = ("Il faudrait une navette gratuite qui passe dans tous les hameaux le mardi et le "
            "jeudi pour emmener les personnes âgées sans voiture jusqu'à la maison France "
            "Services du chef-lieu, avec un chauffeur bénévole qui attend la fin du rendez-vous")
    longs = []
    for i in range(15):
        started = time.perf_counter()
        model.encode([f"{long} ({i})"])
        longs.append(time.perf_counter() - started)
    print(f"Embedding one proposal: median {1000 * statistics.median(singles):.0f} ms "
          f"(p90 {1000 * sorted(singles)[int(0.9 * len(singles))]:.0f} ms); in batches "
          f"{1000 * statistics.mean(per):.0f} ms each; one of {len(long) + 5} characters "
          f"{1000 * statistics.median(longs):.0f} ms; resident memory now {rss_mib():.0f} MiB")
    # Stored as float16: what suggestions read back.
    vectors = {n: encoder.from_bytes(encoder.to_bytes(v)).reshape(v.shape)
               for n, v in vectors.items()}

    if args.calibrate:
        centre = reference_of([vectors[n] for n in DEV], encoder.VIEWS)
        # From short to long: the paraphrases and the long proposals of the dev sets, in one
        # séance's features.
        short, long = vectors["paraphrases_dev.tsv"], vectors["long_dev.tsv"]
        features = clustering.centred(np.vstack([short, long]), encoder.VIEWS, centre)
        length = features[len(short):].mean(axis=0) - features[:len(short)].mean(axis=0)
        length /= np.linalg.norm(length)
        np.savez(encoder.REFERENCE, engine=np.array(encoder.ENGINE),
                 centre=centre.astype(np.float32), length=length.astype(np.float32))
        np.savez_compressed(VECTORS, engine=np.array(encoder.ENGINE), **{
            name.removesuffix(".tsv"): vectors[name].astype(np.float16)
            for name in TEST + LONG[1:]})
        print(f"\nwrote {encoder.REFERENCE.relative_to(ROOT)} and "
              f"{VECTORS.relative_to(ROOT)}")
        threshold, score = choose(themes, vectors, encoder.VIEWS, centre, length)
        print(f"VECTOR_THRESHOLD = {threshold} (mean ARI on the dev sets {score:.3f})")
        words = [np.mean([adjusted_rand_score(themes[n], clustering.labels(sets[n][1], t))
                          for n in DEV]) for t in GRID]
        print(f"DISTANCE_THRESHOLD = {GRID[int(np.argmax(words))]} (TF-IDF; mean ARI on "
              f"the dev sets {max(words):.3f})")
        return

    centre = encoder.reference()
    print(f"\nBy meaning (engine {encoder.ENGINE}, threshold "
          f"{clustering.VECTOR_THRESHOLD} chosen on the dev sets):")
    for name in names:
        features = clustering.without_length(
            clustering.centred(vectors[name], encoder.VIEWS, centre), encoder.length_direction())
        found = clustering.labels_of(features, clustering.VECTOR_THRESHOLD)
        print(f"  {name}: {len(set(found))} clusters; adjusted Rand index "
              f"{adjusted_rand_score(themes[name], found):.3f}")
    for which in ("dev", "test"):
        score, heap, count = mixed(sets, vectors, which)
        before, heap_before, _ = mixed(sets, vectors, which, correct=False)
        print(f"  paraphrases_{which} and long_{which} in one séance: adjusted Rand index "
              f"{score:.3f}, at most {heap} of the {count} long proposals in one group "
              f"(without the length correction {before:.3f}, {heap_before} of {count})")
    print(f"  small séances of 9 short and 3 long proposals from 3 themes of the test sets "
          f"(60 draws): mean adjusted Rand index {small_mixed(sets, vectors):.3f} (without the "
          f"length correction {small_mixed(sets, vectors, correct=False):.3f})")
    print(f"  small séances (12 proposals from 4 themes of the test sets, 80 draws): mean "
          f"adjusted Rand index {small_seances(themes, vectors):.3f}")
    for label, columns in ALONE.items():
        alone = {n: v[:, columns] for n, v in vectors.items()}
        views = tuple(w for w in encoder.VIEWS[:2]) if columns.start == 0 \
            else tuple(encoder.VIEWS[2:])
        own = reference_of([alone[n] for n in DEV], views)
        threshold, _ = choose(themes, alone, views, own)
        scores = ", ".join(f"{n} {ari(themes[n], alone[n], views, own, threshold):.3f}"
                           for n in names)
        print(f"  {label} (its own threshold {threshold} on the dev sets): {scores}")

    # 500 proposals with stored vectors: the test sets over again, each copy varied a little.
    texts = sets[TEST[0]][1] + sets[TEST[1]][1]
    stored = np.vstack([vectors[TEST[0]], vectors[TEST[1]]])
    rng = np.random.default_rng(1)
    many = [f"{t} {['svp', 'merci', 'vite'][i // len(texts)]}"
            for i, t in enumerate(texts * 2)][:500]
    many_vectors = np.vstack([stored, stored])[:500]
    many_vectors = many_vectors + rng.normal(0, 0.01, many_vectors.shape).astype(np.float32)
    for label, run in (("by meaning, vectors stored", lambda: clustering.suggest(
            many, many_vectors, encoder.VIEWS, centre)),
                       ("by shared words", lambda: clustering.suggest(many))):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            found = run()
            times.append(time.perf_counter() - started)
        print(f"500 proposals {label}: median {statistics.median(times):.2f} s over 5 runs "
              f"(min {min(times):.2f} s, max {max(times):.2f} s), {len(found)} suggestions")


if __name__ == "__main__":
    main()
