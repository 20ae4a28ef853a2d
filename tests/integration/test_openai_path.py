"""The OpenAI path over real HTTP, against a local fake of the API (tests/fakes/openai_api.py).

The worker's use case runs the Agents SDK and the `openai` client against the fake's Responses
endpoint, with the real tools on PostgreSQL: the steps that need no judgement reach the model
as tool results, so a reply costs one model call, two with a second search; a key the API
refuses ends in the worker's failure path, the channel's apology; with a key set, texts are
embedded through the Embeddings endpoint.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import openai
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from production import clock
from production.agent.context import SupportRunContext
from production.agent.prompts import SYSTEM_PROMPT
from production.agent.runner import AgentOutcome, SupportAgent
from production.config import OpenAISettings, Settings
from production.database.pool import Pool
from production.domain.messages import InboundMessage
from production.embeddings import embedder_for, local_embedder
from production.metrics import COST, MODEL_ERRORS, MODEL_LATENCY
from production.services import process_inbound
from tests.conftest import unique_email
from tests.fakes.openai_api import EMBEDDINGS, LATENCY_ENV, FakeOpenAI, embedding

MODEL = "gpt-4o-mini"
TOOLS = ("create_ticket", "get_customer_history", "search_knowledge_base", "escalate_to_human",
         "send_response")
PRERUN = ["create_ticket", "get_customer_history", "search_knowledge_base"]


def on_fake(settings: Settings, fake: FakeOpenAI, *, key: str | None = None) -> Settings:
    """The test settings with OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL set."""
    group = OpenAISettings(api_key=SecretStr(key or fake.api_key), base_url=fake.base_url,
                           model=MODEL)
    return settings.model_copy(update={"openai": group})


def worker_deps(settings: Settings, pool: Pool, fake: FakeOpenAI, *,
                key: str | None = None) -> process_inbound.WorkerDeps:
    """The worker's dependencies, its agent on the fake."""
    agent_settings = on_fake(settings, fake, key=key)
    # The shared knowledge base was embedded locally (conftest), so searches must be too.
    return process_inbound.WorkerDeps(pool=pool, settings=agent_settings,
                                      agent=SupportAgent(agent_settings),
                                      embedder=local_embedder())


def inbound(content: str, *, channel: str = "email") -> InboundMessage:
    phone = channel == "whatsapp"
    return InboundMessage(
        tenant_id="techcorp", channel=channel,  # type: ignore[arg-type]
        external_id=f"t-{uuid.uuid4().hex}", content=content, subject=None,
        sender_email=None if phone else unique_email("openai"),
        # Exchange 2XX: always a valid US number (a random 7 digits often is not).
        sender_phone=f"+14152{uuid.uuid4().int % 10**6:06d}" if phone else None,
        sender_name="Ada Lovelace",
    )


async def run(deps: process_inbound.WorkerDeps,
              msg: InboundMessage) -> tuple[SupportRunContext, AgentOutcome]:
    """Process one stored inbound message as the worker does; return the run and its outcome."""
    handled = await process_inbound.process(deps, msg, clock=clock.now)
    assert handled.result == "replied"
    assert handled.ctx is not None and handled.outcome is not None
    return handled.ctx, handled.outcome


def searches(body: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Return each search_knowledge_base query in the model's input, with its results."""
    items = body["input"]
    outputs = {i["call_id"]: json.loads(i["output"]) for i in items
               if i.get("type") == "function_call_output"}
    return [(json.loads(i["arguments"])["query"], outputs[i["call_id"]]["results"])
            for i in items
            if i.get("type") == "function_call" and i["name"] == "search_knowledge_base"]


def _sample(name: str, **labels: str) -> float:
    """Return this process's value of a gpt-4o-mini series (0 before its first observation)."""
    value = REGISTRY.get_sample_value(name, {"model": MODEL, **labels})
    return 0.0 if value is None else value


def billed(fake: FakeOpenAI) -> tuple[int, int]:
    """Return the input and output tokens of every answered model call."""
    usage = [r.usage for r in fake.recorded if r.path == "/v1/responses" and r.usage]
    return sum(u["input_tokens"] for u in usage), sum(u["output_tokens"] for u in usage)


async def test_the_agent_answers_from_the_knowledge_base_through_the_responses_api(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    deps = worker_deps(settings, pool, fake_openai)
    before = {name: _sample(name) for name in (f"{COST.name}_sum", f"{MODEL_LATENCY.name}_count")}
    ctx, outcome = await run(deps, inbound("How can I export my project data as CSV?"))

    # The run's estimated cost, by the price table (gpt-4o-mini: $0.15 / $0.60 per M tokens).
    cost = deps.settings.openai.prices[MODEL].cost(input_tokens=outcome.input_tokens,
                                                  output_tokens=outcome.output_tokens)
    assert cost > 0
    assert _sample(f"{COST.name}_sum") - before[f"{COST.name}_sum"] == pytest.approx(cost)
    assert _sample(f"{MODEL_LATENCY.name}_count") - before[f"{MODEL_LATENCY.name}_count"] == 1
    assert [(c.name, c.by) for c in ctx.tool_calls] == [
        ("create_ticket", "code"), ("get_customer_history", "code"),
        ("search_knowledge_base", "code"), ("send_response", "model")]
    assert all(c.ok for c in ctx.tool_calls)  # no call was refused as out of order
    [body] = fake_openai.bodies()  # one model call: the steps before it are in its input
    assert body["input"][0] == {"role": "user",
                                "content": "How can I export my project data as CSV?"}
    assert [i["name"] for i in body["input"] if i.get("type") == "function_call"] == PRERUN
    assert body["model"] == MODEL
    assert SYSTEM_PROMPT in body["instructions"]
    assert body["parallel_tool_calls"] is False
    tools = {tool["name"]: tool for tool in body["tools"]}
    assert set(TOOLS) <= set(tools)
    for name in TOOLS:
        assert tools[name]["type"] == "function"
        assert tools[name]["parameters"]["type"] == "object"
        assert tools[name]["description"]
    assert "query" in tools["search_knowledge_base"]["parameters"]["required"]
    assert "message" in tools["send_response"]["parameters"]["required"]
    assert "message" in tools["escalate_to_human"]["parameters"]["properties"]

    [(query, results)] = searches(body)
    assert query == "How can I export my project data as CSV?"  # the customer's own words
    assert "csv" in results[0]["content"].lower()
    assert " ".join(results[0]["content"].split())[:200] in outcome.reply
    assert outcome.kb_hit is True and outcome.escalation_reason is None
    assert outcome.model_calls == 1
    assert (outcome.input_tokens, outcome.output_tokens) == billed(fake_openai)
    assert outcome.tokens == fake_openai.tokens_served > 0
    assert outcome.model == MODEL
    async with pool.acquire() as conn:
        metrics = {r["metric_name"]: r["metric_value"] for r in await conn.fetch(
            "SELECT metric_name, metric_value FROM agent_metrics WHERE message_id = $1",
            ctx.message_id)}
    assert (metrics["model_calls"], metrics["input_tokens"], metrics["output_tokens"]) == (
        1.0, float(outcome.input_tokens), float(outcome.output_tokens))


async def test_a_second_search_of_the_models_own_costs_one_more_call(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    deps = worker_deps(settings, pool, fake_openai)
    ctx, outcome = await run(deps, inbound(
        # Roman Urdu, not a supported language: the whole message stays under the weak-match
        # cut (0.19 < 0.20), its first words do not
        "recurring tasks kaise banate hain yaar, har monday wali chahiye, kuch samajh nahi aa "
        "raha bhai, madad karo", channel="whatsapp"))

    assert [(c.name, c.by) for c in ctx.tool_calls] == [
        ("create_ticket", "code"), ("get_customer_history", "code"),
        ("search_knowledge_base", "code"), ("search_knowledge_base", "model"),
        ("send_response", "model")]
    first, second = fake_openai.bodies()
    [(_, nothing)] = searches(first)
    assert nothing == []  # the customer's words found nothing, so the model tried its own
    (_, _), (query, found) = searches(second)
    assert query == "recurring tasks kaise banate hain yaar" and found
    assert outcome.kb_topic == found[0]["title"] and outcome.escalation_reasons == ()
    assert outcome.model_calls == 2 and outcome.tokens == fake_openai.tokens_served


async def test_a_refund_request_is_escalated_in_one_call(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    deps = worker_deps(settings, pool, fake_openai)
    ctx, outcome = await run(
        deps, inbound("I want a refund for last month, the app was down all week."))

    assert [c.name for c in ctx.tool_calls] == [*PRERUN, "escalate_to_human"]
    assert ctx.tool_calls[-1].arguments["reason"] == "refund"
    [body] = fake_openai.bodies()
    assert "Escalation required: call escalate_to_human with reason refund" in \
        body["instructions"]
    assert outcome.escalation_reason == "refund"
    assert "specialist" in outcome.reply
    assert outcome.model_calls == 1 and outcome.tokens == fake_openai.tokens_served


async def test_nothing_found_twice_is_escalated_as_no_match(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    deps = worker_deps(settings, pool, fake_openai)
    ctx, outcome = await run(deps, inbound("Quantum flux capacitor zebra?"))

    assert [c.name for c in ctx.tool_calls] == [*PRERUN, "search_knowledge_base",
                                                "escalate_to_human"]
    assert outcome.escalation_reasons == ("no_kb_match",) and not outcome.kb_hit
    assert outcome.model_calls == 2 == len(fake_openai.bodies())


async def test_rate_limits_and_server_errors_are_retried(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    fake_openai.fail_next(429, 500)
    deps = worker_deps(settings, pool, fake_openai)
    _, outcome = await run(deps, inbound("How do I enable two-factor authentication?"))

    assert [r.status for r in fake_openai.recorded] == [429, 500, 200]
    assert "two-factor" in outcome.reply.lower()
    assert outcome.model_calls == 1  # a retried call is one call
    assert outcome.tokens == fake_openai.tokens_served  # failed attempts bill nothing


async def test_a_refused_key_fails_the_run_and_the_customer_gets_the_apology(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    deps = worker_deps(settings, pool, fake_openai, key="sk-wrong-key")
    msg = inbound("How do I reset my password?", channel="web_form")
    errors = _sample(MODEL_ERRORS.name, error="AuthenticationError")
    with pytest.raises(openai.AuthenticationError):
        await process_inbound.handle_inbound(deps, msg, clock=clock.now)
    assert _sample(MODEL_ERRORS.name, error="AuthenticationError") == errors + 1
    assert [r.status for r in fake_openai.recorded] == [401]  # a refused key is not retried

    # What the worker does once the message is dead-lettered.
    assert await process_inbound.apologize(deps, msg, "AuthenticationError: 401", now=clock.now())
    async with pool.acquire() as conn:
        reply = await conn.fetchrow(
            """
            SELECT r.content, r.metadata, i.status AS inbound_status
            FROM messages i JOIN messages r ON r.in_reply_to = i.id
            WHERE i.tenant_id = 'techcorp' AND i.external_id = $1 AND r.role = 'agent'
            """,
            msg.external_id)
    assert reply["inbound_status"] == "failed"
    assert reply["metadata"] == {"kind": "apology"}
    assert process_inbound.APOLOGY["web_form"] in reply["content"]


async def test_with_a_key_texts_are_embedded_by_the_embeddings_api(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    embedder = embedder_for(on_fake(settings, fake_openai))
    texts = [f"Passage {i} about exports" for i in range(300)]  # more than one request holds
    vectors = await embedder.embed(texts)

    assert len(vectors) == len(texts)
    assert vectors[271] == pytest.approx(embedding(texts[271]), abs=1e-6)  # order kept
    requests = fake_openai.bodies(EMBEDDINGS)
    assert len(requests) > 1
    assert [t for body in requests for t in body["input"]] == texts
    for body in requests:
        assert body["model"] == "text-embedding-3-small"
        assert body["dimensions"] == 512


async def test_the_fake_holds_each_model_answer_back_by_its_latency(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, pool: Pool
) -> None:
    monkeypatch.setenv(LATENCY_ENV, "0.3")
    async with FakeOpenAI() as fake:
        assert fake.latency_s == 0.3
        deps = worker_deps(settings, pool, fake)
        started = time.perf_counter()
        _, outcome = await run(deps, inbound("How do I enable two-factor authentication?"))
        elapsed = time.perf_counter() - started
    assert outcome.model_calls == 1
    assert elapsed >= 0.3  # at least one answer's worth of waiting
    assert FakeOpenAI(latency_s=0).latency_s == 0  # an argument wins over the environment
