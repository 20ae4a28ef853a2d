"""When each customer is looked at next (care_perception, migration 017): the sweep's claims,
the signals that bring a look forward, and what each look found.

A claim is a lease: it pushes the claimed customers' next look `lease` past `now` (and clears
their signal) in one short statement that skips rows another sweep holds, so two sweeps at once
never take the same customer, and a sweep that dies leaves them due again when the lease ends.
The due time has no index of its own: the claims walk the primary key, and an update of a plan
that changes no indexed column stays a heap-only (HOT) update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from production.database.pool import Connection


@dataclass(frozen=True)
class Claimed:
    customer_id: UUID
    facts_hash: str | None
    stale_at: datetime | None
    evaluated_at: datetime | None


@dataclass(frozen=True)
class LookResult:
    customer_id: UUID
    next_look_at: datetime
    heat: str
    facts_hash: str
    stale_at: datetime | None
    evaluated: bool  # the triggers and the score ran


async def tenant_ids(conn: Connection) -> list[str]:
    """Every tenant, for the sweep to visit one after the other."""
    return [row["id"] for row in await conn.fetch("SELECT id FROM tenants ORDER BY id")]


async def enroll_new(conn: Connection, *, tenant_id: str) -> int:
    """Give every customer of the tenant without a plan one, due at once, and drop the plans
    of customers merged into another (the survivor is looked at); return how many joined."""
    await conn.execute(
        "DELETE FROM care_perception p USING customers c"
        " WHERE p.tenant_id = $1 AND c.tenant_id = $1 AND c.id = p.customer_id"
        " AND c.merged_into IS NOT NULL", tenant_id)
    status: str = await conn.execute(
        "INSERT INTO care_perception (tenant_id, customer_id, next_look_at)"
        " SELECT c.tenant_id, c.id, '-infinity' FROM customers c"
        " WHERE c.tenant_id = $1 AND c.merged_into IS NULL AND NOT EXISTS ("
        "  SELECT 1 FROM care_perception p WHERE p.tenant_id = c.tenant_id"
        "  AND p.customer_id = c.id)"
        " ON CONFLICT (tenant_id, customer_id) DO NOTHING", tenant_id)
    return int(status.rsplit(" ", 1)[-1])


async def mark_signal(conn: Connection, *, tenant_id: str, customer_id: UUID,
                      at: datetime) -> None:
    """Something happened to the customer at `at`: look at them again from then on."""
    await conn.execute(
        "INSERT INTO care_perception (tenant_id, customer_id, next_look_at, signal_at)"
        " VALUES ($1, $2, $3, $3) ON CONFLICT (tenant_id, customer_id) DO UPDATE"
        " SET signal_at = coalesce(care_perception.signal_at, EXCLUDED.signal_at),"
        "     next_look_at = least(care_perception.next_look_at, EXCLUDED.next_look_at)",
        tenant_id, customer_id, at)


_CLAIM = """
WITH due AS (
    SELECT customer_id FROM care_perception
    WHERE tenant_id = $1 AND {where}
    ORDER BY {order}
    LIMIT $3 FOR UPDATE SKIP LOCKED)
UPDATE care_perception p SET next_look_at = $2 + $4::interval, signal_at = NULL
FROM due WHERE p.tenant_id = $1 AND p.customer_id = due.customer_id
RETURNING p.customer_id, p.facts_hash, p.stale_at, p.evaluated_at
"""
# Due customers in id order from a cursor, through the primary key: a sweep walks the tenant
# once, never over the rows it already leased (whose old versions an index on the due time
# would make every later claim read again).
_CLAIM_DUE = _CLAIM.format(
    where="customer_id > $5 AND customer_id <= $6 AND next_look_at <= $2",
    order="customer_id")
_CLAIM_SIGNALLED = _CLAIM.format(where="signal_at IS NOT NULL AND signal_at <= $2",
                                 order="signal_at")
LOWEST = UUID(int=0)
HIGHEST = UUID(int=2**128 - 1)


def _claimed(rows: Sequence[Any]) -> list[Claimed]:
    return sorted((Claimed(customer_id=r["customer_id"], facts_hash=r["facts_hash"],
                           stale_at=r["stale_at"], evaluated_at=r["evaluated_at"])
                   for r in rows), key=lambda c: c.customer_id)


async def claim_due(conn: Connection, *, tenant_id: str, now: datetime, limit: int,
                    lease: timedelta, after: UUID = LOWEST,
                    until: UUID = HIGHEST) -> list[Claimed]:
    """Lease up to `limit` of the tenant's customers due at `now` whose ids are in
    (`after`, `until`], in id order."""
    return _claimed(await conn.fetch(_CLAIM_DUE, tenant_id, now, limit, lease, after, until))


async def claim_signalled(conn: Connection, *, tenant_id: str, now: datetime, limit: int,
                          lease: timedelta) -> list[Claimed]:
    """Lease up to `limit` of the tenant's customers a signal marked by `now`, the oldest
    signal first."""
    return _claimed(await conn.fetch(_CLAIM_SIGNALLED, tenant_id, now, limit, lease))


async def save_looks(conn: Connection, *, tenant_id: str, looks: Sequence[LookResult],
                     now: datetime) -> None:
    """Store what each look found; a signal that came during the look keeps its customer due
    from the signal on."""
    if not looks:
        return
    await conn.execute(
        "UPDATE care_perception p SET heat = u.heat, facts_hash = u.hash, stale_at = u.stale,"
        " looked_at = $2, evaluated_at = CASE WHEN u.evaluated THEN $2 ELSE p.evaluated_at END,"
        " next_look_at = CASE WHEN p.signal_at IS NULL THEN u.next"
        "                     ELSE least(u.next, p.signal_at) END"
        " FROM unnest($3::uuid[], $4::timestamptz[], $5::text[], $6::text[],"
        "             $7::timestamptz[], $8::boolean[]) AS u (id, next, heat, hash, stale,"
        "                                                     evaluated)"
        " WHERE p.tenant_id = $1 AND p.customer_id = u.id",
        tenant_id, now, [x.customer_id for x in looks], [x.next_look_at for x in looks],
        [x.heat for x in looks], [x.facts_hash for x in looks], [x.stale_at for x in looks],
        [x.evaluated for x in looks])


async def plan_of(conn: Connection, *, tenant_id: str, customer_id: UUID) -> LookResult | None:
    """The customer's plan as stored (for the console and the tests)."""
    row = await conn.fetchrow(
        "SELECT customer_id, next_look_at, heat, facts_hash, stale_at,"
        " evaluated_at IS NOT NULL AS evaluated FROM care_perception"
        " WHERE tenant_id = $1 AND customer_id = $2", tenant_id, customer_id)
    return None if row is None else LookResult(
        customer_id=row["customer_id"], next_look_at=row["next_look_at"], heat=row["heat"],
        facts_hash=row["facts_hash"] or "", stale_at=row["stale_at"],
        evaluated=row["evaluated"])
