"""What one agent run knows and what it decides, shared by the tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from production.database.pool import Pool


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    ok: bool = True


@dataclass
class SupportRunContext:
    pool: Pool
    tenant_id: str
    customer_id: UUID
    conversation_id: UUID
    message_id: UUID
    channel: str
    content: str
    subject: str | None
    customer_name: str | None
    ticket_id: UUID | None = None
    ticket_number: str | None = None
    # Decisions the run stages; the worker commits them with the reply in one transaction.
    reply: str | None = None
    escalation_reason: str | None = None
    kb_hit: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)
