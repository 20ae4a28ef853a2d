"""`fte mcp`: the agent's five tools as an MCP server, for any MCP client (Claude, an IDE, ...).

The tools call the same `operations` the Agents SDK function tools call; only the source of
their arguments differs. A function tool reads the customer, message and ticket from the run
context; an MCP client names them in its arguments, so every tool here takes the identifiers it
needs (an email address or phone number, a ticket number) and resolves them tenant-scoped.

The order is the agent's too, and so is its code: create_ticket runs the same steps before the
model (`tools.prerun`: the ticket, the history, a first search on the customer's words) and
returns their results, so a client needs no round trip for them; the calls of a ticket are
recorded on its message, and `order.refusal` decides over them whether a later call may run.

Stdout is the MCP stdio channel: logs go to stderr only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast
from uuid import UUID

import structlog
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, ValidationError

from production import clock
from production.agent import guardrails, operations, order, tools
from production.agent.context import SupportRunContext, ToolCall
from production.agent.escalation import REASONS
from production.agent.prompts import SYSTEM_PROMPT
from production.config import Settings, get_settings
from production.database.pool import Connection, Pool, create_pool
from production.database.queries import messages, reference
from production.domain.identity import Identifier, normalize_email, normalize_phone
from production.domain.messages import Channel, InboundMessage, InvalidMessage
from production.logging import configure_logging
from production.services import intake, process_inbound
from production.services.embeddings import Embedder, embedder_for

log = structlog.get_logger(__name__)

SERVER_NAME = "customer-success-fte"
TRANSPORTS = ("stdio", "streamable-http")
MAX_KB_LIMIT = 10

INSTRUCTIONS = """\
TechCorp customer support tools. For a customer's message, call create_ticket: it stores the
message, opens its ticket and returns the customer's history and a first knowledge-base search
on their words. Search once more (search_knowledge_base with the ticket_id) if that found
nothing useful; then send_response with an answer grounded in the knowledge base, or
escalate_to_human first when a human must decide (pricing, refunds, legal, an explicit request
for a person, anger, no knowledge-base match). Replies pass the C.A.R.E. gate: they may be held
for an operator."""

ReplyStatus = Literal["queued", "deferred", "pending_approval", "already_answered"]
STATUS_DETAIL: dict[str, str] = {
    "queued": "released: the reply is queued for delivery on the ticket's channel",
    "deferred": "paced by the C.A.R.E. throttles (quiet hours or the minimum interval): it is "
                "sent when they allow",
    "pending_approval": "held by the C.A.R.E. gate: an operator must approve the reply",
    "already_answered": "not sent: this ticket's message already has a reply",
}


@dataclass(frozen=True)
class McpDeps:
    """What every tool call needs: the server's lifespan state."""

    pool: Pool
    settings: Settings
    tenant_id: str
    embedder: Embedder


def _one_of(values: Sequence[str], what: str) -> AfterValidator:
    """A validator refusing values outside `values` (the schema lists them as an enum too)."""
    allowed = tuple(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{what} must be one of: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


# Argument types: their constraints and descriptions become the tools' input schemas.
Email = Annotated[str | None, Field(
    max_length=320, description="The customer's email address (needed for email and web_form).",
)]
Phone = Annotated[str | None, Field(
    max_length=40, description="The customer's phone number, E.164 preferred, e.g. "
                               "+14155550123 (needed for whatsapp).",
)]
TicketNumber = Annotated[str, Field(
    pattern=r"^TKT-[0-9]+$", description="The ticket number create_ticket returned, TKT-<digits>.",
)]
Category = Annotated[str, _one_of(operations.CATEGORIES, "category"), Field(
    description="The kind of request.", json_schema_extra={"enum": list(operations.CATEGORIES)},
)]
Priority = Annotated[str, _one_of(operations.PRIORITIES, "priority"), Field(
    description="How urgent the request is.",
    json_schema_extra={"enum": list(operations.PRIORITIES)},
)]
Reason = Annotated[str, _one_of(REASONS, "reason"), Field(
    description="Why a human must take over: pricing_or_contract (prices, discounts, "
                "contracts), refund, legal_or_compliance, human_request (the customer asked "
                "for a person), objection, negative_sentiment, no_kb_match (the knowledge base "
                "has no answer), prompt_injection, unknown_high_risk.",
    json_schema_extra={"enum": list(REASONS)},
)]


class HistoryEntry(BaseModel):
    channel: str
    direction: Literal["inbound", "outbound"]
    subject: str | None
    content: str = Field(description="The message text (first 500 characters).")
    at: str = Field(description="When the message was stored (ISO 8601).")


class CustomerHistory(BaseModel):
    customer_id: UUID
    messages: list[HistoryEntry] = Field(description="The latest messages, oldest first.")


class KnowledgeHit(BaseModel):
    title: str
    category: str | None
    content: str
    score: float = Field(description="Fused rank score (higher is better).")
    similarity: float = Field(description="Cosine similarity to the query, 0..1.")


class KnowledgeResults(BaseModel):
    results: list[KnowledgeHit] = Field(
        description="Relevant passages, best first; empty when nothing answers the query.")
    not_covered: list[str] = Field(
        default_factory=list,
        description="What the query asks the product to have that the knowledge base never "
                    "mentions; when present, escalate with reason no_kb_match.")


class TicketCreated(BaseModel):
    ticket_id: str = Field(description="The ticket number, TKT-<digits>.")
    message_id: UUID = Field(description="The stored inbound message.")
    customer_id: UUID
    conversation_id: UUID
    history: list[HistoryEntry] = Field(
        description="The customer's latest messages on every channel, oldest first (this one "
                    "included).")
    acknowledge: str | None = Field(
        description="A sentence acknowledging the customer's previous contact, if any.")
    knowledge: KnowledgeResults = Field(
        description="A first knowledge-base search on the customer's own words.")


class Escalation(BaseModel):
    ticket_id: str
    status: Literal["escalated"] = "escalated"
    reason: str


class ResponseOutcome(BaseModel):
    ticket_id: str
    status: ReplyStatus
    detail: str


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


async def _customer_by_identifiers(conn: Connection, tenant_id: str,
                                   identifiers: Sequence[Identifier]) -> UUID | None:
    """Return the customer owning any of the identifiers (the oldest, as intake resolves)."""
    customer_id: UUID | None = await conn.fetchval(
        """
        SELECT ci.customer_id
        FROM customer_identifiers ci
        JOIN customers c ON c.tenant_id = ci.tenant_id AND c.id = ci.customer_id
        WHERE ci.tenant_id = $1
          AND (ci.identifier_type, ci.identifier_value) IN (
              SELECT * FROM unnest($2::text[], $3::text[]))
        ORDER BY c.created_at
        LIMIT 1
        """,
        tenant_id, [i.type for i in identifiers], [i.value for i in identifiers],
    )
    return customer_id


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
        customer_id = await _customer_by_identifiers(conn, deps.tenant_id, identifiers)
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
    status = await process_inbound.reply_to(deps.pool, deps.settings, deps.tenant_id,
                                            message_id, message, grounded=False,
                                            now=clock.now(),
                                            tool_calls=[c.as_record() for c in calls])
    if status not in STATUS_DETAIL:
        raise ToolError(f"unexpected reply status {status!r}")
    log.info("mcp_response", ticket=ticket_id, status=status, length=len(message))
    return ResponseOutcome(ticket_id=ticket_id, status=cast(ReplyStatus, status),
                           detail=STATUS_DETAIL[status])


_TOOLS: tuple[tuple[Callable[..., Any], str, ToolAnnotations], ...] = (
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


def build_server(settings: Settings, *, tenant_id: str | None = None) -> MCPServer[McpDeps]:
    """Return the MCP server; its lifespan opens the pool and loads the embedding model."""
    tenant = tenant_id or settings.default_tenant

    @asynccontextmanager
    async def lifespan(_: MCPServer[McpDeps]) -> AsyncIterator[McpDeps]:
        pool = await create_pool(settings, min_size=1, max_size=4)
        try:
            async with pool.acquire() as conn:
                if tenant not in await reference.tenant_ids(conn):
                    raise RuntimeError(f"unknown tenant {tenant!r}")
            embedder = embedder_for(settings)
            await embedder.embed(["warm up"])  # load the model before the first search
            log.info("mcp_server_ready", tenant=tenant, embedder=embedder.name)
            yield McpDeps(pool=pool, settings=settings, tenant_id=tenant, embedder=embedder)
        finally:
            await pool.close()

    server: MCPServer[McpDeps] = MCPServer(
        SERVER_NAME, title="TechCorp Customer Success FTE", instructions=INSTRUCTIONS,
        lifespan=lifespan, log_level="WARNING",
    )
    for fn, title, hints in _TOOLS:
        server.add_tool(fn, title=title, annotations=hints, structured_output=True)
    return server


async def serve(settings: Settings, *, transport: str = "stdio", host: str = "127.0.0.1",
                port: int = 8765, tenant_id: str | None = None) -> None:
    """Serve the tools over stdio (the default) or streamable HTTP until the client leaves."""
    server = build_server(settings, tenant_id=tenant_id)
    if transport == "stdio":
        await server.run_stdio_async()
    elif transport == "streamable-http":
        log.info("mcp_http_listening", host=host, port=port, path="/mcp")
        await server.run_streamable_http_async(host=host, port=port)
    else:
        raise ValueError(f"unknown transport {transport!r} (use one of {', '.join(TRANSPORTS)})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fte mcp",
                                     description="Serve the support agent's tools over MCP")
    parser.add_argument("--transport", choices=TRANSPORTS, default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="streamable-http only")
    parser.add_argument("--port", type=int, default=8765, help="streamable-http only")
    parser.add_argument("--tenant", default=None,
                        help="tenant the tools act for (default: DEFAULT_TENANT, techcorp)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `fte mcp [--transport ...]`; return the exit code."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, process="mcp")
    try:
        settings.database_url()  # say what is missing, rather than fail inside the transport
    except RuntimeError as exc:
        print(f"fte mcp: {exc}", file=sys.stderr)
        return 2
    with suppress(KeyboardInterrupt):  # Ctrl-C is how an operator stops a served transport
        asyncio.run(serve(settings, transport=args.transport, host=args.host, port=args.port,
                          tenant_id=args.tenant))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
