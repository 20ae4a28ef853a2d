"""What the executor reads before every action, fresh and in one round trip: both kill switches,
the tenant's mode, throttles, quiet hours and time zone, and the customer's consent, escalation
and mode override (migrations 001, 010). Nothing is cached, so a flip made through the admin
API is obeyed by every process from its next action on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from uuid import UUID

import asyncpg

from production.database.pool import Connection


class UnknownCustomer(LookupError):
    """The customer is not one of the tenant's."""


@dataclass(frozen=True)
class StoredGateFacts:
    """The stored facts every gate reads, for one customer of one tenant."""

    live: UUID  # the customer (a merged id resolves to the customer it was merged into)
    global_kill_switch: bool
    tenant_kill_switch: bool
    tenant_mode: str
    customer_mode: str | None
    hands_off: bool
    escalation_status: str | None
    max_actions_per_customer_day: int
    min_interval_s: int
    daily_budget: int
    quiet_hours_start: time | None
    quiet_hours_end: time | None
    timezone: str


async def facts(conn: Connection, tenant_id: str, customer_id: UUID) -> StoredGateFacts:
    """Return the gate facts for an action on the customer (a merged id stands for the customer
    it was merged into: `live`). A customer without a care row has the tenant's default
    hands-off consent for new customers and no escalation."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT c.live,
               g.kill_switch AS global_kill_switch,
               coalesce(cs.kill_switch, false) AS tenant_kill_switch,
               coalesce(cs.autonomy_mode, 'assist') AS tenant_mode,
               s.autonomy_mode AS customer_mode,
               coalesce(s.hands_off_enabled, cs.hands_off_new_customers, false) AS hands_off,
               s.escalation_status,
               coalesce(cs.max_actions_per_customer_day, 0) AS max_actions_per_customer_day,
               coalesce(cs.min_interval_s, 0) AS min_interval_s,
               coalesce(cs.daily_budget, 0) AS daily_budget,
               cs.quiet_hours_start, cs.quiet_hours_end,
               t.timezone
        FROM (SELECT coalesce(merged_into, id) AS live FROM customers
              WHERE tenant_id = $1 AND id = $2) c
        CROSS JOIN care_global g
        JOIN tenants t ON t.id = $1
        LEFT JOIN care_settings cs ON cs.tenant_id = $1
        LEFT JOIN customer_care_state s
               ON s.tenant_id = $1 AND s.entity_type = 'contact' AND s.entity_id = c.live
        """,
        tenant_id, customer_id,
    )
    if row is None:
        raise UnknownCustomer(f"customer {customer_id} is not the tenant's")
    return StoredGateFacts(**row)
