"""The real agent loop (OpenAI Agents SDK Runner) with its real tools against PostgreSQL:
scripted runs check what the model is given, tool order and the budget; the local model's plans
are checked end to end."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from agents.testing import ScriptedModel, function_call

from production.agent.context import SupportRunContext
from production.agent.order import MAX_SEARCHES, MAX_TOOL_CALLS, PRERUN
from production.agent.runner import MAX_TURNS, SupportAgent
from production.agent.tools import HOLDING_REPLY
from production.config import Settings
from production.database.pool import Pool
from production.domain.messages import InboundMessage
from production.embeddings import local_embedder
from production.services import intake
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


def by(ctx: SupportRunContext) -> list[tuple[str, str]]:
    """Return each recorded call as (name, who asked for it)."""
    return [(c.name, c.by) for c in ctx.tool_calls]


PRERUN_CALLS = [(name, "code") for name in PRERUN]


def _tool_output(model: ScriptedModel, call_id: str) -> str:
    for call in model.calls:
        for item in call.input if isinstance(call.input, list) else []:
            if isinstance(item, dict) and item.get("call_id") == call_id and \
                    item.get("type") == "function_call_output":
                return str(item.get("output"))
    raise AssertionError(f"no output for {call_id}")


async def test_the_model_is_called_once_on_the_steps_run_before_it(
    settings: Settings, pool: Pool
) -> None:
    model = ScriptedModel([
        [function_call("send_response", {"message": "You can send 600 requests per minute."},
                       call_id="c4")],
    ])
    ctx = await new_context(pool, "What is the API rate limit? I keep getting 429.")
    outcome = await SupportAgent(settings, model=model).run(ctx)
    model.assert_complete()

    assert by(ctx) == [*PRERUN_CALLS, ("send_response", "model")]
    assert all(c.ok for c in ctx.tool_calls)
    assert outcome.reply == "You can send 600 requests per minute."
    assert outcome.kb_hit is True
    assert (outcome.model_calls, len(model.calls)) == (1, 1)
    assert ctx.ticket_number is not None and ctx.ticket_number.startswith("TKT-")
    # The model's input: the customer's words, then each step as the call and result it is.
    first = model.first_call
    assert first is not None and "search_knowledge_base once more" in (
        first.system_instructions or "")
    assert isinstance(first.input, list)
    assert first.input[0] == {"role": "user",
                              "content": "What is the API rate limit? I keep getting 429."}
    calls = [i for i in first.input if isinstance(i, dict) and i.get("type") == "function_call"]
    assert [c["name"] for c in calls] == list(PRERUN)
    assert ctx.ticket_number in _tool_output(model, calls[0]["call_id"])
    assert "rate limits" in _tool_output(model, calls[2]["call_id"]).lower()
    assert '"query": "What is the API rate limit?' in calls[2]["arguments"]
    async with pool.acquire() as conn:
        ticket = await conn.fetchrow(
            "SELECT category, priority, source_message_id FROM tickets WHERE ticket_number = $1",
            ctx.ticket_number)
    assert (ticket["category"], ticket["priority"]) == ("general", "medium")
    assert ticket["source_message_id"] == ctx.message_id


async def test_steps_called_again_return_what_the_run_has(settings: Settings,
                                                          pool: Pool) -> None:
    model = ScriptedModel([
        [function_call("create_ticket", {"subject": "Again", "category": "technical"},
                       call_id="t")],
        [function_call("get_customer_history", {}, call_id="h")],
        [function_call("search_knowledge_base", {"query": "forgot password"}, call_id="s")],
        [function_call("send_response", {"message": "Use Forgot password on the sign-in page."},
                       call_id="r")],
    ])
    ctx = await new_context(pool, "I forgot my password, how do I reset it?")
    outcome = await SupportAgent(settings, model=model).run(ctx)
    model.assert_complete()

    assert by(ctx) == [*PRERUN_CALLS, ("create_ticket", "model"),
                       ("get_customer_history", "model"), ("search_knowledge_base", "model"),
                       ("send_response", "model")]
    assert all(c.ok for c in ctx.tool_calls)
    first = model.first_call
    assert first is not None and isinstance(first.input, list)
    prerun_outputs = [i["output"] for i in first.input
                      if isinstance(i, dict) and i.get("type") == "function_call_output"]
    assert _tool_output(model, "t") == prerun_outputs[0]  # the same ticket, not a second
    assert _tool_output(model, "h") == prerun_outputs[1]
    assert outcome.reply == "Use Forgot password on the sign-in page."
    assert outcome.model_calls == 4
    async with pool.acquire() as conn:
        tickets = await conn.fetch(
            "SELECT category FROM tickets WHERE source_message_id = $1", ctx.message_id)
    assert [t["category"] for t in tickets] == ["general"]


async def test_a_model_that_never_stops_searching_hits_the_budget(
    settings: Settings, pool: Pool
) -> None:
    model = ScriptedModel(
        [[function_call("search_knowledge_base", {"query": f"q{i}"}, call_id=f"s{i}")]
         for i in range(MAX_TURNS)])
    ctx = await new_context(pool, "Tell me everything about everything.")
    outcome = await SupportAgent(settings, model=model).run(ctx)

    assert len(model.calls) == outcome.model_calls == MAX_TURNS  # stopped at its turn budget
    assert by(ctx)[:3] == PRERUN_CALLS and len(ctx.tool_calls) == 3 + MAX_TURNS
    assert len([c for c in ctx.tool_calls if c.ok and c.name == "search_knowledge_base"]) \
        == MAX_SEARCHES
    refused = [c for c in ctx.tool_calls if not c.ok]
    assert len(refused) == MAX_TURNS - 1 and all(c.by == "model" for c in refused)
    assert "search limit reached" in _tool_output(model, "s1")
    # Never an unfinished reply: the customer gets the holding reply and a human the ticket.
    assert outcome.escalation_reasons and outcome.reply == HOLDING_REPLY
    assert ctx.ticket_number is not None


async def test_past_the_tool_budget_only_a_reply_is_accepted(settings: Settings,
                                                             pool: Pool) -> None:
    extra = MAX_TOOL_CALLS - len(PRERUN)
    model = ScriptedModel([
        [function_call("get_customer_history", {}, call_id=f"h{i}") for i in range(extra + 1)],
        [function_call("send_response", {"message": "Use Forgot password on the sign-in page."},
                       call_id="r")],
    ])
    ctx = await new_context(pool, "I forgot my password, how do I reset it?")
    outcome = await SupportAgent(settings, model=model).run(ctx)
    model.assert_complete()

    assert [c.ok for c in ctx.tool_calls] == [True] * MAX_TOOL_CALLS + [False, True]
    assert "tool budget used up" in _tool_output(model, f"h{extra}")
    assert outcome.reply == "Use Forgot password on the sign-in page."
    assert outcome.escalation_reasons == ()


async def test_local_model_answers_from_the_knowledge_base(settings: Settings,
                                                           pool: Pool) -> None:
    ctx = await new_context(pool, "How can I export my project data as CSV?")
    outcome = await SupportAgent(settings).run(ctx)
    assert by(ctx) == [*PRERUN_CALLS, ("send_response", "model")]
    assert outcome.model_calls == 1
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
    # One model turn: the escalation carries the note to the customer and ends the run.
    assert by(ctx) == [*PRERUN_CALLS, ("escalate_to_human", "model")]
    assert ctx.tool_calls[-1].arguments["reason"] == reason and outcome.model_calls == 1
    assert "specialist" in outcome.reply


async def test_no_knowledge_base_match_searches_twice_then_escalates(settings: Settings,
                                                                     pool: Pool) -> None:
    ctx = await new_context(pool, "Quantum flux capacitor zebra?")
    outcome = await SupportAgent(settings).run(ctx)
    searches = [c for c in ctx.tool_calls if c.name == "search_knowledge_base"]
    assert [c.by for c in searches] == ["code", "model"]
    assert searches[1].arguments["query"] == "quantum flux capacitor zebra"
    assert outcome.escalation_reason == "no_kb_match"
    assert by(ctx)[-1] == ("escalate_to_human", "model") and outcome.model_calls == 2


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


