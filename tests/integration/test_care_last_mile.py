"""The dispatcher's last look before an autonomous reply leaves, against the real PostgreSQL: a
reply the executor released is still stopped if a kill switch was engaged, consent withdrawn
or an escalation opened before the provider is called, even one parked for a retry; it goes
back to the approval inbox instead. A reply a person approved is sent as approved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from production.care import inbox as care_inbox
from production.channels.base import ProviderUnavailable
from production.config import Settings
from production.database.pool import Pool
from production.domain.delivery import DeliveryReceipt, OutboundMessage
from production.domain.messages import OutboundNotice
from production.services.deliver_outbound import DeliveryPolicy, deliver
from tests.integration.care_world import (
    acting_tenant,
    allowing,
    care_db,
    customer_writes,
    fate,
    proposal_of,
    set_care,
    submit,
)

db = care_db("lastmile")


class _Provider:
    """A provider that records every call; down while `down` is set."""

    channel = "email"

    def __init__(self) -> None:
        self.calls: list[UUID] = []
        self.down = False

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        self.calls.append(message.message_id)
        if self.down:
            raise ProviderUnavailable("503 from the provider")
        return DeliveryReceipt(status="delivered", provider_ref=f"ref-{len(self.calls)}")


async def _released(pool: Pool, settings: Settings,
                    now: datetime) -> tuple[str, UUID, UUID, Settings]:
    """An autopilot tenant's reply the executor released at `now`: (tenant, customer, reply,
    settings)."""
    tenant, ceiling = await acting_tenant(pool, settings)
    inbound = await customer_writes(pool, tenant)
    reply = await submit(pool, ceiling, inbound, now=now)
    assert (await fate(pool, tenant, reply)).status == "queued"
    return tenant, inbound.customer_id, reply, ceiling


def _notice(tenant: str, reply: UUID) -> OutboundNotice:
    return OutboundNotice(tenant_id=tenant, message_id=reply, channel="email")


async def _execute(pool: Pool, sql: str, *args: object) -> None:
    async with pool.acquire() as conn:
        await conn.execute(sql, *args)


Stop = Callable[[Pool, str, UUID], Awaitable[None]]


async def _tenant_kill(pool: Pool, tenant: str, customer: UUID) -> None:
    await _execute(pool, "UPDATE care_settings SET kill_switch = true WHERE tenant_id = $1",
                   tenant)


async def _hands_off_withdrawn(pool: Pool, tenant: str, customer: UUID) -> None:
    await set_care(pool, tenant, customer, hands_off_enabled=False)


async def _escalation_opened(pool: Pool, tenant: str, customer: UUID) -> None:
    await set_care(pool, tenant, customer, hands_off_enabled=True, escalation_status="open")


@pytest.mark.parametrize(("stop", "clause"), [
    (_tenant_kill, "KILL.tenant"),
    (_hands_off_withdrawn, "PR9.hands_off"),
    (_escalation_opened, "PR3.escalation_open"),
])
async def test_a_released_reply_is_held_when_a_gate_closes_before_it_is_sent(
    db: tuple[Settings, Pool], now: datetime, stop: Stop, clause: str
) -> None:
    settings, pool = db
    tenant, customer, reply, ceiling = await _released(pool, settings, now)
    provider = _Provider()
    policy = DeliveryPolicy(care=ceiling.care)

    await stop(pool, tenant, customer)
    assert await deliver(pool=pool, adapters={"email": provider}, notice=_notice(tenant, reply),
                         policy=policy, now=now) == "held"
    assert provider.calls == []
    held = await fate(pool, tenant, reply)
    assert held.status == "pending_approval"
    assert held.proposal is not None and held.proposal["status"] == "pending"
    assert held.proposal["decision"]["gate"]["clause"] == clause
    last = held.audit[-1]
    assert (last["event_type"], last["policy_clause"]) == ("would_execute_action", clause)
    assert last["payload"]["before_send"] is True
    # A late copy of the notice (at-least-once) changes nothing and is not dead-lettered.
    assert await deliver(pool=pool, adapters={"email": provider}, notice=_notice(tenant, reply),
                         policy=policy, now=now) == "held"
    assert provider.calls == []

    # A person approves the draft from the inbox: that is sent, gate or no gate.
    await care_inbox.approve(pool=pool, settings=ceiling, tenant_id=tenant,
                             proposal_id=await proposal_of(pool, tenant, reply), operator="ada",
                             now=now)
    assert await deliver(pool=pool, adapters={"email": provider}, notice=_notice(tenant, reply),
                         policy=policy, now=now) == "delivered"
    assert provider.calls == [reply]


async def test_the_global_kill_switch_and_the_ceiling_hold_a_released_reply(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, _, reply, ceiling = await _released(pool, settings, now)
    provider = _Provider()
    await _execute(pool, "UPDATE care_global SET kill_switch = true")
    try:
        assert await deliver(pool=pool, adapters={"email": provider}, notice=_notice(tenant, reply),
                             policy=DeliveryPolicy(care=ceiling.care), now=now) == "held"
    finally:
        await _execute(pool, "UPDATE care_global SET kill_switch = false")
    assert (await fate(pool, tenant, reply)).clause == "KILL.global"

    # A dispatcher whose environment says shadow mode sends nothing autonomous either.
    tenant, _, reply, _ = await _released(pool, settings, now)
    shadow = DeliveryPolicy(care=allowing(tenant, shadow_mode=True))
    assert await deliver(pool=pool, adapters={"email": provider}, notice=_notice(tenant, reply),
                         policy=shadow, now=now) == "held"
    assert (await fate(pool, tenant, reply)).clause == "PR0.shadow_mode"
    assert provider.calls == []


async def test_a_reply_parked_for_a_retry_is_held_when_the_kill_switch_is_engaged_meanwhile(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, customer, reply, ceiling = await _released(pool, settings, now)
    provider = _Provider()
    provider.down = True
    policy = DeliveryPolicy(care=ceiling.care, backoff_initial_s=0.01)
    assert await deliver(pool=pool, adapters={"email": provider}, notice=_notice(tenant, reply),
                         policy=policy, now=now) == "retrying"

    await _tenant_kill(pool, tenant, customer)
    provider.down = False
    later = now + timedelta(minutes=1)  # the retry is due
    assert await deliver(pool=pool, adapters={"email": provider}, notice=_notice(tenant, reply),
                         policy=policy, now=later) == "held"
    assert provider.calls == [reply]  # the one failed attempt before the switch, nothing after
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT status, next_delivery_at FROM messages WHERE tenant_id = $1 AND id = $2",
            tenant, reply)
    assert (row["status"], row["next_delivery_at"]) == ("pending_approval", None)


async def test_a_reply_a_person_approved_is_sent_while_the_kill_switch_is_engaged(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, mode="approve")
    inbound = await customer_writes(pool, tenant)
    reply = await submit(pool, ceiling, inbound, now=now)
    await care_inbox.approve(pool=pool, settings=ceiling, tenant_id=tenant,
                             proposal_id=await proposal_of(pool, tenant, reply), operator="ada",
                             now=now)
    await _tenant_kill(pool, tenant, inbound.customer_id)
    provider = _Provider()
    assert await deliver(pool=pool, adapters={"email": provider}, notice=_notice(tenant, reply),
                         policy=DeliveryPolicy(care=ceiling.care), now=now) == "delivered"
    assert provider.calls == [reply]
