"""Suggestions (migration 019): written once per firing and per slot of a customer's day,
ranked for the feed, decided once. Every query is the tenant's but the expiry pass and the
deferred firings' reopening, which span tenants like the scheduler's other sweeps."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any
from uuid import UUID

from production.database.pool import Connection
from production.domain.proactive.acceptance import Decision
from production.domain.proactive.spam import History


@dataclass(frozen=True)
class NewSuggestion:
    customer_id: UUID
    firing_id: UUID
    trigger: str
    action: str
    title: str
    body: str
    reason: str
    explanation: str
    confidence: float
    urgency: float
    urgency_from: str
    facts: dict[str, Any]
    params: dict[str, Any]
    topics: list[str]
    proposer: str
    policy: dict[str, Any]
    day_slot: int
    expires_at: datetime


@dataclass(frozen=True)
class StoredSuggestion:
    id: UUID
    customer_id: UUID
    customer_name: str | None
    firing_id: UUID
    trigger: str
    action: str
    title: str
    body: str
    reason: str
    explanation: str
    confidence: float
    urgency: float
    urgency_from: str
    facts: dict[str, Any]
    params: dict[str, Any]
    topics: list[str]
    proposer: str
    policy: dict[str, Any]
    status: str
    local_day: date
    created_at: datetime
    expires_at: datetime
    snoozed_until: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    outcome: str | None
    dismiss_reason: str | None
    result: dict[str, Any] | None


_COLUMNS = ", ".join("c.name AS customer_name" if f.name == "customer_name" else f"s.{f.name}"
                     for f in fields(StoredSuggestion))
_FROM = ("FROM care_suggestions s JOIN customers c ON c.tenant_id = s.tenant_id"
         " AND c.id = s.customer_id")


def _stored(row: Any) -> StoredSuggestion:
    values = dict(row)
    for name in ("facts", "params", "policy"):
        values[name] = dict(values[name])
    values["topics"] = list(values["topics"])
    values["result"] = dict(values["result"]) if values["result"] is not None else None
    return StoredSuggestion(**values)


async def history(conn: Connection, *, tenant_id: str, customer_id: UUID, trigger: str,
                  since: datetime, now: datetime) -> History:
    """Return what the spam rules read: the customer's suggestions of the tenant's local day of
    `now`, this trigger's since `since`, its dismissals, and its pending ones."""
    row = await conn.fetchrow(
        """
        WITH day AS (SELECT ($4::timestamptz AT TIME ZONE timezone)::date AS d
                     FROM tenants WHERE id = $1)
        SELECT
            (SELECT count(*) FROM care_suggestions
             WHERE tenant_id = $1 AND customer_id = $2 AND local_day = (SELECT d FROM day))
                AS today,
            coalesce((SELECT array_agg(created_at) FROM care_suggestions
                      WHERE tenant_id = $1 AND customer_id = $2 AND trigger = $3
                        AND created_at >= $5), '{}') AS of_trigger,
            coalesce((SELECT array_agg(decided_at) FROM care_suggestions
                      WHERE tenant_id = $1 AND customer_id = $2 AND trigger = $3
                        AND status = 'dismissed'), '{}') AS dismissed,
            (SELECT count(*) FROM care_suggestions
             WHERE tenant_id = $1 AND customer_id = $2 AND trigger = $3 AND status = 'pending')
                AS pending
        """,
        tenant_id, customer_id, trigger, now, since)
    assert row is not None
    return History(today=int(row["today"]), of_trigger_since=list(row["of_trigger"]),
                   dismissed_at=list(row["dismissed"]), pending_of_trigger=int(row["pending"]))


async def insert(conn: Connection, *, tenant_id: str, new: NewSuggestion,
                 now: datetime) -> UUID | None:
    """Store the suggestion at `now`, in the slot of the tenant's local day it claims; None when
    that slot (or the firing) already has one."""
    id_: UUID | None = await conn.fetchval(
        """
        INSERT INTO care_suggestions (tenant_id, customer_id, firing_id, trigger, action, title,
            body, reason, explanation, confidence, urgency, urgency_from, facts, params, topics,
            proposer, policy, local_day, day_slot, created_at, expires_at)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
               ($19::timestamptz AT TIME ZONE t.timezone)::date, $18, $19, $20
        FROM tenants t WHERE t.id = $1
        ON CONFLICT DO NOTHING RETURNING id
        """,
        tenant_id, new.customer_id, new.firing_id, new.trigger, new.action, new.title, new.body,
        new.reason, new.explanation, new.confidence, new.urgency, new.urgency_from, new.facts,
        new.params, new.topics, new.proposer, new.policy, new.day_slot, now, new.expires_at)
    return id_


async def feed(conn: Connection, *, tenant_id: str, now: datetime,
               limit: int) -> list[StoredSuggestion]:
    """Return the tenant's pending suggestions not snoozed or expired at `now`, best first
    (confidence x urgency, then the oldest)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE s.tenant_id = $1 AND s.status = 'pending'"
        " AND s.expires_at > $2 AND (s.snoozed_until IS NULL OR s.snoozed_until <= $2)"
        " ORDER BY s.confidence * s.urgency DESC, s.created_at, s.id LIMIT $3",
        tenant_id, now, limit)
    return [_stored(row) for row in rows]


async def decisions(conn: Connection, *, tenant_id: str, since: datetime,
                    now: datetime) -> list[Decision]:
    """Return the tenant's people's decisions on suggestions between `since` and `now` (what the
    feed's ranking learns from; autopilot's own runs are left out)."""
    rows = await conn.fetch(
        "SELECT tenant_id, trigger, action, status, outcome, decided_by, decided_at"
        " FROM care_suggestions WHERE tenant_id = $1 AND status IN ('executed', 'dismissed')"
        " AND decided_at > $2 AND decided_at <= $3"
        " AND decided_by IS DISTINCT FROM 'fte-agent'",
        tenant_id, since, now)
    return [Decision(**dict(row)) for row in rows]


async def get(conn: Connection, *, tenant_id: str, suggestion_id: UUID,
              lock: bool = False) -> StoredSuggestion | None:
    """Return the tenant's suggestion (locked for a decision with `lock`), or None."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE s.tenant_id = $1 AND s.id = $2"
        + (" FOR UPDATE OF s" if lock else ""), tenant_id, suggestion_id)
    return _stored(rows[0]) if rows else None


async def decide(conn: Connection, *, tenant_id: str, suggestion_id: UUID, status: str,
                 decided_by: str, outcome: str | None, now: datetime,
                 dismiss_reason: str | None = None, result: dict[str, Any] | None = None,
                 title: str | None = None, body: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
    """Record the decision on a locked pending suggestion (an edit replaces what it changed)."""
    await conn.execute(
        """
        UPDATE care_suggestions SET status = $3, decided_by = $4, outcome = $5, decided_at = $6,
            dismiss_reason = $7, result = $8, title = coalesce($9, title),
            body = coalesce($10, body), params = coalesce($11, params), snoozed_until = NULL
        WHERE tenant_id = $1 AND id = $2 AND status = 'pending'
        """,
        tenant_id, suggestion_id, status, decided_by, outcome, now, dismiss_reason, result,
        title, body, params)


async def snooze(conn: Connection, *, tenant_id: str, suggestion_id: UUID,
                 until: datetime) -> None:
    await conn.execute(
        "UPDATE care_suggestions SET snoozed_until = $3"
        " WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
        tenant_id, suggestion_id, until)


async def expire(conn: Connection, *, now: datetime, limit: int) -> int:
    """Mark pending suggestions past their expiry at `now` expired (every tenant); how many."""
    status: str = await conn.execute(
        """
        UPDATE care_suggestions SET status = 'expired', decided_at = $1, decided_by = 'expiry'
        WHERE id IN (SELECT id FROM care_suggestions WHERE status = 'pending'
                     AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        """,
        now, limit)
    return int(status.rsplit(" ", 1)[-1])


async def defer_firing(conn: Connection, *, tenant_id: str, firing_id: UUID,
                       retry_at: datetime | None) -> None:
    """Note when a deferred firing is looked at again (None: at the next pass)."""
    await conn.execute(
        "UPDATE care_trigger_firings SET retry_at = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id, firing_id, retry_at)


async def reopen_deferred(conn: Connection, *, now: datetime, limit: int) -> int:
    """Make the deferred firings whose time has come at `now` undecided again (every tenant),
    so the next pipeline pass claims them; return how many."""
    status: str = await conn.execute(
        """
        UPDATE care_trigger_firings SET decision = NULL, decided_at = NULL, retry_at = NULL
        WHERE id IN (SELECT id FROM care_trigger_firings WHERE decision = 'deferred'
                     AND coalesce(retry_at, decided_at) <= $1 ORDER BY retry_at
                     LIMIT $2 FOR UPDATE SKIP LOCKED)
        """,
        now, limit)
    return int(status.rsplit(" ", 1)[-1])
