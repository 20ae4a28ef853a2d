"""The C.A.R.E. control plane's use cases for one customer: the listing, their care state,
hands-off consent and mode override, and the close of an open escalation, each change audited
in its own transaction (as care_admin's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from production.database.pool import Connection, Pool
from production.database.queries import admin as queries
from production.database.queries import care_state
from production.domain.care.admin_settings import MODES, schedules_problems
from production.domain.care.policy import AutonomyMode
from production.services.care_admin import Conflict, Invalid, NotFound, stored_settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CustomerCare:
    customer_id: UUID
    care_state: str
    hands_off: bool
    escalation_status: str | None
    mode_override: str | None
    effective_mode: str


def _customer_care(record: care_state.CareRecord) -> CustomerCare:
    return CustomerCare(customer_id=record.customer_id, care_state=str(record.state),
                        hands_off=record.hands_off_enabled,
                        escalation_status=record.escalation_status,
                        mode_override=record.autonomy_mode,
                        effective_mode=record.effective_autonomy_mode)


async def _record(conn: Connection, tenant_id: str, customer_id: UUID) -> care_state.CareRecord:
    """Return the customer's care record (a merged id stands for its survivor); NotFound if the
    customer is not the tenant's."""
    try:
        return await care_state.get_current_state(conn, tenant_id, customer_id)
    except care_state.CustomerNotFound:
        raise NotFound("no such customer") from None


async def customer_care(*, pool: Pool, tenant_id: str, customer_id: UUID) -> CustomerCare:
    """Return the customer's care state, hands-off consent and mode."""
    async with pool.acquire() as conn:
        return _customer_care(await _record(conn, tenant_id, customer_id))


async def set_hands_off(*, pool: Pool, tenant_id: str, customer_id: UUID, enabled: bool,
                        actor: str, now: datetime) -> CustomerCare:
    """Turn the customer's hands-off consent on or off, audited (reversible)."""
    async with pool.acquire() as conn, conn.transaction():
        live = (await _record(conn, tenant_id, customer_id)).customer_id
        await care_state.set_hands_off(conn, tenant_id, live, enabled, actor, now=now)
        return _customer_care(await _record(conn, tenant_id, live))


async def set_customer_mode(*, pool: Pool, tenant_id: str, customer_id: UUID,
                            mode: str | None, actor: str, now: datetime) -> CustomerCare:
    """Override the tenant's mode for one customer (None: back to the tenant's), audited."""
    if mode is not None and mode not in MODES:
        raise Invalid([("mode", f"must be one of {', '.join(MODES)} or null")])
    async with pool.acquire() as conn, conn.transaction():
        record = await _record(conn, tenant_id, customer_id)
        live = record.customer_id
        if mode == AutonomyMode.SCHEDULES:
            tenant = await stored_settings(conn, tenant_id)
            if found := schedules_problems(tenant):
                raise Invalid([("mode", f"the tenant's {name}: {reason}")
                               for name, reason in found])
        if record.autonomy_mode == mode:
            return _customer_care(record)
        before = await queries.set_customer_mode(conn, tenant_id, live, mode=mode, now=now)
        if before != mode:
            await queries.append_audit(
                conn, tenant_id, event_type="executed_action", actor=actor,
                reason=f"customer autonomy mode set to {mode or 'the tenant default'} by {actor}",
                clause="ADMIN.customer_mode", customer_id=live,
                payload={"action": "set_customer_mode", "before": before, "after": mode},
                now=now)
            log.info("care_customer_mode_changed", tenant_id=tenant_id, customer_id=str(live),
                     mode=mode, actor=actor)
        return _customer_care(await _record(conn, tenant_id, live))



async def customers(*, pool: Pool, tenant_id: str, query: str | None, escalation_open: bool,
                    limit: int) -> list[dict[str, Any]]:
    """Return the tenant's customers with their consent, state and mode (the console's list)."""
    async with pool.acquire() as conn:
        rows = await queries.customers(conn, tenant_id, query=query,
                                       escalation_open=escalation_open, limit=limit)
    return [dict(row) for row in rows]


async def close_escalation(*, pool: Pool, tenant_id: str, customer_id: UUID, reason: str,
                           actor: str, now: datetime) -> CustomerCare:
    """Close the customer's open escalation (a person handled it), audited: autonomy may act for
    them again. Conflict when none is open."""
    async with pool.acquire() as conn, conn.transaction():
        live = (await _record(conn, tenant_id, customer_id)).customer_id
        if not await care_state.close_escalation(conn, tenant_id, live, actor, reason,
                                                 now=now):
            raise Conflict("no escalation is open for this customer")
        log.info("care_escalation_closed_by_operator", tenant_id=tenant_id,
                 customer_id=str(live), actor=actor)
        return _customer_care(await _record(conn, tenant_id, live))
