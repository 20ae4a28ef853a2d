"""The MCP tools' argument types and results: their constraints and descriptions become the
tools' input and output schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field

from production.agent import operations
from production.agent.escalation import REASONS

MAX_KB_LIMIT = 10

ReplyStatus = Literal["queued", "deferred", "pending_approval", "already_answered"]


def _one_of(values: Sequence[str], what: str) -> AfterValidator:
    """A validator refusing values outside `values` (the schema lists them as an enum too)."""
    allowed = tuple(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{what} must be one of: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


Email = Annotated[str | None, Field(
    max_length=320, description="The customer's email address (needed for email and web_form).",
)]
Phone = Annotated[str | None, Field(
    max_length=40, description="The customer's phone number, E.164 preferred, e.g. "
                               "+14155550123 (needed for whatsapp).",
)]
TicketNumber = Annotated[str, Field(
    pattern=r"^TKT-[0-9]+$", description="The ticket number create_ticket returned, TKT-<digits>.",
)]
Category = Annotated[str, _one_of(operations.CATEGORIES, "category"), Field(
    description="The kind of request.", json_schema_extra={"enum": list(operations.CATEGORIES)},
)]
Priority = Annotated[str, _one_of(operations.PRIORITIES, "priority"), Field(
    description="How urgent the request is.",
    json_schema_extra={"enum": list(operations.PRIORITIES)},
)]
Reason = Annotated[str, _one_of(REASONS, "reason"), Field(
    description="Why a human must take over: pricing_or_contract (prices, discounts, "
                "contracts), refund, legal_or_compliance, human_request (the customer asked "
                "for a person), objection, negative_sentiment, no_kb_match (the knowledge base "
                "has no answer), prompt_injection, unknown_high_risk.",
    json_schema_extra={"enum": list(REASONS)},
)]


class HistoryEntry(BaseModel):
    channel: str
    direction: Literal["inbound", "outbound"]
    subject: str | None
    content: str = Field(description="The message text (first 500 characters).")
    at: str = Field(description="When the message was stored (ISO 8601).")


class CustomerHistory(BaseModel):
    customer_id: UUID
    messages: list[HistoryEntry] = Field(description="The latest messages, oldest first.")


class KnowledgeHit(BaseModel):
    title: str
    category: str | None
    content: str
    score: float = Field(description="Fused rank score (higher is better).")
    similarity: float = Field(description="Cosine similarity to the query, 0..1.")


class KnowledgeResults(BaseModel):
    results: list[KnowledgeHit] = Field(
        description="Relevant passages, best first; empty when nothing answers the query.")
    not_covered: list[str] = Field(
        default_factory=list,
        description="What the query asks the product to have that the knowledge base never "
                    "mentions; when present, escalate with reason no_kb_match.")


class TicketCreated(BaseModel):
    ticket_id: str = Field(description="The ticket number, TKT-<digits>.")
    message_id: UUID = Field(description="The stored inbound message.")
    customer_id: UUID
    conversation_id: UUID
    history: list[HistoryEntry] = Field(
        description="The customer's latest messages on every channel, oldest first (this one "
                    "included).")
    acknowledge: str | None = Field(
        description="A sentence acknowledging the customer's previous contact, if any.")
    knowledge: KnowledgeResults = Field(
        description="A first knowledge-base search on the customer's own words.")


class Escalation(BaseModel):
    ticket_id: str
    status: Literal["escalated"] = "escalated"
    reason: str


class ResponseOutcome(BaseModel):
    ticket_id: str
    status: ReplyStatus
    detail: str
