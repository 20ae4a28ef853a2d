"""Reference data: tenants, channel settings, the knowledge base and agent metrics."""

from __future__ import annotations

import asyncpg

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


async def search_knowledge(
    conn: Connection, tenant_id: str, query: str, *, limit: int = 5
) -> list[asyncpg.Record]:
    """Return full-text matches for the query, best first, with their rank as score."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, title, content, category,
               ts_rank(search_tsv, websearch_to_tsquery('english', $2)) AS score
        FROM knowledge_base
        WHERE tenant_id = $1 AND search_tsv @@ websearch_to_tsquery('english', $2)
        ORDER BY score DESC LIMIT $3
        """,
        tenant_id,
        query,
        limit,
    )
    return rows


async def count_knowledge(conn: Connection, tenant_id: str) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM knowledge_base WHERE tenant_id = $1", tenant_id)
    return count


async def upsert_knowledge(
    conn: Connection, tenant_id: str, *, title: str, content: str, category: str | None,
    source: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO knowledge_base (tenant_id, title, content, category, source)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (tenant_id, source, title)
        DO UPDATE SET content = EXCLUDED.content, category = EXCLUDED.category, updated_at = now()
        """,
        tenant_id,
        title,
        content,
        category,
        source,
    )
