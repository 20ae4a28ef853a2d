"""Accepting customer messages: identity, conversation, stored message, outbox event."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from production.database.pool import Connection, Pool
from production.database.queries import customers, intake, outbox
from production.domain import errors
from production.domain.identity import DEFAULT_REGION, needs_region, sender_identity
from production.domain.messages import InboundMessage, InvalidMessage, encode_event
from production.domain.support_form import SupportFormSubmission
from production.domain.ticket_access import TicketLinks
from production.services import ticket_access

log = structlog.get_logger(__name__)

# A message within this window continues the customer's open conversation.
CONVERSATION_WINDOW = timedelta(hours=24)
INBOUND_EVENT = "inbound_message"


class IdempotencyConflict(errors.Conflict):
    """The idempotency key was used before for a different request."""


@dataclass(frozen=True)
class Ingested:
    message_id: UUID
    customer_id: UUID
    conversation_id: UUID
    created: bool  # False when the dedupe key was already stored


@dataclass(frozen=True)
class TicketReceipt:
    ticket_id: str
    created_at: datetime
    replayed: bool
    access_token: str  # what opens the ticket: its customer's only


def sender_of(msg: InboundMessage, default_region: str = DEFAULT_REGION) -> intake.Sender:
    """Return the normalized sender; a message nobody can be identified by is invalid.

    An invalid identifier next to a valid one is dropped (never stored) and logged with why.
    """
    sender = sender_identity(msg.sender_email, msg.sender_phone, default_region)
    if not sender.identifiers:
        reasons = "".join(f"; {reason}" for reason in sender.rejected)
        raise InvalidMessage(
            f"an inbound message needs a valid email address or phone number{reasons}")
    for reason in sender.rejected:
        log.info("identifier_rejected", channel=msg.channel, reason=reason)
    return intake.Sender(name=msg.sender_name, email=sender.email, phone=sender.phone,
                         identifiers=sender.identifiers)


async def region_for(conn: Connection, msg: InboundMessage) -> str:
    """Return the region to read the sender's phone in: the tenant's, when it is national."""
    if msg.sender_phone and needs_region(msg.sender_phone):
        return await customers.default_region(conn, msg.tenant_id) or DEFAULT_REGION
    return DEFAULT_REGION


async def ingest(conn: Connection, msg: InboundMessage) -> Ingested:
    """Store an inbound message once (inside the caller's transaction)."""
    sender = sender_of(msg, await region_for(conn, msg))
    message_id, customer_id, conversation_id, created = await intake.ingest_inbound(
        conn, msg.tenant_id, channel=msg.channel, external_id=msg.external_id,
        content=msg.content, subject=msg.subject, sender=sender, metadata=msg.metadata,
        received_at=msg.received_at, request_hash=None, window=CONVERSATION_WINDOW,
    )
    return Ingested(message_id, customer_id, conversation_id, created)


def routing_key(msg: InboundMessage) -> str:
    """Keyed by sender, so one customer's messages stay in order on one partition."""
    return msg.sender_email or msg.sender_phone or msg.external_id


async def publish_inbound(conn: Connection, msg: InboundMessage, *, topic: str) -> None:
    """Queue the inbound event for the workers."""
    await outbox.enqueue(conn, msg.tenant_id, topic=topic, key=routing_key(msg),
                         payload=encode_event(INBOUND_EVENT, msg))


async def accept_inbound(*, pool: Pool, msg: InboundMessage, topic: str) -> Ingested:
    """Store a provider's inbound message and queue it for the workers, in one transaction.

    A redelivery of the same provider id (Gmail message id, Twilio MessageSid) finds the stored
    row and queues nothing: `created` is False.
    """
    async with pool.acquire() as conn, conn.transaction():
        stored = await ingest(conn, msg)
        if stored.created:
            event = msg.model_copy(update={"message_id": stored.message_id})
            await publish_inbound(conn, event, topic=topic)
    if stored.created:
        log.info("message_accepted", channel=msg.channel, customer_id=str(stored.customer_id),
                 conversation_id=str(stored.conversation_id))
    return stored


def request_fingerprint(form: SupportFormSubmission) -> str:
    body = json.dumps(form.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


async def submit_support_form(
    *, pool: Pool, tenant_id: str, form: SupportFormSubmission, idempotency_key: str | None,
    topic: str, links: TicketLinks,
) -> TicketReceipt:
    """Accept a web form: customer, conversation, message, ticket and event in one transaction;
    then issue the ticket's access token (a replay derives the same one again)."""
    msg = InboundMessage(
        tenant_id=tenant_id, channel="web_form",
        external_id=idempotency_key or f"form-{uuid.uuid4()}", content=form.message,
        subject=form.subject, sender_name=form.name, sender_email=str(form.email),
        sender_phone=form.phone,
        metadata={"category": form.category.value, "priority": form.priority.value},
    )
    async with pool.acquire() as conn:
        sender = sender_of(msg, await region_for(conn, msg))
        result = await intake.submit_web_form(
            conn, tenant_id, external_id=msg.external_id, request_hash=request_fingerprint(form),
            sender=sender, subject=form.subject, category=form.category.value,
            priority=form.priority.value, content=msg.content, metadata=msg.metadata,
            received_at=msg.received_at, window=CONVERSATION_WINDOW, topic=topic,
            key=routing_key(msg), event=encode_event(INBOUND_EVENT, msg),
        )
        if result.conflict:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used for a different request")
        token = await ticket_access.issue_for(conn, links, tenant_id, result.ticket_number)
    if not result.replayed:
        log.info("form_accepted", customer_id=str(result.customer_id),
                 ticket=result.ticket_number, conversation_id=str(result.conversation_id),
                 channel="web_form")
    return TicketReceipt(result.ticket_number, result.created_at, result.replayed, token)
