"""The outbox relay and the sweeper.

The relay publishes committed outbox events to Kafka in id order and marks them published only
after the broker acknowledged them (acks=all), so an event is never lost and at worst published
twice (consumers are idempotent).

The sweeper finds inbound messages that were accepted but not processed within a deadline (the
broker lost them, or a worker died between commit points) and queues them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from production import clock
from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import messages, outbox, reference
from production.domain.messages import InboundMessage
from production.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST,
    OUTBOX_PUBLISHED,
    SWEEPER_REPUBLISHED,
)
from production.services.intake import publish_inbound

log = structlog.get_logger(__name__)

_MIN_IDLE_WAIT_S = 0.01
_STANDBY_POLL_S = 1.0
_BACKLOG_EVERY_S = 1.0

Send = Callable[[str, bytes, bytes, list[tuple[str, bytes]]], Awaitable[Any]]


async def relay_once(*, pool: Pool, send: Send, batch_size: int) -> int:
    """Publish one batch of pending events; return how many were published."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await outbox.claim_batch(conn, limit=batch_size)
        if not rows:
            return 0
        futures = [
            await send(
                row.topic,
                row.message_key.encode(),
                json.dumps(row.payload).encode(),
                [(k, str(v).encode()) for k, v in row.headers.items()]
                + [("fte-outbox-id", str(row.id).encode())],
            )
            for row in rows
        ]
        try:
            await asyncio.gather(*futures)
        except Exception as exc:
            await _note_failure(pool=pool, ids=[row.id for row in rows], error=repr(exc))
            raise
        await outbox.mark_published(conn, [row.id for row in rows])
    for row in rows:
        OUTBOX_PUBLISHED.labels(row.topic).inc()
    return len(rows)


async def observe_backlog(*, pool: Pool, now: datetime) -> int:
    """Publish the outbox's backlog and the age of its oldest event at `now`; return the
    backlog."""
    async with pool.acquire() as conn:
        waiting, oldest = await outbox.backlog(conn)
    OUTBOX_BACKLOG.set(waiting)
    OUTBOX_OLDEST.set(0 if oldest is None else max(0.0, (now - oldest).total_seconds()))
    return waiting


async def _note_failure(*, pool: Pool, ids: list[int], error: str) -> None:
    try:
        async with pool.acquire() as conn:
            await outbox.mark_failed(conn, ids, error)
    except Exception as exc:  # the publish error is what matters; this is bookkeeping
        log.warning("outbox_failure_not_recorded", error=repr(exc)[:200])


async def sweep_once(*, pool: Pool, settings: Settings, now: datetime) -> int:
    """Queue again every inbound message accepted but unprocessed past the deadline at `now`;
    return how many."""
    window = timedelta(seconds=settings.reliability.sweeper_deadline_s)
    deadline = now - window
    total = 0
    async with pool.acquire() as conn:
        tenants = await reference.tenant_ids(conn)
    for tenant_id in tenants:
        async with pool.acquire() as conn, conn.transaction():
            total += await _sweep_tenant(conn=conn, settings=settings, tenant_id=tenant_id,
                                         deadline=deadline, now=now)
    if total:
        SWEEPER_REPUBLISHED.inc(total)
        log.warning("sweeper_republished", count=total)
    return total


async def _sweep_tenant(*, conn: Connection, settings: Settings, tenant_id: str,
                        deadline: datetime, now: datetime) -> int:
    rows = await messages.stale_accepted(conn, tenant_id, older_than=deadline, limit=500,
                                         now=now)
    for row in rows:
        event = InboundMessage(
            tenant_id=tenant_id, channel=row.channel, external_id=row.external_id,
            content=row.content, subject=row.subject, sender_name=row.name,
            sender_email=row.email, sender_phone=row.phone, received_at=row.created_at,
            metadata=row.metadata, message_id=row.id, ticket_id=row.ticket_id,
        )
        await publish_inbound(conn, event, topic=settings.kafka.topic_incoming)
    await messages.mark_republished(conn, tenant_id, [row.id for row in rows], now=now)
    return len(rows)


async def run_relay(*, pool: Pool, settings: Settings, send: Send, stopping: asyncio.Event) -> None:
    """Relay until stopped, while this process holds the relay leadership.

    Only one relay publishes at a time (a session advisory lock held on a dedicated
    connection), so events leave in outbox order even with several replicas; the others
    stand by and take over within a second when the leader's connection goes away.
    Polls fast while events flow and backs off when idle (LISTEN/NOTIFY was dropped: NOTIFY
    takes a global lock at commit time, which serializes every transaction that uses it).
    """
    rel = settings.reliability
    while not stopping.is_set():
        leader = await _become_leader(pool=pool, stopping=stopping)
        if leader is None:
            return
        try:
            await _relay_while_leader(pool=pool, leader=leader, send=send, stopping=stopping,
                                      batch_size=rel.relay_batch_size,
                                      max_idle_s=rel.relay_poll_interval_s,
                                      backoff_s=rel.backoff_max_s)
        finally:
            # Unlock before the connection goes back to the pool (the pool does not reset it).
            with contextlib.suppress(Exception):
                await outbox.stop_leading(leader)
            with contextlib.suppress(Exception):
                await pool.release(leader, timeout=1)


async def _become_leader(*, pool: Pool, stopping: asyncio.Event) -> Any:
    """Return a pool connection holding the relay lock, or None once stopping."""
    while not stopping.is_set():
        conn = None
        try:
            conn = await pool.acquire()
            if await outbox.try_lead(conn):
                log.info("relay_leader")
                return conn
        except Exception as exc:
            log.warning("relay_leadership_unavailable", error=type(exc).__name__)
        if conn is not None:
            with contextlib.suppress(Exception):
                await pool.release(conn, timeout=1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), _STANDBY_POLL_S)
    return None


async def _relay_while_leader(*, pool: Pool, leader: Any, send: Send, stopping: asyncio.Event,
                              batch_size: int, max_idle_s: float, backoff_s: float) -> None:
    idle_wait = _MIN_IDLE_WAIT_S
    observed = 0.0
    while not stopping.is_set():
        if leader.is_closed():
            log.warning("relay_leadership_lost")
            return
        try:
            if time.monotonic() - observed >= _BACKLOG_EVERY_S:
                observed = time.monotonic()
                await observe_backlog(pool=pool, now=clock.now())
            published = await relay_once(pool=pool, send=send, batch_size=batch_size)
        except Exception as exc:
            log.warning("relay_failed", error=repr(exc)[:300])
            published = 0
            idle_wait = backoff_s
        if published == batch_size:
            continue  # more are waiting
        if published:
            idle_wait = _MIN_IDLE_WAIT_S
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), idle_wait)
        idle_wait = min(idle_wait * 2, max(max_idle_s, _MIN_IDLE_WAIT_S))


async def run_sweeper(*, pool: Pool, settings: Settings, stopping: asyncio.Event) -> None:
    """Sweep until stopped, once per interval; also purge long-published outbox rows."""
    while not stopping.is_set():
        try:
            await sweep_once(pool=pool, settings=settings, now=clock.now())
            async with pool.acquire() as conn:
                await outbox.purge_published(conn, older_than_s=24 * 3600)
        except Exception as exc:
            log.warning("sweeper_failed", error=repr(exc)[:300])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), settings.reliability.sweeper_interval_s)
