"""The worker's use case: one inbound message in, exactly one stored reply out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from production.agent.context import SupportRunContext
from production.agent.runner import AgentOutcome, SupportAgent
from production.care import executor
from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import audit, messages, reference, tickets
from production.domain.formatting import ChannelStyle, format_reply
from production.domain.messages import InboundMessage
from production.metrics import AGENT_LATENCY, ESCALATIONS, GATE_DECISIONS, MESSAGES_PROCESSED
from production.services import intake

log = structlog.get_logger(__name__)

APOLOGY = {
    "email": "We are sorry: we could not process your message automatically. A member of our "
             "team has been notified and will reply to you personally.",
    "whatsapp": "Sorry, something went wrong on our side. A teammate will get back to you soon.",
    "web_form": "We are sorry: we could not process your request automatically. A member of our "
                "team will follow up on this ticket.",
}
_FALLBACK_STYLE = ChannelStyle("web_form", "semi-formal", 300, "words")


@dataclass(frozen=True)
class WorkerDeps:
    pool: Pool
    settings: Settings
    agent: SupportAgent


async def handle_inbound(deps: WorkerDeps, msg: InboundMessage) -> str:
    """Process one inbound message; return "replied" or "duplicate"."""
    async with deps.pool.acquire() as conn, conn.transaction():
        stored = await intake.ingest(conn, msg)
        row = await messages.lock_inbound(conn, msg.tenant_id, stored.message_id)
        assert row is not None
    if row["status"] != "accepted":
        MESSAGES_PROCESSED.labels(msg.channel, "duplicate").inc()
        return "duplicate"
    bound = log.bind(customer_id=str(row["customer_id"]),
                     conversation_id=str(row["conversation_id"]), channel=msg.channel)
    ctx = SupportRunContext(
        pool=deps.pool, tenant_id=msg.tenant_id, customer_id=row["customer_id"],
        conversation_id=row["conversation_id"], message_id=row["id"], channel=msg.channel,
        content=row["content"], subject=row["subject"], customer_name=row["customer_name"],
        ticket_id=row["ticket_id"],
    )
    outcome = await deps.agent.run(ctx)
    AGENT_LATENCY.labels(msg.channel, outcome.model).observe(outcome.latency_ms / 1000)
    async with deps.pool.acquire() as conn, conn.transaction():
        result = await _commit_reply(conn, deps.settings, msg.tenant_id, ctx, outcome)
    MESSAGES_PROCESSED.labels(msg.channel, result).inc()
    bound.info("inbound_processed", event_outcome=result, escalated=outcome.escalation_reason,
               latency_ms=outcome.latency_ms)
    return result


async def _commit_reply(conn: Connection, settings: Settings, tenant_id: str,
                        ctx: SupportRunContext, outcome: AgentOutcome) -> str:
    row = await messages.lock_inbound(conn, tenant_id, ctx.message_id)
    if row is None or row["status"] != "accepted":
        return "duplicate"  # a concurrent delivery of the same message finished first
    if outcome.escalation_reason and row["ticket_id"] is not None:
        await tickets.set_status(conn, tenant_id, row["ticket_id"], "escalated",
                                 reason=outcome.escalation_reason)
        await audit.append(
            conn, tenant_id, event_type="would_escalate", actor="fte-agent",
            reason=outcome.escalation_reason, policy_clause="PR3.escalation_detector",
            customer_id=row["customer_id"], message_id=row["id"],
            payload={"ticket_id": str(row["ticket_id"])},
        )
        ESCALATIONS.labels(row["channel"], outcome.escalation_reason).inc()
    tool_calls = [{"name": c.name, "arguments": c.arguments} for c in ctx.tool_calls]
    stored = await _store_reply(conn, settings, row, outcome.reply, kind="reply",
                                tool_calls=tool_calls, latency_ms=outcome.latency_ms,
                                tokens=outcome.tokens)
    if not stored:
        return "duplicate"
    await messages.finish_inbound(conn, tenant_id, row["id"], "processed", tool_calls=tool_calls)
    await reference.record_metrics(
        conn, tenant_id, message_id=row["id"], conversation_id=row["conversation_id"],
        channel=row["channel"],
        values={"agent_latency_ms": outcome.latency_ms, "tool_calls": len(tool_calls),
                "kb_hit": float(outcome.kb_hit),
                "escalated": float(bool(outcome.escalation_reason)),
                **({"tokens": float(outcome.tokens)} if outcome.tokens else {})},
        dimensions={"model": outcome.model, "tools": [c["name"] for c in tool_calls]},
    )
    return "replied"


async def _store_reply(conn: Connection, settings: Settings, inbound: Any, body: str, *,
                       kind: str, tool_calls: list[dict[str, Any]], latency_ms: int | None,
                       tokens: int | None) -> bool:
    """Format, store and pass the reply through the executor; False if one already exists."""
    tenant_id = inbound["tenant_id"]
    style = await reference.channel_style(conn, tenant_id, inbound["channel"]) or _FALLBACK_STYLE
    number = (await tickets.get_number(conn, tenant_id, inbound["ticket_id"])
              if inbound["ticket_id"] else None)
    text = format_reply(body, style, name=inbound["customer_name"], ticket=number)
    decision = executor.decide(settings, tenant_id)
    reply_id = await messages.insert_reply(
        conn, tenant_id, inbound=inbound, content=text, status=executor.status_for(decision),
        tool_calls=tool_calls, latency_ms=latency_ms, tokens_used=tokens,
        metadata={"kind": kind},
    )
    if reply_id is None:
        return False
    action = executor.ReplyAction(
        tenant_id=tenant_id, customer_id=inbound["customer_id"], message_id=reply_id,
        channel=inbound["channel"], content=text, kind=kind,
    )
    await executor.release(conn, settings, action, decision)
    GATE_DECISIONS.labels("allowed" if decision.allowed else "held", decision.clause).inc()
    return True


async def apologize(deps: WorkerDeps, msg: InboundMessage, error: str) -> bool:
    """After a final failure: give the customer the channel's apology; False if not possible."""
    async with deps.pool.acquire() as conn, conn.transaction():
        stored = await intake.ingest(conn, msg)
        row = await messages.lock_inbound(conn, msg.tenant_id, stored.message_id)
        if row is None or row["status"] != "accepted":
            return False
        stored_reply = await _store_reply(
            conn, deps.settings, row, APOLOGY[row["channel"]], kind="apology", tool_calls=[],
            latency_ms=None, tokens=None,
        )
        await messages.finish_inbound(conn, msg.tenant_id, row["id"], "failed")
    MESSAGES_PROCESSED.labels(msg.channel, "failed").inc()
    log.warning("inbound_failed_apology_sent", customer_id=str(row["customer_id"]),
                channel=msg.channel, error=error[:200])
    return stored_reply
