"""The executor: the only code path that releases a message to a customer.

A reply either leaves (status `queued` plus an outbox event for the dispatcher, and an
`executed_action` audit row) or stays a draft in the approval inbox (status
`pending_approval`, and a `would_execute_action` audit row saying what would have been sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from production.care import gate
from production.config import Settings
from production.database.pool import Connection
from production.database.queries import audit, outbox
from production.domain.messages import Channel, OutboundNotice, encode_event

ACTOR = "fte-agent"


@dataclass(frozen=True)
class ReplyAction:
    tenant_id: str
    customer_id: UUID
    message_id: UUID  # the stored reply
    channel: Channel
    content: str
    kind: str  # "reply" or "apology"


def decide(settings: Settings, tenant_id: str) -> gate.GateDecision:
    """Return the gate's decision for a customer-facing action, without writing anything."""
    return gate.check(settings.care, tenant_id)


def status_for(decision: gate.GateDecision) -> str:
    return "queued" if decision.allowed else "pending_approval"


async def release(conn: Connection, settings: Settings, action: ReplyAction,
                  decision: gate.GateDecision) -> None:
    """Write the audit row and, when allowed, the dispatcher event (in the caller's transaction)."""
    payload: dict[str, Any] = {"action": f"send_{action.kind}", "channel": action.channel,
                               "content": action.content}
    if decision.allowed:
        notice = OutboundNotice(tenant_id=action.tenant_id, message_id=action.message_id,
                                channel=action.channel)
        await outbox.enqueue(
            conn, action.tenant_id, topic=settings.kafka.topic_outgoing,
            key=str(action.customer_id), payload=encode_event("outbound_message", notice),
        )
    await audit.append(
        conn, action.tenant_id,
        event_type="executed_action" if decision.allowed else "would_execute_action",
        actor=ACTOR, reason=decision.reason, policy_clause=decision.clause,
        customer_id=action.customer_id, message_id=action.message_id, payload=payload,
    )
