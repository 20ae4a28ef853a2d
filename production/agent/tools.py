"""The five tools the agent may call. Each records itself on the run context."""

from __future__ import annotations

import json
from typing import Any

from agents import FunctionTool, RunContextWrapper, function_tool

from production.agent.context import SupportRunContext, ToolCall
from production.database.queries import messages, reference, tickets

MAX_KB_RESULTS = 5
# Full-text ranks below this are treated as no match.
MIN_KB_SCORE = 0.01

ESCALATION_REASONS = (
    "pricing_or_contract", "refund", "legal_or_compliance", "human_request", "objection",
    "negative_sentiment", "no_kb_match", "prompt_injection", "unknown_high_risk",
)


def _record(ctx: SupportRunContext, name: str, **arguments: Any) -> None:
    ctx.tool_calls.append(ToolCall(name=name, arguments=arguments))


@function_tool
async def create_ticket(
    wrapper: RunContextWrapper[SupportRunContext], subject: str, category: str = "general",
    priority: str = "medium",
) -> str:
    """Open the support ticket for the customer's current message, or return the existing one.

    Args:
        subject: A short summary of the customer's request.
        category: One of general, technical, billing, account, feedback, bug_report.
        priority: One of low, medium, high, urgent.
    """
    ctx = wrapper.context
    _record(ctx, "create_ticket", subject=subject, category=category, priority=priority)
    if ctx.ticket_id is None:
        async with ctx.pool.acquire() as conn:
            ticket_id, number, _ = await tickets.create(
                conn, ctx.tenant_id, customer_id=ctx.customer_id,
                conversation_id=ctx.conversation_id, source_channel=ctx.channel,
                source_message_id=ctx.message_id, subject=subject[:300],
                category=category if category in _CATEGORIES else "general",
                priority=priority if priority in _PRIORITIES else "medium",
            )
            await messages.set_ticket(conn, ctx.tenant_id, ctx.message_id, ticket_id)
        ctx.ticket_id, ctx.ticket_number = ticket_id, number
    elif ctx.ticket_number is None:
        async with ctx.pool.acquire() as conn:
            ctx.ticket_number = await tickets.get_number(conn, ctx.tenant_id, ctx.ticket_id)
    return json.dumps({"ticket_id": ctx.ticket_number})


_CATEGORIES = {"general", "technical", "billing", "account", "feedback", "bug_report"}
_PRIORITIES = {"low", "medium", "high", "urgent"}


@function_tool
async def get_customer_history(wrapper: RunContextWrapper[SupportRunContext]) -> str:
    """Return the customer's last 20 messages across email, WhatsApp and the web form."""
    ctx = wrapper.context
    _record(ctx, "get_customer_history")
    async with ctx.pool.acquire() as conn:
        rows = await messages.customer_history(conn, ctx.tenant_id, ctx.customer_id, limit=20)
    history = [
        {
            "channel": row["channel"],
            "direction": row["direction"],
            "subject": row["subject"],
            "content": row["content"][:500],
            "at": row["created_at"].isoformat(),
            "current": row["id"] == ctx.message_id,
        }
        for row in rows
    ]
    return json.dumps({"messages": history})


@function_tool
async def search_knowledge_base(
    wrapper: RunContextWrapper[SupportRunContext], query: str
) -> str:
    """Search the product knowledge base; return up to 5 relevant passages with scores.

    Args:
        query: What to look for, in the customer's words or as keywords.
    """
    ctx = wrapper.context
    _record(ctx, "search_knowledge_base", query=query[:200])
    async with ctx.pool.acquire() as conn:
        rows = await reference.search_knowledge(conn, ctx.tenant_id, query, limit=MAX_KB_RESULTS)
    hits = [
        {"title": r["title"], "content": r["content"][:1500], "score": round(float(r["score"]), 4)}
        for r in rows
        if float(r["score"]) >= MIN_KB_SCORE
    ]
    ctx.kb_hit = ctx.kb_hit or bool(hits)
    return json.dumps({"results": hits})


@function_tool
async def escalate_to_human(wrapper: RunContextWrapper[SupportRunContext], reason: str) -> str:
    """Hand the ticket to a human specialist.

    Args:
        reason: The reason code, e.g. pricing_or_contract, refund, legal_or_compliance,
            human_request, negative_sentiment, no_kb_match.
    """
    ctx = wrapper.context
    code = reason if reason in ESCALATION_REASONS else "unknown_high_risk"
    _record(ctx, "escalate_to_human", reason=code)
    ctx.escalation_reason = code
    return json.dumps({"escalated": True, "reason": code, "ticket_id": ctx.ticket_number})


@function_tool
async def send_response(wrapper: RunContextWrapper[SupportRunContext], message: str) -> str:
    """Send the reply to the customer on their channel (it passes the safety gate first).

    Args:
        message: The reply body, without greeting or signature.
    """
    ctx = wrapper.context
    _record(ctx, "send_response", length=len(message))
    ctx.reply = message
    return json.dumps({"status": "staged", "ticket_id": ctx.ticket_number})


ALL_TOOLS: list[FunctionTool] = [
    create_ticket, get_customer_history, search_knowledge_base, escalate_to_human, send_response,
]
