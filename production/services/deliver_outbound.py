"""The dispatcher's use case: deliver a released reply once, and record how it went.

A provider that is down (timeouts, 5xx, 429) does not block anything: the reply is parked with
its next attempt time and the consumer moves on; `announce_due_retries` re-announces it through
the outbox when due. Each channel has a circuit breaker, so a provider that keeps failing is not
called at all until its cooldown has passed. After the last attempt the reply is marked
delivery_failed and dead-lettered with the reason.

Neither Gmail nor Twilio takes an idempotency key: for their channels each provider call's start
is committed before the call, and a delivery that finds a start with no outcome (a timeout
after the provider took the message, the database or the dispatcher lost during the call)
looks for the message at the provider before it sends anything again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from production import clock
from production.care import executor
from production.channels.base import ChannelAdapter, ProviderUnavailable, SearchableAdapter
from production.config import CareSettings, Settings
from production.database.pool import UNAVAILABLE_ERRORS, Connection, Pool
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
    # An attempt whose outcome is not known is looked for at the provider this long after it
    # started (a searchable channel's: Gmail, Twilio), and only then sent again if not found.
    lookup_after_s: float = 30.0
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
                   breaker_cooldown_s=rel.breaker_cooldown_s,
                   lookup_after_s=rel.delivery_lookup_after_s)

    def breaker(self, channel: str) -> CircuitBreaker:
        if channel not in self.breakers:
            self.breakers[channel] = CircuitBreaker(self.breaker_threshold,
                                                    self.breaker_cooldown_s)
        return self.breakers[channel]


@dataclass(frozen=True)
class _Ready:
    """A reply locked and released for delivery, as its channel sends it."""

    row: messages.OutboundReply
    outbound: OutboundMessage


@dataclass(frozen=True)
class _Outcome:
    """How a delivery ended, for what is reported once its transaction committed."""

    status: str  # what `deliver` returns
    receipt: DeliveryReceipt | None = None
    attempts: int = 0
    gave_up: str | None = None
    found: bool = False  # sent by an earlier attempt, found at the provider


async def deliver(*, pool: Pool, adapters: Mapping[str, ChannelAdapter], notice: OutboundNotice,
                  policy: DeliveryPolicy | None = None, now: datetime) -> str:
    """Deliver the reply the notice points at, at `now`; return what happened (idempotent).

    "delivered" / "sandboxed" / "failed" (the provider refused it for good), "duplicate" (done
    before), "scheduled" (a retry is already pending), "retrying" (parked for a later attempt)
    or "held" (an autonomous reply a gate stopped at the last moment: back in the inbox).
    Raises `Undeliverable` after the last attempt, once the failure is recorded.

    A channel whose provider can be searched (`SearchableAdapter`) gets its provider call's
    start committed before the call: should the outcome be lost (a timeout after the provider
    took it, the database or this process gone right after), the next delivery finds the start
    unsettled and looks for the message at the provider before it sends anything again.
    """
    policy = policy or DeliveryPolicy()
    adapter = adapters.get(notice.channel)
    if adapter is None:
        raise InvalidMessage(f"no adapter for channel {notice.channel!r}")
    breaker = policy.breaker(notice.channel)
    async with pool.acquire() as conn:
        async with conn.transaction():
            ready = await _ready(conn, policy=policy, notice=notice, breaker=breaker, now=now)
            if isinstance(ready, str):
                return ready
            if isinstance(adapter, SearchableAdapter):
                outcome = await _look_first(conn, adapter, policy=policy, ready=ready,
                                            breaker=breaker, now=now)
                if outcome is None:
                    await delivery_retry.start_attempt(conn, notice.tenant_id, ready.row.id,
                                                       at=now)
            else:
                # Held under the row lock: a concurrent redelivery waits, then sees "delivered".
                sent = await _call(adapter.deliver(ready.outbound), breaker)
                outcome = await _settle(conn, policy=policy, ready=ready, sent=sent, now=now)
        if outcome is None:
            # The start is committed: from here on, a send may go out and not be recorded.
            async with conn.transaction():
                outcome = await _send_started(conn, adapter, policy=policy, ready=ready,
                                              breaker=breaker, now=now)
    return _reported(notice, ready, outcome, now=now)


async def _send_started(conn: Connection, adapter: ChannelAdapter, *, policy: DeliveryPolicy,
                        ready: _Ready, breaker: CircuitBreaker, now: datetime) -> _Outcome:
    """Lock the reply again and make the provider call whose start (`now`) is committed."""
    tenant_id = ready.outbound.tenant_id
    row = await messages.get_outbound(conn, tenant_id, ready.row.id)
    if row is None or row.delivery_started_at != now:
        return _Outcome("duplicate")  # another delivery of it started meanwhile: its own
    if row.status != "queued":  # a gate took it back meanwhile
        await delivery_retry.settle_attempt(conn, tenant_id, row.id)
        return _Outcome("held" if row.status == "pending_approval" else "duplicate")
    # Held under the row lock: a concurrent redelivery waits, then sees "delivered".
    sent = await _call(adapter.deliver(ready.outbound), breaker)
    return await _settle(conn, policy=policy, ready=ready, sent=sent, now=now)


async def _ready(conn: Connection, *, policy: DeliveryPolicy, notice: OutboundNotice,
                 breaker: CircuitBreaker, now: datetime) -> _Ready | str:
    """Lock the reply and build what its channel sends; or return why it is not sent now."""
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
    return _Ready(row, outbound)


async def _look_first(conn: Connection, adapter: SearchableAdapter, *, policy: DeliveryPolicy,
                      ready: _Ready, breaker: CircuitBreaker, now: datetime) -> _Outcome | None:
    """Settle an earlier provider call whose outcome is not known, before a new one: too
    recent to judge, the retry waits until it could have landed (no attempt spent); then the
    message is looked for at the provider, and recorded as delivered if found. Return how
    the delivery ended, or None: nothing went out, a new call may start."""
    row = ready.row
    started = row.delivery_started_at
    if started is None:
        return None
    look_at = started + timedelta(seconds=policy.lookup_after_s)
    if now < look_at:
        await delivery_retry.schedule_retry(
            conn, ready.outbound.tenant_id, row.id, attempts=row.delivery_attempts, at=look_at,
            error="an earlier attempt's outcome is unknown: looking at the provider first")
        return _Outcome("retrying")
    found = await _call(adapter.find_sent(ready.outbound, since=started), breaker)
    if found is None:
        log.info("delivery_not_found_resending", channel=row.channel, message_id=str(row.id))
        return None
    # An unavailable provider leaves the earlier call unknown: the retry looks again.
    return await _settle(conn, policy=policy, ready=ready, sent=found, now=now, looked=True)


async def _call(call: Awaitable[DeliveryReceipt | None], breaker: CircuitBreaker
                ) -> DeliveryReceipt | ProviderUnavailable | None:
    """Await one provider call; an unavailable provider is returned, and counted by the
    breaker (any answer, even a refusal, means the provider is up)."""
    try:
        answer = await call
    except ProviderUnavailable as exc:
        breaker.failed(str(exc)[:500])
        return exc
    breaker.succeeded()
    return answer


async def _settle(conn: Connection, *, policy: DeliveryPolicy, ready: _Ready,
                  sent: DeliveryReceipt | ProviderUnavailable | None, now: datetime,
                  looked: bool = False) -> _Outcome:
    """Record what a provider call (a send, or with `looked` a lookup) came to: a retry
    parked, or the delivery's end."""
    row, outbound = ready.row, ready.outbound
    if isinstance(sent, ProviderUnavailable):
        error = str(sent)[:500]
        DELIVERIES.labels(row.channel, "unavailable").inc()
        attempts = row.delivery_attempts + 1
        if attempts < policy.max_attempts:
            wait = backoff_s(attempts, initial_s=policy.backoff_initial_s,
                             max_s=policy.backoff_max_s)
            await delivery_retry.schedule_retry(
                conn, outbound.tenant_id, row.id, attempts=attempts,
                at=now + timedelta(seconds=wait), error=error)
            if not (looked or sent.maybe_sent):  # the provider answered: nothing went out
                await delivery_retry.settle_attempt(conn, outbound.tenant_id, row.id)
            log.warning("delivery_retry_scheduled", channel=row.channel,
                        message_id=str(row.id), attempt=attempts, wait_s=wait,
                        error=error[:200], outcome_unknown=looked or sent.maybe_sent)
            return _Outcome("retrying")
        gave_up = f"{row.channel} unavailable after {attempts} attempts: {error}"
        return await _record(conn, ready, DeliveryReceipt(status="failed", error=gave_up),
                             attempts=attempts, now=now, gave_up=gave_up)
    assert sent is not None, "a send answers with a receipt"
    # A send found at the provider was counted as an attempt when it went out (or not at all,
    # when the database went down before its failure was recorded).
    attempts = max(1, row.delivery_attempts) if looked else row.delivery_attempts + 1
    return await _record(conn, ready, sent, attempts=attempts, now=now, found=looked)


async def _record(conn: Connection, ready: _Ready, receipt: DeliveryReceipt, *, attempts: int,
                  now: datetime, gave_up: str | None = None, found: bool = False) -> _Outcome:
    row, outbound = ready.row, ready.outbound
    status = "delivered" if receipt.status != "failed" else "delivery_failed"
    await messages.mark_delivery(conn, outbound.tenant_id, row.id, status=status,
                                 delivery_status=receipt.status,
                                 delivery_ref=receipt.provider_ref, now=now)
    await delivery_retry.record_attempt(conn, outbound.tenant_id, row.id,
                                        attempts=attempts, error=receipt.error)
    # What is recorded is the stored reply: the link's token is never written down.
    await deliveries.record(conn, outbound.tenant_id, outbound, receipt, body=row.content)
    if status == "delivery_failed":  # an approved proposal's idea was fine, its send not
        await inbox.record_execution_failed(conn, outbound.tenant_id, row.id)
    return _Outcome(receipt.status, receipt=receipt, attempts=attempts, gave_up=gave_up,
                    found=found)


def _reported(notice: OutboundNotice, ready: _Ready, outcome: _Outcome, *,
              now: datetime) -> str:
    """Count and log a delivery that ended (its transaction committed); return its status."""
    receipt = outcome.receipt
    if receipt is None:
        return outcome.status
    DELIVERIES.labels(notice.channel, receipt.status).inc()
    if receipt.status != "failed" and ready.row.reply_to_created_at is not None:
        FIRST_RESPONSE.labels(notice.channel, "delivered").observe(
            max(0.0, (now - ready.row.reply_to_created_at).total_seconds()))
    log.info("reply_delivered", channel=notice.channel, status=receipt.status,
             message_id=str(notice.message_id), attempts=outcome.attempts,
             found_at_provider=outcome.found)
    if outcome.gave_up is not None:
        raise Undeliverable(outcome.gave_up)
    return outcome.status


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
