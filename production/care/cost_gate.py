"""The DecisionCostGate (seeds 5.3), stateful: the facts read, the rule applied
(production/domain/proactive/cost_gate.py), the tokens reserved, the decision audited.

Call `check` before a model run and `settle` after it. A run the gate allows has its estimated
tokens reserved on the tenant's local day already, by one conditional upsert
(`queries.cost_gate.reserve`): however many runs check at once, the day's tokens never pass
the tier's cap, so the rule's own reading of the budget is only a snapshot and the reservation
has the last word. Every decision, ALLOW or not, is a care_cost_decisions row (migration 018)
and a `fte_cost_gate_decisions_total{decision,reason}` count.

Call `check` in a short transaction of its own, never around the model call: the reservation
locks the tenant's day row until the caller's transaction ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import structlog

from production.care.throttle import next_local_day_start
from production.config import Settings
from production.database.pool import Connection
from production.database.queries import cost_gate as queries
from production.domain.errors import NotFound
from production.domain.proactive.cost import CostVerdict
from production.domain.proactive.cost_gate import (
    DECISION_OF,
    REPLY_TRIGGER,
    CostFacts,
    decide,
    estimated_cost_usd,
    spent,
)
from production.metrics import COST_GATE_DECISIONS

log = structlog.get_logger(__name__)

# Every decision and reason served at zero from the start, so the dashboards and the budget
# alert read a series before the first metered run.
for _reason, _decision in DECISION_OF.items():
    COST_GATE_DECISIONS.labels(str(_decision), _reason)


async def check(*, conn: Connection, settings: Settings, tenant_id: str, customer_id: UUID,
                trigger: str, estimated_tokens: int, now: datetime) -> CostVerdict:
    """Return whether a model run of about `estimated_tokens` for this customer and trigger is
    worth it at `now`: ALLOW (the tokens are reserved: `settle` them once the run ends), DEFER
    (look again at `retry_at`) or SKIP. Raises NotFound for an unknown tenant, ValueError for
    an estimate below one token."""
    budget = settings.budget
    async with conn.transaction():
        if trigger != REPLY_TRIGGER:  # replies: no recency to keep exact
            await queries.lock_subject(conn, tenant_id, customer_id, trigger)
        known = await queries.facts(conn, tenant_id, customer_id=customer_id, trigger=trigger,
                                    now=now)
        if known is None:
            raise NotFound(f"tenant {tenant_id!r}")
        policy = budget.policy(known.tier)
        facts = CostFacts(trigger=trigger, estimated_tokens=estimated_tokens,
                          tokens_used=known.tokens_used, last_allowed_at=known.last_allowed_at,
                          pending_suggestions=known.pending,
                          budget_resets_at=next_local_day_start(now, known.timezone))
        verdict = decide(facts, policy, price_per_1k=budget.price_per_1k_tokens, now=now,
                         saturation_retry=timedelta(seconds=budget.saturation_retry_s))
        limit = policy.token_limit(price_per_1k=budget.price_per_1k_tokens, reply=facts.reply)
        if verdict.allowed and await queries.reserve(conn, tenant_id, tokens=estimated_tokens,
                                                     limit=limit, now=now) is None:
            verdict = spent(facts.budget_resets_at)  # concurrent runs took the room first
        await queries.audit(conn, tenant_id, queries.DecisionRecord(
            customer_id=customer_id, trigger=trigger, decision=str(verdict.decision),
            reason=verdict.reason, tier=known.tier, day=known.day,
            estimated_tokens=estimated_tokens,
            estimated_cost_usd=estimated_cost_usd(estimated_tokens, budget.price_per_1k_tokens),
            tokens_used=known.tokens_used, token_limit=limit, pending=known.pending,
            retry_at=verdict.retry_at), now=now)
    COST_GATE_DECISIONS.labels(str(verdict.decision), verdict.reason).inc()
    log.info("cost_gate_decided", tenant_id=tenant_id, customer_id=str(customer_id),
             trigger=trigger, decision=str(verdict.decision), reason=verdict.reason,
             estimated_tokens=estimated_tokens, tokens_used=known.tokens_used, limit=limit)
    return verdict


async def settle(*, conn: Connection, tenant_id: str, reserved_tokens: int, actual_tokens: int,
                 now: datetime) -> int | None:
    """Replace an allowed run's reservation by the tokens it used; `now` is the instant passed
    to `check` (the reservation's local day, even when the run ended after midnight). Return
    the day's tokens now (None: nothing was reserved that day)."""
    if reserved_tokens < 0 or actual_tokens < 0:
        raise ValueError("tokens cannot be negative")
    return await queries.settle(conn, tenant_id, reserved=reserved_tokens,
                                actual=actual_tokens, now=now)
