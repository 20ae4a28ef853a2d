"""What the scheduler reads and writes (migration 011): silent customers, the daily digest, the
timed runs of schedules-mode tenants and the internal follow-up tasks they create.

The sweeps (`silent_customers`, `digest_tenants`) span every tenant, like the relay's and the
delivery retries' claims: each row carries its tenant, and every write after it is scoped to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from production.database.pool import Connection
from production.domain.care.state_engine import DECAY_TO_AT_RISK

_DECAYING = sorted(str(state) for state in DECAY_TO_AT_RISK)


@dataclass(frozen=True)
class SilentCustomer:
    tenant_id: str
    customer_id: UUID
    care_state: str
    last_signal_at: datetime


@dataclass(frozen=True)
class DigestTenant:
    tenant_id: str
    timezone: str
    autonomy_mode: str
    schedules_opt_in: bool


@dataclass(frozen=True)
class ActivityCount:
    event_type: str
    clause: str
    action: str
    n: int


@dataclass(frozen=True)
class ExecutedAction:
    id: int
    created_at: datetime
    customer_id: UUID | None
    action: str | None
    reason: str
    policy_clause: str | None


@dataclass(frozen=True)
class StoredDigest:
    day: date
    summary: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class CareTask:
    id: UUID
    customer_id: UUID
    customer_name: str | None
    kind: str
    title: str
    body: str
    status: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Waiting:
    """What waits at one tenant: drafts for a person, replies for pacing; its kill switch."""
    tenant_id: str
    pending: int
    oldest_pending_at: datetime | None
    deferred: int
    kill_switch: bool


async def silent_customers(conn: Connection, *, at_risk_before: datetime,
                           dormant_before: datetime, limit: int) -> list[SilentCustomer]:
    """Return customers whose silence the state engine may act on: in a decaying state with no
    signal since `at_risk_before`, or at_risk with none since `dormant_before`. A customer whose
    state could not move (shadow mode) but whose proposal since the last signal is on record is
    left out, so that a silence is proposed once, not at every sweep."""
    rows = await conn.fetch(
        """
        SELECT s.tenant_id, s.entity_id AS customer_id, s.care_state, s.last_signal_at
        FROM customer_care_state s
        WHERE s.entity_type = 'contact' AND s.last_signal_at IS NOT NULL
          AND ((s.care_state = ANY($1::text[]) AND s.last_signal_at < $2)
               OR (s.care_state = 'at_risk' AND s.last_signal_at < $3))
          AND NOT EXISTS (
              SELECT 1 FROM care_audit a
              WHERE a.tenant_id = s.tenant_id AND a.customer_id = s.entity_id
                AND a.event_type = 'proposed_state_change' AND a.created_at > s.last_signal_at
                AND a.payload->>'applied' = 'false' AND a.payload->>'from' = s.care_state)
        ORDER BY s.last_signal_at
        LIMIT $4
        """,
        _DECAYING, at_risk_before, dormant_before, limit,
    )
    return [SilentCustomer(**row) for row in rows]


async def digest_tenants(conn: Connection) -> list[DigestTenant]:
    """Return the tenants whose autopilot may act (autopilot or schedules mode), with their
    time zone and schedules opt-in: each gets a daily digest."""
    rows = await conn.fetch(
        """
        SELECT cs.tenant_id, t.timezone, cs.autonomy_mode, cs.schedules_opt_in
        FROM care_settings cs JOIN tenants t ON t.id = cs.tenant_id
        WHERE cs.autonomy_mode IN ('autopilot', 'schedules')
        ORDER BY cs.tenant_id
        """,
    )
    return [DigestTenant(**row) for row in rows]


async def digest_exists(conn: Connection, tenant_id: str, day: date) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM care_digests WHERE tenant_id = $1 AND day = $2)",
        tenant_id, day)
    return found


async def activity_counts(conn: Connection, tenant_id: str, start: datetime,
                          end: datetime) -> list[ActivityCount]:
    """Return the tenant's audit rows between start and end, counted by event, clause and
    action."""
    rows = await conn.fetch(
        """
        SELECT event_type, coalesce(policy_clause, '') AS clause,
               coalesce(payload->>'action', '') AS action, count(*) AS n
        FROM care_audit
        WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """,
        tenant_id, start, end,
    )
    return [ActivityCount(**row) for row in rows]


async def executed_actions(conn: Connection, tenant_id: str, start: datetime, end: datetime, *,
                           limit: int) -> list[ExecutedAction]:
    """Return the FTE's own executed actions between start and end, oldest first."""
    rows = await conn.fetch(
        """
        SELECT id, created_at, customer_id, payload->>'action' AS action, reason, policy_clause
        FROM care_audit
        WHERE tenant_id = $1 AND event_type = 'executed_action' AND actor = 'fte-agent'
          AND created_at >= $2 AND created_at < $3
        ORDER BY id LIMIT $4
        """,
        tenant_id, start, end, limit,
    )
    return [ExecutedAction(**row) for row in rows]


async def pending_proposals(conn: Connection, tenant_id: str) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM care_proposals WHERE tenant_id = $1 AND status = 'pending'",
        tenant_id)
    return count


async def save_digest(conn: Connection, tenant_id: str, day: date,
                      summary: dict[str, Any], *, now: datetime) -> bool:
    """Store the day's digest, written at `now`; False when another scheduler stored it
    first."""
    stored: bool = await conn.fetchval(
        """
        WITH written AS (
            INSERT INTO care_digests (tenant_id, day, summary, created_at)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM written)
        """,
        tenant_id, day, summary, now,
    )
    return stored


async def digests(conn: Connection, tenant_id: str, *, limit: int) -> list[StoredDigest]:
    """Return the tenant's digests, newest day first."""
    rows = await conn.fetch(
        "SELECT day, summary, created_at FROM care_digests WHERE tenant_id = $1 "
        "ORDER BY day DESC LIMIT $2",
        tenant_id, limit,
    )
    return [StoredDigest(**row) for row in rows]


async def claim_run(conn: Connection, tenant_id: str, day: date, *, now: datetime) -> bool:
    """Take the tenant's timed run of the day, started at `now`; False when it was taken
    already."""
    claimed: bool = await conn.fetchval(
        """
        WITH written AS (
            INSERT INTO care_schedule_runs (tenant_id, day, started_at) VALUES ($1, $2, $3)
            ON CONFLICT DO NOTHING RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM written)
        """,
        tenant_id, day, now,
    )
    return claimed


async def finish_run(conn: Connection, tenant_id: str, day: date,
                     summary: dict[str, Any], *, now: datetime) -> None:
    await conn.execute(
        "UPDATE care_schedule_runs SET finished_at = $4, summary = $3 "
        "WHERE tenant_id = $1 AND day = $2",
        tenant_id, day, summary, now,
    )


async def at_risk_customers(conn: Connection, tenant_id: str, *, limit: int) -> list[UUID]:
    """Return the tenant's customers at risk, longest silent first."""
    rows = await conn.fetch(
        """
        SELECT entity_id FROM customer_care_state
        WHERE tenant_id = $1 AND entity_type = 'contact' AND care_state = 'at_risk'
        ORDER BY last_signal_at NULLS LAST LIMIT $2
        """,
        tenant_id, limit,
    )
    return [row["entity_id"] for row in rows]


async def create_task(conn: Connection, tenant_id: str, customer_id: UUID, *, kind: str,
                      title: str, body: str, created_by: str, dedupe_key: str | None,
                      now: datetime) -> UUID | None:
    """Create an internal task at `now`; None when one with the same dedupe key exists."""
    task_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO care_tasks (tenant_id, customer_id, kind, title, body, created_by,
                                dedupe_key, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
        RETURNING id
        """,
        tenant_id, customer_id, kind, title, body, created_by, dedupe_key, now,
    )
    return task_id


async def tasks(conn: Connection, tenant_id: str, *, status: str | None,
                limit: int) -> list[CareTask]:
    """Return the tenant's internal tasks (of one status, when given), newest first."""
    rows = await conn.fetch(
        """
        SELECT t.id, t.customer_id, c.name AS customer_name, t.kind, t.title, t.body, t.status,
               t.created_by, t.created_at
        FROM care_tasks t JOIN customers c ON c.tenant_id = t.tenant_id AND c.id = t.customer_id
        WHERE t.tenant_id = $1 AND ($2::text IS NULL OR t.status = $2)
        ORDER BY t.created_at DESC LIMIT $3
        """,
        tenant_id, status, limit,
    )
    return [CareTask(**row) for row in rows]


async def waiting(conn: Connection) -> list[Waiting]:
    """Return, per tenant, the drafts waiting for a person (and when the oldest was written),
    the replies waiting for pacing, and whether its kill switch or the global one is on."""
    rows = await conn.fetch(
        """
        SELECT t.id AS tenant_id,
               (SELECT count(*) FROM care_proposals p
                WHERE p.tenant_id = t.id AND p.status = 'pending') AS pending,
               (SELECT min(p.created_at) FROM care_proposals p
                WHERE p.tenant_id = t.id AND p.status = 'pending') AS oldest_pending_at,
               (SELECT count(*) FROM messages m
                WHERE m.tenant_id = t.id AND m.status = 'deferred') AS deferred,
               coalesce((SELECT s.kill_switch FROM care_settings s WHERE s.tenant_id = t.id),
                        false)
               OR coalesce((SELECT bool_or(g.kill_switch) FROM care_global g), false)
                   AS kill_switch
        FROM tenants t ORDER BY t.id
        """,
    )
    return [Waiting(**row) for row in rows]
