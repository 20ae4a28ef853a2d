"""Trigger firings (migration 016): stored once per customer, trigger and window; decided once.

`claim_undecided` spans every tenant, like the scheduler's other sweeps: each row carries its
tenant, and every write after it is scoped to it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from production.database.pool import Connection
from production.domain.proactive.firing import Firing, FiringDecision


@dataclass(frozen=True)
class StoredFiring:
    id: UUID
    tenant_id: str
    customer_id: UUID
    trigger: str
    version: int
    window_key: str
    reason: str
    facts: dict[str, Any]
    decision: str | None
    fired_at: datetime


def _stored(row: Any) -> StoredFiring:
    return StoredFiring(id=row["id"], tenant_id=row["tenant_id"], customer_id=row["customer_id"],
                        trigger=row["trigger"], version=row["version"],
                        window_key=row["window_key"], reason=row["reason"],
                        facts=dict(row["facts"]),
                        decision=row["decision"], fired_at=row["fired_at"])


async def insert_firing(conn: Connection, *, tenant_id: str, firing: Firing,
                        now: datetime) -> UUID | None:
    """Store `firing`; return its id, or None when this window already fired for the customer."""
    id_: UUID | None = await conn.fetchval(
        "INSERT INTO care_trigger_firings (tenant_id, customer_id, trigger, version, window_key,"
        " reason, facts, fired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (tenant_id, customer_id, trigger, window_key) DO NOTHING RETURNING id",
        tenant_id, firing.customer_id, str(firing.trigger), firing.version, firing.window_key,
        firing.reason, dict(firing.facts), now)
    return id_


async def claim_undecided(conn: Connection, *, limit: int) -> list[StoredFiring]:
    """Lock up to `limit` firings no pipeline has decided, oldest first, skipping locked ones
    (several schedulers at once). Call inside a transaction."""
    rows = await conn.fetch(
        "SELECT id, tenant_id, customer_id, trigger, version, window_key, reason, facts,"
        " decision, fired_at FROM care_trigger_firings WHERE decision IS NULL"
        " ORDER BY fired_at LIMIT $1 FOR UPDATE SKIP LOCKED", limit)
    return [_stored(row) for row in rows]


async def decide_firing(conn: Connection, *, tenant_id: str, firing_id: UUID,
                        decision: FiringDecision, now: datetime) -> bool:
    """Record what followed a firing; False when it was already decided (or is not this
    tenant's)."""
    status: str = await conn.execute(
        "UPDATE care_trigger_firings SET decision = $3, decided_at = $4"
        " WHERE tenant_id = $1 AND id = $2 AND decision IS NULL",
        tenant_id, firing_id, str(decision), now)
    return status.endswith(" 1")


async def firings_of(conn: Connection, *, tenant_id: str, customer_id: UUID,
                     limit: int = 100) -> list[StoredFiring]:
    """A customer's firings, newest first."""
    rows = await conn.fetch(
        "SELECT id, tenant_id, customer_id, trigger, version, window_key, reason, facts,"
        " decision, fired_at FROM care_trigger_firings WHERE tenant_id = $1 AND customer_id = $2"
        " ORDER BY fired_at DESC LIMIT $3", tenant_id, customer_id, limit)
    return [_stored(row) for row in rows]


async def insert_firings(conn: Connection, *, tenant_id: str, firings: Sequence[Firing],
                         now: datetime) -> list[tuple[UUID, str]]:
    """Store many firings in one statement (a sweep's batch), each as `insert_firing` would;
    return the (id, trigger) of the new ones: a window that already fired is skipped."""
    if not firings:
        return []
    rows = await conn.fetch(
        "INSERT INTO care_trigger_firings (tenant_id, customer_id, trigger, version,"
        " window_key, reason, facts, fired_at)"
        " SELECT $1, u.customer_id, u.trigger, u.version, u.window_key, u.reason,"
        " u.facts::jsonb, $2 FROM unnest($3::uuid[], $4::text[], $5::int[], $6::text[],"
        " $7::text[], $8::text[]) AS u (customer_id, trigger, version, window_key, reason,"
        " facts)"
        " ON CONFLICT (tenant_id, customer_id, trigger, window_key) DO NOTHING"
        " RETURNING id, trigger",
        tenant_id, now, [f.customer_id for f in firings], [str(f.trigger) for f in firings],
        [f.version for f in firings], [f.window_key for f in firings],
        [f.reason for f in firings], [json.dumps(dict(f.facts)) for f in firings])
    return [(row["id"], row["trigger"]) for row in rows]
