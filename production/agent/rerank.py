"""Re-ranking the knowledge-base candidates of one search, in this process.

The database returns up to `CANDIDATES` passages from its two halves (the vector index and the
English full-text index). They are re-ordered here by

    cosine(question, passage) + TITLE_WEIGHT · cosine(question, title)
                              + LEXICAL_WEIGHT · BM25(question, passage)
                                               / max(best BM25, LEXICAL_FLOOR)

The passage's own cosine is the meaning; the title's says what the passage is *about*; BM25
over the candidates (`lexical`) weighs the words the question shares with a passage by how rare
they are among them, which is what separates neighbours that the embedding puts close ("Two-
factor authentication" and "Recovery codes", "Using the trash" and "Restoring deleted items").
Titles are embedded once per process and embedding model (`_TitleVectors`).

Measured with `fte eval` on context/sample-tickets.json, answer topic hit rate over its 80
answerable questions (closings excluded): the database's fused rank 0.626 (before the widened
docs); cosine + 0.3 title + 0.1 relative `ts_rank` (the previous re-ranker) 0.725; with BM25 in
place of `ts_rank`: title 0.15 and BM25 0.1 / 0.15 → 0.800 / 0.812, BM25 with a light stemmer
0.825 (keeping `ts_rank` as well: 0.762, so it went); MIN_SIMILARITY 0.22 → 0.20 in
`operations` 0.838; BM25 relative to max(best, `LEXICAL_FLOOR`) rather than to the best alone
0.838 as well, and 4 more questions right on the seen held-out file (heldout-tickets.json),
where one shared common word ("clicking", "install") had given a passage the whole weight. An
offline grid over the same questions (all passages, no database) put the
plateau at title 0.15, BM25 0.1-0.2; weighting the question's "?" sentences, a title-overlap
term or the question's best sentence added nothing. A question that names the topic ("the API
rate limit") adds `NAMED_BONUS`. For a question in another language BM25 drops that
language's function words (`language.detect`): "comment" in "Comment activer …" found "Email
notifications" (BM25 off for such questions: 0.825, the French SSO question lost its "SSO").
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Final

import numpy as np

from production.agent import language, lexical
from production.database.queries.reference import KnowledgeHit
from production.embeddings import Embedder

CANDIDATES: Final = 20
# Added when the question names the passage's topic: its title's words in a row ("the API rate
# limit" for "API rate limits"), singular or plural.
NAMED_BONUS: Final = 0.05
TITLE_WEIGHT: Final = 0.15
LEXICAL_WEIGHT: Final = 0.15
# The BM25 score a best candidate needs to count fully (the sample set's questions: median best
# 10.7, lowest decile 4.0).
LEXICAL_FLOOR: Final = 8.0


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
    """Return (score, row) for every candidate, best first (rows carry title, content and
    similarity as `reference.search_knowledge` returns them; `query` is the question's text)."""
    if not rows:
        return []
    titles = await _TITLES.of(embedder, [base_title(row.title) for row in rows])
    about = np.asarray(titles, dtype=np.float32) @ np.asarray(question, dtype=np.float32)
    # BM25 over these candidates (the question's language decides its stop words).
    shared = lexical.scores(query, [(base_title(row.title), row.content) for row in rows],
                            language=language.detect(query))
    # Relative to the best candidate, but never to less than LEXICAL_FLOOR: when the question
    # shares only a word or two with any passage, the best of them is no strong evidence.
    best = max(max(shared), LEXICAL_FLOOR)
    scored = [((row.similarity or 0.0) + TITLE_WEIGHT * float(title_cos)
               + LEXICAL_WEIGHT * words / best
               + (NAMED_BONUS if names_topic(query, base_title(row.title)) else 0.0), row)
              for row, title_cos, words in zip(rows, about.tolist(), shared, strict=True)]
    return sorted(scored, key=lambda pair: -pair[0])
