"""The real agent loop (OpenAI Agents SDK Runner) with its real tools against PostgreSQL:
scripted runs check tool order and the budget; the local model's plans are checked end to end."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from agents.testing import ScriptedModel, function_call

from production.agent.context import SupportRunContext
from production.agent.runner import MAX_TURNS, SupportAgent
from production.agent.tools import HOLDING_REPLY, MAX_SEARCHES
from production.config import Settings
from production.database.pool import Pool
from production.domain.messages import InboundMessage
from production.services import intake
from production.services.embeddings import local_embedder
from tests.conftest import unique_email


async def new_context(pool: Pool, content: str, *, channel: str = "email",
                      email: str | None = None, when: datetime | None = None,
                      subject: str | None = None) -> SupportRunContext:
    msg = InboundMessage(
        tenant_id="techcorp", channel=channel,  # type: ignore[arg-type]
        external_id=f"t-{uuid.uuid4().hex}", content=content, subject=subject,
        sender_email=email or unique_email("agent"), sender_name="Linus Torvalds",
        received_at=when or datetime.now(UTC),
    )
    async with pool.acquire() as conn, conn.transaction():
        stored = await intake.ingest(conn, msg)
    return SupportRunContext(
        pool=pool, embedder=local_embedder(), tenant_id="techcorp", customer_id=stored.customer_id,
        conversation_id=stored.conversation_id, message_id=stored.message_id, channel=channel,
        content=content, subject=subject, customer_name="Linus Torvalds", now=datetime.now(UTC),
    )


async def test_scripted_run_calls_the_tools_in_order_against_the_database(
    settings: Settings, pool: Pool
) -> None:
    model = ScriptedModel([
        [function_call("create_ticket", {"subject": "Rate limits", "category": "technical"},
                       call_id="c1")],
        [function_call("get_customer_history", {}, call_id="c2")],
        [function_call("search_knowledge_base", {"query": "API rate limit 429"}, call_id="c3")],
        [function_call("send_response", {"message": "You can send 600 requests per minute."},
                       call_id="c4")],
    ])
    ctx = await new_context(pool, "What is the API rate limit? I keep getting 429.")
    outcome = await SupportAgent(settings, model=model).run(ctx)
    model.assert_complete()

    assert [c.name for c in ctx.tool_calls] == [
        "create_ticket", "get_customer_history", "search_knowledge_base", "send_response"]
    assert outcome.reply == "You can send 600 requests per minute."
    assert outcome.kb_hit is True
    assert ctx.ticket_number is not None and ctx.ticket_number.startswith("TKT-")
    first = model.first_call
    assert first is not None and "create_ticket" in (first.system_instructions or "")
    search_output = _tool_output(model, "c3")
    assert "rate limits" in search_output.lower()
    async with pool.acquire() as conn:
        ticket = await conn.fetchrow(
            "SELECT category, source_message_id FROM tickets WHERE ticket_number = $1",
            ctx.ticket_number)
    assert ticket["category"] == "technical"
    assert ticket["source_message_id"] == ctx.message_id


def _tool_output(model: ScriptedModel, call_id: str) -> str:
    for call in model.calls:
        for item in call.input if isinstance(call.input, list) else []:
            if isinstance(item, dict) and item.get("call_id") == call_id and \
                    item.get("type") == "function_call_output":
                return str(item.get("output"))
    raise AssertionError(f"no output for {call_id}")


async def test_a_model_that_never_stops_calling_tools_hits_the_budget(
    settings: Settings, pool: Pool
) -> None:
    model = ScriptedModel(
        [[function_call("create_ticket", {"subject": "Everything"}, call_id="t")],
         [function_call("get_customer_history", {}, call_id="h")]]
        + [[function_call("search_knowledge_base", {"query": f"q{i}"}, call_id=f"s{i}")]
           for i in range(MAX_TURNS)])
    ctx = await new_context(pool, "Tell me everything about everything.")
    outcome = await SupportAgent(settings, model=model).run(ctx)

    names = [c.name for c in ctx.tool_calls]
    assert len(names) == MAX_TURNS  # the run was stopped at its turn budget
    refused = [c for c in ctx.tool_calls if not c.ok]
    assert len([c for c in ctx.tool_calls if c.ok and c.name == "search_knowledge_base"]) \
        == MAX_SEARCHES
    assert refused and all(c.name == "search_knowledge_base" for c in refused)
    # Never an unfinished reply: the customer gets the holding reply and a human the ticket.
    assert outcome.escalation_reasons and outcome.reply == HOLDING_REPLY
    assert ctx.ticket_number is not None


async def test_tools_refuse_calls_out_of_order(settings: Settings, pool: Pool) -> None:
    model = ScriptedModel([
        [function_call("send_response", {"message": "Done!"}, call_id="r0")],
        [function_call("search_knowledge_base", {"query": "password"}, call_id="s0")],
        [function_call("create_ticket", {"subject": "Password"}, call_id="t")],
        [function_call("get_customer_history", {}, call_id="h")],
        [function_call("search_knowledge_base", {"query": "reset my password"}, call_id="s1")],
        [function_call("send_response", {"message": "Use Forgot password on the sign-in page."},
                       call_id="r1")],
    ])
    ctx = await new_context(pool, "I forgot my password, how do I reset it?")
    outcome = await SupportAgent(settings, model=model).run(ctx)
    model.assert_complete()
    assert [(c.name, c.ok) for c in ctx.tool_calls] == [
        ("send_response", False), ("search_knowledge_base", False), ("create_ticket", True),
        ("get_customer_history", True), ("search_knowledge_base", True), ("send_response", True)]
    assert "create_ticket first" in _tool_output(model, "r0")
    assert "get_customer_history first" in _tool_output(model, "s0")
    assert outcome.reply == "Use Forgot password on the sign-in page."
    assert outcome.escalation_reasons == ()


async def test_local_model_answers_from_the_knowledge_base(settings: Settings,
                                                           pool: Pool) -> None:
    ctx = await new_context(pool, "How can I export my project data as CSV?")
    outcome = await SupportAgent(settings).run(ctx)
    assert [c.name for c in ctx.tool_calls] == [
        "create_ticket", "get_customer_history", "search_knowledge_base", "send_response"]
    assert outcome.escalation_reason is None
    assert "export" in outcome.reply.lower() and "csv" in outcome.reply.lower()
    assert outcome.model == "local-deterministic"


@pytest.mark.parametrize(("message", "reason"), [
    ("I want a refund for last month, the app was down all week.", "refund"),
    ("My lawyer will be in touch about this outage.", "legal_or_compliance"),
    ("How much would the enterprise plan cost us for 40 seats?", "pricing_or_contract"),
    ("Can a real person call me please?", "human_request"),
])
async def test_local_model_escalates_what_needs_a_human(settings: Settings, pool: Pool,
                                                        message: str, reason: str) -> None:
    ctx = await new_context(pool, message)
    outcome = await SupportAgent(settings).run(ctx)
    assert outcome.escalation_reason == reason
    names = [c.name for c in ctx.tool_calls]
    assert names.index("escalate_to_human") < names.index("send_response")
    assert "specialist" in outcome.reply


async def test_no_knowledge_base_match_searches_twice_then_escalates(settings: Settings,
                                                                     pool: Pool) -> None:
    ctx = await new_context(pool, "Quantum flux capacitor zebra?")
    outcome = await SupportAgent(settings).run(ctx)
    searches = [c for c in ctx.tool_calls if c.name == "search_knowledge_base"]
    assert len(searches) == 2
    assert outcome.escalation_reason == "no_kb_match"


async def test_reply_acknowledges_earlier_contact_on_another_channel(settings: Settings,
                                                                      pool: Pool) -> None:
    email = unique_email("returning")
    await new_context(pool, "Slack stopped posting updates to our channel.", channel="web_form",
                      email=email, subject="Slack integration broken",
                      when=datetime.now(UTC) - timedelta(days=3))
    ctx = await new_context(pool, "How do I set up two-factor authentication?", email=email)
    outcome = await SupportAgent(settings).run(ctx)
    assert 'I see you contacted us about "Slack integration broken" 3 days ago via our web ' \
        'form.' in outcome.reply


