"""`fte ask`: one message through the whole pipeline in-process, answered as one JSON object.

Identity, history, the agent and the C.A.R.E. gate are the worker's own code
(`process_inbound.process`); only Kafka is skipped. Operators rely on the output's keys.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from production.agent.runner import AgentOutcome
from production.clock import Clock
from production.database.queries import care_state, replies
from production.domain.messages import Channel, InboundMessage
from production.services.process_inbound import WorkerDeps, process


@dataclass(frozen=True)
class Question:
    channel: Channel
    sender: str  # an email address, or a phone number for WhatsApp
    message: str
    subject: str | None = None
    name: str | None = None
    tenant_id: str = "techcorp"

    def inbound(self) -> InboundMessage:
        """Return the message as a channel would deliver it (raises InvalidMessage)."""
        phone = self.channel == "whatsapp"
        return InboundMessage(
            tenant_id=self.tenant_id, channel=self.channel,
            external_id=f"ask-{uuid.uuid4().hex}", content=self.message, subject=self.subject,
            sender_name=self.name, sender_email=None if phone else self.sender,
            sender_phone=self.sender if phone else None,
        )


async def ask(deps: WorkerDeps, question: Question, *, clock: Clock) -> dict[str, Any]:
    """Run the question through the pipeline by `clock`; return the `fte ask` JSON object."""
    return (await run_question(deps, question, clock=clock))[0]


async def run_question(deps: WorkerDeps, question: Question, *,
                       clock: Clock) -> tuple[dict[str, Any], AgentOutcome]:
    """Run the question by `clock`; return the `fte ask` object and the agent's full outcome."""
    handled = await process(deps, question.inbound(), clock=clock)
    if handled.result == "held":
        raise RuntimeError("the tenant's model budget for today is spent and "
                           "FTE_BUDGET_EXHAUSTED=hold: the question waits for its next day")
    ctx, outcome = handled.ctx, handled.outcome
    assert ctx is not None and outcome is not None  # a fresh external id is never a duplicate
    async with deps.pool.acquire() as conn:
        reply = await replies.reply_to(conn, question.tenant_id, ctx.message_id)
        care = await care_state.get_current_state(conn, question.tenant_id, ctx.customer_id)
    return {
        "customer_id": str(ctx.customer_id),
        "conversation_id": str(ctx.conversation_id),
        "ticket_id": ctx.ticket_number,
        "channel": question.channel,
        "escalated": bool(outcome.escalation_reasons),
        "escalation_reasons": list(outcome.escalation_reasons),
        "sentiment": round(outcome.sentiment, 3),
        "reply": reply.content if reply else None,
        "care_state": {
            "state": str(care.state),
            # Before the customer's first row, hands-off is off (not the tenant's default).
            "hands_off": care.hands_off_enabled if care.stored else False,
            "reply_status": reply.status if reply else None,
        },
        "tool_calls": [c.as_record() for c in ctx.tool_calls],
    }, outcome

