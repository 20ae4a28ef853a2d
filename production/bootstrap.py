"""The composition root: every process's parts, wired from `Settings`, in one place.

Building is free of side effects: nothing here connects, listens, joins a consumer group or
loads a model (the consumers and the producer are only constructed: call inside the event
loop). The entrypoints open what a process shares (`open_pool`, `start_producer`, which wait
for a dependency that is still starting), build, then start and run what they built. The test
fixtures build the same processes on their own pool and producer, and may hand in another
`agents.Model`, embedder or provider adapters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeAlias

from aiokafka import AIOKafkaProducer, ConsumerRecord

from production import clock
from production.care import cost_gate
from production.channels.sandbox import SandboxAdapter
from production.channels.web_form import WebFormAdapter
from production.config import Settings
from production.database.pool import UNAVAILABLE_ERRORS, Pool, create_pool
from production.domain.client_address import Network, parse_networks
from production.domain.messages import InboundMessage, OutboundNotice, decode_event
from production.domain.rate_limit import PublicLimits, WindowLimiter
from production.domain.ticket_access import TicketLinks
from production.messaging.consumer_loop import (
    Concurrency,
    ConsumerLoop,
    DeadLetterGuard,
    RetryPolicy,
)
from production.messaging.kafka import GroupConsumer, make_consumer, make_producer
from production.messaging.readiness import BrokerReadiness
from production.retry import Errors, until_ready
from production.services import deliver_outbound, ticket_access
from production.services.relay import Send, run_relay, run_sweeper
from production.services.scheduler import run_scheduler
from production.services.suggestions.pipeline import on_own_connection, settling_on_own_connection

# The agent (the Agents SDK), the embedder (the multilingual encoder, OpenAI's client) and
# the providers' clients (Google's, Twilio's) take seconds to import: each builder imports
# those it needs, so that the API, the relay and the scheduler start without them.
if TYPE_CHECKING:
    from agents import Model

    from production.channels.base import ChannelAdapter
    from production.embeddings import Embedder
    from production.services.process_inbound import WorkerDeps

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
Loop: TypeAlias = Callable[[], Coroutine[Any, Any, None]]


# --- What a process shares: the pool and the producer ----------------------------------------


async def open_pool(settings: Settings, *, min_size: int | None = None,
                    max_size: int | None = None, on: Errors = Exception,
                    attempts: int | None = None, stopping: asyncio.Event | None = None) -> Pool:
    """Return a connected pool, waiting for a database that is still starting: retrying the
    errors `on` until it answers, for `attempts` tries, or until `stopping` is set."""
    return await until_ready("database", partial(create_pool, settings, min_size=min_size,
                                                 max_size=max_size),
                             on=on, attempts=attempts, stopping=stopping)


async def start_producer(settings: Settings, *,
                         stopping: asyncio.Event | None = None) -> AIOKafkaProducer:
    """Return a started producer, waiting for a broker that is still starting."""
    async def start() -> AIOKafkaProducer:
        producer = make_producer(settings)
        try:
            await producer.start()
        except Exception:
            await producer.stop()
            raise
        return producer

    return await until_ready("kafka", start, stopping=stopping)


@dataclass(frozen=True)
class Runtime:
    """What a long-running process shares once connected; `stopping` ends its loops."""

    settings: Settings
    pool: Pool
    producer: AIOKafkaProducer
    stopping: asyncio.Event


@dataclass(frozen=True)
class Process:
    """One long-running process, wired: the consumers it starts, then the loops it runs."""

    name: str
    loops: tuple[Loop, ...]
    stopping: asyncio.Event
    consumers: tuple[GroupConsumer, ...] = ()
    warm_up: Callable[[], Awaitable[object]] | None = None

    async def start(self) -> None:
        """Warm up (the embedding model loads before the first customer), then join the
        consumer groups."""
        if self.warm_up is not None:
            await self.warm_up()
        for consumer in self.consumers:
            await consumer.start()

    async def run(self) -> None:
        """Run the loops side by side until `stopping`; when one ends or fails, stop the
        others, then re-raise what it raised."""
        tasks = [asyncio.create_task(loop()) for loop in self.loops]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.stopping.set()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def stop(self) -> None:
        """Leave the consumer groups."""
        for consumer in self.consumers:
            await consumer.stop()


# --- The processes ------------------------------------------------------------------------


def worker_deps(settings: Settings, pool: Pool, *, model: Model | None = None,
                embedder: Embedder | None = None) -> WorkerDeps:
    """Return what handling an inbound message needs: the agent on the configured model (or
    `model`) and the configured embedder (or `embedder`)."""
    from production.agent.runner import SupportAgent
    from production.embeddings import embedder_for
    from production.services.process_inbound import WorkerDeps

    return WorkerDeps(pool=pool, settings=settings, agent=SupportAgent(settings, model=model),
                      embedder=embedder or embedder_for(settings))


def _retry_policy(settings: Settings) -> RetryPolicy:
    rel = settings.reliability
    return RetryPolicy(rel.max_attempts, rel.backoff_initial_s, rel.backoff_max_s)


def _guard(settings: Settings) -> DeadLetterGuard:
    return DeadLetterGuard(settings.reliability.dlq_ratio_limit,
                           settings.reliability.dlq_ratio_window)


def build_worker(rt: Runtime, *, model: Model | None = None,
                 embedder: Embedder | None = None) -> Process:
    """Return `fte worker`: each inbound message through the agent, exactly one reply each;
    one that keeps failing is dead-lettered and its customer gets an apology."""
    from production.services import process_inbound

    settings = rt.settings
    deps = worker_deps(settings, rt.pool, model=model, embedder=embedder)
    consumer = make_consumer(settings, settings.kafka.topic_incoming, settings.kafka.worker_group)

    async def handle(record: Record) -> str:
        msg = decode_event(record.value, "inbound_message", InboundMessage)
        return await process_inbound.handle_inbound(deps, msg, clock=clock.now)

    async def on_dead_letter(record: Record, error: str) -> None:
        try:
            msg = decode_event(record.value, "inbound_message", InboundMessage)
        except Exception:
            return  # unreadable: there is no customer to answer; the DLQ holds it for a human
        await process_inbound.apologize(deps, msg, error, now=clock.now())

    loop = ConsumerLoop(
        name="worker", consumer=consumer, producer=rt.producer, handler=handle,
        dlq_topic=settings.kafka.topic_dlq, retry=_retry_policy(settings),
        guard=_guard(settings), on_dead_letter=on_dead_letter, stopping=rt.stopping,
        concurrency=Concurrency.from_settings(settings.kafka,
                                              max_in_flight=settings.kafka.max_in_flight),
        outages=UNAVAILABLE_ERRORS,
    )
    return Process("worker", loops=(loop.run,), stopping=rt.stopping, consumers=(consumer,),
                   warm_up=partial(deps.embedder.embed, ["warm up"]))


def delivery_adapters(settings: Settings) -> dict[str, ChannelAdapter]:
    """Return each channel's adapter: web form replies show on the ticket; email and WhatsApp
    go to the sandbox until their provider's credentials are configured."""
    from production.channels.whatsapp import WhatsAppAdapter
    from production.services.whatsapp_delivery import WhatsAppDelivery

    twilio = settings.twilio
    whatsapp: ChannelAdapter = (WhatsAppDelivery(WhatsAppAdapter(settings), settings)
                                if twilio.account_sid and twilio.auth_token
                                else SandboxAdapter("whatsapp"))
    return {"web_form": WebFormAdapter(), "email": email_adapter(settings),
            "whatsapp": whatsapp}


def email_adapter(settings: Settings) -> ChannelAdapter:
    """Return the email channel: Gmail when its credentials are configured, else the sandbox
    (Google's client is imported only when it is needed)."""
    if not settings.gmail.credentials_json:
        return SandboxAdapter("email")
    from production.channels.gmail import GmailAdapter

    return GmailAdapter(settings.gmail)


def build_dispatcher(rt: Runtime, *, adapters: Mapping[str, ChannelAdapter] | None = None,
                     retry_interval_s: float = 0.5) -> Process:
    """Return `fte dispatcher`: released replies delivered through their channel's adapter
    (`delivery_adapters`, or `adapters`), and due retries re-announced every
    `retry_interval_s`."""
    settings = rt.settings
    channels = delivery_adapters(settings) if adapters is None else adapters
    policy = deliver_outbound.DeliveryPolicy.from_settings(settings)
    for channel in channels:  # a restarted dispatcher reports every provider afresh
        policy.breaker(channel)
    consumer = make_consumer(settings, settings.kafka.topic_outgoing,
                             settings.kafka.dispatcher_group)

    async def handle(record: Record) -> str:
        notice = decode_event(record.value, "outbound_message", OutboundNotice)
        return await deliver_outbound.deliver(pool=rt.pool, adapters=channels, notice=notice,
                                              policy=policy, now=clock.now())

    loop = ConsumerLoop(
        name="dispatcher", consumer=consumer, producer=rt.producer, handler=handle,
        dlq_topic=settings.kafka.topic_dlq, retry=_retry_policy(settings),
        guard=_guard(settings), stopping=rt.stopping,
        concurrency=Concurrency.from_settings(
            settings.kafka, max_in_flight=settings.kafka.dispatcher_max_in_flight),
        outages=UNAVAILABLE_ERRORS,
    )
    retries = partial(deliver_outbound.run_retries, pool=rt.pool, settings=settings,
                      policy=policy, stopping=rt.stopping, interval_s=retry_interval_s)
    return Process("dispatcher", loops=(loop.run, retries), stopping=rt.stopping,
                   consumers=(consumer,))


def _sender(producer: AIOKafkaProducer) -> Send:
    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        return await producer.send(topic, value, key=key, headers=headers)

    return send


def build_relay(rt: Runtime) -> Process:
    """Return `fte relay`: the outbox published to Kafka, and the sweeper re-queueing inbound
    messages accepted but not processed in time."""
    return Process("relay", stopping=rt.stopping, loops=(
        partial(run_relay, pool=rt.pool, settings=rt.settings, send=_sender(rt.producer),
                stopping=rt.stopping),
        partial(run_sweeper, pool=rt.pool, settings=rt.settings, stopping=rt.stopping)))


def build_scheduler(rt: Runtime) -> Process:
    """Return `fte scheduler`: deferred replies released, drafts expired, the time-driven
    C.A.R.E. work, the threshold checks, and the daily digest mailed through the email
    channel."""
    # The suggestion pass asks the DecisionCostGate before any proposal, each time in a short
    # transaction of its own.
    return Process("scheduler", stopping=rt.stopping,
                   loops=(partial(run_scheduler, pool=rt.pool, settings=rt.settings,
                                  stopping=rt.stopping, mailer=email_adapter(rt.settings),
                                  gate=on_own_connection(rt.pool, cost_gate.check),
                                  settle=settling_on_own_connection(rt.pool)),))


# --- The API and the MCP server -------------------------------------------------------------


@dataclass
class ApiState:
    """What the API's views share (`request.app.state.fte`); the lifespan opens `pool`."""

    settings: Settings
    broker: BrokerReadiness
    ticket_links: TicketLinks
    # The public endpoints' request and failure limits (this process's counts).
    limits: PublicLimits
    trusted_proxies: list[Network]
    pool: Pool | None = None


def build_api(settings: Settings) -> ApiState:
    """Return the API's shared state, its pool not yet open."""
    rate, window = settings.rate_limit, settings.rate_limit.window_s
    limits = PublicLimits(
        form_per_client=WindowLimiter(rate.form_per_client, window),
        form_per_sender=WindowLimiter(rate.form_per_sender, window),
        tickets_per_client=WindowLimiter(rate.tickets_per_client, window),
        tickets_per_subject=WindowLimiter(rate.tickets_per_subject, window),
        ticket_failures=WindowLimiter(settings.tickets.lookup_failures,
                                      settings.tickets.lookup_window_s))
    return ApiState(settings=settings, broker=BrokerReadiness(settings),
                    ticket_links=ticket_access.links_for(settings=settings), limits=limits,
                    trusted_proxies=parse_networks(settings.api.trusted_proxies))


@dataclass(frozen=True)
class McpDeps:
    """What every MCP tool call needs."""

    pool: Pool
    settings: Settings
    tenant_id: str
    embedder: Embedder


def build_mcp(settings: Settings, pool: Pool, *, tenant_id: str | None = None,
              embedder: Embedder | None = None) -> McpDeps:
    """Return the MCP tools' dependencies: acting for `tenant_id` (default DEFAULT_TENANT)."""
    from production.embeddings import embedder_for

    return McpDeps(pool=pool, settings=settings, tenant_id=tenant_id or settings.default_tenant,
                   embedder=embedder or embedder_for(settings))
