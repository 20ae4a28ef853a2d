"""The dispatcher's use case: deliver a released reply once, and record how it went.

A provider that is down (timeouts, 5xx, 429) does not block anything: the reply is parked with
its next attempt time and the consumer moves on; `announce_due_retries` re-announces it through
the outbox when due. Each channel has a circuit breaker, so a provider that keeps failing is not
called at all until its cooldown has passed. After the last attempt the reply is marked
delivery_failed and dead-lettered with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from production import clock
from production.care import executor
from production.channels.base import ChannelAdapter, ProviderUnavailable
from production.config import CareSettings, Settings
from production.database.pool import UNAVAILABLE_ERRORS, Pool
from production.database.queries import deliveries, delivery_retry, inbox, messages, outbox
from production.domain.breaker import CircuitBreaker, backoff_s
from production.domain.delivery import DeliveryReceipt, OutboundMessage
from production.domain.messages import (
    InvalidMessage,
    OutboundNotice,
    Undeliverable,
)
from production.domain.ticket_access import TicketLinks
from production.metrics import (
    CHANNEL_BREAKER,
    DELIVERIES,
    DELIVERY_RETRIES_DUE,
    FIRST_RESPONSE,
)
from production.services import ticket_access

log = structlog.get_logger(__name__)


_BREAKER_LEVEL = {"closed": 0, "half_open": 1, "open": 2}


@dataclass
class DeliveryPolicy:
    max_attempts: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    breaker_threshold: int = 5
    breaker_cooldown_s: float = 30.0
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    # The autonomy ceiling, for the last look before an autonomous reply is sent.
    care: CareSettings = field(default_factory=CareSettings)
    # How email and WhatsApp replies link to their ticket's status page (None: no link).
    links: TicketLinks | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        rel = settings.reliability
        return cls(care=settings.care, links=ticket_access.links_for(settings=settings),
                   max_attempts=rel.delivery_max_attempts,
                   backoff_initial_s=rel.delivery_backoff_initial_s,
                   backoff_max_s=rel.delivery_backoff_max_s,
                   breaker_threshold=rel.breaker_failure_threshold,
                   breaker_cooldown_s=rel.breaker_cooldown_s)

    def breaker(self, channel: str) -> CircuitBreaker:
        if channel not in self.breakers:
            self.breakers[channel] = CircuitBreaker(self.breaker_threshold,
                                                    self.breaker_cooldown_s)
        return self.breakers[channel]


async def deliver(*, pool: Pool, adapters: Mapping[str, ChannelAdapter], notice: OutboundNotice,
                  policy: DeliveryPolicy | None = None, now: datetime) -> str:
    """Deliver the reply the notice points at, at `now`; return what happened (idempotent).

    "delivered" / "sandboxed" / "failed" (the provider refused it for good), "duplicate" (done
    before), "scheduled" (a retry is already pending), "retrying" (parked for a later attempt)
    or "held" (an autonomous reply a gate stopped at the last moment: back in the inbox).
    Raises `Undeliverable` after the last attempt, once the failure is recorded.
    """
    policy = policy or DeliveryPolicy()
    adapter = adapters.get(notice.channel)
    if adapter is None:
        raise InvalidMessage(f"no adapter for channel {notice.channel!r}")
    breaker = policy.breaker(notice.channel)
    gave_up: str | None = None
    async with pool.acquire() as conn, conn.transaction():
        row = await messages.get_outbound(conn, notice.tenant_id, notice.message_id)
        if row is None:
            raise InvalidMessage("the outbound message does not exist")
        if row.status in ("delivered", "delivery_failed"):
            return "duplicate"
        if row.status == "pending_approval":
            return "held"  # a late copy of the notice: the reply waits for a person
        if row.status != "queued":
            raise InvalidMessage(f"the message is {row.status}, not released for delivery")
        if row.next_delivery_at is not None and row.next_delivery_at > now:
            return "scheduled"  # an early copy of the notice; the retry announces itself
        if await executor.hold_before_send(conn=conn, care=policy.care, tenant_id=notice.tenant_id,
                                           reply=row, now=now):
            return "held"
        recipient = row.email if row.channel == "email" else row.phone
        body = (row.content if policy.links is None else
                await ticket_access.with_link(conn, policy.links, notice.tenant_id, row))
        outbound = OutboundMessage(
            tenant_id=notice.tenant_id, message_id=row.id, channel=row.channel,
            recipient=recipient if row.channel != "web_form" else None,
            recipient_name=row.name, subject=row.subject, body=body,
            reply_to_external_id=row.reply_to_external_id,
            reply_to_metadata=row.reply_to_metadata or {},
        )
        if not breaker.allow():
            # The provider is not called, so no attempt is spent: wait for the trial call.
            wait = max(breaker.retry_in(), policy.backoff_initial_s)
            await delivery_retry.schedule_retry(
                conn, notice.tenant_id, row.id, attempts=row.delivery_attempts,
                at=now + timedelta(seconds=wait),
                error=f"circuit open after: {breaker.last_error}"[:500])
            return "retrying"
        attempts = row.delivery_attempts + 1
        try:
            # Held under the row lock: a concurrent redelivery waits, then sees "delivered".
            receipt = await adapter.deliver(outbound)
        except ProviderUnavailable as exc:
            error = str(exc)[:500]
            breaker.failed(error)
            DELIVERIES.labels(notice.channel, "unavailable").inc()
            if attempts < policy.max_attempts:
                wait = backoff_s(attempts, initial_s=policy.backoff_initial_s,
                                 max_s=policy.backoff_max_s)
                await delivery_retry.schedule_retry(
                    conn, notice.tenant_id, row.id, attempts=attempts,
                    at=now + timedelta(seconds=wait), error=error)
                log.warning("delivery_retry_scheduled", channel=notice.channel,
                            message_id=str(row.id), attempt=attempts, wait_s=wait,
                            error=error[:200])
                return "retrying"
            gave_up = f"{notice.channel} unavailable after {attempts} attempts: {error}"
            receipt = DeliveryReceipt(status="failed", error=gave_up)
        else:
            breaker.succeeded()  # it answered, even a refusal: the provider is up
        status = "delivered" if receipt.status != "failed" else "delivery_failed"
        await messages.mark_delivery(conn, notice.tenant_id, row.id, status=status,
                                     delivery_status=receipt.status,
                                     delivery_ref=receipt.provider_ref, now=now)
        await delivery_retry.record_attempt(conn, notice.tenant_id, row.id,
                                            attempts=attempts, error=receipt.error)
        # What is recorded is the stored reply: the link's token is never written down.
        await deliveries.record(conn, notice.tenant_id, outbound, receipt, body=row.content)
        if status == "delivery_failed":  # an approved proposal's idea was fine, its send not
            await inbox.record_execution_failed(conn, notice.tenant_id, row.id)
    DELIVERIES.labels(notice.channel, receipt.status).inc()
    if status == "delivered" and row.reply_to_created_at is not None:
        FIRST_RESPONSE.labels(notice.channel, "delivered").observe(
            max(0.0, (now - row.reply_to_created_at).total_seconds()))
    log.info("reply_delivered", channel=notice.channel, status=receipt.status,
             message_id=str(notice.message_id), attempts=attempts)
    if gave_up is not None:
        raise Undeliverable(gave_up)
    return receipt.status


async def announce_due_retries(*, pool: Pool, topic: str, now: datetime,
                               limit: int = 100) -> int:
    """Re-announce the parked replies whose retry is due by `now`; return how many."""
    async with pool.acquire() as conn, conn.transaction():
        due = await delivery_retry.claim_due(conn, now=now, limit=limit)
        for row in due:
            await outbox.enqueue_delivery(conn, row.tenant_id, message_id=row.id,
                                          channel=row.channel, customer_id=row.customer_id,
                                          topic=topic)
    DELIVERY_RETRIES_DUE.inc(len(due))
    return len(due)


async def save_breakers(*, pool: Pool, policy: DeliveryPolicy) -> None:
    """Persist each channel's breaker, for the health endpoint of every API process."""
    async with pool.acquire() as conn:
        for channel, breaker in policy.breakers.items():
            CHANNEL_BREAKER.labels(channel).set(_BREAKER_LEVEL[breaker.state])
            await delivery_retry.save_breaker(conn, channel, state=breaker.state,
                                              failures=breaker.failures,
                                              error=breaker.last_error)


async def run_retries(*, pool: Pool, settings: Settings, policy: DeliveryPolicy,
                      stopping: asyncio.Event, interval_s: float = 0.5) -> None:
    """Re-announce due delivery retries and publish the breakers' state, until stopped."""
    while not stopping.is_set():
        try:
            await announce_due_retries(pool=pool, topic=settings.kafka.topic_outgoing,
                                       now=clock.now())
            await save_breakers(pool=pool, policy=policy)
        except UNAVAILABLE_ERRORS as exc:  # the database is down: the next tick tries again
            log.warning("delivery_retries_unavailable", error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_s)
