"""The five MCP tools: the agent's own operations, their arguments named by the client.

A function tool reads the customer, message and ticket from the run context; an MCP client
names them in its arguments, so every tool here takes the identifiers it needs (an email
address or phone number, a ticket number) and resolves them tenant-scoped. create_ticket runs
the agent's own steps before the model (`tools.prerun`) and returns their results; the calls of
a ticket are recorded on its message, and `order.refusal` decides over them whether a later
call may run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any, cast
from uuid import UUID

import structlog
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field, StringConstraints, ValidationError

from production import clock
from production.agent import guardrails, operations, order, tools
from production.agent.context import SupportRunContext, ToolCall
from production.agent.prompts import SYSTEM_PROMPT
from production.bootstrap import McpDeps
from production.database.queries import customers, messages
from production.domain.identity import Identifier, normalize_email, normalize_phone
from production.domain.messages import Channel, InboundMessage, InvalidMessage
from production.mcp_server.schemas import (
    MAX_KB_LIMIT,
    Category,
    CustomerHistory,
    Email,
    Escalation,
    HistoryEntry,
    KnowledgeHit,
    KnowledgeResults,
    Phone,
    Priority,
    Reason,
    ReplyStatus,
    ResponseOutcome,
    TicketCreated,
    TicketNumber,
)
from production.services import intake, process_inbound

log = structlog.get_logger(__name__)

STATUS_DETAIL: dict[str, str] = {
    "queued": "released: the reply is queued for delivery on the ticket's channel",
    "deferred": "paced by the C.A.R.E. throttles (quiet hours or the minimum interval): it is "
                "sent when they allow",
    "pending_approval": "held by the C.A.R.E. gate: an operator must approve the reply",
    "already_answered": "not sent: this ticket's message already has a reply",
}


def _deps(ctx: Context[McpDeps]) -> McpDeps:
    return ctx.request_context.lifespan_context


def _identifiers(email: str | None, phone: str | None) -> list[Identifier]:
    """Return the normalized identifiers; refuse an invalid one or none at all.

    The errors do not repeat the value: the SDK logs a tool's error text, and logs carry no
    personal data.
    """
    found: list[Identifier] = []
    if email is not None and email.strip():
        if (normalized := normalize_email(email)) is None:
            raise ToolError("customer_email is not a valid email address")
        found.append(Identifier("email", normalized))
    if phone is not None and phone.strip():
        if (e164 := normalize_phone(phone)) is None:
            raise ToolError("customer_phone is not a valid phone number")
        found.append(Identifier("phone", e164))
    if not found:
        raise ToolError("give customer_email or customer_phone")
    return sorted(found)


async def _next_call(deps: McpDeps, ticket: str, name: str,
                     **arguments: Any) -> tuple[UUID, list[ToolCall]]:
    """Return the ticket's message and its calls so far, this one appended (not yet stored);
    refuse an unknown ticket, or a call the order does not allow yet."""
    async with deps.pool.acquire() as conn:
        found = await messages.ticket_tool_calls(conn, deps.tenant_id, ticket)
    if found is None:
        raise ToolError(f"no ticket {ticket}")
    message_id, records = found
    calls = [ToolCall.from_record(r) for r in records]
    if problem := order.refusal(calls, name):
        raise ToolError(f"{name} refused: {problem}")
    return message_id, [*calls, ToolCall(name, arguments)]


async def _record(deps: McpDeps, message_id: UUID, call: ToolCall) -> None:
    async with deps.pool.acquire() as conn:
        await messages.add_tool_calls(conn, deps.tenant_id, message_id, [call.as_record()])


async def create_ticket(
    ctx: Context[McpDeps],
    channel: Annotated[Channel, Field(
        description="The channel the customer wrote on; the reply goes back on it.")],
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=20_000),
                       Field(description="The customer's message, verbatim.")],
    customer_email: Email = None,
    customer_phone: Phone = None,
    subject: Annotated[str | None, Field(
        max_length=300, description="A short summary of the request (default: the start of "
                                    "the message).")] = None,
    customer_name: Annotated[str | None, Field(
        max_length=200, description="The customer's name, if known.")] = None,
    category: Category = "general",
    priority: Priority = "medium",
) -> TicketCreated:
    """Store a customer's message and open its support ticket; return the ticket number and
    ids, with the customer's history and a first knowledge-base search on their words.

    The customer is found by email address or phone number (or created). email and web_form
    messages need customer_email, whatsapp messages need customer_phone. Nothing is stored
    when an argument is invalid.
    """
    deps = _deps(ctx)
    identifiers = _identifiers(customer_email, customer_phone)
    needed = "phone" if channel == "whatsapp" else "email"
    if needed not in {i.type for i in identifiers}:
        raise ToolError(f"a {channel} message needs customer_{needed}, to reply on {channel}")
    try:
        msg = InboundMessage(
            tenant_id=deps.tenant_id, channel=channel, external_id=f"mcp-{uuid.uuid4().hex}",
            content=message, subject=subject, sender_email=customer_email,
            sender_phone=customer_phone, sender_name=customer_name,
            metadata={"source": "mcp"},
        )
        intake.sender_of(msg)  # refuse before anything is written
    except (InvalidMessage, ValidationError) as exc:
        raise ToolError(f"invalid message: {exc}") from exc
    async with deps.pool.acquire() as conn, conn.transaction():
        stored = await intake.ingest(conn, msg)
    run = SupportRunContext(
        pool=deps.pool, embedder=deps.embedder, tenant_id=deps.tenant_id,
        customer_id=stored.customer_id, conversation_id=stored.conversation_id,
        message_id=stored.message_id, channel=channel, content=message, subject=subject,
        customer_name=customer_name, now=clock.now())
    _, (_, _, history), (_, _, search) = await tools.prerun(
        run, category=category, priority=priority)
    assert run.ticket_number is not None
    async with deps.pool.acquire() as conn:
        await messages.add_tool_calls(conn, deps.tenant_id, stored.message_id,
                                      [c.as_record() for c in run.tool_calls])
    log.info("mcp_ticket_created", ticket=run.ticket_number, channel=channel,
             customer_id=str(stored.customer_id))
    return TicketCreated(ticket_id=run.ticket_number, message_id=stored.message_id,
                         customer_id=stored.customer_id,
                         conversation_id=stored.conversation_id,
                         history=[HistoryEntry.model_validate(m) for m in run.history or []],
                         acknowledge=json.loads(history)["acknowledge"],
                         knowledge=KnowledgeResults.model_validate_json(search))


async def get_customer_history(
    ctx: Context[McpDeps], customer_email: Email = None, customer_phone: Phone = None,
) -> CustomerHistory:
    """Return the customer's last 20 messages across email, WhatsApp and the web form.

    The customer is found by email address or phone number; both point to the same customer,
    so the history spans every channel they used.
    """
    deps = _deps(ctx)
    identifiers = _identifiers(customer_email, customer_phone)
    async with deps.pool.acquire() as conn:
        customer_id = await customers.owner_of(conn, deps.tenant_id, identifiers)
    if customer_id is None:
        raise ToolError("no customer is known by that email address or phone number")
    history = await operations.customer_history(deps.pool, deps.tenant_id, customer_id)
    return CustomerHistory(customer_id=customer_id,
                           messages=[HistoryEntry.model_validate(m) for m in history])


async def search_knowledge_base(
    ctx: Context[McpDeps],
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=2_000),
                     Field(description="What to look for, in the customer's words or as "
                                       "keywords.")],
    limit: Annotated[int, Field(ge=1, le=MAX_KB_LIMIT,
                                description="The most passages to return.")] = (
        operations.MAX_KB_RESULTS),
    ticket_id: Annotated[str | None, Field(
        pattern=r"^TKT-[0-9]+$", description="The ticket this search is a step of: it is "
                                             "recorded and counts against the ticket's search "
                                             "limit. Without it, a lookup of its own.")] = None,
) -> KnowledgeResults:
    """Search the product knowledge base (semantic and full-text); return the relevant passages.

    Weak matches are dropped, so an empty list means the knowledge base has no answer: escalate
    with reason no_kb_match rather than guess. create_ticket already searched the customer's
    words once; a ticket allows one more search.
    """
    deps = _deps(ctx)
    step = None if ticket_id is None else \
        await _next_call(deps, ticket_id, "search_knowledge_base", query=query[:200])
    if not_covered := await operations.uncovered_subjects(deps.pool, deps.tenant_id, query):
        found = KnowledgeResults(results=[], not_covered=not_covered)
    else:
        hits = await operations.search_knowledge(deps.pool, deps.tenant_id, deps.embedder,
                                                 query, limit=limit)
        found = KnowledgeResults(results=[KnowledgeHit.model_validate(h) for h in hits])
    if step is not None:
        message_id, calls = step
        await _record(deps, message_id, calls[-1])
    return found


async def escalate_to_human(
    ctx: Context[McpDeps], ticket_id: TicketNumber, reason: Reason,
) -> Escalation:
    """Hand a ticket to a human specialist: mark it escalated with the reason (audited).

    Then call send_response with a short holding reply telling the customer a specialist will
    follow up.
    """
    deps = _deps(ctx)
    message_id, calls = await _next_call(deps, ticket_id, "escalate_to_human", reason=reason)
    if not await operations.escalate_ticket(deps.pool, deps.tenant_id, ticket_id, reason,
                                            now=clock.now()):
        raise ToolError(f"no ticket {ticket_id}")
    await _record(deps, message_id, calls[-1])
    log.info("mcp_ticket_escalated", ticket=ticket_id, reason=reason)
    return Escalation(ticket_id=ticket_id, reason=reason)


async def send_response(
    ctx: Context[McpDeps],
    ticket_id: TicketNumber,
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=10_000),
                       Field(description="The reply body, without greeting or signature "
                                         "(the channel's voice adds them).")],
) -> ResponseOutcome:
    """Answer the ticket's message on its channel, through the C.A.R.E. gate; return the status.

    status is queued (released for delivery), pending_approval (held for an operator) or
    already_answered (the message had a reply; nothing was sent). One reply per ticket message.
    """
    deps = _deps(ctx)
    # The same output guardrail as the agent's send_response; nothing is written on a trip.
    check = guardrails.check_output(message, system_prompt=SYSTEM_PROMPT)
    if check.tripped:
        raise ToolError(f"the reply was refused by the output guardrail ({check.code}): "
                        "call escalate_to_human instead of promising this")
    message_id, calls = await _next_call(deps, ticket_id, "send_response", length=len(message))
    # No escalation argument: escalate_to_human already marked and audited the ticket.
    # An outside model's text: the executor cannot tell it is grounded, so the policy asks a
    # person to approve it whatever the mode.
    status = await process_inbound.reply_to(pool=deps.pool, settings=deps.settings,
                                            tenant_id=deps.tenant_id, message_id=message_id,
                                            body=message, grounded=False, now=clock.now(),
                                            tool_calls=[c.as_record() for c in calls])
    if status not in STATUS_DETAIL:
        raise ToolError(f"unexpected reply status {status!r}")
    log.info("mcp_response", ticket=ticket_id, status=status, length=len(message))
    return ResponseOutcome(ticket_id=ticket_id, status=cast(ReplyStatus, status),
                           detail=STATUS_DETAIL[status])


TOOLS: tuple[tuple[Callable[..., Any], str, ToolAnnotations], ...] = (
    (create_ticket, "Create ticket", ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=False,
        open_world_hint=False)),
    (get_customer_history, "Customer history", ToolAnnotations(
        read_only_hint=True, open_world_hint=False)),
    (search_knowledge_base, "Search the knowledge base", ToolAnnotations(
        read_only_hint=True, open_world_hint=False)),
    (escalate_to_human, "Escalate to a human", ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=True,
        open_world_hint=False)),
    (send_response, "Reply to the customer", ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=True,
        open_world_hint=True)),
)
