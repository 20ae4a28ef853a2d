"""The C.A.R.E. control plane's use cases for a tenant: its autonomy settings and kill switches
(a customer's consent and mode: care_customers; the audit trail, digests and tasks:
care_activity).

Every change is made and audited in one transaction (an `executed_action` row naming the
operator, the reason and the ADMIN.* clause), so the trail cannot miss a change that happened.
A change that changes nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

import structlog

from production.care import gates
from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import admin as queries
from production.database.queries.admin import StoredCareSettings, StoredGlobalSwitch
from production.domain import errors
from production.domain.care.admin_settings import AutonomySettings, parse_hhmm, problems
from production.domain.care.policy import AutonomyMode

log = structlog.get_logger(__name__)

_SETTING_FIELDS = tuple(f.name for f in fields(AutonomySettings))
_NULLABLE = frozenset({"quiet_hours_start", "quiet_hours_end"})


class NotFound(errors.NotFound):
    """No such customer for this tenant."""


class Conflict(errors.Conflict):
    """The customer is not in a state that allows the change (e.g. no escalation is open)."""


class Invalid(errors.Invalid):
    """A setting or mode breaks a rule; `problems` lists (field, reason)."""


@dataclass(frozen=True)
class Ceiling:
    """What the environment allows, above anything stored (CARE_* settings)."""

    autonomy_enabled: bool
    shadow_mode: bool
    tenant_allowed: bool


@dataclass(frozen=True)
class AutonomyView:
    settings: AutonomySettings
    ceiling: Ceiling
    kill_switch: bool
    global_kill_switch: bool
    autonomy_active: bool
    updated_at: datetime
    updated_by: str | None


@dataclass(frozen=True)
class KillSwitch:
    engaged: bool
    changed_at: datetime | None
    changed_by: str | None
    global_engaged: bool


# --- Tenant autonomy settings ----------------------------------------------------------------


async def stored_settings(conn: Connection, tenant_id: str) -> AutonomySettings:
    """Return the tenant's stored autonomy settings."""
    return (await queries.care_settings(conn, tenant_id)).settings


def _view(*, settings: Settings, tenant_id: str, row: StoredCareSettings,
          global_row: StoredGlobalSwitch) -> AutonomyView:
    care = settings.care
    ceiling = Ceiling(autonomy_enabled=care.autonomy_enabled, shadow_mode=care.shadow_mode,
                      tenant_allowed=gates.tenant_allowed(care, tenant_id))
    stored = row.settings
    # Whether low-risk actions can run with no human right now (customers still need hands-off).
    active = (gates.is_care_autonomy_enabled(care) and ceiling.tenant_allowed
              and not row.kill_switch and not global_row.kill_switch
              and stored.mode in (AutonomyMode.AUTOPILOT, AutonomyMode.SCHEDULES))
    return AutonomyView(settings=stored, ceiling=ceiling, kill_switch=row.kill_switch,
                        global_kill_switch=global_row.kill_switch, autonomy_active=active,
                        updated_at=row.updated_at, updated_by=row.updated_by)


async def autonomy(*, pool: Pool, settings: Settings, tenant_id: str) -> AutonomyView:
    """Return the tenant's autonomy settings, the environment's ceiling and the effective state."""
    async with pool.acquire() as conn:
        row = await queries.care_settings(conn, tenant_id)
        global_row = await queries.global_kill_switch(conn)
    return _view(settings=settings, tenant_id=tenant_id, row=row, global_row=global_row)


def _apply(current: AutonomySettings, changes: Mapping[str, Any]) -> AutonomySettings:
    """Return the settings with the changes applied; Invalid for a null or unknown field."""
    found: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in _SETTING_FIELDS:
            found.append((name, "is not a setting"))
        elif value is None and name not in _NULLABLE:
            found.append((name, "may not be null"))
        elif name in _NULLABLE and value is not None:
            try:
                values[name] = parse_hhmm(value)
            except (TypeError, ValueError) as exc:
                found.append((name, str(exc)))
        else:
            values[name] = value
    if found:
        raise Invalid(found)
    return replace(current, **values)


async def update_autonomy(*, pool: Pool, settings: Settings, tenant_id: str, actor: str,
                          changes: Mapping[str, Any], now: datetime) -> AutonomyView:
    """Apply a partial change to the tenant's settings and audit it (at `now`); Invalid if it
    breaks a rule.

    `changes` maps setting names to new values (quiet hours as "HH:MM" or None).
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.care_settings(conn, tenant_id, lock=True)
        before = row.settings
        after = _apply(before, changes)
        found = problems(after)
        if found:
            raise Invalid(found)
        if after != before:
            row = await queries.update_autonomy(conn, tenant_id, updated_by=actor, now=now,
                                                **_as_columns(after))
            await queries.append_audit(
                conn, tenant_id, event_type="executed_action", actor=actor,
                reason=f"autonomy settings changed by {actor}", clause="ADMIN.settings",
                payload={"action": "update_autonomy_settings", "before": before.as_json(),
                         "after": after.as_json()}, now=now)
            log.info("care_settings_updated", tenant_id=tenant_id, mode=after.mode,
                     actor=actor)
        global_row = await queries.global_kill_switch(conn)
    return _view(settings=settings, tenant_id=tenant_id, row=row, global_row=global_row)


# The local demo's explicit opt-in (`fte up`, the test stack): autopilot for the internal
# tenant, new customers hands-off, and limits loose enough for a demo and a load test.
LOCAL_DEMO_ACTOR = "fte-up (local demo opt-in)"
LOCAL_DEMO: dict[str, Any] = {"mode": "autopilot", "hands_off_new_customers": True,
                              "max_actions_per_customer_day": 100, "min_interval_s": 0,
                              "daily_budget": 100_000}


async def opt_in_local_demo(*, pool: Pool, settings: Settings, tenant_id: str,
                            now: datetime) -> AutonomyView:
    """Opt the tenant into the local demo's settings, audited, unless someone already chose
    its settings (updated_by set): a restart never undoes an operator's choice."""
    view = await autonomy(pool=pool, settings=settings, tenant_id=tenant_id)
    if view.updated_by is not None:
        return view
    return await update_autonomy(pool=pool, settings=settings, tenant_id=tenant_id,
                                 actor=LOCAL_DEMO_ACTOR, changes=LOCAL_DEMO, now=now)


def _as_columns(values: AutonomySettings) -> dict[str, Any]:
    return {"mode": values.mode,
            "max_actions_per_customer_day": values.max_actions_per_customer_day,
            "min_interval_s": values.min_interval_s, "daily_budget": values.daily_budget,
            "quiet_hours_start": values.quiet_hours_start,
            "quiet_hours_end": values.quiet_hours_end,
            "schedules_opt_in": values.schedules_opt_in,
            "hands_off_new_customers": values.hands_off_new_customers}


# --- Kill switches ---------------------------------------------------------------------------


async def kill_switch(*, pool: Pool, tenant_id: str) -> KillSwitch:
    """Return the tenant's kill switch (and whether the global one is engaged)."""
    async with pool.acquire() as conn:
        row = await queries.care_settings(conn, tenant_id)
        global_row = await queries.global_kill_switch(conn)
    return KillSwitch(engaged=row.kill_switch, changed_at=row.kill_switch_changed_at,
                      changed_by=row.kill_switch_changed_by,
                      global_engaged=global_row.kill_switch)


async def _audit_switch(conn: Connection, tenant_id: str, *, scope: str, engaged: bool,
                        reason: str, actor: str, clause: str, now: datetime) -> None:
    await queries.append_audit(
        conn, tenant_id, event_type="executed_action", actor=actor, reason=reason,
        clause=clause,
        payload={"action": f"{'engage' if engaged else 'release'}_{scope}_kill_switch",
                 "before": not engaged, "after": engaged}, now=now)


async def set_kill_switch(*, pool: Pool, tenant_id: str, engaged: bool, reason: str,
                          actor: str, now: datetime) -> KillSwitch:
    """Engage or release the tenant's kill switch and audit it (nothing when already so)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.care_settings(conn, tenant_id, lock=True)
        if row.kill_switch != engaged:
            row = await queries.set_kill_switch(conn, tenant_id, engaged=engaged, by=actor,
                                                now=now)
            await _audit_switch(conn, tenant_id, scope="tenant", engaged=engaged, reason=reason,
                                actor=actor, clause="ADMIN.kill_switch", now=now)
            log.warning("care_kill_switch_changed", tenant_id=tenant_id, engaged=engaged,
                        actor=actor)
        global_row = await queries.global_kill_switch(conn)
    return KillSwitch(engaged=row.kill_switch, changed_at=row.kill_switch_changed_at,
                      changed_by=row.kill_switch_changed_by,
                      global_engaged=global_row.kill_switch)


def _global(row: StoredGlobalSwitch) -> KillSwitch:
    return KillSwitch(engaged=row.kill_switch, changed_at=row.changed_at,
                      changed_by=row.changed_by, global_engaged=row.kill_switch)


async def global_kill_switch(*, pool: Pool) -> KillSwitch:
    """Return the kill switch above every tenant's."""
    async with pool.acquire() as conn:
        return _global(await queries.global_kill_switch(conn))


async def set_global_kill_switch(*, pool: Pool, tenant_id: str, engaged: bool, reason: str,
                                 actor: str, now: datetime) -> KillSwitch:
    """Engage or release the global kill switch; the audit row is the acting tenant's."""
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.global_kill_switch(conn, lock=True)
        if row.kill_switch != engaged:
            row = await queries.set_global_kill_switch(conn, engaged=engaged, by=actor, now=now)
            await _audit_switch(conn, tenant_id, scope="global", engaged=engaged, reason=reason,
                                actor=actor, clause="ADMIN.global_kill_switch", now=now)
            log.warning("care_global_kill_switch_changed", engaged=engaged, actor=actor)
    return _global(row)

