"""Building C.A.R.E. situations in a real database: tenants with chosen settings, customers who
wrote, replies submitted through the executor, and what came of them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID

import pytest

from production.care import decision, executor
from production.config import CareSettings, Settings
from production.database.pool import Pool, create_pool
from production.database.queries import messages
from production.database.queries.replies import ReplyRecord
from production.domain.care.policy import ProposedAction
from production.domain.messages import InboundMessage
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.services import intake
from tests.conftest import isolated_settings, unique_email

OPEN_CEILING = CareSettings(autonomy_enabled=True, shadow_mode=False)
GROUNDED = decision.reply_action(kb_grounded=True)


def care_db(tag: str, *, max_size: int = 8) -> Any:
    """The module-scoped fixture of a test module's database (`db = care_db("tag")`: the
    name it is bound to is the fixture's): a database of the module's own, migrated, and
    (settings, pool) on it."""

    @pytest.fixture(scope="module")
    async def db(postgres: EmbeddedPostgres,
                 broker: LocalBroker) -> AsyncIterator[tuple[Settings, Pool]]:
        settings = await isolated_settings(postgres, broker, tag)
        pool = await create_pool(settings, min_size=1, max_size=max_size)
        try:
            yield settings, pool
        finally:
            await pool.close()

    return db


async def proposal_of(pool: Pool, tenant: str, reply_id: UUID) -> UUID:
    """The inbox proposal that holds this reply."""
    async with pool.acquire() as conn:
        proposal: UUID = await conn.fetchval(
            "SELECT id FROM care_proposals WHERE tenant_id = $1 AND message_id = $2",
            tenant, reply_id)
    return proposal


def with_care(settings: Settings, care: CareSettings) -> Settings:
    """The settings with another C.A.R.E. ceiling (the environment's CARE_* values)."""
    return settings.model_copy(update={"care": care})


async def new_tenant(pool: Pool, *, mode: str = "autopilot", hands_off_new: bool = True,
                     max_per_customer: int = 100, min_interval_s: int = 0,
                     daily_budget: int = 1000, quiet: tuple[time, time] | None = None,
                     timezone: str = "UTC", schedules_opt_in: bool = False,
                     kill_switch: bool = False) -> str:
    """A tenant of its own with these care settings (not the internal one: list it in the
    ceiling's allowlist to let it act)."""
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO tenants (id, name, timezone) VALUES ($1, $2, $3)",
                           tenant, f"Tenant {tenant}", timezone)
        await conn.execute(
            "INSERT INTO care_settings (tenant_id, autonomy_mode, hands_off_new_customers, "
            "max_actions_per_customer_day, min_interval_s, daily_budget, quiet_hours_start, "
            "quiet_hours_end, schedules_opt_in, kill_switch) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            tenant, mode, hands_off_new, max_per_customer, min_interval_s, daily_budget,
            quiet[0] if quiet else None, quiet[1] if quiet else None, schedules_opt_in,
            kill_switch)
    return tenant


async def acting_tenant(pool: Pool, settings: Settings, **tenant_settings: Any
                        ) -> tuple[str, Settings]:
    """A new tenant with these care settings, and settings whose ceiling lets it act."""
    tenant = await new_tenant(pool, **tenant_settings)
    return tenant, with_care(settings, allowing(tenant))


def allowing(*tenants: str, **care: Any) -> CareSettings:
    """An open ceiling that allows these tenants (and whatever else `care` changes)."""
    values: dict[str, Any] = {"autonomy_enabled": True, "shadow_mode": False,
                              "tenant_allowlist": list(tenants)}
    values.update(care)
    return CareSettings(**values)


@dataclass(frozen=True)
class Inbound:
    tenant_id: str
    message_id: UUID
    customer_id: UUID
    email: str


async def customer_writes(pool: Pool, tenant: str, *, email: str | None = None,
                          content: str = "How do I reset my password?",
                          channel: str = "email") -> Inbound:
    """A customer's message, accepted as intake accepts it (customer, conversation, message)."""
    email = email or unique_email("care")
    msg = InboundMessage(tenant_id=tenant, channel=channel, external_id=f"ext-{uuid.uuid4()}",
                         content=content, sender_email=email, sender_name="Grace",
                         subject="Question")
    async with pool.acquire() as conn, conn.transaction():
        stored = await intake.ingest(conn, msg)
    return Inbound(tenant, stored.message_id, stored.customer_id, email)


def reply_record(content: str = "Use 'Forgot password' on the sign-in page.") -> ReplyRecord:
    return ReplyRecord(content=content, status="pending_approval", kind="reply", tool_calls=[],
                       latency_ms=None, tokens=None, escalation_reason=None,
                       inbound_status="processed", metrics={}, metric_dimensions={})


async def submit(pool: Pool, settings: Settings, inbound: Inbound, *, now: datetime,
                 action: ProposedAction = GROUNDED, content: str | None = None) -> UUID:
    """Hand the agent's reply to this message to the executor at `now`; return the reply id."""
    async with pool.acquire() as conn, conn.transaction():
        row = await messages.lock_inbound(conn, inbound.tenant_id, inbound.message_id)
        assert row is not None
        reply = reply_record(content) if content else reply_record()
        reply_id = await executor.submit_reply(conn=conn, settings=settings,
                                               tenant_id=inbound.tenant_id, inbound=row,
                                               reply=reply, action=action, now=now)
    assert reply_id is not None
    return reply_id


@dataclass(frozen=True)
class Fate:
    """What became of one reply."""

    status: str
    released: int  # outbox events announcing it to the dispatcher
    proposal: dict[str, Any] | None
    audit: list[dict[str, Any]]  # the executor's rows for it, oldest first
    deferred_until: Any

    @property
    def clause(self) -> str:
        return str(self.audit[-1]["policy_clause"])


async def fate(pool: Pool, tenant: str, reply_id: UUID) -> Fate:
    async with pool.acquire() as conn:
        reply = await conn.fetchrow(
            "SELECT status, deferred_until FROM messages WHERE tenant_id = $1 AND id = $2",
            tenant, reply_id)
        released = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE tenant_id = $1 "
            "AND payload->'data'->>'message_id' = $2", tenant, str(reply_id))
        proposal = await conn.fetchrow(
            "SELECT status, action, decision FROM care_proposals "
            "WHERE tenant_id = $1 AND message_id = $2", tenant, reply_id)
        audit = await conn.fetch(
            "SELECT event_type, actor, reason, policy_clause, payload FROM care_audit "
            "WHERE tenant_id = $1 AND message_id = $2 ORDER BY id", tenant, reply_id)
    return Fate(reply["status"], released, dict(proposal) if proposal else None,
                [dict(a) for a in audit], reply["deferred_until"])


async def set_care(pool: Pool, tenant: str, customer: UUID, **columns: Any) -> None:
    """Write the customer's care row directly (hands_off_enabled, escalation_status, ...)."""
    names = list(columns)
    async with pool.acquire() as conn:
        await conn.execute(
            f"INSERT INTO customer_care_state (tenant_id, entity_type, entity_id, "
            f"{', '.join(names)}) VALUES ($1, 'contact', $2, "
            f"{', '.join(f'${i + 3}' for i in range(len(names)))}) "
            f"ON CONFLICT (tenant_id, entity_type, entity_id) DO UPDATE SET "
            f"{', '.join(f'{n} = EXCLUDED.{n}' for n in names)}",
            tenant, customer, *columns.values())
