"""The executor: the only code path that releases a message to a customer.

A reply either leaves (status `queued` plus an outbox event for the dispatcher, and an
`executed_action` audit row) or stays a draft in the approval inbox (status
`pending_approval`, and a `would_execute_action` audit row saying what would have been sent).
Both happen atomically with the reply itself.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any
from uuid import UUID

from production.care import gate
from production.config import Settings
from production.database.pool import Connection
from production.database.queries import admin, inbox
from production.database.queries.replies import (
    AuditRecord,
    OutboxRecord,
    ReplyRecord,
    store_reply,
)
from production.domain.messages import OutboundNotice, encode_event
from production.metrics import GATE_DECISIONS


def decide(settings: Settings, tenant_id: str) -> gate.GateDecision:
    """Return the gate's decision for a customer-facing action, without writing anything."""
    return gate.check(settings.care, tenant_id)


async def submit_reply(conn: Connection, settings: Settings, *, tenant_id: str,
                       inbound: Any, reply: ReplyRecord) -> UUID | None:
    """Store the reply and release it if every gate holds (in the caller's transaction).

    `inbound` is the locked inbound row; returns the reply id, or None if it already had one.
    """
    decision = decide(settings, tenant_id)
    if decision.allowed:
        decision = await _kill_switch(conn, tenant_id) or decision
    audit = AuditRecord(
        event_type="executed_action" if decision.allowed else "would_execute_action",
        reason=decision.reason, clause=decision.clause,
        payload={"action": f"send_{reply.kind}", "channel": inbound["channel"],
                 "content": reply.content},
    )
    outbox = None
    if decision.allowed:
        # The reply's id is filled in by the database; the placeholder only shapes the event.
        notice = OutboundNotice(tenant_id=tenant_id, message_id=uuid.UUID(int=0),
                                channel=inbound["channel"])
        outbox = OutboxRecord(topic=settings.kafka.topic_outgoing,
                              key=str(inbound["customer_id"]),
                              event=encode_event("outbound_message", notice))
    status = "queued" if decision.allowed else "pending_approval"
    reply_id = await store_reply(conn, tenant_id, inbound["id"], replace(reply, status=status),
                                 audit, outbox)
    if reply_id is not None:
        if not decision.allowed:  # held: a person decides, from the approval inbox
            await inbox.propose(conn, tenant_id, customer_id=inbound["customer_id"],
                                message_id=reply_id, action=f"send_{reply.kind}",
                                draft=reply.content,
                                decision={"decision": "REQUIRE_APPROVAL",
                                          "reason": decision.reason,
                                          "policy_clause": decision.clause})
        GATE_DECISIONS.labels("allowed" if decision.allowed else "held", decision.clause).inc()
    return reply_id


async def _kill_switch(conn: Connection, tenant_id: str) -> gate.GateDecision | None:
    """Return the refusal when the global or the tenant's kill switch is engaged."""
    global_on, tenant_on = await admin.kill_switches(conn, tenant_id)
    if global_on:
        return gate.GateDecision(False, "the global kill switch is engaged", "KILL.global")
    if tenant_on:
        return gate.GateDecision(False, "the tenant's kill switch is engaged", "KILL.tenant")
    return None
