"""Re-ranking the knowledge-base candidates of one search, in this process.

The database returns up to `CANDIDATES` passages from its two halves (the vector index and the
English full-text index). They are re-ordered here by

    cosine(question, passage) + TITLE_WEIGHT · cosine(question, title) + TEXT_BONUS · [full-text]

The passage's own cosine is the meaning; the title's says what the passage is *about*, which
separates neighbours that share vocabulary ("Changing your password" and "Sign-in problems");
a full-text match adds a little for an exact term (an error code, a product name). Titles are
embedded once per process and embedding model (`_TitleVectors`). Measured on the answerable
tickets of context/sample-tickets.json (answer topic hit rate of `fte eval`, see
specs/heldout-tickets.md): fused rank 0.626, cosine alone 0.759, + text bonus 0.783, + title.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from production.embeddings import Embedder

CANDIDATES: Final = 20
TITLE_WEIGHT: Final = 0.3
TEXT_BONUS: Final = 0.03


class _TitleVectors:
    """Title → unit vector per embedding model, filled as titles are first seen."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], list[float]] = {}
        self._lock = asyncio.Lock()

    async def of(self, embedder: Embedder, titles: Sequence[str]) -> list[list[float]]:
        missing = sorted({t for t in titles if (embedder.name, t) not in self._vectors})
        if missing:
            async with self._lock:
                missing = [t for t in missing if (embedder.name, t) not in self._vectors]
                if missing:
                    for title, vector in zip(missing, await embedder.embed(missing),
                                             strict=True):
                        self._vectors[(embedder.name, title)] = vector
        return [self._vectors[(embedder.name, t)] for t in titles]


_TITLES = _TitleVectors()


def base_title(title: str) -> str:
    """Return a passage's title without the " (part N)" of a split section."""
    head, sep, tail = title.rpartition(" (part ")
    return head if sep and tail.endswith(")") and tail[:-1].isdigit() else title


async def rerank(embedder: Embedder, question: Sequence[float],
                 rows: Sequence[Any]) -> list[tuple[float, Any]]:
    """Return (score, row) for every candidate, best first (rows carry title, similarity and
    text_rank as `reference.search_knowledge` returns them)."""
    if not rows:
        return []
    titles = await _TITLES.of(embedder, [base_title(str(row["title"])) for row in rows])
    about = np.asarray(titles, dtype=np.float32) @ np.asarray(question, dtype=np.float32)
    scored = [(float(row["similarity"] or 0.0) + TITLE_WEIGHT * float(title_cos)
               + (TEXT_BONUS if row["text_rank"] is not None else 0.0), row)
              for row, title_cos in zip(rows, about.tolist(), strict=True)]
    return sorted(scored, key=lambda pair: -pair[0])
