"""The five tools the agent may call: thin wrappers over `operations`, fed by the run context.

The tools also hold the line the prompt asks for: they refuse calls out of order or over the
budget (the model gets an error it can act on), and `send_response` runs the output guardrail.
"""

from __future__ import annotations

import json
from typing import Any

from agents import FunctionTool, RunContextWrapper, function_tool

from production.agent import guardrails, operations
from production.agent.context import SupportRunContext, ToolCall
from production.agent.escalation import REASONS
from production.agent.prompts import SYSTEM_PROMPT

# Tool-call budget of one run: the five tools, a second search and a little slack. Past it only
# escalate_to_human and send_response are accepted, so a run can always end well.
MAX_TOOL_CALLS = 8
MAX_SEARCHES = 3

HOLDING_REPLY = ("Thank you for reaching out. I have passed your request to a specialist on our "
                 "team, who will follow up with you personally.")

# An output-guardrail tripwire becomes this escalation reason.
_GUARDRAIL_REASONS = {
    "price_promise": "pricing_or_contract", "discount_promise": "pricing_or_contract",
    "refund_promise": "refund", "prompt_leak": "prompt_injection",
}


def _start(ctx: SupportRunContext, name: str, **arguments: Any) -> str | None:
    """Record the call; return why it is refused, or None when it may run."""
    problem = _refusal(ctx, name)
    ctx.tool_calls.append(ToolCall(name=name, arguments=arguments, ok=problem is None))
    return problem


def _refusal(ctx: SupportRunContext, name: str) -> str | None:
    if name in ("escalate_to_human", "send_response"):
        if not ctx.called("create_ticket"):
            return "call create_ticket first"
        if name == "send_response" and not (ctx.kb_searches or ctx.escalation_reasons):
            return "search the knowledge base (or escalate) before responding"
        return None
    if len(ctx.tool_calls) >= MAX_TOOL_CALLS:
        return "tool budget used up: call escalate_to_human, then send_response"
    if name == "get_customer_history" and not ctx.called("create_ticket"):
        return "call create_ticket first"
    if name == "search_knowledge_base":
        if not ctx.called("get_customer_history"):
            return "call get_customer_history first"
        if ctx.kb_searches >= MAX_SEARCHES:
            return "search limit reached: answer from the results or escalate_to_human"
    return None


def _error(problem: str) -> str:
    return json.dumps({"error": problem})


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
    if problem := _start(ctx, "create_ticket", subject=subject, category=category,
                         priority=priority):
        return _error(problem)
    if ctx.ticket_id is None or ctx.ticket_number is None:
        ticket = await operations.open_ticket(
            ctx.pool, ctx.tenant_id, customer_id=ctx.customer_id,
            conversation_id=ctx.conversation_id, channel=ctx.channel,
            message_id=ctx.message_id, subject=subject, category=category, priority=priority)
        ctx.ticket_id, ctx.ticket_number = ticket.id, ticket.number
    return json.dumps({"ticket_id": ctx.ticket_number})


@function_tool
async def get_customer_history(wrapper: RunContextWrapper[SupportRunContext]) -> str:
    """Return the customer's last 20 messages across email, WhatsApp and the web form."""
    ctx = wrapper.context
    if problem := _start(ctx, "get_customer_history"):
        return _error(problem)
    history = await operations.customer_history(
        ctx.pool, ctx.tenant_id, ctx.customer_id, current_message_id=ctx.message_id)
    earlier = operations.earlier_contact(history, ctx.channel, ctx.now)
    return json.dumps({"channel": ctx.channel, "messages": history, "acknowledge": earlier})


@function_tool
async def search_knowledge_base(
    wrapper: RunContextWrapper[SupportRunContext], query: str
) -> str:
    """Search the product knowledge base; return up to 5 relevant passages with scores.

    Args:
        query: What to look for, in the customer's words or as keywords.
    """
    ctx = wrapper.context
    if problem := _start(ctx, "search_knowledge_base", query=query[:200]):
        return _error(problem)
    if ctx.not_covered is None:  # the customer's question decides, whatever the query says
        ctx.not_covered = await operations.uncovered_subjects(ctx.pool, ctx.tenant_id,
                                                              ctx.content)
    ctx.kb_searches += 1
    if ctx.not_covered:
        return json.dumps({"results": [], "not_covered": ctx.not_covered,
                           "note": "the knowledge base says nothing about this: escalate "
                                   "with reason no_kb_match"})
    hits = await operations.search_knowledge(ctx.pool, ctx.tenant_id, ctx.embedder, query)
    if hits and not ctx.kb_hit:
        ctx.kb_hit, ctx.kb_topic = True, str(hits[0]["title"])
    return json.dumps({"results": hits})


@function_tool
async def escalate_to_human(wrapper: RunContextWrapper[SupportRunContext], reason: str) -> str:
    """Hand the ticket to a human specialist.

    Args:
        reason: The reason code: pricing_or_contract, refund, legal_or_compliance,
            human_request, objection, negative_sentiment, no_kb_match, prompt_injection or
            unknown_high_risk.
    """
    ctx = wrapper.context
    code = reason if reason in REASONS else "unknown_high_risk"
    if problem := _start(ctx, "escalate_to_human", reason=code):
        return _error(problem)
    ctx.escalate(code)
    return json.dumps({"escalated": True, "reason": code, "ticket_id": ctx.ticket_number})


@function_tool
async def send_response(wrapper: RunContextWrapper[SupportRunContext], message: str) -> str:
    """Send the reply to the customer on their channel (it passes the safety gate first).

    Args:
        message: The reply body, without greeting or signature.
    """
    ctx = wrapper.context
    if problem := _start(ctx, "send_response", length=len(message)):
        return _error(problem)
    check = guardrails.check_output(message, system_prompt=SYSTEM_PROMPT,
                                    customer_identifiers=ctx.customer_identifiers)
    if check.tripped:
        ctx.guardrail = check.code
        ctx.escalate(_GUARDRAIL_REASONS.get(str(check.code), "unknown_high_risk"))
        ctx.reply = HOLDING_REPLY
        return json.dumps({"status": "escalated_instead", "guardrail": check.code})
    ctx.reply = message
    return json.dumps({"status": "staged", "ticket_id": ctx.ticket_number})


ALL_TOOLS: list[FunctionTool] = [
    create_ticket, get_customer_history, search_knowledge_base, escalate_to_human, send_response,
]
