"""The worker's use case: one inbound message in, exactly one stored reply out.

The caller (the worker's consumer loop, `fte ask`, `fte eval`) passes its clock, which is read
twice: when the message is handled (the agent's sense of "today") and, once the agent has
answered, for the C.A.R.E. decision on the reply, whose rows all carry that second instant. A
model takes seconds (and a WhatsApp turn waits for its last message), so deciding quiet hours
or a day's budget with the first instant would decide in the past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from production.agent.context import SupportRunContext, ToolCall
from production.agent.runner import AgentOutcome, SupportAgent
from production.care import decision, executor
from production.care.rejection import is_explicit_rejection
from production.clock import Clock
from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import (
    care_state,
    customers,
    inbox,
    messages,
    replies,
    tickets,
)
from production.database.queries.messages import LockedInbound
from production.database.queries.replies import ReplyRecord
from production.domain.care.policy import ProposedAction
from production.domain.escalation import NEGATIVE_SENTIMENT_THRESHOLD
from production.domain.formatting import format_reply
from production.domain.messages import InboundMessage
from production.domain.whatsapp import MEDIA_ONLY_REPLY
from production.embeddings import Embedder
from production.metrics import (
    AGENT_LATENCY,
    ESCALATIONS,
    MESSAGES_PROCESSED,
    SENTIMENT,
    TOOL_CALLS,
)
from production.services import (
    channel_styles,
    intake,
    proactive,
    reply_budget,
    ticket_access,
    whatsapp_turns,
)

log = structlog.get_logger(__name__)

APOLOGY = {
    "email": "We are sorry: we could not process your message automatically. A member of our "
             "team has been notified and will reply to you personally.",
    "whatsapp": "Sorry, something went wrong on our side. A teammate will get back to you soon.",
    "web_form": "We are sorry: we could not process your request automatically. A member of our "
                "team will follow up on this ticket.",
}


@dataclass(frozen=True)
class WorkerDeps:
    pool: Pool
    settings: Settings
    agent: SupportAgent
    embedder: Embedder


@dataclass(frozen=True)
class Handled:
    """What became of one inbound message (for `fte ask` and `fte eval`)."""

    # "replied" or "duplicate" (WhatsApp: or "merged" into a later message; "held": the
    # tenant's model budget is spent and FTE_BUDGET_EXHAUSTED=hold)
    result: str
    ctx: SupportRunContext | None = None
    outcome: AgentOutcome | None = None


async def handle_inbound(deps: WorkerDeps, msg: InboundMessage, *, clock: Clock) -> str:
    """Process one inbound message by `clock`; return "replied", "duplicate" or "held"."""
    return (await process(deps, msg, clock=clock)).result


async def process(deps: WorkerDeps, msg: InboundMessage, *, clock: Clock) -> Handled:
    """Process one inbound message: identity, history, agent, gate; exactly one reply. `clock`
    is read when the agent starts and again for the decision on its reply."""
    async with deps.pool.acquire() as conn, conn.transaction():
        stored = await intake.ingest(conn, msg)
        row = await messages.lock_inbound(conn, msg.tenant_id, stored.message_id)
        assert row is not None
        identifiers = await customers.identifiers(conn, msg.tenant_id, row.customer_id)
    if row.status != "accepted":
        MESSAGES_PROCESSED.labels(msg.channel, "duplicate").inc()
        return Handled("duplicate")
    content = row.content
    if whatsapp_turns.applies(msg):
        turn = await whatsapp_turns.settle(pool=deps.pool, settings=deps.settings, inbound=row)
        if turn.outcome != "lead" or turn.text is None:
            return await _close_whatsapp_turn(deps, msg, row, turn.outcome, now=clock())
        content = turn.text
    bound = log.bind(customer_id=str(row.customer_id),
                     conversation_id=str(row.conversation_id), channel=msg.channel)
    ctx = SupportRunContext(
        pool=deps.pool, tenant_id=msg.tenant_id, customer_id=row.customer_id,
        conversation_id=row.conversation_id, message_id=row.id, channel=msg.channel,
        content=content, subject=row.subject, customer_name=row.customer_name,
        ticket_id=row.ticket_id, ticket_number=row.ticket_number, embedder=deps.embedder,
        customer_identifiers=identifiers, now=clock(),
    )
    outcome = await reply_budget.run_agent(pool=deps.pool, settings=deps.settings,
                                           agent=deps.agent, ctx=ctx, now=ctx.now)
    if outcome is None:  # the tenant's model budget is spent and replies are held
        MESSAGES_PROCESSED.labels(msg.channel, "held").inc()
        bound.info("inbound_held", event_outcome="held")
        return Handled("held", ctx)
    AGENT_LATENCY.labels(msg.channel, outcome.model).observe(outcome.latency_ms / 1000)
    SENTIMENT.labels(msg.channel).observe(outcome.sentiment)
    for call in ctx.tool_calls:
        TOOL_CALLS.labels(call.name).inc()
    async with deps.pool.acquire() as conn, conn.transaction():
        result = await _commit_reply(conn=conn, settings=deps.settings, tenant_id=msg.tenant_id,
                                     ctx=ctx, outcome=outcome, now=clock())
    MESSAGES_PROCESSED.labels(msg.channel, result).inc()
    bound.info("inbound_processed", event_outcome=result, escalated=outcome.escalation_reason,
               latency_ms=outcome.latency_ms, sentiment=round(outcome.sentiment, 3),
               guardrail=outcome.guardrail)
    return Handled(result, ctx, outcome)


async def _close_whatsapp_turn(deps: WorkerDeps, msg: InboundMessage, row: LockedInbound,
                               outcome: str, *, now: datetime) -> Handled:
    """A WhatsApp message the agent need not read: folded into a later message of its turn,
    or leading a turn of attachments only, which gets the fixed text-only note."""
    if outcome == "lead":
        answered = await reply_to(pool=deps.pool, settings=deps.settings, tenant_id=msg.tenant_id,
                                  message_id=row.id, body=MEDIA_ONLY_REPLY, grounded=True,
                                  actor="whatsapp-media-only", now=now)
        outcome = "duplicate" if answered == "already_answered" else "replied"
    MESSAGES_PROCESSED.labels(msg.channel, outcome).inc()
    return Handled(outcome)


async def _commit_reply(*, conn: Connection, settings: Settings, tenant_id: str,
                        ctx: SupportRunContext, outcome: AgentOutcome, now: datetime) -> str:
    row = await messages.lock_inbound(conn, tenant_id, ctx.message_id)
    if row is None or row.status != "accepted":
        return "duplicate"  # a concurrent delivery of the same message finished first
    tool_calls = [c.as_record() for c in ctx.tool_calls]
    metrics = {"agent_latency_ms": float(outcome.latency_ms), "tool_calls": len(tool_calls),
               "kb_hit": float(outcome.kb_hit), "sentiment": outcome.sentiment,
               "escalated": float(bool(outcome.escalation_reason)),
               "model_calls": float(outcome.model_calls),
               "input_tokens": float(outcome.input_tokens),
               "output_tokens": float(outcome.output_tokens)}
    if outcome.tokens:
        metrics["tokens"] = float(outcome.tokens)
    await messages.record_sentiment(conn, tenant_id, ctx.message_id, outcome.sentiment)
    # The customer answered: approved replies sent to them before get their response label.
    await inbox.note_response(conn, tenant_id, row.customer_id, at=row.created_at,
                              negative=outcome.sentiment < NEGATIVE_SENTIMENT_THRESHOLD)
    # A closing's reply is a fixed notice an operator approved, like the apology.
    action = decision.reply_action(
        kb_grounded=(outcome.kb_hit or outcome.resolved) and not outcome.escalation_reason,
        escalation_reasons=tuple(outcome.escalation_reasons))
    stored = await _store_reply(
        conn=conn, settings=settings, inbound=row, body=outcome.reply, kind="reply",
        action=action, tool_calls=tool_calls,
        latency_ms=outcome.latency_ms, tokens=outcome.tokens,
        escalation=outcome.escalation_reason, inbound_status="processed", metrics=metrics,
        now=now,
        dimensions={"model": outcome.model, "tools": [c["name"] for c in tool_calls],
                    "escalation_reasons": list(outcome.escalation_reasons),
                    "kb_topic": outcome.kb_topic, "guardrail": outcome.guardrail},
    )
    if not stored:
        return "duplicate"
    if outcome.resolved and ctx.ticket_id is not None:
        await tickets.resolve_confirmed(conn, tenant_id, ticket_id=ctx.ticket_id,
                                        customer_id=row.customer_id, now=now)
    if outcome.escalation_reason:
        ESCALATIONS.labels(row.channel, outcome.escalation_reason).inc()
    return "replied"


async def reply_to(*, pool: Pool, settings: Settings, tenant_id: str, message_id: UUID, body: str,
                   grounded: bool, now: datetime, escalation: str | None = None,
                   actor: str = "fte-mcp", tool_calls: list[dict[str, Any]] | None = None) -> str:
    """Answer one inbound message with a given body through the executor: the MCP
    `send_response` (an outside model's text: not known to be grounded) or a fixed notice an
    operator approved in advance (`grounded`). `tool_calls`: the calls that led to it, stored
    with the reply (default: the send_response alone).

    Returns the executor's answer ("queued", "deferred" or "pending_approval"), or
    "already_answered".
    """
    if tool_calls is None:
        tool_calls = [ToolCall("send_response", {"length": len(body)}).as_record()]
    async with pool.acquire() as conn, conn.transaction():
        row = await messages.lock_inbound(conn, tenant_id, message_id)
        if row is None or row.status != "accepted":
            return "already_answered"
        stored = await _store_reply(
            conn=conn, settings=settings, inbound=row, body=body, kind="reply",
            action=decision.reply_action(kb_grounded=grounded),
            tool_calls=tool_calls, latency_ms=None, tokens=None, escalation=escalation,
            inbound_status="processed", metrics={"escalated": float(bool(escalation))},
            dimensions={"actor": actor}, now=now,
        )
        if not stored:
            return "already_answered"
        reply = await replies.reply_to(conn, tenant_id, message_id)
    assert reply is not None  # stored just now, in this transaction
    return reply.status


async def _store_reply(*, conn: Connection, settings: Settings, inbound: LockedInbound, body: str,
                       kind: str, action: ProposedAction, tool_calls: list[dict[str, Any]],
                       latency_ms: int | None, tokens: int | None, escalation: str | None,
                       inbound_status: str, metrics: dict[str, float],
                       dimensions: dict[str, Any], now: datetime) -> bool:
    """Format the reply in the channel's voice and hand it to the executor, after the inbound
    message has moved the customer's C.A.R.E. state and, when a person must reply, opened
    the escalation that halts autonomy for the customer (so this very reply is held too)."""
    tenant_id = inbound.tenant_id
    customer_id = inbound.customer_id
    await executor.track_inbound(conn=conn, settings=settings, tenant_id=tenant_id,
                                 customer_id=customer_id, at=inbound.created_at,
                                 explicit_rejection=is_explicit_rejection(inbound.content),
                                 now=now)
    await proactive.signal(conn, tenant_id=tenant_id, customer_id=customer_id, at=now)
    if escalation is not None:
        await care_state.open_escalation(conn, tenant_id, customer_id, escalation,
                                         actor=executor.ACTOR, now=now)
    style = await channel_styles.style_for(conn, tenant_id, inbound.channel)
    room = await ticket_access.link_room_for(conn=conn, settings=settings, style=style,
                                             tenant_id=tenant_id, number=inbound.ticket_number)
    text = format_reply(body, style, name=inbound.customer_name,
                        ticket=inbound.ticket_number, reserve=room)
    reply = ReplyRecord(
        content=text, status="pending_approval", kind=kind, tool_calls=tool_calls,
        latency_ms=latency_ms, tokens=tokens, escalation_reason=escalation,
        inbound_status=inbound_status, metrics=metrics, metric_dimensions=dimensions,
    )
    reply_id = await executor.submit_reply(conn=conn, settings=settings, tenant_id=tenant_id,
                                           inbound=inbound, reply=reply, action=action, now=now)
    return reply_id is not None


async def apologize(deps: WorkerDeps, msg: InboundMessage, error: str, *,
                    now: datetime) -> bool:
    """After a final failure: give the customer the channel's apology, decided at `now`; False
    if not possible."""
    async with deps.pool.acquire() as conn, conn.transaction():
        stored = await intake.ingest(conn, msg)
        row = await messages.lock_inbound(conn, msg.tenant_id, stored.message_id)
        if row is None or row.status != "accepted":
            return False
        stored_reply = await _store_reply(
            conn=conn, settings=deps.settings, inbound=row, body=APOLOGY[row.channel],
            kind="apology",
            action=decision.reply_action(kb_grounded=True), tool_calls=[],
            latency_ms=None, tokens=None, escalation=None, inbound_status="failed",
            metrics={"failed": 1.0}, dimensions={"error": error[:200]}, now=now,
        )
    MESSAGES_PROCESSED.labels(msg.channel, "failed").inc()
    log.warning("inbound_failed_apology_sent", customer_id=str(row.customer_id),
                channel=msg.channel, error=error[:200])
    return stored_reply
