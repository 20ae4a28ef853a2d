"""What the throttles count (production/care/throttle.py): autonomous actions executed today.

An autonomous action is a care_audit `executed_action` row whose clause is not `ADMIN.*`
(those record a person's change in the control plane: settings, kill switches, hands-off,
closing an escalation). Sends an operator approved in the inbox (`INBOX.approved`) do count:
they reach the customer too, so they start the minimum interval and use the day's allowance
(fail-safe: at worst autopilot does less). A customer's rows include those of customers
merged into them, so a merge does not hand out a second daily allowance. The customer's counts
come from the partial index care_audit_executed_idx (migration 010), the tenant's from the
per-day counter the audit trail keeps (care_daily_actions, migration 011).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from production.database.pool import Connection
from production.domain.care.policy import ActionKind

# Actions that never reach the customer: they do not start the minimum interval.
INTERNAL_ACTIONS: tuple[str, ...] = tuple(str(kind) for kind in (
    ActionKind.INTERNAL_NOTE, ActionKind.FOLLOW_UP_TASK, ActionKind.MEETING_BRIEF,
    ActionKind.DRAFT))


class ThrottleCounts(NamedTuple):
    customer_today: int
    tenant_today: int
    last_outbound_at: datetime | None  # any day; None: never


async def lock_tenant(conn: Connection, tenant_id: str) -> None:
    """Serialize the tenant's autonomous actions until the caller's transaction ends, so that
    two executors never both act on the same count. Take it before `counts`."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('care_throttle|' || $1, 0))",
                       tenant_id)


async def counts(conn: Connection, tenant_id: str, customer_id: UUID,
                 day_start_utc: datetime, day_end_utc: datetime) -> ThrottleCounts:
    """Return the customer's and the tenant's autonomous actions in the tenant's local day
    [`day_start_utc`, `day_end_utc`) (throttle.local_day_start, next_local_day_start: the day
    of the caller's `now`, whatever the database's clock says) and the customer's last
    outbound one.
    An action of unknown kind counts as outbound. The tenant's count is one row of
    care_daily_actions (kept by a trigger on care_audit, migration 011); the customer's come
    from their own audit rows (care_audit_executed_idx)."""
    # The customer (and whoever was merged into them) drives the lookup, one index range per
    # id, so the cost does not grow with the tenant's day, whatever the planner's statistics.
    row = await conn.fetchrow(
        """
        WITH customer AS MATERIALIZED (
            SELECT array_agg(id) AS ids FROM customers
            WHERE tenant_id = $1 AND (id = $2 OR merged_into = $2)
        ), actions AS MATERIALIZED (
            SELECT created_at, payload->>'action' AS action FROM care_audit
            WHERE tenant_id = $1 AND event_type = 'executed_action'
              AND customer_id = ANY((SELECT ids FROM customer)::uuid[])
              AND coalesce(policy_clause, '') NOT LIKE 'ADMIN.%'
        )
        SELECT
            (SELECT count(*) FROM actions WHERE created_at >= $3 AND created_at < $5)
                AS customer,
            coalesce((SELECT d.actions FROM care_daily_actions d JOIN tenants t ON t.id = $1
                      WHERE d.tenant_id = $1
                        AND d.day = ($3::timestamptz AT TIME ZONE t.timezone)::date), 0)
                AS tenant,
            (SELECT max(created_at) FROM actions
             WHERE NOT coalesce(action = ANY($4::text[]), false)) AS last_outbound
        """,
        tenant_id, customer_id, day_start_utc, list(INTERNAL_ACTIONS), day_end_utc,
    )
    assert row is not None
    return ThrottleCounts(int(row["customer"]), int(row["tenant"]), row["last_outbound"])
