"""The admin API (/api/v1/admin) over real HTTP against a real PostgreSQL: keys and roles,
tenant isolation on every endpoint, autonomy settings, kill switches, hands-off and mode,
the approval inbox and the audit export.

The module has a database of its own (`isolated_settings`), so counts are exact. Tenant A is
the internal tenant; tenant B is a second tenant created here; tenant C only holds a large
audit trail for the paging test.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from production.config import INTERNAL_TENANT, Settings
from production.database.pool import Pool, create_pool
from production.domain.messages import OutboundNotice, decode_event
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.services import admin_keys, care_activity, care_admin, care_customers
from tests.conftest import (
    ROOT,
    Stack,
    child_env,
    isolated_settings,
    running_stack,
    unique_email,
    wait_for,
)

A = INTERNAL_TENANT
B = "tenant-b"
C = "tenant-c"
ADMIN = "/api/v1/admin"


@dataclass
class Ctx:
    settings: Settings
    db: Pool
    api: Stack
    keys: dict[str, str]  # "a_admin", "a_operator", "b_admin", "b_operator" -> plaintext
    key_ids: dict[str, UUID]

    async def call(self, who: str | None, method: str, path: str,
                   **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.keys[who]}"
        return await self.api.http.request(method, ADMIN + path, headers=headers, **kwargs)


async def _add_tenant(db: Pool, tenant_id: str) -> None:
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", tenant_id,
                           f"Tenant {tenant_id}")
        await conn.execute("INSERT INTO care_settings (tenant_id) VALUES ($1)", tenant_id)


@pytest.fixture(scope="module")
async def ctx(postgres: EmbeddedPostgres, broker: LocalBroker) -> AsyncIterator[Ctx]:
    settings = await isolated_settings(postgres, broker, "admin")
    db = await create_pool(settings, min_size=1, max_size=10)
    try:
        for tenant in (B, C):
            await _add_tenant(db, tenant)
        keys: dict[str, str] = {}
        key_ids: dict[str, UUID] = {}
        for tenant, label in ((A, "a"), (B, "b")):
            for role in ("admin", "operator"):
                key_id, key = await admin_keys.create_key(pool=db, tenant_id=tenant, role=role,
                                                          name=f"{label}-{role}")
                keys[f"{label}_{role}"], key_ids[f"{label}_{role}"] = key, key_id
        async with running_stack(settings, db, workers=False) as api:
            yield Ctx(settings, db, api, keys, key_ids)
    finally:
        await db.close()


# --- helpers ---------------------------------------------------------------------------------


async def new_customer(db: Pool, tenant: str, *, email: str | None = None) -> UUID:
    async with db.acquire() as conn:
        customer_id: UUID = await conn.fetchval(
            "INSERT INTO customers (tenant_id, name, email) VALUES ($1, $2, $3) RETURNING id",
            tenant, "Grace Hopper", email or unique_email())
    return customer_id


@dataclass
class Held:
    customer_id: UUID
    inbound_id: UUID
    reply_id: UUID
    proposal_id: UUID


async def held_reply(db: Pool, tenant: str, *, channel: str = "web_form",
                     draft: str = "Hello Grace, you can reset your password under Settings.",
                     expires_in: timedelta = timedelta(days=7)) -> Held:
    """A customer's inbound message, the agent's reply held for approval and its proposal
    (proposed now, expiring `expires_in` later)."""
    customer_id = await new_customer(db, tenant)
    proposed = datetime.now(UTC)
    async with db.acquire() as conn, conn.transaction():
        conversation_id = await conn.fetchval(
            "INSERT INTO conversations (tenant_id, customer_id, initial_channel, "
            "current_channel) VALUES ($1, $2, $3, $3) RETURNING id",
            tenant, customer_id, channel)
        inbound_id = await conn.fetchval(
            "INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction,"
            " role, content, subject, external_id, status) VALUES ($1, $2, $3, $4, 'inbound', "
            "'customer', $5, $6, $7, 'processed') RETURNING id",
            tenant, conversation_id, customer_id, channel, "How do I reset my password?",
            "Password reset", f"ext-{uuid.uuid4()}")
        reply_id = await conn.fetchval(
            "INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction,"
            " role, content, subject, in_reply_to, status, metadata) VALUES ($1, $2, $3, $4, "
            "'outbound', 'agent', $5, $6, $7, 'pending_approval', $8) RETURNING id",
            tenant, conversation_id, customer_id, channel, draft, "Password reset", inbound_id,
            {"kind": "reply"})
        proposal_id = await conn.fetchval(
            "INSERT INTO care_proposals (tenant_id, customer_id, message_id, action, draft, "
            "decision, created_at, expires_at) VALUES ($1, $2, $3, 'send_reply', $4, $5, $6, "
            "$7) RETURNING id",
            tenant, customer_id, reply_id, draft,
            {"decision": "REQUIRE_APPROVAL", "policy_clause": "AAP1.mode.approve"}, proposed,
            proposed + expires_in)
    return Held(customer_id, inbound_id, reply_id, proposal_id)


async def snapshot(db: Pool, tenant: str) -> dict[str, Any]:
    """Everything the admin API can change for a tenant."""
    async with db.acquire() as conn:
        return {
            "settings": dict(await conn.fetchrow(
                "SELECT * FROM care_settings WHERE tenant_id = $1", tenant)),
            "care": [dict(r) for r in await conn.fetch(
                "SELECT * FROM customer_care_state WHERE tenant_id = $1 ORDER BY id", tenant)],
            "proposals": [dict(r) for r in await conn.fetch(
                "SELECT * FROM care_proposals WHERE tenant_id = $1 ORDER BY id", tenant)],
            "messages": [dict(r) for r in await conn.fetch(
                "SELECT id, status, content FROM messages WHERE tenant_id = $1 ORDER BY id",
                tenant)],
            "audit": await conn.fetchval(
                "SELECT count(*) FROM care_audit WHERE tenant_id = $1", tenant),
            "outbox": await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE tenant_id = $1", tenant),
            "global": dict(await conn.fetchrow("SELECT * FROM care_global")),
        }


async def audit_rows(db: Pool, tenant: str, *, after_id: int = 0) -> list[dict[str, Any]]:
    async with db.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, created_at, event_type, actor, reason, policy_clause, customer_id, "
            "message_id, payload FROM care_audit WHERE tenant_id = $1 AND id > $2 ORDER BY id",
            tenant, after_id)
    return [dict(r) for r in rows]


async def last_audit_id(db: Pool) -> int:
    async with db.acquire() as conn:
        value: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM care_audit")
    return value


def assert_401(res: httpx.Response) -> None:
    assert res.status_code == 401, res.text
    assert res.headers["www-authenticate"] == "Bearer"
    assert res.json()["detail"]


# --- keys ------------------------------------------------------------------------------------


async def test_only_the_hash_is_stored_and_the_key_authenticates(ctx: Ctx) -> None:
    key = ctx.keys["a_operator"]
    async with ctx.db.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM api_keys WHERE id = $1", ctx.key_ids["a_operator"])
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in [str(value) for value in dict(row).values()]
    assert row["key_prefix"] == key.split("_")[1]
    assert (row["tenant_id"], row["role"], row["name"]) == (A, "operator", "a-operator")

    bearer = await ctx.api.http.get(f"{ADMIN}/kill-switch",
                                    headers={"Authorization": f"Bearer {key}"})
    header = await ctx.api.http.get(f"{ADMIN}/kill-switch", headers={"X-API-Key": key})
    lower = await ctx.api.http.get(f"{ADMIN}/kill-switch",
                                   headers={"Authorization": f"bearer {key}"})
    assert bearer.status_code == header.status_code == lower.status_code == 200


async def test_missing_wrong_or_revoked_keys_are_401(ctx: Ctx) -> None:
    key_id, key = await admin_keys.create_key(pool=ctx.db, tenant_id=A, role="admin",
                                              name="soon-revoked")
    assert (await ctx.api.http.get(f"{ADMIN}/autonomy",
                                   headers={"X-API-Key": key})).status_code == 200
    assert await admin_keys.revoke_key(pool=ctx.db, key_id=key_id) is True
    assert await admin_keys.revoke_key(pool=ctx.db, key_id=key_id) is False
    guessed = admin_keys.generate().plaintext
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": f"Basic {key}"},
                    {"Authorization": f"Bearer {guessed}"}, {"X-API-Key": "not-a-key"},
                    {"Authorization": f"Bearer {key}"}, {"X-API-Key": key},
                    {"Authorization": f"Bearer {ctx.keys['a_admin']}x"}):
        assert_401(await ctx.api.http.get(f"{ADMIN}/autonomy", headers=headers))
    # The key is checked before the body is even read.
    before = await snapshot(ctx.db, A)
    assert_401(await ctx.api.http.post(f"{ADMIN}/kill-switch", content=b"{not json",
                                       headers={"content-type": "application/json"}))
    assert_401(await ctx.api.http.put(f"{ADMIN}/autonomy", json={"mode": "autopilot"},
                                      headers={"X-API-Key": key}))
    assert await snapshot(ctx.db, A) == before


async def test_every_admin_route_refuses_a_request_without_a_valid_key(ctx: Ctx) -> None:
    """Each resource's routes authenticate the key first (none is left open by the split into
    one module per resource): without a key, or with a wrong one, every route is 401."""
    schema = (await ctx.api.http.get("/openapi.json")).json()
    routes = [(method.upper(), path[len(ADMIN):].replace("{customer_id}", str(uuid.uuid4()))
               .replace("{proposal_id}", str(uuid.uuid4()))
               .replace("{suggestion_id}", str(uuid.uuid4())))
              for path, operations in schema["paths"].items() if path.startswith(ADMIN)
              for method in operations]
    # GET and PUT digest-address (issue 17), GET customers/{id}/health and the six suggestion
    # routes (issue 19) included
    assert len(routes) == 29
    guessed = admin_keys.generate().plaintext
    for method, path in routes:
        for headers in ({}, {"Authorization": f"Bearer {guessed}"}):
            res = await ctx.api.http.request(method, ADMIN + path, headers=headers,
                                             content=b"{not json")
            assert_401(res)
            assert res.json() == {"detail": "an API key is required" if not headers
                                  else "the API key is not valid"}, (method, path)


async def test_last_used_at_is_written_at_most_once_a_minute(ctx: Ctx) -> None:
    key_id, key = await admin_keys.create_key(pool=ctx.db, tenant_id=B, role="operator",
                                              name="touch")

    async def last_used() -> datetime | None:
        async with ctx.db.acquire() as conn:
            value: datetime | None = await conn.fetchval(
                "SELECT last_used_at FROM api_keys WHERE id = $1", key_id)
        return value

    assert await last_used() is None
    assert (await ctx.api.http.get(f"{ADMIN}/kill-switch",
                                   headers={"X-API-Key": key})).status_code == 200
    first = await last_used()
    assert first is not None
    await ctx.api.http.get(f"{ADMIN}/kill-switch", headers={"X-API-Key": key})
    assert await last_used() == first
    async with ctx.db.acquire() as conn:
        await conn.execute("UPDATE api_keys SET last_used_at = now() - interval '2 minutes' "
                           "WHERE id = $1", key_id)
    await ctx.api.http.get(f"{ADMIN}/kill-switch", headers={"X-API-Key": key})
    later = await last_used()
    assert later is not None and later >= first


async def test_create_key_refuses_bad_input(ctx: Ctx) -> None:
    for tenant, role, name in ((A, "owner", "x"), ("no-such-tenant", "admin", "x"),
                               (A, "admin", "  "), (A, "admin", "x" * 101)):
        with pytest.raises(ValueError):
            await admin_keys.create_key(pool=ctx.db, tenant_id=tenant, role=role, name=name)


async def test_operator_keys_get_403_on_admin_only_endpoints(ctx: Ctx) -> None:
    customer = await new_customer(ctx.db, A)
    await ctx.call("a_admin", "POST", "/kill-switch", json={"engaged": True, "reason": "drill"})
    before = await snapshot(ctx.db, A)
    for method, path, body in (
        ("PUT", "/autonomy", {"mode": "autopilot"}),
        ("PUT", f"/customers/{customer}/autonomy", {"mode": "approve"}),
        ("POST", "/kill-switch", {"engaged": False, "reason": "let it run"}),
        ("GET", "/kill-switch/global", None),
        ("POST", "/kill-switch/global", {"engaged": True, "reason": "halt all"}),
    ):
        res = await ctx.call("a_operator", method, path, json=body)
        assert res.status_code == 403, (path, res.text)
        assert res.json()["detail"]
    assert await snapshot(ctx.db, A) == before
    released = await ctx.call("a_admin", "POST", "/kill-switch",
                              json={"engaged": False, "reason": "drill over"})
    assert released.status_code == 200 and released.json()["engaged"] is False


# --- tenant isolation ------------------------------------------------------------------------


async def test_another_tenants_ids_are_404_on_every_endpoint_and_nothing_changes(
    ctx: Ctx,
) -> None:
    held = await held_reply(ctx.db, A)
    merged = await new_customer(ctx.db, A)
    async with ctx.db.acquire() as conn:
        await conn.execute("UPDATE customers SET merged_into = $2, merged_at = now() "
                           "WHERE tenant_id = $1 AND id = $3", A, held.customer_id, merged)
    before = await snapshot(ctx.db, A)
    calls = [
        ("GET", f"/customers/{held.customer_id}/care", None),
        ("PUT", f"/customers/{held.customer_id}/hands-off", {"enabled": True}),
        ("PUT", f"/customers/{held.customer_id}/autonomy", {"mode": "autopilot"}),
        ("POST", f"/customers/{held.customer_id}/escalation/close", {"reason": "not yours"}),
        ("GET", f"/customers/{merged}/care", None),
        ("PUT", f"/customers/{merged}/hands-off", {"enabled": True}),
        ("POST", f"/proposals/{held.proposal_id}/approve", None),
        ("POST", f"/proposals/{held.proposal_id}/edit", {"text": "Hijacked answer."}),
        ("POST", f"/proposals/{held.proposal_id}/reject", {"reason": "not yours"}),
    ]
    for who in ("b_admin", "b_operator"):
        for method, path, body in calls:
            if who == "b_operator" and path.endswith("/autonomy"):
                continue  # an operator is refused for its role first (403, tested above)
            res = await ctx.call(who, method, path, json=body)
            assert res.status_code == 404, (who, path, res.text)
            what = "proposal" if path.startswith("/proposals/") else "customer"
            assert res.json() == {"detail": f"no such {what}"}
            unknown = path.replace(str(held.customer_id), str(uuid.uuid4())).replace(
                str(merged), str(uuid.uuid4())).replace(str(held.proposal_id), str(uuid.uuid4()))
            missing = await ctx.call(who, method, unknown, json=body)
            assert (missing.status_code, missing.json()) == (res.status_code, res.json())
    for method, path, body in calls[:3]:
        malformed = await ctx.call("b_admin", method, path.replace(str(held.customer_id),
                                                                   "not-a-uuid"), json=body)
        assert (malformed.status_code, malformed.json()) == (404, {"detail": "no such customer"})
    assert await snapshot(ctx.db, A) == before
    # A's own key sees them; the merged id stands for the customer it was merged into.
    care = await ctx.call("a_operator", "GET", f"/customers/{merged}/care")
    assert care.status_code == 200 and care.json()["customer_id"] == str(held.customer_id)


async def test_a_tenant_sees_only_its_own_settings_proposals_and_audit(ctx: Ctx) -> None:
    a_held = await held_reply(ctx.db, A)
    b_held = await held_reply(ctx.db, B)
    changed = await ctx.call("a_admin", "PUT", "/autonomy", json={"daily_budget": 321})
    assert changed.status_code == 200
    b_settings = (await ctx.call("b_admin", "GET", "/autonomy")).json()
    assert b_settings["daily_budget"] == 200

    b_list = (await ctx.call("b_operator", "GET", "/proposals")).json()["proposals"]
    assert str(b_held.proposal_id) in [p["id"] for p in b_list]
    assert str(a_held.proposal_id) not in [p["id"] for p in b_list]
    assert {p["customer_id"] for p in b_list} <= await _customer_ids(ctx.db, B)

    for fmt in ("jsonl", "csv"):
        res = await ctx.call("b_operator", "GET", "/audit/export", params={"format": fmt})
        ids = [row["id"] for row in _parse(fmt, res.text)]
        assert ids == [row["id"] for row in await audit_rows(ctx.db, B)]
    a_ids = {row["id"] for row in await audit_rows(ctx.db, A)}
    assert a_ids and not a_ids & {row["id"] for row in await audit_rows(ctx.db, B)}


async def _customer_ids(db: Pool, tenant: str) -> set[str]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT id FROM customers WHERE tenant_id = $1", tenant)
    return {str(row["id"]) for row in rows}


# --- autonomy settings -----------------------------------------------------------------------

INVALID_SETTINGS = [
    ({"mode": "turbo"}, "mode"),
    ({"mode": None}, "mode"),
    ({"max_actions_per_customer_day": -1}, "max_actions_per_customer_day"),
    ({"max_actions_per_customer_day": "5"}, "max_actions_per_customer_day"),
    ({"min_interval_s": 1.5}, "min_interval_s"),
    ({"daily_budget": 10**7}, "daily_budget"),
    ({"daily_budget": None}, "daily_budget"),
    ({"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}, "quiet_hours_start"),
    ({"quiet_hours_start": "22:00"}, "quiet_hours_end"),
    ({"quiet_hours_start": "07:00", "quiet_hours_end": "07:00"}, "quiet_hours_end"),
    ({"schedules_opt_in": "yes"}, "schedules_opt_in"),
    ({"hands_off_new_customer": True}, "hands_off_new_customer"),
    ({"mode": "schedules"}, "schedules_opt_in"),
    ({"mode": "schedules", "schedules_opt_in": True, "daily_budget": 0}, "daily_budget"),
]


@pytest.mark.parametrize(("body", "field"), INVALID_SETTINGS)
async def test_invalid_settings_are_422_with_reasons_and_nothing_stored(
    ctx: Ctx, body: dict[str, Any], field: str,
) -> None:
    before = await snapshot(ctx.db, B)
    res = await ctx.call("b_admin", "PUT", "/autonomy", json=body)
    assert res.status_code == 422, res.text
    errors = res.json()["errors"]
    assert field in [e["field"] for e in errors]
    assert all(e["reason"] for e in errors)
    assert await snapshot(ctx.db, B) == before


async def test_leaving_schedules_opt_in_while_in_schedules_mode_is_422(ctx: Ctx) -> None:
    on = await ctx.call("b_admin", "PUT", "/autonomy", json={
        "mode": "schedules", "schedules_opt_in": True, "daily_budget": 50})
    assert on.status_code == 200 and on.json()["mode"] == "schedules"
    before = await snapshot(ctx.db, B)
    off = await ctx.call("b_admin", "PUT", "/autonomy", json={"schedules_opt_in": False})
    assert off.status_code == 422
    assert [e["field"] for e in off.json()["errors"]] == ["schedules_opt_in"]
    assert off.json()["detail"] == "the request is not valid"
    assert await snapshot(ctx.db, B) == before
    back = await ctx.call("b_admin", "PUT", "/autonomy", json={"mode": "assist",
                                                               "daily_budget": 200,
                                                               "schedules_opt_in": False})
    assert back.status_code == 200


async def test_admin_changes_settings_and_each_change_is_audited(ctx: Ctx) -> None:
    start = await last_audit_id(ctx.db)
    res = await ctx.call("b_admin", "PUT", "/autonomy", json={
        "mode": "approve", "max_actions_per_customer_day": 3, "min_interval_s": 120,
        "quiet_hours_start": "22:00", "quiet_hours_end": "07:30",
        "hands_off_new_customers": True})
    assert res.status_code == 200, res.text
    view = res.json()
    assert (view["mode"], view["max_actions_per_customer_day"], view["min_interval_s"],
            view["quiet_hours_start"], view["quiet_hours_end"],
            view["hands_off_new_customers"]) == ("approve", 3, 120, "22:00", "07:30", True)
    assert view["updated_by"] == "operator:b-admin"
    assert (await ctx.call("b_operator", "GET", "/autonomy")).json()["mode"] == "approve"
    async with ctx.db.acquire() as conn:
        stored = await conn.fetchrow("SELECT * FROM care_settings WHERE tenant_id = $1", B)
    assert stored["quiet_hours_start"].isoformat() == "22:00:00"
    assert stored["updated_by"] == "operator:b-admin"

    audit = await audit_rows(ctx.db, B, after_id=start)
    assert len(audit) == 1
    row = audit[0]
    assert (row["event_type"], row["actor"], row["policy_clause"]) == (
        "executed_action", "operator:b-admin", "ADMIN.settings")
    assert row["reason"]
    assert row["payload"]["action"] == "update_autonomy_settings"
    assert row["payload"]["before"]["mode"] == "assist"
    assert row["payload"]["after"]["mode"] == "approve"
    assert row["payload"]["after"]["quiet_hours_end"] == "07:30"

    # Clearing quiet hours is a change; sending the same values again is not.
    cleared = await ctx.call("b_admin", "PUT", "/autonomy",
                             json={"quiet_hours_start": None, "quiet_hours_end": None})
    assert cleared.json()["quiet_hours_start"] is None
    again = await ctx.call("b_admin", "PUT", "/autonomy", json={"mode": "approve"})
    assert again.status_code == 200
    assert len(await audit_rows(ctx.db, B, after_id=start)) == 2
    reset = await ctx.call("b_admin", "PUT", "/autonomy", json={
        "mode": "assist", "max_actions_per_customer_day": 5, "min_interval_s": 60,
        "hands_off_new_customers": False})
    assert reset.status_code == 200


async def test_effective_state_follows_ceiling_kill_switch_and_mode(ctx: Ctx) -> None:
    view = (await ctx.call("a_admin", "PUT", "/autonomy", json={"mode": "autopilot"})).json()
    assert view["ceiling"] == {"autonomy_enabled": True, "shadow_mode": False,
                               "tenant_allowed": True}
    assert view["autonomy_active"] is True and view["kill_switch"] is False

    await ctx.call("a_operator", "POST", "/kill-switch", json={"engaged": True, "reason": "x"})
    assert (await ctx.call("a_operator", "GET", "/autonomy")).json()["autonomy_active"] is False
    await ctx.call("a_admin", "POST", "/kill-switch", json={"engaged": False, "reason": "y"})
    assert (await ctx.call("a_operator", "GET", "/autonomy")).json()["autonomy_active"] is True

    # Tenant B is not on CARE_TENANT_ALLOWLIST: the ceiling keeps it off whatever it sets.
    b_view = (await ctx.call("b_admin", "PUT", "/autonomy", json={"mode": "autopilot"})).json()
    assert b_view["ceiling"]["tenant_allowed"] is False
    assert b_view["autonomy_active"] is False
    await ctx.call("b_admin", "PUT", "/autonomy", json={"mode": "assist"})
    a_assist = (await ctx.call("a_admin", "PUT", "/autonomy", json={"mode": "assist"})).json()
    assert a_assist["autonomy_active"] is False


async def test_the_effective_state_respects_the_environment_ceiling(ctx: Ctx) -> None:
    observe_only = ctx.settings.model_copy(update={"care": ctx.settings.care.model_copy(
        update={"autonomy_enabled": False, "shadow_mode": True})})
    async with ctx.db.acquire() as conn:
        await conn.execute("UPDATE care_settings SET autonomy_mode = 'autopilot' "
                           "WHERE tenant_id = $1", A)
    try:
        view = await care_admin.autonomy(pool=ctx.db, settings=observe_only, tenant_id=A)
        assert view.ceiling == care_admin.Ceiling(autonomy_enabled=False, shadow_mode=True,
                                                  tenant_allowed=True)
        assert view.autonomy_active is False
        assert (await care_admin.autonomy(pool=ctx.db, settings=ctx.settings,
                                          tenant_id=A)).autonomy_active is True
    finally:
        async with ctx.db.acquire() as conn:
            await conn.execute("UPDATE care_settings SET autonomy_mode = 'assist' "
                               "WHERE tenant_id = $1", A)


# --- kill switches ---------------------------------------------------------------------------


async def test_operator_engages_the_kill_switch_only_an_admin_releases_it(ctx: Ctx) -> None:
    start = await last_audit_id(ctx.db)
    engaged = await ctx.call("b_operator", "POST", "/kill-switch",
                             json={"engaged": True, "reason": "customer complaint spike"})
    assert engaged.status_code == 200, engaged.text
    assert engaged.json()["engaged"] is True
    assert engaged.json()["changed_by"] == "operator:b-operator"
    assert (await ctx.call("a_operator", "GET", "/kill-switch")).json()["engaged"] is False

    refused = await ctx.call("b_operator", "POST", "/kill-switch",
                             json={"engaged": False, "reason": "looks fine"})
    assert refused.status_code == 403
    assert (await ctx.call("b_operator", "GET", "/kill-switch")).json()["engaged"] is True
    async with ctx.db.acquire() as conn:
        assert await conn.fetchval("SELECT kill_switch FROM care_settings WHERE tenant_id = $1",
                                   B) is True

    again = await ctx.call("b_operator", "POST", "/kill-switch",
                           json={"engaged": True, "reason": "still bad"})
    assert again.status_code == 200
    released = await ctx.call("b_admin", "POST", "/kill-switch",
                              json={"engaged": False, "reason": "root cause fixed"})
    assert released.status_code == 200 and released.json()["engaged"] is False
    assert released.json()["changed_by"] == "operator:b-admin"

    audit = await audit_rows(ctx.db, B, after_id=start)
    assert [(r["actor"], r["reason"], r["policy_clause"], r["payload"]["action"])
            for r in audit] == [
        ("operator:b-operator", "customer complaint spike", "ADMIN.kill_switch",
         "engage_tenant_kill_switch"),
        ("operator:b-admin", "root cause fixed", "ADMIN.kill_switch",
         "release_tenant_kill_switch"),
    ]
    assert {r["event_type"] for r in audit} == {"executed_action"}


@pytest.mark.parametrize("body", [
    {"engaged": True}, {"engaged": True, "reason": "   "}, {"engaged": "yes", "reason": "x"},
    {"reason": "x"}, {"engaged": True, "reason": "x", "extra": 1},
])
async def test_a_kill_switch_change_needs_a_state_and_a_reason(ctx: Ctx,
                                                                body: dict[str, Any]) -> None:
    before = await snapshot(ctx.db, B)
    res = await ctx.call("b_operator", "POST", "/kill-switch", json=body)
    assert res.status_code == 422
    assert await snapshot(ctx.db, B) == before


async def test_the_global_kill_switch_is_for_internal_admins_only(ctx: Ctx) -> None:
    before = await snapshot(ctx.db, B)
    for who in ("b_admin", "b_operator"):
        for method, body in (("GET", None), ("POST", {"engaged": True, "reason": "halt"})):
            res = await ctx.call(who, method, "/kill-switch/global", json=body)
            assert res.status_code == 404
            assert res.json() == (await ctx.call(who, "GET", "/no-such-thing")).json()
    assert await snapshot(ctx.db, B) == before

    start = await last_audit_id(ctx.db)
    engaged = await ctx.call("a_admin", "POST", "/kill-switch/global",
                             json={"engaged": True, "reason": "incident 42"})
    assert engaged.status_code == 200 and engaged.json()["engaged"] is True
    assert (await ctx.call("a_admin", "GET", "/kill-switch/global")).json()["engaged"] is True
    b_view = (await ctx.call("b_operator", "GET", "/kill-switch")).json()
    assert b_view["engaged"] is False and b_view["global_engaged"] is True
    await ctx.call("a_admin", "PUT", "/autonomy", json={"mode": "autopilot"})
    assert (await ctx.call("a_admin", "GET", "/autonomy")).json()["autonomy_active"] is False
    released = await ctx.call("a_admin", "POST", "/kill-switch/global",
                              json={"engaged": False, "reason": "incident 42 closed"})
    assert released.json()["engaged"] is False
    assert (await ctx.call("a_admin", "GET", "/autonomy")).json()["autonomy_active"] is True
    await ctx.call("a_admin", "PUT", "/autonomy", json={"mode": "assist"})

    audit = [r for r in await audit_rows(ctx.db, A, after_id=start)
             if r["policy_clause"] == "ADMIN.global_kill_switch"]
    assert [(r["actor"], r["reason"], r["payload"]["after"]) for r in audit] == [
        ("operator:a-admin", "incident 42", True),
        ("operator:a-admin", "incident 42 closed", False)]
    assert await audit_rows(ctx.db, B, after_id=start) == []


# --- per customer ----------------------------------------------------------------------------


async def test_hands_off_is_reversible_and_audited(ctx: Ctx) -> None:
    customer = await new_customer(ctx.db, B)
    care = (await ctx.call("b_operator", "GET", f"/customers/{customer}/care")).json()
    assert care == {"customer_id": str(customer), "care_state": "unaware", "hands_off": False,
                    "escalation_status": None, "mode_override": None,
                    "effective_mode": "assist"}
    start = await last_audit_id(ctx.db)
    on = await ctx.call("b_operator", "PUT", f"/customers/{customer}/hands-off",
                        json={"enabled": True})
    assert on.status_code == 200 and on.json()["hands_off"] is True
    off = await ctx.call("b_operator", "PUT", f"/customers/{customer}/hands-off",
                         json={"enabled": False})
    assert off.json()["hands_off"] is False
    same = await ctx.call("b_operator", "PUT", f"/customers/{customer}/hands-off",
                          json={"enabled": False})
    assert same.status_code == 200
    async with ctx.db.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT entity_type, hands_off_enabled FROM customer_care_state "
            "WHERE tenant_id = $1 AND entity_id = $2", B, customer)
    assert (row["entity_type"], row["hands_off_enabled"]) == ("contact", False)
    audit = await audit_rows(ctx.db, B, after_id=start)
    assert [(r["actor"], r["policy_clause"], r["customer_id"], r["payload"]["after"])
            for r in audit] == [("operator:b-operator", "ADMIN.hands_off", customer, True),
                                ("operator:b-operator", "ADMIN.hands_off", customer, False)]
    bad = await ctx.call("b_operator", "PUT", f"/customers/{customer}/hands-off",
                         json={"enabled": "yes"})
    assert bad.status_code == 422


async def test_customer_mode_override_and_back_to_the_tenant_default(ctx: Ctx) -> None:
    await ctx.call("b_admin", "PUT", "/autonomy", json={"hands_off_new_customers": True})
    customer = await new_customer(ctx.db, B)
    start = await last_audit_id(ctx.db)
    try:
        res = await ctx.call("b_admin", "PUT", f"/customers/{customer}/autonomy",
                             json={"mode": "approve"})
        assert res.status_code == 200, res.text
        care = res.json()
        assert (care["mode_override"], care["effective_mode"]) == ("approve", "approve")
        assert care["hands_off"] is True  # the tenant's default, not decided by the mode
        same = await ctx.call("b_admin", "PUT", f"/customers/{customer}/autonomy",
                              json={"mode": "approve"})
        assert same.json() == care  # no change, no audit row
        schedules = await ctx.call("b_admin", "PUT", f"/customers/{customer}/autonomy",
                                   json={"mode": "schedules"})
        assert schedules.status_code == 422  # the tenant has not opted in to schedules
        assert (await ctx.call("b_admin", "PUT", f"/customers/{customer}/autonomy",
                               json={})).status_code == 422
        back = (await ctx.call("b_admin", "PUT", f"/customers/{customer}/autonomy",
                               json={"mode": None})).json()
        assert (back["mode_override"], back["effective_mode"]) == (None, "assist")
        await ctx.call("b_admin", "PUT", "/autonomy", json={"schedules_opt_in": True})
        opted_in = await ctx.call("b_admin", "PUT", f"/customers/{customer}/autonomy",
                                  json={"mode": "schedules"})
        assert opted_in.status_code == 200
        assert opted_in.json()["effective_mode"] == "schedules"
    finally:
        await ctx.call("b_admin", "PUT", "/autonomy", json={"hands_off_new_customers": False,
                                                            "schedules_opt_in": False})
    audit = [r for r in await audit_rows(ctx.db, B, after_id=start)
             if r["policy_clause"] == "ADMIN.customer_mode"]
    assert [(r["payload"]["before"], r["payload"]["after"]) for r in audit] == [
        (None, "approve"), ("approve", None), (None, "schedules")]
    assert {(r["actor"], r["customer_id"]) for r in audit} == {("operator:b-admin", customer)}


# --- the approval inbox ----------------------------------------------------------------------


async def test_proposals_are_listed_by_status(ctx: Ctx) -> None:
    first = await held_reply(ctx.db, B)
    second = await held_reply(ctx.db, B)
    res = await ctx.call("b_operator", "GET", "/proposals", params={"status": "pending"})
    assert res.status_code == 200
    listed = res.json()["proposals"]
    ids = [p["id"] for p in listed]
    assert ids.index(str(first.proposal_id)) < ids.index(str(second.proposal_id))
    entry = next(p for p in listed if p["id"] == str(first.proposal_id))
    assert (entry["customer_id"], entry["action"], entry["status"], entry["expired"]) == (
        str(first.customer_id), "send_reply", "pending", False)
    assert entry["decision"]["policy_clause"] == "AAP1.mode.approve"
    assert entry["draft"].startswith("Hello Grace")
    assert len((await ctx.call("b_operator", "GET", "/proposals",
                               params={"limit": 1})).json()["proposals"]) == 1
    assert (await ctx.call("b_operator", "GET", "/proposals",
                           params={"status": "maybe"})).status_code == 422
    assert (await ctx.call("b_operator", "GET", "/proposals",
                           params={"limit": 0})).status_code == 422


async def test_reject_needs_a_reason_and_happens_once(ctx: Ctx) -> None:
    held = await held_reply(ctx.db, B)
    path = f"/proposals/{held.proposal_id}/reject"
    before = await snapshot(ctx.db, B)
    for body, field in (({"reason": "   "}, "reason"), ({}, "reason"), ({"reason": ""}, "reason"),
                        ({"reason": "x" * 1001}, "reason"), ({"reason": 7}, "reason"),
                        ({"reason": "ok", "mood": "bad"}, "mood")):
        res = await ctx.call("b_operator", "POST", path, json=body)
        assert res.status_code == 422
        assert [e["field"] for e in res.json()["errors"]] == [field]
        assert res.json()["detail"] == "the request is not valid"
    # A blank reason passes the schema; the inbox refuses it, answered like the schema's 422.
    blank = await ctx.call("b_operator", "POST", path, json={"reason": "   "})
    assert blank.json() == {"detail": "the request is not valid",
                            "errors": [{"field": "reason", "reason": "must not be blank"}]}
    assert await snapshot(ctx.db, B) == before

    start = await last_audit_id(ctx.db)
    res = await ctx.call("b_operator", "POST", path, json={"reason": "  wrong product  "})
    assert res.status_code == 200, res.text
    assert res.json() == {"proposal_id": str(held.proposal_id), "status": "rejected",
                          "outcome": "IDEA_REJECTED", "decided_by": "operator:b-operator",
                          "message_id": str(held.reply_id)}
    async with ctx.db.acquire() as conn:
        proposal = await conn.fetchrow("SELECT * FROM care_proposals WHERE id = $1",
                                       held.proposal_id)
        reply_status = await conn.fetchval("SELECT status FROM messages WHERE id = $1",
                                           held.reply_id)
    assert (proposal["status"], proposal["outcome"], proposal["decided_by"],
            proposal["decision_reason"]) == ("rejected", "IDEA_REJECTED", "operator:b-operator",
                                             "wrong product")
    assert proposal["decided_at"] is not None
    assert reply_status == "rejected"
    audit = await audit_rows(ctx.db, B, after_id=start)
    assert [(r["event_type"], r["actor"], r["reason"], r["policy_clause"], r["message_id"])
            for r in audit] == [("blocked_action", "operator:b-operator", "wrong product",
                                 "INBOX.rejected", held.reply_id)]

    after = await snapshot(ctx.db, B)
    for method, sub, body in (("reject", "reject", {"reason": "again"}),
                              ("approve", "approve", None),
                              ("edit", "edit", {"text": "Another answer."})):
        again = await ctx.call("b_admin", "POST", f"/proposals/{held.proposal_id}/{sub}",
                               json=body)
        assert again.status_code == 409, method
        assert again.json() == {"detail": "the proposal is already rejected"}
    assert await snapshot(ctx.db, B) == after


async def _outgoing(db: Pool, settings: Settings, reply_id: UUID) -> list[Any]:
    async with db.acquire() as conn:
        return list(await conn.fetch(
            "SELECT * FROM outbox WHERE topic = $1 AND payload->'data'->>'message_id' = $2",
            settings.kafka.topic_outgoing, str(reply_id)))


async def test_approve_releases_the_draft_like_the_executor(ctx: Ctx) -> None:
    held = await held_reply(ctx.db, B, channel="email")
    assert await _outgoing(ctx.db, ctx.settings, held.reply_id) == []
    start = await last_audit_id(ctx.db)
    res = await ctx.call("b_operator", "POST", f"/proposals/{held.proposal_id}/approve")
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "approved"
    assert res.json()["outcome"] == "EXECUTION_SUCCEEDED"

    async with ctx.db.acquire() as conn:
        reply = await conn.fetchrow("SELECT * FROM messages WHERE id = $1", held.reply_id)
        proposal = await conn.fetchrow("SELECT * FROM care_proposals WHERE id = $1",
                                       held.proposal_id)
    assert reply["status"] == "queued"
    assert reply["content"] == proposal["draft"] == proposal["final_text"]
    assert reply["metadata"]["approved_by"] == "operator:b-operator"
    assert (proposal["status"], proposal["outcome"], proposal["decided_by"]) == (
        "approved", "EXECUTION_SUCCEEDED", "operator:b-operator")
    events = await _outgoing(ctx.db, ctx.settings, held.reply_id)
    assert len(events) == 1
    assert (events[0]["tenant_id"], events[0]["message_key"]) == (B, str(held.customer_id))
    notice = decode_event(json.dumps(events[0]["payload"]).encode(), "outbound_message",
                          OutboundNotice)
    assert notice == OutboundNotice(tenant_id=B, message_id=held.reply_id, channel="email")
    audit = await audit_rows(ctx.db, B, after_id=start)
    assert [(r["event_type"], r["actor"], r["policy_clause"], r["customer_id"],
             r["message_id"], r["payload"]["action"]) for r in audit] == [
        ("executed_action", "operator:b-operator", "INBOX.approved", held.customer_id,
         held.reply_id, "send_reply")]

    twice = await ctx.call("b_admin", "POST", f"/proposals/{held.proposal_id}/approve")
    assert twice.status_code == 409
    assert len(await _outgoing(ctx.db, ctx.settings, held.reply_id)) == 1


async def test_edit_replaces_the_text_then_releases_it(ctx: Ctx) -> None:
    held = await held_reply(ctx.db, B)
    path = f"/proposals/{held.proposal_id}/edit"
    before = await snapshot(ctx.db, B)
    for body in ({"text": "  "}, {}, {"text": 42}, {"text": "x" * 20_001}):
        res = await ctx.call("b_operator", "POST", path, json=body)
        assert res.status_code == 422
        assert [e["field"] for e in res.json()["errors"]] == ["text"]
    assert await snapshot(ctx.db, B) == before

    edited = "Hi Grace, open Settings > Security > Reset password. It takes one minute."
    res = await ctx.call("b_operator", "POST", path, json={"text": edited})
    assert res.status_code == 200, res.text
    assert (res.json()["status"], res.json()["outcome"]) == ("edited", "IDEA_EDITED")
    async with ctx.db.acquire() as conn:
        reply = await conn.fetchrow("SELECT * FROM messages WHERE id = $1", held.reply_id)
        proposal = await conn.fetchrow("SELECT * FROM care_proposals WHERE id = $1",
                                       held.proposal_id)
    assert (reply["status"], reply["content"]) == ("queued", edited)
    assert proposal["final_text"] == edited and proposal["draft"] != edited
    assert len(await _outgoing(ctx.db, ctx.settings, held.reply_id)) == 1


async def test_an_expired_proposal_is_409_and_marked_expired(ctx: Ctx) -> None:
    held = await held_reply(ctx.db, B, expires_in=timedelta(seconds=-1))
    listed = (await ctx.call("b_operator", "GET", "/proposals")).json()["proposals"]
    assert next(p for p in listed if p["id"] == str(held.proposal_id))["expired"] is True
    for sub, body in (("approve", None), ("edit", {"text": "Late answer."})):
        res = await ctx.call("b_operator", "POST", f"/proposals/{held.proposal_id}/{sub}",
                             json=body)
        assert res.status_code == 409
    async with ctx.db.acquire() as conn:
        proposal = await conn.fetchrow("SELECT * FROM care_proposals WHERE id = $1",
                                       held.proposal_id)
        reply_status = await conn.fetchval("SELECT status FROM messages WHERE id = $1",
                                           held.reply_id)
    assert (proposal["status"], proposal["outcome"], proposal["decided_by"]) == (
        "expired", None, None)
    assert reply_status == "expired"  # the draft says it will never be sent
    assert await _outgoing(ctx.db, ctx.settings, held.reply_id) == []


async def test_only_a_held_reply_can_be_approved_but_any_proposal_can_be_rejected(
    ctx: Ctx,
) -> None:
    customer = await new_customer(ctx.db, B)
    async with ctx.db.acquire() as conn:
        proposal_id = await conn.fetchval(
            "INSERT INTO care_proposals (tenant_id, customer_id, action, draft, created_at, "
            "expires_at) VALUES ($1, $2, 'follow_up_task', 'Call Grace about onboarding', $3, "
            "$3::timestamptz + interval '7 days') RETURNING id",
            B, customer, datetime.now(UTC))
    before = await snapshot(ctx.db, B)
    res = await ctx.call("b_operator", "POST", f"/proposals/{proposal_id}/approve")
    assert res.status_code == 409 and "follow_up_task" in res.json()["detail"]
    assert await snapshot(ctx.db, B) == before
    rejected = await ctx.call("b_operator", "POST", f"/proposals/{proposal_id}/reject",
                              json={"reason": "already called"})
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["message_id"]) == ("rejected", None)


async def test_the_services_refuse_what_the_api_schema_already_keeps_out(ctx: Ctx) -> None:
    customer = await new_customer(ctx.db, B)
    before = await snapshot(ctx.db, B)
    with pytest.raises(care_admin.Invalid) as bad_mode:
        await care_customers.set_customer_mode(pool=ctx.db, tenant_id=B, customer_id=customer,
                                               mode="turbo", actor="t", now=datetime.now(UTC))
    assert bad_mode.value.problems[0][0] == "mode"
    with pytest.raises(care_admin.Invalid) as unknown:
        await care_admin.update_autonomy(pool=ctx.db, settings=ctx.settings, tenant_id=B, actor="t",
                                         changes={"colour": "red", "daily_budget": None},
                                         now=datetime.now(UTC))
    assert unknown.value.problems == [("colour", "is not a setting"),
                                      ("daily_budget", "may not be null")]
    assert await snapshot(ctx.db, B) == before


async def test_a_draft_released_elsewhere_cannot_be_approved_again(ctx: Ctx) -> None:
    held = await held_reply(ctx.db, B)
    async with ctx.db.acquire() as conn:
        await conn.execute("UPDATE messages SET status = 'queued' WHERE id = $1", held.reply_id)
    before = await snapshot(ctx.db, B)
    res = await ctx.call("b_operator", "POST", f"/proposals/{held.proposal_id}/approve")
    assert res.status_code == 409 and "queued" in res.json()["detail"]
    assert await snapshot(ctx.db, B) == before


async def test_an_approved_edit_is_delivered_by_the_dispatcher(ctx: Ctx) -> None:
    held = await held_reply(ctx.db, B, channel="email")
    edited = "Hi Grace, the reset link is on the sign-in page. It expires after an hour."
    async with running_stack(ctx.settings, ctx.db, workers=True) as stack:
        res = await stack.http.post(f"{ADMIN}/proposals/{held.proposal_id}/edit",
                                    json={"text": edited},
                                    headers={"X-API-Key": ctx.keys["b_operator"]})
        assert res.status_code == 200, res.text

        async def delivered() -> Any:
            async with ctx.db.acquire() as conn:
                return await conn.fetchrow(
                    "SELECT d.status, d.body, m.status AS message_status FROM deliveries d "
                    "JOIN messages m ON m.id = d.message_id WHERE d.message_id = $1",
                    held.reply_id)

        row = await wait_for(delivered, timeout_s=30)
    assert (row["status"], row["body"], row["message_status"]) == (
        "sandboxed", edited, "delivered")


# --- audit export ----------------------------------------------------------------------------

NULLABLE = ("policy_clause", "customer_id", "message_id")


def _parse(fmt: str, text: str) -> list[dict[str, Any]]:
    """Read an export back into rows shaped like the database's."""
    if fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        assert tuple(reader.fieldnames or ()) == care_activity.AUDIT_COLUMNS
        rows = []
        for raw in reader:
            row: dict[str, Any] = dict(raw)
            row["id"] = int(row["id"])
            row["payload"] = json.loads(row["payload"])
            for column in NULLABLE:
                row[column] = row[column] or None
            rows.append(row)
    for row in rows:
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        for column in ("customer_id", "message_id"):
            row[column] = UUID(row[column]) if row[column] else None
    return rows


async def _export(ctx: Ctx, who: str, **params: Any) -> httpx.Response:
    return await ctx.call(who, "GET", "/audit/export", params=params)


async def test_jsonl_and_csv_exports_parse_back_to_the_stored_rows(ctx: Ctx) -> None:
    customer = await new_customer(ctx.db, B)
    async with ctx.db.acquire() as conn:
        await conn.execute(
            "INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause, "
            "customer_id, payload, created_at) VALUES ($1, 'would_escalate', 'fte-agent', $2, "
            "NULL, $3, $4, $5)",
            B, 'refund, "asap"\nsecond line; ünïcode ✓', customer,
            {"nested": {"list": [1, "two", None]}, "quote": "\"", "comma": ","},
            datetime.now(UTC))
    stored = await audit_rows(ctx.db, B)
    assert len(stored) >= 5
    jsonl = await _export(ctx, "b_operator", format="jsonl")
    assert jsonl.status_code == 200
    assert jsonl.headers["content-type"] == "application/x-ndjson"
    assert "attachment" in jsonl.headers["content-disposition"]
    assert _parse("jsonl", jsonl.text) == stored
    exported_csv = await _export(ctx, "b_admin", format="csv")
    assert exported_csv.status_code == 200
    assert exported_csv.headers["content-type"].startswith("text/csv")
    assert _parse("csv", exported_csv.text) == stored


async def test_export_filters_by_event_type_and_time(ctx: Ctx) -> None:
    stored = await audit_rows(ctx.db, B)
    blocked = await _export(ctx, "b_operator", event_type="blocked_action")
    assert _parse("jsonl", blocked.text) == [r for r in stored
                                             if r["event_type"] == "blocked_action"]
    middle = stored[len(stored) // 2]["created_at"]
    since = _parse("csv", (await _export(ctx, "b_operator", format="csv",
                                         since=middle.isoformat())).text)
    assert since == [r for r in stored if r["created_at"] >= middle]
    until = _parse("jsonl", (await _export(ctx, "b_operator", until=middle.isoformat())).text)
    assert until == [r for r in stored if r["created_at"] < middle]
    naive = middle.astimezone(UTC).replace(tzinfo=None).isoformat()
    assert _parse("jsonl", (await _export(ctx, "b_operator", since=naive)).text) == since
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    empty = await _export(ctx, "b_operator", format="csv", since=future)
    assert empty.status_code == 200 and _parse("csv", empty.text) == []


@pytest.mark.parametrize("params", [
    {"format": "xml"}, {"format": ""}, {"event_type": "deleted_everything"},
    {"since": "yesterday"}, {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
])
async def test_export_refuses_bad_parameters_with_422(ctx: Ctx, params: dict[str, str]) -> None:
    res = await _export(ctx, "b_operator", **params)
    assert res.status_code == 422, res.text
    assert res.json()["errors"][0]["reason"]


async def test_a_large_export_is_read_in_pages_and_complete(ctx: Ctx) -> None:
    async with ctx.db.acquire() as conn:
        await conn.execute(
            "INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause, "
            "payload, created_at) SELECT $1, 'would_execute_action', 'fte-agent', 'row ' || n, "
            "'PR0.x', jsonb_build_object('n', n), $3 FROM generate_series(1, $2) AS n",
            C, 2 * care_activity.EXPORT_PAGE_SIZE + 345, datetime.now(UTC))
    pages = [page async for page in care_activity.audit_pages(
        pool=ctx.db, tenant_id=C, since=None, until=None, event_type=None)]
    assert [len(page) for page in pages] == [1000, 1000, 345]
    res = await ctx.api.http.get(f"{ADMIN}/audit/export",
                                 headers={"X-API-Key": await _c_key(ctx)})
    rows = _parse("jsonl", res.text)
    assert [row["payload"]["n"] for row in rows] == list(range(1, 2346))
    assert rows == await audit_rows(ctx.db, C)


async def _c_key(ctx: Ctx) -> str:
    _, key = await admin_keys.create_key(pool=ctx.db, tenant_id=C, role="operator",
                                         name="c-operator")
    return key


async def test_the_local_demo_opts_in_once_and_never_undoes_an_operators_choice(
    ctx: Ctx,
) -> None:
    tenant = f"demo-{uuid.uuid4().hex[:8]}"
    await _add_tenant(ctx.db, tenant)
    now = datetime.now(UTC)
    first = await care_admin.opt_in_local_demo(pool=ctx.db, settings=ctx.settings, tenant_id=tenant,
                                               now=now)
    assert (first.settings.mode, first.settings.hands_off_new_customers, first.updated_by) == (
        "autopilot", True, care_admin.LOCAL_DEMO_ACTOR)
    await care_admin.update_autonomy(pool=ctx.db, settings=ctx.settings, tenant_id=tenant,
                                     actor="operator:ada", changes={"mode": "approve"}, now=now)
    again = await care_admin.opt_in_local_demo(pool=ctx.db, settings=ctx.settings, tenant_id=tenant,
                                               now=now)
    assert (again.settings.mode, again.updated_by) == ("approve", "operator:ada")
    audit = await audit_rows(ctx.db, tenant)
    assert [(a["actor"], a["policy_clause"]) for a in audit] == [
        (care_admin.LOCAL_DEMO_ACTOR, "ADMIN.settings"), ("operator:ada", "ADMIN.settings")]


# --- what the console reads: who, customers, activity, digests, tasks ------------------------


async def test_whoami_names_the_keys_tenant_and_role(ctx: Ctx) -> None:
    assert (await ctx.call("a_operator", "GET", "/whoami")).json() == {
        "tenant_id": A, "name": "a-operator", "role": "operator"}
    assert (await ctx.call("b_admin", "GET", "/whoami")).json() == {
        "tenant_id": B, "name": "b-admin", "role": "admin"}
    assert_401(await ctx.call(None, "GET", "/whoami"))


async def test_customers_are_the_tenants_own_most_recent_first_and_searchable(ctx: Ctx) -> None:
    older = await held_reply(ctx.db, B)
    newer = await held_reply(ctx.db, B)
    theirs = await held_reply(ctx.db, A)
    async with ctx.db.acquire() as conn:
        email = await conn.fetchval("SELECT email FROM customers WHERE id = $1",
                                    newer.customer_id)
        await conn.execute(
            "INSERT INTO customer_care_state (tenant_id, entity_type, entity_id, "
            "escalation_status) VALUES ($1, 'contact', $2, 'open')", B, older.customer_id)
    listed = (await ctx.call("b_operator", "GET", "/customers")).json()["customers"]
    ids = [c["customer_id"] for c in listed]
    assert ids.index(str(newer.customer_id)) < ids.index(str(older.customer_id))
    assert set(ids) <= await _customer_ids(ctx.db, B) and str(theirs.customer_id) not in ids
    entry = next(c for c in listed if c["customer_id"] == str(newer.customer_id))
    assert (entry["name"], entry["email"], entry["care_state"], entry["escalation_status"],
            entry["effective_mode"]) == ("Grace Hopper", email, "unaware", None, "assist")
    found = (await ctx.call("b_operator", "GET", "/customers",
                            params={"q": email.upper()})).json()["customers"]
    assert [c["customer_id"] for c in found] == [str(newer.customer_id)]
    open_only = (await ctx.call("b_operator", "GET", "/customers",
                                params={"escalation": "open"})).json()["customers"]
    assert str(older.customer_id) in [c["customer_id"] for c in open_only]
    assert {c["escalation_status"] for c in open_only} == {"open"}
    wildcard = await ctx.call("b_operator", "GET", "/customers", params={"q": "%"})
    assert wildcard.status_code == 200 and wildcard.json()["customers"] == []
    for bad in ({"limit": 0}, {"escalation": "closed"}, {"q": "x" * 201}):
        assert (await ctx.call("b_operator", "GET", "/customers", params=bad)).status_code == 422


async def test_activity_is_the_tenants_audit_newest_first_in_pages(ctx: Ctx) -> None:
    await held_reply(ctx.db, B)
    await ctx.call("b_admin", "PUT", "/autonomy", json={"min_interval_s": 42})
    stored = await audit_rows(ctx.db, B)
    first = (await ctx.call("b_operator", "GET", "/activity", params={"limit": 2})).json()
    assert [e["id"] for e in first["entries"]] == [r["id"] for r in stored[::-1][:2]]
    assert first["next_before_id"] == first["entries"][-1]["id"]
    rest = (await ctx.call("b_operator", "GET", "/activity",
                           params={"before_id": first["next_before_id"], "limit": 500})).json()
    assert [e["id"] for e in first["entries"] + rest["entries"]] == [
        r["id"] for r in stored[::-1]]
    assert rest["next_before_id"] is None
    executed = (await ctx.call("b_operator", "GET", "/activity",
                               params={"event_type": "executed_action"})).json()["entries"]
    assert executed and {e["event_type"] for e in executed} == {"executed_action"}
    a_ids = {r["id"] for r in await audit_rows(ctx.db, A)}
    assert not a_ids & {e["id"] for e in first["entries"] + rest["entries"]}


async def test_digests_and_tasks_are_the_tenants_own(ctx: Ctx) -> None:
    mine, other = await new_customer(ctx.db, B), await new_customer(ctx.db, A)
    async with ctx.db.acquire() as conn:
        for tenant, customer, day in ((B, mine, date(2026, 11, 30)),
                                      (A, other, date(2026, 11, 29))):
            written = datetime.combine(day + timedelta(days=1), time(1), tzinfo=UTC)
            await conn.execute("INSERT INTO care_digests (tenant_id, day, summary, created_at) "
                               "VALUES ($1, $2, $3, $4)", tenant, day, {"tenant": tenant},
                               written)
            await conn.execute(
                "INSERT INTO care_tasks (tenant_id, customer_id, kind, title, created_by, "
                "created_at) VALUES ($1, $2, 'follow_up_task', 'Check in', 'fte-agent', $3)",
                tenant, customer, written)
    digests = (await ctx.call("b_operator", "GET", "/digests")).json()["digests"]
    assert [(d["day"], d["summary"]) for d in digests] == [("2026-11-30", {"tenant": B})]
    tasks = (await ctx.call("b_operator", "GET", "/tasks")).json()["tasks"]
    assert [(t["customer_id"], t["title"], t["status"]) for t in tasks] == [
        (str(mine), "Check in", "open")]
    assert (await ctx.call("b_operator", "GET", "/tasks",
                           params={"status": "done"})).json()["tasks"] == []


async def test_proposals_carry_what_the_operator_needs_to_decide(ctx: Ctx) -> None:
    held = await held_reply(ctx.db, B, channel="email")
    listed = (await ctx.call("b_operator", "GET", "/proposals")).json()["proposals"]
    entry = next(p for p in listed if p["id"] == str(held.proposal_id))
    assert (entry["customer_name"], entry["channel"], entry["subject"], entry["inbound"]) == (
        "Grace Hopper", "email", "Password reset", "How do I reset my password?")
    assert entry["ticket_id"] is None and entry["response_outcome"] is None


# --- the CLI ---------------------------------------------------------------------------------


async def _fte(settings: Settings, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "admin", *args, cwd=ROOT,
        env=child_env(settings), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_creates_and_revokes_keys(ctx: Ctx) -> None:
    code, out, err = await _fte(ctx.settings, "create-key", "--tenant", B, "--role", "admin",
                                "--name", "cli admin")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1
    created = json.loads(lines[0])
    assert (created["tenant_id"], created["role"], created["name"]) == (B, "admin", "cli admin")
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await ctx.api.http.get(f"{ADMIN}/autonomy", headers=headers)).status_code == 200

    code, out, err = await _fte(ctx.settings, "revoke-key", created["key_id"])
    assert (code, json.loads(out)) == (0, {"key_id": created["key_id"], "revoked": True})
    assert_401(await ctx.api.http.get(f"{ADMIN}/autonomy", headers=headers))
    code, out, _ = await _fte(ctx.settings, "revoke-key", created["key_id"])
    assert (code, json.loads(out)["revoked"]) == (1, False)

    code, out, err = await _fte(ctx.settings, "create-key", "--tenant", "nobody", "--role",
                                "admin", "--name", "x")
    assert (code, out) == (2, "") and "no tenant" in err
    code, out, err = await _fte(ctx.settings, "create-key", "--tenant", B, "--role", "root",
                                "--name", "x")
    assert (code, out) == (2, "") and "root" in err
    code, _, err = await _fte(ctx.settings, "revoke-key", "not-a-uuid")
    assert code == 2 and "invalid UUID" in err
