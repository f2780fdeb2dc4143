"""Suggested themes: quality on the labelled test set, and time to cluster 500 proposals.

Usage: python bench/cluster.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from facilitation import clustering  # noqa: E402


def load(name: str) -> tuple[list[str], list[str]]:
    rows = [line.split("\t", 1) for line in
            (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return [r[0] for r in rows], [r[1] for r in rows]


def main() -> None:
    for name in ("proposals_dev.tsv", "proposals_test.tsv"):
        themes, texts = load(name)
        found = clustering.labels(texts)
        print(f"{name}: {len(texts)} proposals, {len(set(themes))} themes; "
              f"{len(set(found))} clusters; adjusted Rand index "
              f"{adjusted_rand_score(themes, found):.3f}")
    _, texts = load("proposals_test.tsv")
    # 500 proposals: the test set three times over, each copy slightly varied.
    many = [f"{text} {['svp', 'merci', 'vite'][i // len(texts)]}"
            for i, text in enumerate(texts * 3)][:500]
    times = []
    for _ in range(5):
        started = time.perf_counter()
        clustering.suggest(many)
        times.append(time.perf_counter() - started)
    print(f"500 proposals: median {statistics.median(times):.2f} s over 5 runs "
          f"(min {min(times):.2f} s, max {max(times):.2f} s)")


if __name__ == "__main__":
    main()
