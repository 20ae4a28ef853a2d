"""The reply path's model budget (issue 19 §3): a reply spends the tenant's daily model budget
through the DecisionCostGate like any other model run, and fails closed once it is spent.

Before an agent run on a model that costs (OpenAI), the gate reserves the run's estimate
(FTE_BUDGET_REPLY_ESTIMATE_TOKENS) on the tenant's local day; once the run ends, the
reservation is settled to the tokens the run really used (also when the run failed: its
answered calls were billed). When the gate has no room, the reply does not spend past the cap:
by FTE_BUDGET_EXHAUSTED, the local deterministic model answers it ("local"), or the inbound
message is held unanswered until the tenant's next local day starts ("hold"), when the
sweeper queues it again and it is decided afresh. A tier with no room for a reply at all (no
budget, or an estimate above its whole day) is answered by the local model in either mode.

A worker that dies between the reservation and its settlement leaves the estimate reserved:
the day counts more than was spent, never less (fail closed).
"""

from __future__ import annotations

from datetime import datetime

import structlog

from production.agent.context import SupportRunContext
from production.agent.runner import AgentOutcome, SupportAgent
from production.care import cost_gate
from production.config import Settings
from production.database.pool import Pool
from production.database.queries import cost_gate as budget_queries
from production.domain.proactive.cost_gate import REPLY_TRIGGER
from production.metrics import REPLY_BUDGET_ROUTES

log = structlog.get_logger(__name__)

for _route in ("model", "local", "held"):  # served at zero before the first reply
    REPLY_BUDGET_ROUTES.labels(_route)


async def run_agent(*, pool: Pool, settings: Settings, agent: SupportAgent,
                    ctx: SupportRunContext, now: datetime) -> AgentOutcome | None:
    """Return the agent's outcome on `ctx` within the tenant's model budget at `now`, or None
    when the message is held for the next local day (nothing was answered)."""
    if not agent.metered:
        return await agent.run(ctx)  # the local model costs nothing
    estimate = settings.budget.reply_estimate_tokens
    async with pool.acquire() as conn:
        verdict = await cost_gate.check(conn=conn, settings=settings, tenant_id=ctx.tenant_id,
                                        customer_id=ctx.customer_id, trigger=REPLY_TRIGGER,
                                        estimated_tokens=estimate, now=now)
    if verdict.allowed:
        REPLY_BUDGET_ROUTES.labels("model").inc()
        try:
            return await agent.run(ctx)
        finally:
            async with pool.acquire() as conn:
                await cost_gate.settle(conn=conn, tenant_id=ctx.tenant_id,
                                       reserved_tokens=estimate,
                                       actual_tokens=ctx.input_tokens + ctx.output_tokens,
                                       now=now)
    bound = log.bind(tenant_id=ctx.tenant_id, customer_id=str(ctx.customer_id),
                     reason=verdict.reason)
    if settings.budget.exhausted == "local" or verdict.retry_at is None:
        REPLY_BUDGET_ROUTES.labels("local").inc()
        bound.warning("reply_budget_spent_local_model")
        return await agent.run(ctx, local=True)
    async with pool.acquire() as conn:
        await budget_queries.hold_inbound(conn, ctx.tenant_id, ctx.message_id,
                                          until=verdict.retry_at)
    REPLY_BUDGET_ROUTES.labels("held").inc()
    bound.warning("reply_budget_spent_held", held_until=verdict.retry_at.isoformat())
    return None
