"""The shapes that travel between processes: inbound messages and outbound notices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from production.domain.ticket_access import redact_tokens

Channel = Literal["email", "whatsapp", "web_form"]

EVENT_VERSION = 1

M = TypeVar("M", bound=BaseModel)


class InvalidMessage(Exception):
    """A message that can never be processed: retrying will not help."""


class Undeliverable(InvalidMessage):
    """The provider stayed unavailable through every scheduled retry: the reply is marked
    delivery_failed and dead-lettered with the reason. An outage says nothing about our code,
    so the dead-letter ratio guard does not count it (a long outage must not stop the
    dispatcher, and with it every other channel)."""


class Category(StrEnum):
    general = "general"
    technical = "technical"
    billing = "billing"
    account = "account"
    feedback = "feedback"
    bug_report = "bug_report"


class Priority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class InboundMessage(BaseModel):
    """A customer's message on any channel, normalized."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: Channel
    external_id: str = Field(min_length=1, max_length=512)
    content: str = Field(min_length=1, max_length=20_000)
    sender_name: str | None = None
    sender_email: str | None = None
    sender_phone: str | None = None
    subject: str | None = None
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    metadata: dict[str, Any] = Field(default_factory=dict)
    # Set when the accepting side already stored the message and opened its ticket.
    message_id: UUID | None = None
    ticket_id: UUID | None = None

    @field_validator("content")
    @classmethod
    def _no_access_token(cls, value: str) -> str:
        return redact_tokens(value)


class OutboundNotice(BaseModel):
    """Tells the dispatcher that a stored reply is ready to deliver."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    message_id: UUID
    channel: Channel


def encode_event(kind: str, body: BaseModel) -> dict[str, Any]:
    """Return the JSON envelope stored in the outbox and published to Kafka."""
    return {"type": kind, "version": EVENT_VERSION, "data": body.model_dump(mode="json")}


def decode_event(raw: bytes | None, kind: str, model: type[M]) -> M:
    """Parse an envelope of the given kind, or raise InvalidMessage saying why not."""
    if raw is None:
        raise InvalidMessage("empty message")
    try:
        envelope = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(f"not JSON: {exc}") from exc
    if not isinstance(envelope, dict) or envelope.get("type") != kind:
        raise InvalidMessage(f"expected an event of type {kind!r}")
    if envelope.get("version") != EVENT_VERSION:
        raise InvalidMessage(f"unsupported event version {envelope.get('version')!r}")
    try:
        return model.model_validate(envelope.get("data"))
    except ValidationError as exc:
        raise InvalidMessage(f"invalid {kind}: {exc.error_count()} field error(s)") from exc
