"""Suggested themes as the facilitator and the organiser ask for them: the proposals'
vectors (stored, or made now), then the clustering, in a thread so the event loop stays
free; by shared words when the model is off or cannot be loaded."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from facilitation import clustering, encoder
from facilitation.clustering import MIN_SIZE, Suggestion
from facilitation.embedder import Embedder

__all__ = ["MIN_SIZE", "Suggestion", "by_meaning", "suggest"]


def by_meaning(embedder: Embedder | None) -> bool:
    """Whether suggestions go by meaning here (until the model fails to load, it is so)."""
    return embedder is not None and embedder.enabled


async def suggest(embedder: Embedder | None,
                  items: Sequence[tuple[int | None, str]]) -> list[Suggestion]:
    """Given (proposal id or None for a bare text, text) pairs, the suggested groups."""
    texts = [text for _, text in items]
    vectors = await embedder.vectors(items) if embedder is not None else None
    if vectors is None:
        return await asyncio.to_thread(clustering.suggest, texts)
    return await asyncio.to_thread(clustering.suggest, texts, vectors, encoder.VIEWS,
                                   encoder.reference(), None, encoder.length_direction())
