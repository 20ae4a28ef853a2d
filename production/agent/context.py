"""What one agent run knows and what it decides, shared by the tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from production.database.pool import Pool
from production.embeddings import Embedder


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    ok: bool = True
    # "code": a step that needs no judgement, run before the model is called; "model": the
    # model (or an MCP client) asked for it.
    by: Literal["model", "code"] = "model"

    def as_record(self) -> dict[str, Any]:
        """Return the call as it is stored with the reply and shown by `fte ask`."""
        return {"name": self.name, "arguments": self.arguments, "ok": self.ok, "by": self.by}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ToolCall:
        """Return the call a stored record describes (records from before `by` was kept were
        the model's)."""
        return cls(name=str(record["name"]), arguments=dict(record.get("arguments") or {}),
                   ok=bool(record.get("ok", True)),
                   by="code" if record.get("by") == "code" else "model")


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
    # The pre-screen's findings beyond its reasons (production/domain/escalation).
    mild_frustration: bool = False  # answered, with the annoyance acknowledged
    security_incident: bool = False  # escalated urgently, the safe next step in the reply
    language: str = "en"  # of the customer's words, among agent.language.SUPPORTED
    # A closing: the customer confirmed it works; the ticket is resolved, no person needed.
    resolved: bool = False
    # Decisions the run stages; the worker commits them with the reply in one transaction.
    reply: str | None = None
    escalation_reasons: list[str] = field(default_factory=list)
    guardrail: str | None = None  # the output guardrail's tripwire code, if one fired
    kb_hit: bool = False
    kb_topic: str | None = None  # the best passage's title, when the answer is grounded
    # What the customer asks about that the knowledge base never mentions (None: not checked).
    not_covered: list[str] | None = None
    # The customer's recent messages, read once (get_customer_history returns them again).
    history: list[dict[str, Any]] | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    # What the model cost this run: calls answered, tokens sent and received.
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    model_started: float = 0.0  # perf_counter() when the current model call began

    @property
    def words(self) -> str:
        """The customer's own words: the subject line, if any, then the message."""
        return f"Subject: {self.subject}\n\n{self.content}" if self.subject else self.content

    @property
    def ticket_subject(self) -> str:
        """The ticket's subject when nobody chose one: the subject line, or the message's start."""
        return (self.subject or " ".join(self.content.split()))[:120] or "Customer request"

    @property
    def ticket_priority(self) -> str:
        """The ticket's priority when nobody chose one: urgent for a security incident, high
        when a person must reply."""
        if self.security_incident:
            return "urgent"
        return "high" if self.escalation_reasons else "medium"

    @property
    def escalation_reason(self) -> str | None:
        return self.escalation_reasons[0] if self.escalation_reasons else None

    def escalate(self, *reasons: str) -> None:
        for reason in reasons:
            if reason not in self.escalation_reasons:
                self.escalation_reasons.append(reason)
