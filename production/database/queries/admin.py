"""The C.A.R.E. control plane (migration 010): admin API keys, the tenant's autonomy settings and
kill switches, per-customer hands-off and mode, and the audit trail (append and export)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal
from uuid import UUID

import asyncpg

from production.database.pool import Connection
from production.domain.care.admin_settings import AutonomySettings

Row = asyncpg.Record

# --- API keys --------------------------------------------------------------------------------


async def tenant_exists(conn: Connection, tenant_id: str) -> bool:
    found: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)",
                                      tenant_id)
    return found


async def insert_key(conn: Connection, tenant_id: str, *, name: str, role: str, prefix: str,
                     key_hash: str) -> UUID:
    key_id: UUID = await conn.fetchval(
        """
        INSERT INTO api_keys (tenant_id, name, role, key_prefix, key_hash)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        tenant_id, name, role, prefix, key_hash,
    )
    return key_id


@dataclass(frozen=True)
class StoredKey:
    """An unrevoked admin API key (its hash, never the key)."""

    id: UUID
    tenant_id: str
    name: str
    role: Literal["operator", "admin"]  # the table's CHECK
    key_hash: str


async def active_key_by_hash(conn: Connection, key_hash: str) -> StoredKey | None:
    """Return the unrevoked key with this hash, touching last_used_at at most once a minute.

    Not tenant-scoped on purpose: the key is what tells which tenant is asking.
    """
    row: Row | None = await conn.fetchrow(
        """
        WITH hit AS (
            SELECT id, tenant_id, name, role, key_hash, last_used_at FROM api_keys
            WHERE key_hash = $1 AND revoked_at IS NULL
        ), touched AS (
            UPDATE api_keys SET last_used_at = now()
            WHERE id = (SELECT id FROM hit)
              AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
        )
        SELECT id, tenant_id, name, role, key_hash FROM hit
        """,
        key_hash,
    )
    return None if row is None else StoredKey(**row)


async def revoke_key(conn: Connection, key_id: UUID, tenant_id: str | None) -> bool:
    """Revoke an active key (of the tenant, when given); False if there is none."""
    status: str = await conn.execute(
        """
        UPDATE api_keys SET revoked_at = now()
        WHERE id = $1 AND revoked_at IS NULL AND ($2::text IS NULL OR tenant_id = $2)
        """,
        key_id, tenant_id,
    )
    return status.endswith(" 1")


# --- Tenant settings and kill switches -------------------------------------------------------


@dataclass(frozen=True)
class StoredCareSettings:
    """The tenant's care_settings row: its autonomy settings, kill switch and who changed them."""

    settings: AutonomySettings
    kill_switch: bool
    kill_switch_changed_at: datetime | None
    kill_switch_changed_by: str | None
    updated_at: datetime
    updated_by: str | None


def _care_settings_of(row: Row) -> StoredCareSettings:
    """Return the row with the columns AutonomySettings names gathered in it."""
    values = dict(row)
    values["mode"] = values.pop("autonomy_mode")
    stored = {name: values.pop(name) for name in ("kill_switch", "kill_switch_changed_at",
                                                  "kill_switch_changed_by", "updated_at",
                                                  "updated_by")}
    return StoredCareSettings(settings=AutonomySettings(**values), **stored)


@dataclass(frozen=True)
class StoredGlobalSwitch:
    """The one care_global row: the kill switch above every tenant's."""

    kill_switch: bool
    changed_at: datetime | None
    changed_by: str | None


_SETTINGS_COLUMNS = """
    autonomy_mode, kill_switch, kill_switch_changed_at, kill_switch_changed_by,
    max_actions_per_customer_day, min_interval_s, daily_budget, quiet_hours_start,
    quiet_hours_end, schedules_opt_in, hands_off_new_customers, updated_at, updated_by
"""


async def care_settings(conn: Connection, tenant_id: str, *,
                        lock: bool = False) -> StoredCareSettings:
    """Return the tenant's settings row (created with the defaults if missing).

    With `lock`, the row is locked for the caller's transaction.
    """
    await conn.execute(
        "INSERT INTO care_settings (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING", tenant_id)
    row: Row | None = await conn.fetchrow(
        f"""
        SELECT {_SETTINGS_COLUMNS} FROM care_settings WHERE tenant_id = $1
        {"FOR UPDATE" if lock else ""}
        """,  # noqa: S608 - constant column list and lock clause, values are parameters
        tenant_id,
    )
    assert row is not None
    return _care_settings_of(row)


async def update_autonomy(
    conn: Connection, tenant_id: str, *, mode: str, max_actions_per_customer_day: int,
    min_interval_s: int, daily_budget: int, quiet_hours_start: time | None,
    quiet_hours_end: time | None, schedules_opt_in: bool, hands_off_new_customers: bool,
    updated_by: str, now: datetime,
) -> StoredCareSettings:
    row: Row | None = await conn.fetchrow(
        f"""
        UPDATE care_settings
        SET autonomy_mode = $2, max_actions_per_customer_day = $3, min_interval_s = $4,
            daily_budget = $5, quiet_hours_start = $6, quiet_hours_end = $7,
            schedules_opt_in = $8, hands_off_new_customers = $9, updated_by = $10,
            updated_at = $11
        WHERE tenant_id = $1
        RETURNING {_SETTINGS_COLUMNS}
        """,  # noqa: S608 - a constant column list, values are parameters
        tenant_id, mode, max_actions_per_customer_day, min_interval_s, daily_budget,
        quiet_hours_start, quiet_hours_end, schedules_opt_in, hands_off_new_customers,
        updated_by, now,
    )
    assert row is not None
    return _care_settings_of(row)


async def set_kill_switch(conn: Connection, tenant_id: str, *, engaged: bool, by: str,
                          now: datetime) -> StoredCareSettings:
    row: Row | None = await conn.fetchrow(
        f"""
        UPDATE care_settings
        SET kill_switch = $2, kill_switch_changed_at = $4, kill_switch_changed_by = $3
        WHERE tenant_id = $1
        RETURNING {_SETTINGS_COLUMNS}
        """,  # noqa: S608 - a constant column list, values are parameters
        tenant_id, engaged, by, now,
    )
    assert row is not None
    return _care_settings_of(row)


async def global_kill_switch(conn: Connection, *, lock: bool = False) -> StoredGlobalSwitch:
    """Return the one care_global row (the switch above every tenant's)."""
    sql = "SELECT kill_switch, changed_at, changed_by FROM care_global"
    row: Row | None = await conn.fetchrow(f"{sql} FOR UPDATE" if lock else sql)
    assert row is not None
    return StoredGlobalSwitch(**row)


async def set_global_kill_switch(conn: Connection, *, engaged: bool, by: str,
                                 now: datetime) -> StoredGlobalSwitch:
    row: Row | None = await conn.fetchrow(
        """
        UPDATE care_global SET kill_switch = $1, changed_at = $3, changed_by = $2
        RETURNING kill_switch, changed_at, changed_by
        """,
        engaged, by, now,
    )
    assert row is not None
    return StoredGlobalSwitch(**row)


# --- Per-customer mode (hands-off and the care state: queries/care_state.py) ------------------


async def set_customer_mode(conn: Connection, tenant_id: str, customer_id: UUID, *,
                            mode: str | None, now: datetime) -> str | None:
    """Set the customer's mode override (creating their row) and return the one before it.

    A new row starts hands-off at the tenant's default for new customers, so that setting a
    mode does not decide hands-off as well.
    """
    before: str | None = await conn.fetchval(
        """
        WITH old AS (
            SELECT autonomy_mode FROM customer_care_state
            WHERE tenant_id = $1 AND entity_type = 'contact' AND entity_id = $2
            FOR UPDATE
        ), written AS (
            INSERT INTO customer_care_state (tenant_id, entity_type, entity_id,
                                             hands_off_enabled, autonomy_mode)
            VALUES ($1, 'contact', $2, coalesce(
                (SELECT hands_off_new_customers FROM care_settings WHERE tenant_id = $1), false),
                $3)
            ON CONFLICT (tenant_id, entity_type, entity_id)
            DO UPDATE SET autonomy_mode = EXCLUDED.autonomy_mode, updated_at = $4
            RETURNING 1
        )
        SELECT autonomy_mode FROM old
        """,
        tenant_id, customer_id, mode, now,
    )
    return before


# --- The audit trail (append-only) -----------------------------------------------------------


async def append_audit(
    conn: Connection, tenant_id: str, *, event_type: str, actor: str, reason: str,
    clause: str, payload: dict[str, Any], now: datetime, customer_id: UUID | None = None,
    message_id: UUID | None = None,
) -> int:
    """Return the id of the audit row appended, dated `now` (the decision's instant: the
    tenant's daily count takes its day from it)."""
    audit_id: int = await conn.fetchval(
        """
        INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause,
                                customer_id, message_id, payload, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
        """,
        tenant_id, event_type, actor, reason, clause, customer_id, message_id, payload, now,
    )
    return audit_id


async def audit_page(
    conn: Connection, tenant_id: str, *, after_id: int, since: datetime | None,
    until: datetime | None, event_type: str | None, limit: int,
) -> list[Row]:
    """Return the next `limit` audit rows with id > after_id, in id order (keyset paging)."""
    rows: list[Row] = await conn.fetch(
        """
        SELECT id, created_at, event_type, actor, reason, policy_clause, customer_id,
               message_id, payload
        FROM care_audit
        WHERE tenant_id = $1 AND id > $2
          AND ($3::timestamptz IS NULL OR created_at >= $3)
          AND ($4::timestamptz IS NULL OR created_at < $4)
          AND ($5::text IS NULL OR event_type = $5)
        ORDER BY id
        LIMIT $6
        """,
        tenant_id, after_id, since, until, event_type, limit,
    )
    return rows


async def audit_recent(conn: Connection, tenant_id: str, *, before_id: int | None,
                       event_type: str | None, limit: int) -> list[Row]:
    """Return the tenant's latest audit rows with id < before_id (all, when None), newest first
    (the console's timeline; keyset paging)."""
    rows: list[Row] = await conn.fetch(
        """
        SELECT id, created_at, event_type, actor, reason, policy_clause, customer_id,
               message_id, payload
        FROM care_audit
        WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2)
          AND ($3::text IS NULL OR event_type = $3)
        ORDER BY id DESC
        LIMIT $4
        """,
        tenant_id, before_id, event_type, limit,
    )
    return rows


def _like(text: str) -> str:
    """Return a LIKE pattern matching `text` anywhere, its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def customers(conn: Connection, tenant_id: str, *, query: str | None,
                    escalation_open: bool, limit: int) -> list[Row]:
    """Return the tenant's customers (not the merged-away ones) with their C.A.R.E. consent,
    state and mode, most recent contact first; `query` matches name, email or phone."""
    rows: list[Row] = await conn.fetch(
        """
        SELECT c.id AS customer_id, c.name, c.email, c.phone,
               coalesce(s.care_state, 'unaware') AS care_state,
               coalesce(s.hands_off_enabled, cs.hands_off_new_customers, false) AS hands_off,
               s.escalation_status, s.autonomy_mode AS mode_override,
               coalesce(s.autonomy_mode, cs.autonomy_mode, 'assist') AS effective_mode,
               last.created_at AS last_contact_at
        FROM customers c
        LEFT JOIN care_settings cs ON cs.tenant_id = c.tenant_id
        LEFT JOIN customer_care_state s
               ON s.tenant_id = c.tenant_id AND s.entity_type = 'contact' AND s.entity_id = c.id
        LEFT JOIN LATERAL (
            SELECT m.created_at FROM messages m
            WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
            ORDER BY m.created_at DESC LIMIT 1
        ) last ON true
        WHERE c.tenant_id = $1 AND c.merged_into IS NULL
          AND ($2::text IS NULL OR c.name ILIKE $2 OR c.email ILIKE $2 OR c.phone LIKE $2)
          AND (NOT $3 OR s.escalation_status = 'open')
        ORDER BY last.created_at DESC NULLS LAST, c.created_at DESC
        LIMIT $4
        """,
        tenant_id, _like(query) if query else None, escalation_open, limit,
    )
    return rows
