"""A customer's C.A.R.E. state, its history, escalation and hands-off consent (migrations 001, 010).

Customers are entity_type 'contact' with entity_id = customers.id. Every function is scoped to
the tenant and checks that the customer is the tenant's (CustomerNotFound otherwise, before any
write); a merged customer's id stands for the customer it was merged into.

Reads write nothing: `get_current_state` returns the defaults when there is no row yet, and
`propose_transition` only runs the pure rule. Writes run in a savepoint of the caller's
transaction (a transaction of their own without one), so an error leaves nothing half-written:

* `apply_transition`: the state, one history row and one `proposed_state_change` audit row;
* `record_proposal`: only the `proposed_state_change` audit row (shadow mode: what the engine
  would have done), payload `applied: false`;
* `open_escalation` / `close_escalation` / `set_hands_off`: the column and one audit row.

Audit conventions: opening an escalation is `would_escalate` (PR3.escalation_open); closing it
and changing hands-off are changes a person makes, recorded as `executed_action` with an
`ADMIN.*` clause like the control plane's (care_admin), which the throttle never counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from production.database.pool import Connection
from production.domain.care import state_engine
from production.domain.care.state_engine import CareState, Signal, Transition

log = structlog.get_logger(__name__)

ENTITY_TYPE = "contact"
DEFAULT_MODE = "assist"


class CustomerNotFound(LookupError):
    """The customer id is not one of the tenant's customers."""


class StaleTransition(RuntimeError):
    """The customer's state changed between the proposal and its application."""


@dataclass(frozen=True)
class CareRecord:
    customer_id: UUID  # the live customer (a merged id resolves to its survivor)
    state: CareState
    hands_off_enabled: bool
    escalation_status: str | None  # None (never escalated), 'open' or 'closed'
    autonomy_mode: str | None  # the customer's override; None: the tenant's mode
    tenant_autonomy_mode: str
    last_signal_at: datetime | None
    stored: bool  # False: no row yet, these are the defaults

    @property
    def effective_autonomy_mode(self) -> str:
        return self.autonomy_mode or self.tenant_autonomy_mode

    @property
    def escalation_open(self) -> bool:
        return self.escalation_status == "open"


def _require_text(value: str, name: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value.strip()


async def _live_customer(conn: Connection, tenant_id: str, customer_id: UUID) -> UUID:
    live: UUID | None = await conn.fetchval(
        "SELECT coalesce(merged_into, id) FROM customers WHERE tenant_id = $1 AND id = $2",
        tenant_id, customer_id,
    )
    if live is None:
        raise CustomerNotFound(f"customer {customer_id} is not the tenant's")
    return live


async def get_current_state(conn: Connection, tenant_id: str, customer_id: UUID) -> CareRecord:
    """Return the customer's care record, or the defaults (state 'unaware') when there is no
    row yet; writes nothing. Hands-off defaults to the tenant's hands_off_new_customers."""
    row = await conn.fetchrow(
        """
        SELECT c.live, s.care_state, s.hands_off_enabled, s.escalation_status,
               s.autonomy_mode, s.last_signal_at, s.id IS NOT NULL AS stored,
               cs.autonomy_mode AS tenant_mode, cs.hands_off_new_customers
        FROM (SELECT coalesce(merged_into, id) AS live FROM customers
              WHERE tenant_id = $1 AND id = $2) c
        LEFT JOIN customer_care_state s
               ON s.tenant_id = $1 AND s.entity_type = 'contact' AND s.entity_id = c.live
        LEFT JOIN care_settings cs ON cs.tenant_id = $1
        """,
        tenant_id, customer_id,
    )
    if row is None:
        raise CustomerNotFound(f"customer {customer_id} is not the tenant's")
    stored = bool(row["stored"])
    return CareRecord(
        customer_id=row["live"],
        state=CareState(row["care_state"] if stored else state_engine.INITIAL_STATE),
        hands_off_enabled=bool(row["hands_off_enabled"] if stored
                               else row["hands_off_new_customers"] or False),
        escalation_status=row["escalation_status"],
        autonomy_mode=row["autonomy_mode"],
        tenant_autonomy_mode=row["tenant_mode"] or DEFAULT_MODE,
        last_signal_at=row["last_signal_at"],
        stored=stored,
    )


async def propose_transition(conn: Connection, tenant_id: str, customer_id: UUID,
                             signal: Signal, *, now: datetime) -> Transition | None:
    """Return the transition the signal would cause for the customer; writes nothing."""
    record = await get_current_state(conn, tenant_id, customer_id)
    return state_engine.propose_transition(record.state, signal, now=now,
                                           last_signal_at=record.last_signal_at)


async def _append_audit(conn: Connection, tenant_id: str, customer_id: UUID, *,
                        event_type: str, actor: str, reason: str, clause: str,
                        payload: dict[str, Any], now: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause,
                                customer_id, payload, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        tenant_id, event_type, actor, reason, clause, customer_id, payload, now,
    )


async def record_proposal(conn: Connection, tenant_id: str, customer_id: UUID,
                          transition: Transition, *, actor: str, now: datetime) -> None:
    """Append a `proposed_state_change` audit row (at `now`) for a transition that is not
    applied."""
    actor = _require_text(actor, "actor")
    _require_text(transition.reason, "reason")
    live = await _live_customer(conn, tenant_id, customer_id)
    await _append_audit(conn, tenant_id, live, event_type="proposed_state_change", actor=actor,
                        reason=transition.reason, clause=transition.rule,
                        payload={"from": str(transition.from_state),
                                 "to": str(transition.to_state), "applied": False}, now=now)


async def _locked_row(conn: Connection, tenant_id: str, live: UUID) -> Any:
    return await conn.fetchrow(
        """
        SELECT care_state, hands_off_enabled, escalation_status FROM customer_care_state
        WHERE tenant_id = $1 AND entity_type = 'contact' AND entity_id = $2
        FOR UPDATE
        """,
        tenant_id, live,
    )


async def _ensure_locked_row(conn: Connection, tenant_id: str, live: UUID) -> Any:
    """Return the customer's locked row, creating it with the defaults first if missing."""
    row = await _locked_row(conn, tenant_id, live)
    if row is None:
        await conn.execute(
            """
            INSERT INTO customer_care_state (tenant_id, entity_type, entity_id,
                                             hands_off_enabled)
            VALUES ($1, 'contact', $2, coalesce(
                (SELECT hands_off_new_customers FROM care_settings WHERE tenant_id = $1), false))
            ON CONFLICT (tenant_id, entity_type, entity_id) DO NOTHING
            """,
            tenant_id, live,
        )
        row = await _locked_row(conn, tenant_id, live)
    return row


async def apply_transition(conn: Connection, tenant_id: str, customer_id: UUID, to_state: str,
                           *, reason: str, actor: str, rule: str = "CARE.manual",
                           now: datetime, expected_from: str | None = None,
                           signal_at: datetime | None = None) -> Transition | None:
    """Move the customer to `to_state` at `now`, with one history row and one audit row.

    Raises ValueError for an empty reason or actor and UnknownState (a ValueError) for a
    non-canonical state, before touching the database; CustomerNotFound for another tenant's
    customer; StaleTransition when `expected_from` is given and the state is no longer it.
    Returns None, writing nothing, when the customer is already in `to_state`. `signal_at`
    (the signal that caused it) moves last_signal_at forward.
    """
    target = state_engine.canonical(to_state)
    reason = _require_text(reason, "reason")
    actor = _require_text(actor, "actor")
    if expected_from is not None:
        state_engine.canonical(expected_from)
    async with conn.transaction():
        live = await _live_customer(conn, tenant_id, customer_id)
        row = await _locked_row(conn, tenant_id, live)
        current = CareState(row["care_state"]) if row else state_engine.INITIAL_STATE
        if row is None and current != target and expected_from in (None, current):
            # Create the row (or wait for whoever is creating it) and read the state again.
            current = CareState((await _ensure_locked_row(conn, tenant_id, live))["care_state"])
        if expected_from is not None and current != expected_from:
            raise StaleTransition(f"the state is {current}, not {expected_from}")
        if current == target:
            return None
        await conn.execute(
            """
            UPDATE customer_care_state
            SET care_state = $3, updated_at = $5,
                last_signal_at = greatest(last_signal_at, $4::timestamptz)
            WHERE tenant_id = $1 AND entity_type = 'contact' AND entity_id = $2
            """,
            tenant_id, live, str(target), signal_at, now,
        )
        await conn.execute(
            """
            INSERT INTO customer_care_state_history (tenant_id, entity_type, entity_id,
                                                     from_state, to_state, reason, actor,
                                                     created_at)
            VALUES ($1, 'contact', $2, $3, $4, $5, $6, $7)
            """,
            tenant_id, live, str(current), str(target), reason, actor, now,
        )
        await _append_audit(conn, tenant_id, live, event_type="proposed_state_change",
                            actor=actor, reason=reason, clause=rule,
                            payload={"from": str(current), "to": str(target), "applied": True},
                            now=now)
    log.info("care_state_changed", tenant_id=tenant_id, customer_id=str(live),
             from_state=str(current), to_state=str(target), rule=rule)
    return Transition(current, target, reason, rule)


async def record_signal(conn: Connection, tenant_id: str, customer_id: UUID,
                        at: datetime, *, now: datetime) -> None:
    """Note (at `now`) that the customer gave a signal at `at` (last_signal_at only moves
    forward), so that silence is measured from it. Creates the row with the defaults if
    missing."""
    async with conn.transaction():
        live = await _live_customer(conn, tenant_id, customer_id)
        await _ensure_locked_row(conn, tenant_id, live)
        await conn.execute(
            """
            UPDATE customer_care_state
            SET last_signal_at = greatest(last_signal_at, $3::timestamptz), updated_at = $4
            WHERE tenant_id = $1 AND entity_type = 'contact' AND entity_id = $2
            """,
            tenant_id, live, at, now,
        )


async def _set_column(conn: Connection, tenant_id: str, live: UUID, column: str,
                      value: object, now: datetime) -> None:
    # `column` is one of two constants below, never input.
    await conn.execute(
        f"UPDATE customer_care_state SET {column} = $3, updated_at = $4 "  # noqa: S608
        "WHERE tenant_id = $1 AND entity_type = 'contact' AND entity_id = $2",
        tenant_id, live, value, now,
    )


async def open_escalation(conn: Connection, tenant_id: str, customer_id: UUID, reason: str,
                          actor: str, *, now: datetime) -> bool:
    """Open an escalation (autonomy halts for the customer until a human closes it) and audit
    it as `would_escalate`; True if none was open before. Every call is audited: each reason
    is evidence for the human who will close it."""
    reason = _require_text(reason, "reason")
    actor = _require_text(actor, "actor")
    async with conn.transaction():
        live = await _live_customer(conn, tenant_id, customer_id)
        before: str | None = (await _ensure_locked_row(conn, tenant_id, live))[
            "escalation_status"]
        opened = before != "open"
        if opened:
            await _set_column(conn, tenant_id, live, "escalation_status", "open", now)
        await _append_audit(conn, tenant_id, live, event_type="would_escalate", actor=actor,
                            reason=reason, clause="PR3.escalation_open",
                            payload={"escalation_status": "open", "before": before}, now=now)
    if opened:
        log.info("care_escalation_opened", tenant_id=tenant_id, customer_id=str(live))
    return opened


async def close_escalation(conn: Connection, tenant_id: str, customer_id: UUID, actor: str,
                           reason: str, *, now: datetime) -> bool:
    """Close the customer's open escalation and audit it; False (nothing written) if none
    was open."""
    reason = _require_text(reason, "reason")
    actor = _require_text(actor, "actor")
    async with conn.transaction():
        live = await _live_customer(conn, tenant_id, customer_id)
        row = await _locked_row(conn, tenant_id, live)
        if row is None or row["escalation_status"] != "open":
            return False
        await _set_column(conn, tenant_id, live, "escalation_status", "closed", now)
        await _append_audit(conn, tenant_id, live, event_type="executed_action", actor=actor,
                            reason=reason, clause="ADMIN.escalation_closed",
                            payload={"action": "close_escalation", "before": "open",
                                     "after": "closed"}, now=now)
    log.info("care_escalation_closed", tenant_id=tenant_id, customer_id=str(live))
    return True


async def set_hands_off(conn: Connection, tenant_id: str, customer_id: UUID, enabled: bool,
                        actor: str, *, now: datetime, reason: str | None = None) -> bool:
    """Turn the customer's hands-off consent on or off and audit the change; True if it
    changed. Reversible: call again with the opposite. An explicit decision is stored even
    when it equals the tenant's default for new customers (so a later change of that default
    does not change it), but only a change is audited."""
    actor = _require_text(actor, "actor")
    text = _require_text(reason, "reason") if reason is not None else (
        f"hands-off {'enabled' if enabled else 'disabled'} by {actor}")
    async with conn.transaction():
        live = await _live_customer(conn, tenant_id, customer_id)
        # A new row starts with the tenant's default for new customers: the value before.
        before = bool((await _ensure_locked_row(conn, tenant_id, live))["hands_off_enabled"])
        if before == enabled:
            return False
        await _set_column(conn, tenant_id, live, "hands_off_enabled", enabled, now)
        await _append_audit(conn, tenant_id, live, event_type="executed_action", actor=actor,
                            reason=text, clause="ADMIN.hands_off",
                            payload={"action": "set_hands_off", "before": before,
                                     "after": enabled}, now=now)
    log.info("care_hands_off_changed", tenant_id=tenant_id, customer_id=str(live),
             enabled=enabled)
    return True
