"""A customer's facts: what the triggers, the health score, the predictions and the perception
scheduler read, gathered for many customers at once by the sweep
(`production/database/queries/proactive_facts.py`) and frozen.

Pure data: no clock, no I/O. Every instant in here is one the database stored; "how long ago"
is always measured against the `now` a caller passes to the functions that read these facts.

`observed_hash` fingerprints what the customer's world holds (messages, tickets, tasks, state,
candidates). It leaves out what the proactive layer wrote itself (the stored health, the last
firings): an unchanged hash means nothing happened to this customer since the last look.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class TicketFacts:
    """An open ticket (not resolved or closed) and when it was answered."""

    ticket_id: UUID
    number: str
    priority: str  # low | medium | high | urgent
    status: str
    created_at: datetime
    first_response_at: datetime | None = None  # the first reply the customer was sent on it
    last_customer_at: datetime | None = None  # the customer's last message on it
    last_response_at: datetime | None = None  # the last reply sent on it


@dataclass(frozen=True)
class InboundFacts:
    """One of the customer's recent messages to us."""

    message_id: UUID
    at: datetime
    sentiment: float | None = None  # 0.0 furious … 0.5 plain … 1.0 delighted
    topic: str | None = None  # the ticket's category, the knowledge-base topic or the subject
    sales_question: bool = False  # the detector found a pricing or contract question


@dataclass(frozen=True)
class ReplyFacts:
    """The last reply the customer was sent (by the FTE or a person)."""

    message_id: UUID
    at: datetime
    role: str  # agent | human
    text: str  # its opening: enough to tell whether it promised a follow-up


@dataclass(frozen=True)
class TaskFacts:
    """An open follow-up task: someone said they would come back to this customer."""

    task_id: UUID
    title: str
    created_at: datetime
    due_at: datetime | None = None  # None: the rules' default after creation


@dataclass(frozen=True)
class CandidateFacts:
    """An open merge candidate (migration 006): this customer may be the same person as
    `other_id`; a person must merge or dismiss it."""

    merge_id: UUID
    other_id: UUID
    created_at: datetime
    reason: str


@dataclass(frozen=True)
class PriorHealth:
    """What the last computation stored (customer_health)."""

    score: int
    band: str
    churn_band: str
    computed_at: datetime
    trend: int = 0  # the score minus the one before it


@dataclass(frozen=True)
class CustomerFacts:
    tenant_id: str
    customer_id: UUID
    created_at: datetime
    care_state: str = "unaware"
    state_from: str | None = None  # the state before the last transition
    state_changed_at: datetime | None = None
    escalation_open: bool = False
    last_inbound_at: datetime | None = None
    inbound_30d: int = 0  # messages from the customer in the last 30 days
    inbound_prev_30d: int = 0  # … and in the 30 days before those
    replies_90d: int = 0  # our replies of the last 90 days that had time to be answered
    replies_answered_90d: int = 0  # … that the customer answered within a week
    negative_outcomes_90d: int = 0  # IDEA_REJECTED and NEGATIVE_RESPONSE labels
    recent: tuple[InboundFacts, ...] = ()  # the last few messages, oldest first
    tickets: tuple[TicketFacts, ...] = ()  # open tickets
    tasks: tuple[TaskFacts, ...] = ()  # open follow-up tasks
    last_reply: ReplyFacts | None = None
    candidates: tuple[CandidateFacts, ...] = ()
    # Written by the proactive layer itself: not part of the observed hash.
    prior: PriorHealth | None = None
    last_fired: Mapping[str, datetime] = field(default_factory=dict)

    def observed_hash(self) -> str:
        """Return a fingerprint of everything observed about the customer (not `prior` nor
        `last_fired`): equal fingerprints, nothing new happened."""
        observed = (self.created_at, self.care_state, self.state_from, self.state_changed_at,
                    self.escalation_open, self.last_inbound_at, self.inbound_30d,
                    self.inbound_prev_30d, self.replies_90d, self.replies_answered_90d,
                    self.negative_outcomes_90d, self.recent, self.tickets, self.tasks,
                    self.last_reply, self.candidates)
        return hashlib.blake2b(repr(observed).encode(), digest_size=16).hexdigest()
