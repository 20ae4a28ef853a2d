"""The Gmail mailboxes: where each one's sync stands, and its push watch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from production.database.pool import Connection


@dataclass(frozen=True)
class StoredMailbox:
    """Where a mailbox's sync stands, and its push watch."""

    tenant_id: str
    address: str
    history_id: int | None  # None until the first sync or watch
    watch_expires_at: datetime | None
    last_sync_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class StoredWatch:
    """A mailbox's push watch as stored: where its sync starts, and when the watch expires."""

    history_id: int
    watch_expires_at: datetime


async def lock_mailbox(conn: Connection, tenant_id: str, address: str) -> StoredMailbox:
    """Create the mailbox row if needed and lock it until the caller's transaction ends.

    A concurrent sync of the same mailbox waits here, then sees where this one left off.
    """
    await conn.execute(
        "INSERT INTO gmail_mailboxes (tenant_id, address) VALUES ($1, $2) "
        "ON CONFLICT (tenant_id, address) DO NOTHING",
        tenant_id, address,
    )
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT tenant_id, address, history_id, watch_expires_at, last_sync_at, updated_at "
        "FROM gmail_mailboxes WHERE tenant_id = $1 AND address = $2 FOR UPDATE",
        tenant_id, address,
    )
    assert row is not None
    return StoredMailbox(**row)


async def get_mailbox(conn: Connection, tenant_id: str,
                      address: str) -> StoredMailbox | None:
    """Return the mailbox's sync and watch state, or None when it was never synced or watched."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT tenant_id, address, history_id, watch_expires_at, last_sync_at, updated_at "
        "FROM gmail_mailboxes WHERE tenant_id = $1 AND address = $2",
        tenant_id, address,
    )
    return None if row is None else StoredMailbox(**row)


async def advance_history(conn: Connection, tenant_id: str, address: str,
                          history_id: int) -> int:
    """Record a finished sync; the historyId never moves back. Return the stored one."""
    stored: int = await conn.fetchval(
        """
        UPDATE gmail_mailboxes
        SET history_id = GREATEST(coalesce(history_id, 0), $3), last_sync_at = now(),
            updated_at = now()
        WHERE tenant_id = $1 AND address = $2
        RETURNING history_id
        """,
        tenant_id, address, history_id,
    )
    return stored


async def record_watch(conn: Connection, tenant_id: str, address: str, *, history_id: int,
                       expires_at: datetime) -> StoredWatch:
    """Store a (re)started watch's expiration.

    The watch's historyId becomes the sync's starting point only for a mailbox that has none:
    a renewal must not skip mail that arrived since the last sync.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        INSERT INTO gmail_mailboxes (tenant_id, address, history_id, watch_expires_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (tenant_id, address) DO UPDATE
        SET history_id = coalesce(gmail_mailboxes.history_id, EXCLUDED.history_id),
            watch_expires_at = EXCLUDED.watch_expires_at, updated_at = now()
        RETURNING history_id, watch_expires_at
        """,
        tenant_id, address, history_id, expires_at,
    )
    assert row is not None
    return StoredWatch(**row)


async def stored_message_ids(conn: Connection, tenant_id: str,
                             gmail_ids: list[str]) -> set[str]:
    """Return which of these Gmail message ids are already stored as inbound email."""
    rows = await conn.fetch(
        "SELECT external_id FROM messages WHERE tenant_id = $1 AND channel = 'email' "
        "AND direction = 'inbound' AND external_id = ANY($2::text[])",
        tenant_id, gmail_ids,
    )
    return {row["external_id"] for row in rows}
