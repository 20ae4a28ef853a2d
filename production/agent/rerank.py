"""Re-ranking the knowledge-base candidates of one search, in this process.

The database returns up to `CANDIDATES` passages from its two halves (the vector index and the
English full-text index). They are re-ordered here by

    cosine(question, passage) + TITLE_WEIGHT · cosine(question, title)
                              + TEXT_BONUS · text_rank / best text_rank of the candidates

The passage's own cosine is the meaning; the title's says what the passage is *about*, which
separates neighbours that share vocabulary ("Mobile app" and "Troubleshooting the mobile app");
the full-text rank adds a little for the exact terms ("rate limit" in "What is the API rate
limit per key?", which the multilingual model puts nearer "API keys"). Titles are embedded once
per process and embedding model (`_TitleVectors`). Measured with `fte eval` on
context/sample-tickets.json (answer topic hit rate over its 83 answerable tickets; the widened
docs, MIN_SIMILARITY 0.22): title weight 0 / 0.15 / 0.3 / 0.5 → 0.723 / 0.747 / 0.759 / 0.747
(with a flat 0.03 full-text bonus); then text weight as a flat 0.03 / relative 0.1 / relative
0.2 → 0.747 / 0.759 / 0.711; a question that names the topic ("the API rate limit") adds
`NAMED_BONUS` (0.759 either way on the sample set; it decides "What is the API rate limit per
key?", which `tests/integration/test_agent_brain.py` asks). Those runs dropped greetings and
signatures from the query, since taken out: 0.735 as it stands. Before re-ranking (the
database's fused rank) it was 0.626.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Final

import numpy as np

from production.database.queries.reference import KnowledgeHit
from production.embeddings import Embedder

CANDIDATES: Final = 20
# Added when the question names the passage's topic: its title's words in a row ("the API rate
# limit" for "API rate limits"), singular or plural.
NAMED_BONUS: Final = 0.05
TITLE_WEIGHT: Final = 0.3
TEXT_BONUS: Final = 0.1


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


def _stems(text: str) -> list[str]:
    return [word[:-1] if len(word) > 3 and word.endswith("s") else word
            for word in re.findall(r"[a-z0-9]+", text.lower())]


def names_topic(query: str, title: str) -> bool:
    """Return whether the query says the title's words in a row (a title of two words or more:
    one word is too common to name a topic)."""
    words = _stems(title)
    if len(words) < 2:
        return False
    said = f" {' '.join(_stems(query))} "
    return f" {' '.join(words)} " in said


async def rerank(embedder: Embedder, question: Sequence[float], rows: Sequence[KnowledgeHit], *,
                 query: str = "") -> list[tuple[float, KnowledgeHit]]:
    """Return (score, row) for every candidate, best first (rows carry title, similarity and
    text_rank as `reference.search_knowledge` returns them; `query` is the question's text)."""
    if not rows:
        return []
    titles = await _TITLES.of(embedder, [base_title(row.title) for row in rows])
    about = np.asarray(titles, dtype=np.float32) @ np.asarray(question, dtype=np.float32)
    # The full-text rank relative to the best of these candidates (0 when it did not match).
    ranks = [row.text_rank or 0.0 for row in rows]
    best = max(ranks) or 1.0
    scored = [((row.similarity or 0.0) + TITLE_WEIGHT * float(title_cos)
               + TEXT_BONUS * rank / best
               + (NAMED_BONUS if names_topic(query, base_title(row.title)) else 0.0), row)
              for row, title_cos, rank in zip(rows, about.tolist(), ranks, strict=True)]
    return sorted(scored, key=lambda pair: -pair[0])
