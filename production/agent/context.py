"""What one agent run knows and what it decides, shared by the tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from production.database.pool import Pool
from production.services.embeddings import Embedder


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    ok: bool = True


@dataclass
class SupportRunContext:
    pool: Pool
    embedder: Embedder
    tenant_id: str
    customer_id: UUID
    conversation_id: UUID
    message_id: UUID
    channel: str
    content: str
    subject: str | None
    customer_name: str | None
    now: datetime  # the instant the worker handles the message at (production/clock.py)
    ticket_id: UUID | None = None
    ticket_number: str | None = None
    # The customer's own addresses and numbers: the only ones a reply may contain.
    customer_identifiers: tuple[str, ...] = ()
    sentiment: float = 0.5
    # Decisions the run stages; the worker commits them with the reply in one transaction.
    reply: str | None = None
    escalation_reasons: list[str] = field(default_factory=list)
    guardrail: str | None = None  # the output guardrail's tripwire code, if one fired
    kb_searches: int = 0
    kb_hit: bool = False
    kb_topic: str | None = None  # the best passage's title, when the answer is grounded
    # What the customer asks about that the knowledge base never mentions (None: not checked).
    not_covered: list[str] | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def escalation_reason(self) -> str | None:
        return self.escalation_reasons[0] if self.escalation_reasons else None

    def escalate(self, *reasons: str) -> None:
        for reason in reasons:
            if reason not in self.escalation_reasons:
                self.escalation_reasons.append(reason)

    def called(self, name: str) -> bool:
        return any(c.name == name and c.ok for c in self.tool_calls)
