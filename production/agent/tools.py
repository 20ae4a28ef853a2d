"""The five tools of a run: thin wrappers over `operations`, fed by the run context.

The first three steps need no judgement, so `prerun` runs them in code before the model is
called, recorded as calls like the model's own; the model then searches once more at most and
ends with send_response or escalate_to_human. The tools hold the line the prompt asks for: they
refuse calls out of order or over the budget (`order`, the model gets an error it can act on),
create_ticket and get_customer_history called again return what the run already has, and every
text for the customer passes the output guardrail first.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from agents import FunctionTool, RunContextWrapper, function_tool

from production.agent import guardrails, operations, order
from production.agent.context import SupportRunContext, ToolCall
from production.agent.escalation import REASONS
from production.agent.prompts import SYSTEM_PROMPT

HOLDING_REPLY = ("Thank you for reaching out. I have passed your request to a specialist on our "
                 "team, who will follow up with you personally.")

# The sentence that opens the answer to a mildly frustrated customer.
FRUSTRATION_NOTE = "I'm sorry this has been frustrating; here is how to sort it out."

# An output-guardrail tripwire becomes this escalation reason.
_GUARDRAIL_REASONS = {
    "price_promise": "pricing_or_contract", "discount_promise": "pricing_or_contract",
    "refund_promise": "refund", "prompt_leak": "prompt_injection",
}

By = Literal["model", "code"]


def _start(ctx: SupportRunContext, name: str, by: By = "model", **arguments: Any) -> str | None:
    """Record the call; return why it is refused, or None when it may run."""
    problem = order.refusal(ctx.tool_calls, name, escalated=bool(ctx.escalation_reasons))
    ctx.tool_calls.append(ToolCall(name=name, arguments=arguments, ok=problem is None, by=by))
    return problem


def _error(problem: str) -> str:
    return json.dumps({"error": problem})


async def _create_ticket(ctx: SupportRunContext, *, subject: str, category: str = "general",
                         priority: str = "medium", by: By = "model") -> str:
    if problem := _start(ctx, "create_ticket", by, subject=subject, category=category,
                         priority=priority):
        return _error(problem)
    if ctx.ticket_id is None or ctx.ticket_number is None:
        ticket = await operations.open_ticket(
            ctx.pool, ctx.tenant_id, customer_id=ctx.customer_id,
            conversation_id=ctx.conversation_id, channel=ctx.channel,
            message_id=ctx.message_id, subject=subject, category=category, priority=priority)
        ctx.ticket_id, ctx.ticket_number = ticket.id, ticket.number
    return json.dumps({"ticket_id": ctx.ticket_number})


async def _customer_history(ctx: SupportRunContext, *, by: By = "model") -> str:
    if problem := _start(ctx, "get_customer_history", by):
        return _error(problem)
    if ctx.history is None:
        ctx.history = await operations.customer_history(
            ctx.pool, ctx.tenant_id, ctx.customer_id, current_message_id=ctx.message_id)
    earlier = operations.earlier_contact(ctx.history, ctx.channel, ctx.now)
    result: dict[str, Any] = {"channel": ctx.channel, "messages": ctx.history,
                              "acknowledge": earlier}
    if ctx.mild_frustration:
        result["acknowledge_frustration"] = FRUSTRATION_NOTE
    return json.dumps(result)


async def _search(ctx: SupportRunContext, *, query: str, by: By = "model") -> str:
    if problem := _start(ctx, "search_knowledge_base", by, query=query[:200]):
        return _error(problem)
    if ctx.not_covered is None:  # the customer's question decides, whatever the query says
        ctx.not_covered = await operations.uncovered_subjects(ctx.pool, ctx.tenant_id,
                                                              ctx.content)
    if ctx.not_covered:
        return json.dumps({"results": [], "not_covered": ctx.not_covered,
                           "note": "the knowledge base says nothing about this: escalate "
                                   "with reason no_kb_match"})
    hits = await operations.search_knowledge(ctx.pool, ctx.tenant_id, ctx.embedder, query)
    if hits and not ctx.kb_hit:
        ctx.kb_hit, ctx.kb_topic = True, str(hits[0]["title"])
    return json.dumps({"results": hits})


async def prerun(ctx: SupportRunContext, *, subject: str | None = None,
                 category: str = "general",
                 priority: str | None = None) -> list[tuple[str, dict[str, Any], str]]:
    """Run create_ticket → get_customer_history → search_knowledge_base on the customer's own
    words, in code, each recorded as a call `by="code"`; return each step's (name, arguments,
    output), the output as the tool returns it to a model."""
    steps: list[tuple[str, dict[str, Any], str]] = []
    ticket = {"subject": subject or ctx.ticket_subject, "category": category,
              "priority": priority or ctx.ticket_priority}
    steps.append(("create_ticket", ticket, await _create_ticket(ctx, **ticket, by="code")))
    steps.append(("get_customer_history", {}, await _customer_history(ctx, by="code")))
    search = {"query": ctx.words[:500]}
    steps.append(("search_knowledge_base", search, await _search(ctx, **search, by="code")))
    return steps


def _stage_reply(ctx: SupportRunContext, message: str) -> str | None:
    """Stage the text for the customer; return the output guardrail's code if it tripped (the
    holding reply is staged instead and the ticket escalated with the guardrail's reason)."""
    check = guardrails.check_output(message, system_prompt=SYSTEM_PROMPT,
                                    customer_identifiers=ctx.customer_identifiers)
    if check.tripped:
        ctx.guardrail = check.code
        ctx.escalate(_GUARDRAIL_REASONS.get(str(check.code), "unknown_high_risk"))
        ctx.reply = HOLDING_REPLY
        return str(check.code)
    ctx.reply = message
    return None


@function_tool
async def create_ticket(
    wrapper: RunContextWrapper[SupportRunContext], subject: str, category: str = "general",
    priority: str = "medium",
) -> str:
    """Return the support ticket for the customer's current message (it is opened before you
    are called; calling again returns the same ticket).

    Args:
        subject: A short summary of the customer's request.
        category: One of general, technical, billing, account, feedback, bug_report.
        priority: One of low, medium, high, urgent.
    """
    return await _create_ticket(wrapper.context, subject=subject, category=category,
                                priority=priority)


@function_tool
async def get_customer_history(wrapper: RunContextWrapper[SupportRunContext]) -> str:
    """Return the customer's last 20 messages across email, WhatsApp and the web form (already
    in your input: calling again returns the same)."""
    return await _customer_history(wrapper.context)


@function_tool
async def search_knowledge_base(
    wrapper: RunContextWrapper[SupportRunContext], query: str
) -> str:
    """Search the product knowledge base; return up to 5 relevant passages with scores. A first
    search on the customer's own words is already in your input; you may search once more.

    Args:
        query: What to look for, as a shorter query or keywords of your own.
    """
    return await _search(wrapper.context, query=query)


@function_tool
async def escalate_to_human(wrapper: RunContextWrapper[SupportRunContext], reason: str,
                            message: str = "") -> str:
    """Hand the ticket to a human specialist and tell the customer one will follow up; this
    ends your turn.

    Args:
        reason: The reason code: pricing_or_contract, refund, legal_or_compliance,
            human_request, objection, negative_sentiment, no_kb_match, prompt_injection or
            unknown_high_risk.
        message: The note for the customer, without greeting or signature: that a specialist
            will follow up (and, if they contacted us before, one sentence acknowledging it).
            No promises.
    """
    ctx = wrapper.context
    code = reason if reason in REASONS else "unknown_high_risk"
    if problem := _start(ctx, "escalate_to_human", reason=code, length=len(message)):
        return _error(problem)
    ctx.escalate(code)
    if message.strip():
        tripped = _stage_reply(ctx, message)
    else:
        tripped, ctx.reply = None, HOLDING_REPLY
    return json.dumps({"escalated": True, "reason": code, "ticket_id": ctx.ticket_number,
                       "guardrail": tripped})


@function_tool
async def send_response(wrapper: RunContextWrapper[SupportRunContext], message: str) -> str:
    """Send the reply to the customer on their channel (it passes the safety gate first); this
    ends your turn.

    Args:
        message: The reply body, without greeting or signature.
    """
    ctx = wrapper.context
    if problem := _start(ctx, "send_response", length=len(message)):
        return _error(problem)
    if tripped := _stage_reply(ctx, message):
        return json.dumps({"status": "escalated_instead", "guardrail": tripped})
    return json.dumps({"status": "staged", "ticket_id": ctx.ticket_number})


ALL_TOOLS: list[FunctionTool] = [
    create_ticket, get_customer_history, search_knowledge_base, escalate_to_human, send_response,
]
