"""From a stored firing to at most one suggestion (seeds 3.1A): claim → gather context → spam
rules → the cost gate → propose → the policy and the executor's gates → a suggestion, and the
firing decided with what followed.

* Claims skip locked rows (several schedulers at once); each firing is decided in a savepoint
  of the claiming transaction, so one that fails stays undecided for the next pass.
* The spam rules (domain/proactive/spam.py) run before the gate: a held firing costs nothing.
  The per-day rule is also a unique slot in the table: a concurrent writer gets SUPPRESSED.
* The cost gate (`gate`, production/care/cost_gate.check's signature) runs before any model
  call: DEFER records when to look again, SKIP ends it; no suggestion either way.
* The proposer is the local deterministic one or OpenAI (production/agent/suggest.py); a model
  that fails or answers nonsense falls back to the local proposal, never to nothing.
* The suggestion is then what the executor says of its action: an internal one it lets run on
  its own (autopilot) is executed at once with its audit row; everything else waits in the
  feed for a person, its held verdict audited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import structlog

from production.agent.suggest import proposer_for
from production.care import cost_gate, decision
from production.care import suggestion_executor as execute
from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import admin, proactive, suggestion_actions, suggestions
from production.database.queries.proactive import StoredFiring
from production.database.queries.suggestions import NewSuggestion
from production.domain.care.policy import ProposedAction
from production.domain.proactive import propose as local
from production.domain.proactive import rank, spam
from production.domain.proactive.cost import CostDecision, CostVerdict
from production.domain.proactive.firing import FiringDecision
from production.domain.proactive.propose import Context, Proposal, TicketView

log = structlog.get_logger(__name__)

ACTOR = "fte-agent"
# A firing whose pipeline failed is looked at again after this long.
FAILED_RETRY_AFTER = timedelta(hours=1)


class Gate(Protocol):
    """The DecisionCostGate's signature (production/care/cost_gate.check)."""

    def __call__(self, *, conn: Connection, settings: Settings, tenant_id: str,
                 customer_id: UUID, trigger: str, estimated_tokens: int,
                 now: datetime) -> Awaitable[CostVerdict]: ...


class Settle(Protocol):
    """Correct an allowed proposal's reservation to the tokens its model call used
    (production/care/cost_gate.settle, on a connection of its own)."""

    def __call__(self, *, tenant_id: str, reserved_tokens: int, actual_tokens: int,
                 now: datetime) -> Awaitable[object]: ...


class Proposer(Protocol):
    @property
    def name(self) -> str: ...  # "local" or "openai:<model>"

    def estimated_tokens(self, *, trigger: str, facts: dict[str, Any],
                         context: Context) -> int: ...

    async def propose(self, *, trigger: str, reason: str, facts: dict[str, Any],
                      context: Context) -> Proposal: ...


@dataclass(frozen=True)
class LocalProposer:
    """The local deterministic proposer: no model, no tokens."""

    name: str = "local"

    def estimated_tokens(self, *, trigger: str, facts: dict[str, Any],
                         context: Context) -> int:
        return 0

    async def propose(self, *, trigger: str, reason: str, facts: dict[str, Any],
                      context: Context) -> Proposal:
        return local.propose(trigger=trigger, reason=reason, facts=facts, context=context)


async def allow_without_model(*, conn: Connection, settings: Settings, tenant_id: str,
                              customer_id: UUID, trigger: str, estimated_tokens: int,
                              now: datetime) -> CostVerdict:
    """The gate until the DecisionCostGate is wired: ALLOW a proposal that costs no tokens,
    DEFER one that would (no model call without the real gate)."""
    if estimated_tokens == 0:
        return CostVerdict(CostDecision.ALLOW, "no_model_call")
    return CostVerdict(CostDecision.DEFER, "no_cost_gate", now + timedelta(hours=1))


def on_own_connection(pool: Pool, gate: Gate) -> Gate:
    """`gate` in a short transaction of its own: the DecisionCostGate's reservation locks the
    tenant's budget row of the day until its transaction ends, which must not be the pass's
    batch (the reply path reserves on the same row). A proposal that calls no model (the local
    proposer: an estimate of 0 tokens) is allowed without asking it; the spam rules still
    hold."""
    async def check(*, conn: Connection, settings: Settings, tenant_id: str, customer_id: UUID,
                    trigger: str, estimated_tokens: int, now: datetime) -> CostVerdict:
        if estimated_tokens == 0:  # the local proposer: no model call, nothing to spend
            return CostVerdict(CostDecision.ALLOW, "no_model_call")
        async with pool.acquire() as own, own.transaction():
            return await gate(conn=own, settings=settings, tenant_id=tenant_id,
                              customer_id=customer_id, trigger=trigger,
                              estimated_tokens=estimated_tokens, now=now)
    return check


def settling_on_own_connection(pool: Pool) -> Settle:
    """The DecisionCostGate's settle, in a short transaction of its own (see
    `on_own_connection`)."""
    async def settle(*, tenant_id: str, reserved_tokens: int, actual_tokens: int,
                     now: datetime) -> object:
        async with pool.acquire() as own, own.transaction():
            return await cost_gate.settle(conn=own, tenant_id=tenant_id,
                                          reserved_tokens=reserved_tokens,
                                          actual_tokens=actual_tokens, now=now)
    return settle


def proposer_of(settings: Settings) -> Proposer:
    """Return OpenAI's proposer when it is configured (FTE_SUGGESTIONS_PROPOSER=auto and
    OPENAI_API_KEY set), else the local one."""
    model = proposer_for(settings)
    return model if model is not None else LocalProposer()


def rules_of(settings: Settings) -> spam.SpamRules:
    cfg = settings.suggestions
    return spam.SpamRules(max_per_customer_day=cfg.max_per_customer_day,
                          max_per_trigger=cfg.max_per_trigger,
                          trigger_window=timedelta(days=cfg.trigger_window_days),
                          dismissals_to_pause=cfg.dismissals_to_pause,
                          pause=timedelta(days=cfg.pause_days))


async def _context(conn: Connection, firing: StoredFiring) -> Context:
    found = await suggestion_actions.context(conn, tenant_id=firing.tenant_id,
                                             customer_id=firing.customer_id)
    if found is None:
        return Context(customer_name=None, channel=None)
    return Context(customer_name=found.name, channel=found.channel, tickets=tuple(
        TicketView(str(t.id), t.ticket_number, t.priority, t.status, t.subject)
        for t in found.tickets))


async def _proposal(proposer: Proposer, firing: StoredFiring,
                    context: Context) -> tuple[Proposal, str]:
    args: dict[str, Any] = {"trigger": firing.trigger, "reason": firing.reason,
                            "facts": firing.facts, "context": context}
    if proposer.name != "local":
        try:
            return await proposer.propose(**args), proposer.name
        except Exception as exc:  # the model failed or answered nonsense: the local proposal
            log.warning("suggestion_model_failed", firing_id=str(firing.id),
                        error=type(exc).__name__)
    return local.propose(**args), "local"


async def _decide(conn: Connection, firing: StoredFiring, outcome: FiringDecision,
                  now: datetime) -> str:
    await proactive.decide_firing(conn, tenant_id=firing.tenant_id, firing_id=firing.id,
                                  decision=outcome, now=now)
    return str(outcome)


async def decide_one(*, conn: Connection, settings: Settings, gate: Gate, proposer: Proposer,
                     firing: StoredFiring, now: datetime, settle: Settle | None = None) -> str:
    """Turn one claimed firing into at most one suggestion; return what followed
    (suggested, executed, deferred, skipped, suppressed:<rule>)."""
    tenant, customer = firing.tenant_id, firing.customer_id
    rules = rules_of(settings)
    history = await suggestions.history(conn, tenant_id=tenant, customer_id=customer,
                                        trigger=firing.trigger, since=now - rules.trigger_window,
                                        now=now)
    held = spam.check(rules, history, now=now)
    if not held.allowed:
        await _decide(conn, firing, FiringDecision.SUPPRESSED, now)
        return f"suppressed:{held.rule}"
    context = await _context(conn, firing)
    tokens = proposer.estimated_tokens(trigger=firing.trigger, facts=firing.facts,
                                       context=context)
    verdict = await gate(conn=conn, settings=settings, tenant_id=tenant, customer_id=customer,
                         trigger=firing.trigger, estimated_tokens=tokens, now=now)
    if verdict.decision is CostDecision.DEFER:
        await suggestions.defer_firing(conn, tenant_id=tenant, firing_id=firing.id,
                                       retry_at=verdict.retry_at)
        return await _decide(conn, firing, FiringDecision.DEFERRED, now)
    if not verdict.allowed:
        return await _decide(conn, firing, FiringDecision.SKIPPED, now)
    proposal, proposer_name = await _proposal(proposer, firing, context)
    if settle is not None and tokens > 0 and proposer_name != "local":
        # What the call used replaces the estimate (a failed call keeps it: fail closed).
        await settle(tenant_id=tenant, reserved_tokens=tokens,
                     actual_tokens=proposal.tokens_used, now=now)
    urgency = rank.urgency(firing.trigger, firing.facts)
    action = ProposedAction(kind=proposal.action, topics=proposal.topics)
    care = await decision.decide(conn=conn, settings=settings, tenant_id=tenant,
                                 customer_id=customer, action=action, now=now)
    new = NewSuggestion(
        customer_id=customer, firing_id=firing.id, trigger=firing.trigger,
        action=proposal.action, title=proposal.title[:300], body=proposal.body,
        reason=proposal.reason, explanation=proposal.explanation,
        confidence=min(1.0, max(0.0, proposal.confidence)), urgency=urgency.value,
        urgency_from=urgency.source, facts=dict(firing.facts), params=dict(proposal.params),
        topics=sorted(str(t) for t in proposal.topics), proposer=proposer_name,
        policy=care.as_json(), day_slot=held.day_slot,
        expires_at=now + timedelta(days=settings.suggestions.expiry_days))
    suggestion_id = await suggestions.insert(conn, tenant_id=tenant, new=new, now=now)
    if suggestion_id is None:  # another scheduler took the customer's slot of the day first
        await _decide(conn, firing, FiringDecision.SUPPRESSED, now)
        return "suppressed:per_day"
    await _decide(conn, firing, FiringDecision.SUGGESTED, now)
    stored = await suggestions.get(conn, tenant_id=tenant, suggestion_id=suggestion_id)
    assert stored is not None
    if care.executes and proposal.action in execute.INTERNAL:
        result = await execute.run(conn=conn, settings=settings, tenant_id=tenant,
                                   suggestion=stored, actor=ACTOR, verdict=care,
                                   title=stored.title, body=stored.body, params=stored.params,
                                   now=now)
        await suggestions.decide(conn, tenant_id=tenant, suggestion_id=suggestion_id,
                                 status="executed", decided_by=ACTOR,
                                 outcome="EXECUTION_SUCCEEDED", result=result, now=now)
        return "executed"
    await admin.append_audit(
        conn, tenant, event_type=care.event_type if not care.executes else "would_execute_action",
        actor=ACTOR, reason=f"suggestion waits for a person: {care.gate.reason}"[:500],
        clause=care.gate.clause, customer_id=customer, now=now,
        payload={"action": proposal.action, "suggestion_id": str(suggestion_id),
                 "trigger": firing.trigger, "decision": care.as_json()})
    return "suggested"


async def run_pass(*, pool: Pool, settings: Settings, gate: Gate, proposer: Proposer,
                   now: datetime, settle: Settle | None = None) -> Counter[str]:
    """Decide up to a batch of undecided firings at `now`; return what followed, counted."""
    outcomes: Counter[str] = Counter()
    async with pool.acquire() as conn:
        await suggestions.reopen_deferred(conn, now=now, limit=settings.suggestions.batch)
        async with conn.transaction():
            for firing in await proactive.claim_undecided(conn,
                                                          limit=settings.suggestions.batch):
                try:
                    async with conn.transaction():
                        outcomes[await decide_one(conn=conn, settings=settings, gate=gate,
                                                  proposer=proposer, firing=firing,
                                                  now=now, settle=settle)] += 1
                except Exception as exc:
                    # Deferred for a while, so a firing that keeps failing is neither lost
                    # nor in every pass's batch ahead of new ones.
                    log.warning("suggestion_pipeline_failed", firing_id=str(firing.id),
                                error=repr(exc)[:300])
                    async with conn.transaction():
                        await suggestions.defer_firing(conn, tenant_id=firing.tenant_id,
                                                       firing_id=firing.id,
                                                       retry_at=now + FAILED_RETRY_AFTER)
                        await _decide(conn, firing, FiringDecision.DEFERRED, now)
                    outcomes["failed"] += 1
    if outcomes:
        log.info("suggestion_pass", **outcomes)
    return outcomes


async def expire(*, pool: Pool, now: datetime, limit: int = 500) -> int:
    """Expire the suggestions nobody decided before their time; return how many."""
    async with pool.acquire() as conn:
        return await suggestions.expire(conn, now=now, limit=limit)
