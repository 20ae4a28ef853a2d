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
from production.database.queries import conversations, customers, messages, outbox, tickets
from production.domain.identity import identifiers_for, normalize_email, normalize_phone
from production.domain.messages import InboundMessage, encode_event
from production.domain.support_form import SupportFormSubmission

log = structlog.get_logger(__name__)

# A message within this window continues the customer's open conversation.
CONVERSATION_WINDOW = timedelta(hours=24)


class IdempotencyConflict(Exception):
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


async def resolve_customer(conn: Connection, msg: InboundMessage) -> UUID:
    """Return the customer these identifiers belong to, creating one when none does."""
    ids = identifiers_for(msg.sender_email, msg.sender_phone)
    if not ids:
        raise ValueError("an inbound message needs an email address or a phone number")
    await customers.lock_identifiers(conn, msg.tenant_id, ids)
    email = normalize_email(msg.sender_email) if msg.sender_email else None
    phone = normalize_phone(msg.sender_phone) if msg.sender_phone else None
    owners = await customers.find_by_identifiers(conn, msg.tenant_id, ids)
    if owners:
        # Two owners mean two records for one person; linking them is a merge decision that
        # the identity service takes, not intake. Attach to the oldest and link what is new.
        customer_id = owners[0]
        await customers.fill_missing_details(
            conn, msg.tenant_id, customer_id, name=msg.sender_name, email=email, phone=phone
        )
    else:
        customer_id = await customers.create(
            conn, msg.tenant_id, name=msg.sender_name, email=email, phone=phone
        )
    await customers.add_identifiers(conn, msg.tenant_id, customer_id, ids)
    return customer_id


async def ingest(conn: Connection, msg: InboundMessage, *, request_hash: str | None = None
                 ) -> Ingested:
    """Store an inbound message once (inside the caller's transaction)."""
    existing = await messages.get_inbound_by_key(conn, msg.tenant_id, msg.channel, msg.external_id)
    if existing is not None:
        return Ingested(existing["id"], existing["customer_id"], existing["conversation_id"], False)
    customer_id = await resolve_customer(conn, msg)
    found = await conversations.find_open(
        conn, msg.tenant_id, customer_id, since=msg.received_at - CONVERSATION_WINDOW
    )
    if found is None:
        conversation_id = await conversations.create(conn, msg.tenant_id, customer_id, msg.channel)
        previous_channel: str = msg.channel
    else:
        conversation_id, previous_channel = found
    message_id = await messages.insert_inbound(
        conn, msg.tenant_id, conversation_id=conversation_id, customer_id=customer_id,
        channel=msg.channel, content=msg.content, subject=msg.subject,
        external_id=msg.external_id, request_hash=request_hash, metadata=msg.metadata,
        received_at=msg.received_at,
    )
    if message_id is None:  # a concurrent ingest of the same key won the insert
        row = await messages.get_inbound_by_key(conn, msg.tenant_id, msg.channel, msg.external_id)
        assert row is not None
        return Ingested(row["id"], row["customer_id"], row["conversation_id"], False)
    await conversations.touch(
        conn, msg.tenant_id, conversation_id, channel=msg.channel,
        previous_channel=previous_channel, at=msg.received_at,
    )
    return Ingested(message_id, customer_id, conversation_id, True)


async def publish_inbound(conn: Connection, msg: InboundMessage, *, topic: str) -> None:
    """Queue the inbound event for the workers (keyed by sender so one customer stays ordered)."""
    key = msg.sender_email or msg.sender_phone or msg.external_id
    await outbox.enqueue(
        conn, msg.tenant_id, topic=topic, key=key, payload=encode_event("inbound_message", msg)
    )


def request_fingerprint(form: SupportFormSubmission) -> str:
    body = json.dumps(form.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


async def submit_support_form(
    pool: Pool, *, tenant_id: str, form: SupportFormSubmission, idempotency_key: str | None,
    topic: str,
) -> TicketReceipt:
    """Accept a web form: customer, conversation, message, ticket and event in one transaction."""
    fingerprint = request_fingerprint(form)
    external_id = idempotency_key or f"form-{uuid.uuid4()}"
    async with pool.acquire() as conn, conn.transaction():
        if idempotency_key is not None:
            replay = await _replayed_ticket(conn, tenant_id, idempotency_key, fingerprint)
            if replay is not None:
                return replay
        msg = InboundMessage(
            tenant_id=tenant_id, channel="web_form", external_id=external_id,
            content=form.message, subject=form.subject, sender_name=form.name,
            sender_email=str(form.email), sender_phone=form.phone,
            metadata={"category": form.category.value, "priority": form.priority.value},
        )
        stored = await ingest(conn, msg, request_hash=fingerprint)
        if not stored.created:  # the same key raced in from a concurrent retry
            replay = await _replayed_ticket(conn, tenant_id, external_id, fingerprint)
            assert replay is not None
            return replay
        ticket_id, number, created_at = await tickets.create(
            conn, tenant_id, customer_id=stored.customer_id,
            conversation_id=stored.conversation_id, source_channel="web_form",
            source_message_id=stored.message_id, subject=form.subject,
            category=form.category.value, priority=form.priority.value,
        )
        await messages.set_ticket(conn, tenant_id, stored.message_id, ticket_id)
        event = msg.model_copy(update={"message_id": stored.message_id, "ticket_id": ticket_id})
        await publish_inbound(conn, event, topic=topic)
    log.info("form_accepted", customer_id=str(stored.customer_id), ticket=number,
             conversation_id=str(stored.conversation_id), channel="web_form")
    return TicketReceipt(ticket_id=number, created_at=created_at, replayed=False)


async def _replayed_ticket(
    conn: Connection, tenant_id: str, key: str, fingerprint: str
) -> TicketReceipt | None:
    row = await messages.get_inbound_by_key(conn, tenant_id, "web_form", key)
    if row is None:
        return None
    if row["request_hash"] != fingerprint:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different request")
    number = await tickets.get_number(conn, tenant_id, row["ticket_id"])
    assert number is not None
    return TicketReceipt(ticket_id=number, created_at=row["created_at"], replayed=True)
