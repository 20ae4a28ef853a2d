"""Reference data: tenants, channel settings, the knowledge base and agent metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from pgvector import Vector

from production.database.pool import Connection
from production.domain.formatting import ChannelStyle


async def tenant_ids(conn: Connection) -> list[str]:
    return [row["id"] for row in await conn.fetch("SELECT id FROM tenants ORDER BY id")]


async def channel_style(conn: Connection, tenant_id: str, channel: str) -> ChannelStyle | None:
    row = await conn.fetchrow(
        """
        SELECT channel, tone, max_response_length, length_unit, split_at, greeting, signature
        FROM channel_configs WHERE tenant_id = $1 AND channel = $2
        """,
        tenant_id,
        channel,
    )
    if row is None:
        return None
    return ChannelStyle(
        channel=row["channel"],
        tone=row["tone"],
        max_length=row["max_response_length"],
        length_unit=row["length_unit"],
        split_at=row["split_at"],
        greeting=row["greeting"],
        signature=row["signature"],
    )


# Reciprocal-rank fusion constant: a passage ranked r-th by one search adds 1 / (RRF_K + r).
RRF_K = 60
# How many candidates each of the two searches contributes before fusion.
CANDIDATES = 20
# The full-text half ORs this many of the question's lexemes, the rarest in the tenant's
# knowledge base first (`knowledge_lexemes`). Common lexemes match most passages, and ranking
# them all is what made the search slow; they carry little signal anyway. Measured: 3 gave the
# best answer-topic hit rate on context/sample-tickets.json (0.737; 5 and 8: 0.702) and the
# lowest p95 at 10k passages.
RARE_LEXEMES = 3


@dataclass(frozen=True)
class KnowledgeHit:
    """A passage the hybrid search found: `score` fused, `similarity` cosine (0..1; None when
    only the text matched), `text_rank` (None when only the vector matched)."""

    id: UUID
    title: str
    content: str
    category: str | None
    score: float
    similarity: float | None
    text_rank: float | None


@dataclass(frozen=True)
class NearestPassage:
    id: UUID
    similarity: float


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


async def search_knowledge(
    conn: Connection, tenant_id: str, query: str, vector: Sequence[float], *, model: str,
    limit: int = 5,
) -> list[KnowledgeHit]:
    """Return the best passages by reciprocal-rank fusion of vector and full-text search.

    Each row has `score` (fused), `similarity` (cosine, 0..1; NULL when only the text matched)
    and `text_rank` (NULL when only the vector matched). The vector half uses the HNSW index;
    the text half ORs the question's rarest lexemes, so a long message still matches a short
    passage and costs a few index lookups. The text query is built first, in its own round
    trip, so the planner sees it: computed inside the statement, it was unknown at planning,
    and a sequential scan testing all 10k passages was sometimes chosen over the GIN index
    (17 ms instead of 3 ms at 10k passages).
    """
    text_query: str | None = await conn.fetchval(
        """
        SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | '))::text
        FROM (
            SELECT kl.lexeme
            FROM knowledge_lexemes kl
            WHERE kl.tenant_id = $1
              AND kl.lexeme = ANY (tsvector_to_array(to_tsvector('english', $2)))
              -- backslashes and quotes would need tsquery escaping; such are skipped
              AND strpos(kl.lexeme, chr(92)) = 0 AND strpos(kl.lexeme, chr(39)) = 0
            ORDER BY kl.ndoc, kl.lexeme
            LIMIT $3
        ) rare
        """,
        tenant_id, query, RARE_LEXEMES,
    )
    rows = await conn.fetch(
        """
        WITH vec AS (
            SELECT id, 1 - distance AS similarity, row_number() OVER (ORDER BY distance) AS rank
            FROM (
                SELECT id, embedding <=> $3 AS distance
                FROM knowledge_base
                WHERE tenant_id = $1 AND embedding_model = $4
                ORDER BY embedding <=> $3
                LIMIT $5
            ) nearest
        ),
        fts AS (
            SELECT id, text_rank, row_number() OVER (ORDER BY text_rank DESC) AS rank
            FROM (
                SELECT kb.id, ts_rank(kb.search_tsv, $2::tsquery) AS text_rank
                FROM knowledge_base kb
                WHERE kb.tenant_id = $1 AND $2::tsquery IS NOT NULL
                  AND kb.search_tsv @@ $2::tsquery
                ORDER BY text_rank DESC, kb.id
                LIMIT $5
            ) matched
        )
        SELECT kb.id, kb.title, kb.content, kb.category,
               coalesce(1.0 / ($6 + vec.rank), 0) + coalesce(1.0 / ($6 + fts.rank), 0) AS score,
               vec.similarity, fts.text_rank
        FROM vec FULL JOIN fts ON fts.id = vec.id
        JOIN knowledge_base kb ON kb.tenant_id = $1 AND kb.id = coalesce(vec.id, fts.id)
        ORDER BY score DESC, vec.similarity DESC NULLS LAST
        LIMIT $7
        """,
        # NULL when no lexeme of the question is in the knowledge base: no text half.
        tenant_id, text_query, as_vector(vector), model, CANDIDATES, RRF_K, limit,
    )
    return [KnowledgeHit(id=row["id"], title=row["title"], content=row["content"],
                         category=row["category"], score=float(row["score"]),
                         similarity=_float(row["similarity"]), text_rank=_float(row["text_rank"]))
            for row in rows]


async def refresh_lexemes(conn: Connection, tenant_id: str) -> int:
    """Recount the tenant's lexeme frequencies after its passages changed; return how many."""
    count: int = await conn.fetchval("SELECT fte_refresh_knowledge_lexemes($1)", tenant_id)
    return count


async def nearest_knowledge(
    conn: Connection, tenant_id: str, vector: Sequence[float], *, model: str, limit: int = 5,
) -> list[NearestPassage]:
    """Return the nearest passages by cosine distance alone (the index's half of the search)."""
    rows = await conn.fetch(
        """
        SELECT id, 1 - (embedding <=> $2) AS similarity
        FROM knowledge_base
        WHERE tenant_id = $1 AND embedding_model = $3
        ORDER BY embedding <=> $2
        LIMIT $4
        """,
        tenant_id, as_vector(vector), model, limit,
    )
    return [NearestPassage(id=row["id"], similarity=float(row["similarity"])) for row in rows]


async def uncovered_subjects(
    conn: Connection, tenant_id: str, phrases: Sequence[str], exact: Sequence[bool]
) -> list[str]:
    """Return the phrases no single passage of the tenant's knowledge base mentions.

    An exact phrase must appear as written (`phraseto_tsquery`); otherwise all of its words
    must appear in one passage (`plainto_tsquery`). Both stem with the English configuration,
    like the passages' `search_tsv`. A phrase with no searchable word counts as covered.
    """
    rows = await conn.fetch(
        """
        SELECT s.phrase
        FROM unnest($2::text[], $3::boolean[]) WITH ORDINALITY AS s (phrase, exact, n),
             LATERAL (SELECT CASE WHEN s.exact THEN phraseto_tsquery('english', s.phrase)
                                  ELSE plainto_tsquery('english', s.phrase) END AS query) q
        WHERE numnode(q.query) > 0
          AND NOT EXISTS (SELECT 1 FROM knowledge_base kb
                          WHERE kb.tenant_id = $1 AND kb.search_tsv @@ q.query)
        ORDER BY s.n
        """,
        tenant_id, list(phrases), list(exact),
    )
    return [row["phrase"] for row in rows]


def as_vector(vec: Sequence[float]) -> Vector:
    """Return the vector as a query parameter (pgvector's binary codec, registered by the pool;
    it stores float4); ValueError for a value that is not a finite number."""
    values = [float(x) for x in vec]
    if not all(math.isfinite(x) for x in values):
        raise ValueError("a vector for pgvector must hold finite numbers only")
    return Vector(values)


async def count_knowledge(conn: Connection, tenant_id: str, *, model: str | None = None) -> int:
    """Return how many passages the tenant has (embedded by `model`, when given)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM knowledge_base WHERE tenant_id = $1 "
        "AND ($2::text IS NULL OR embedding_model = $2)", tenant_id, model)
    return count


async def knowledge_hashes(
    conn: Connection, tenant_id: str, source: str
) -> dict[str, tuple[str | None, str | None]]:
    """Return title → (content hash, embedding model) for one source document's passages."""
    rows = await conn.fetch(
        "SELECT title, content_hash, embedding_model FROM knowledge_base "
        "WHERE tenant_id = $1 AND source = $2",
        tenant_id, source,
    )
    return {row["title"]: (row["content_hash"], row["embedding_model"]) for row in rows}


async def upsert_knowledge(
    conn: Connection, tenant_id: str, *, title: str, content: str, category: str | None,
    source: str, content_hash: str, embedding: Sequence[float], model: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO knowledge_base (tenant_id, title, content, category, source, content_hash,
                                    embedding, embedding_model)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, source, title)
        DO UPDATE SET content = EXCLUDED.content, category = EXCLUDED.category,
                      content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding,
                      embedding_model = EXCLUDED.embedding_model, updated_at = now()
        """,
        tenant_id, title, content, category, source, content_hash, as_vector(embedding), model,
    )


async def delete_knowledge_except(
    conn: Connection, tenant_id: str, source: str, titles: Sequence[str]
) -> int:
    """Delete a source document's passages that are no longer in it; return how many."""
    result = await conn.execute(
        "DELETE FROM knowledge_base WHERE tenant_id = $1 AND source = $2 "
        "AND NOT (title = ANY($3::text[]))",
        tenant_id, source, list(titles),
    )
    return int(result.split()[-1])
