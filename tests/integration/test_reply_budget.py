"""The reply path's model budget, with the real agent loop against the OpenAI fake over HTTP
(production/services/reply_budget.py): within the tenant's budget the reply is OpenAI's and its
tokens count against the day; once the day is spent the local model answers (or the message is
held and released when the tenant's next local day starts), no model call passes the cap, and
the audit and the metrics say so. Each test decides on a day of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import openai
import pytest
from prometheus_client import REGISTRY

from production.agent.runner import SupportAgent
from production.config import Settings
from production.database.pool import Pool
from production.database.queries import messages
from production.domain.proactive.cost_gate import BUDGET_SPENT, REPLY_TRIGGER, WITHIN_BUDGET
from production.embeddings import local_embedder
from production.metrics import REPLY_BUDGET_ROUTES
from production.services import process_inbound
from tests.fakes.openai_api import FakeOpenAI
from tests.integration.test_cost_gate import budgeted, check, counted, used
from tests.integration.test_openai_path import MODEL, inbound, worker_deps

TENANT = "techcorp"  # its knowledge base answers the questions; its tier is standard
QUESTION = "How can I export my project data as CSV?"


def routed(route: str) -> float:
    value = REGISTRY.get_sample_value(REPLY_BUDGET_ROUTES.name, {"route": route})
    return 0.0 if value is None else value


async def reply_decisions(pool: Pool, at: datetime) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT decision, reason, estimated_tokens, retry_at FROM care_cost_decisions"
            " WHERE tenant_id = $1 AND trigger = $2 AND decided_at = $3 ORDER BY id",
            TENANT, REPLY_TRIGGER, at)
    return [dict(row) for row in rows]


async def spend_the_day(pool: Pool, settings: Settings, at: datetime) -> None:
    """Another run of the day reserves all of its 5,000 tokens."""
    assert (await check(pool, settings, TENANT, trigger=REPLY_TRIGGER, tokens=5_000,
                        now=at)).allowed


async def test_within_the_budget_the_reply_is_openais_and_its_tokens_count(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    at = datetime(2031, 5, 6, 9, 0, tzinfo=UTC)
    deps = worker_deps(budgeted(settings, tokens=1_000_000), pool, fake_openai)
    before = routed("model")
    handled = await process_inbound.process(deps, inbound(QUESTION), clock=lambda: at)

    assert handled.result == "replied" and handled.outcome is not None
    assert handled.outcome.model == MODEL and len(fake_openai.bodies()) == 1
    # The reservation (4,000) was settled to what the run used.
    assert await used(pool, TENANT, at) == handled.outcome.tokens == fake_openai.tokens_served
    assert await reply_decisions(pool, at) == [
        {"decision": "ALLOW", "reason": WITHIN_BUDGET, "retry_at": None,
         "estimated_tokens": deps.settings.budget.reply_estimate_tokens}]
    assert routed("model") - before == 1


async def test_a_spent_budget_answers_with_the_local_model_and_spends_nothing(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    at = datetime(2031, 5, 7, 9, 0, tzinfo=UTC)
    budget = budgeted(settings, tokens=5_000)
    await spend_the_day(pool, budget, at)
    deps = worker_deps(budget, pool, fake_openai)
    before = routed("local"), counted("DEFER", BUDGET_SPENT)
    handled = await process_inbound.process(deps, inbound(QUESTION), clock=lambda: at)

    assert handled.result == "replied" and handled.outcome is not None
    assert handled.outcome.model == "local-deterministic"
    assert "csv" in handled.outcome.reply.lower()  # still answered from the knowledge base
    assert fake_openai.recorded == []  # not one call to OpenAI
    assert await used(pool, TENANT, at) == 5_000  # the cap, not a token more
    assert await reply_decisions(pool, at) == [
        {"decision": "ALLOW", "reason": WITHIN_BUDGET, "retry_at": None,
         "estimated_tokens": 5_000},  # spend_the_day's
        {"decision": "DEFER", "reason": BUDGET_SPENT,
         "retry_at": datetime(2031, 5, 8, tzinfo=UTC), "estimated_tokens": 4_000}]
    assert (routed("local") - before[0], counted("DEFER", BUDGET_SPENT) - before[1]) == (1, 1)


async def test_held_replies_wait_for_the_next_local_day_then_go_to_openai(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    at = datetime(2031, 5, 8, 20, 0, tzinfo=UTC)
    tomorrow = datetime(2031, 5, 9, tzinfo=UTC)
    budget = budgeted(settings, tokens=5_000)
    budget = budget.model_copy(update={"budget": budget.budget.model_copy(
        update={"exhausted": "hold"})})
    await spend_the_day(pool, budget, at)
    deps = worker_deps(budget, pool, fake_openai)
    msg = inbound(QUESTION)
    held_before = routed("held")

    held = await process_inbound.process(deps, msg, clock=lambda: at)
    assert held.result == "held" and fake_openai.recorded == []
    assert routed("held") - held_before == 1
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT m.id, m.status, m.held_until, (SELECT count(*) FROM messages r"
            " WHERE r.in_reply_to = m.id) AS replies FROM messages m"
            " WHERE m.tenant_id = $1 AND m.external_id = $2", TENANT, msg.external_id)
    assert (row["status"], row["held_until"], row["replies"]) == ("accepted", tomorrow, 0)

    # The sweeper leaves it alone until the tenant's next day starts, then queues it again.
    async def swept(now: datetime) -> bool:
        deadline = now - timedelta(seconds=settings.reliability.sweeper_deadline_s)
        async with pool.acquire() as conn, conn.transaction():
            stale = await messages.stale_accepted(conn, TENANT, older_than=deadline,
                                                  limit=100_000, now=now)
        return row["id"] in {s.id for s in stale}

    assert not await swept(tomorrow - timedelta(minutes=1))
    assert await swept(tomorrow + timedelta(minutes=1))

    # Redelivered on the new day: its budget is fresh, and OpenAI answers.
    later = tomorrow + timedelta(minutes=1)
    released = await process_inbound.process(deps, msg, clock=lambda: later)
    assert released.result == "replied" and released.outcome is not None
    assert released.outcome.model == MODEL and len(fake_openai.bodies()) == 1
    assert await used(pool, TENANT, at) == 5_000
    assert await used(pool, TENANT, later) == released.outcome.tokens
    assert [d["decision"] for d in await reply_decisions(pool, later)] == ["ALLOW"]


async def test_a_failed_run_gives_its_reservation_back_and_the_local_model_spends_nothing(
    settings: Settings, pool: Pool, fake_openai: FakeOpenAI
) -> None:
    at = datetime(2031, 5, 10, 9, 0, tzinfo=UTC)
    refused = worker_deps(budgeted(settings, tokens=1_000_000), pool, fake_openai,
                          key="sk-wrong-key")
    with pytest.raises(openai.AuthenticationError):
        await process_inbound.process(refused, inbound(QUESTION), clock=lambda: at)
    assert [d["decision"] for d in await reply_decisions(pool, at)] == ["ALLOW"]
    assert await used(pool, TENANT, at) == 0  # settled to what the failed run used: nothing

    # The local model (no OPENAI_API_KEY) never asks the gate: it costs nothing.
    later = at + timedelta(hours=1)
    local = process_inbound.WorkerDeps(pool=pool, settings=settings,
                                       agent=SupportAgent(settings), embedder=local_embedder())
    handled = await process_inbound.process(local, inbound(QUESTION), clock=lambda: later)
    assert handled.result == "replied" and handled.outcome is not None
    assert handled.outcome.model == "local-deterministic"
    assert await reply_decisions(pool, later) == []
