"""The decision for one action: what the policy allows in the customer's mode, then every gate
on facts read fresh (database/queries/care_gate.py), pacing counted last under the tenant's
advisory lock. Nothing here writes; the executor acts on the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from production.care import gates, throttle
from production.config import CareSettings, Settings
from production.database.pool import Connection
from production.database.queries import care_gate, care_throttle
from production.database.queries.care_gate import StoredGateFacts
from production.domain.care.policy import (
    ActionKind,
    AutoApprovalPolicyV1,
    Decision,
    PolicyDecision,
    ProposedAction,
    Topic,
)

POLICY = AutoApprovalPolicyV1()


@dataclass(frozen=True)
class Verdict:
    """What the executor decided for one action, and why."""

    gate: gates.GateOutcome
    policy: PolicyDecision
    mode: str  # the customer's effective autonomy mode
    customer_id: UUID  # the live customer (a merged id resolves to its survivor)

    @property
    def executes(self) -> bool:
        return self.gate.executes

    @property
    def event_type(self) -> str:
        """The audit event: executed, blocked (humans only) or held/deferred (would execute)."""
        if self.gate.executes:
            return "executed_action"
        if self.policy.decision == Decision.BLOCK:
            return "blocked_action"
        return "would_execute_action"

    def as_json(self) -> dict[str, Any]:
        """Return the decision as stored in the proposal and the audit payload."""
        not_before = self.gate.not_before
        return {**self.policy.to_dict(), "mode": self.mode,
                "gate": {"verdict": self.gate.verdict, "clause": self.gate.clause,
                         "reason": self.gate.reason,
                         "not_before": not_before.isoformat() if not_before else None}}


def gate_facts(care: CareSettings, tenant_id: str, row: StoredGateFacts,
               policy: PolicyDecision) -> gates.GateFacts:
    """Return every gate's fact but pacing (ALLOW until counted) from the environment's ceiling,
    the stored facts (care_gate.facts) and the policy's decision."""
    return gates.GateFacts(
        autonomy_enabled=care.autonomy_enabled, shadow_mode=care.shadow_mode,
        global_kill_switch=row.global_kill_switch,
        tenant_kill_switch=row.tenant_kill_switch,
        tenant_allowed=gates.tenant_allowed(care, tenant_id),
        hands_off=row.hands_off, escalation_open=row.escalation_status == "open",
        policy_decision=policy.decision.value, policy_clause=policy.policy_clause,
        policy_reason=policy.explanation, throttle="ALLOW")


async def decide(*, conn: Connection, settings: Settings, tenant_id: str, customer_id: UUID,
                 action: ProposedAction, now: datetime,
                 approved_by: str | None = None) -> Verdict:
    """Return the verdict for an action on the customer at `now`; writes nothing but, for an
    action that passed every other gate, takes the tenant's throttle lock for the transaction.
    With `approved_by`, a person's approval stands in for the policy's (`approved`): every
    other gate still holds or the verdict is not EXECUTE."""
    row = await care_gate.facts(conn, tenant_id, customer_id)
    mode = mode_of(row)
    policy = POLICY.decide(action, mode)
    if approved_by is not None:
        policy = approved(policy, approved_by)
    facts = gate_facts(settings.care, tenant_id, row, policy)
    outcome = gates.evaluate(facts)
    if outcome.executes:  # only now is pacing worth counting
        pace = await _pace(conn, tenant_id, row, action, now)
        outcome = gates.evaluate(replace(
            facts, throttle=pace.outcome.value, throttle_until=pace.until,
            throttle_clause=pace.clause, throttle_reason=pace.reason))
    return Verdict(outcome, policy, mode, row.live)


def approved(policy: PolicyDecision, approver: str) -> PolicyDecision:
    """Return a person's approval as the policy decision it replaces (clause PERSON.approved;
    the policy's own explanation kept for the audit trail)."""
    return PolicyDecision(Decision.AUTO_EXECUTE, "APPROVED_BY_PERSON", "PERSON.approved",
                          f"Approved by {approver}. The policy alone said "
                          f"{policy.decision} ({policy.policy_clause}): {policy.explanation}")


def mode_of(facts: StoredGateFacts) -> str:
    """The customer's effective autonomy mode: their override, else the tenant's."""
    return facts.customer_mode or facts.tenant_mode


async def _pace(conn: Connection, tenant_id: str, row: StoredGateFacts,
                action: ProposedAction, now: datetime) -> throttle.ThrottleDecision:
    await care_throttle.lock_tenant(conn, tenant_id)
    zone = row.timezone
    counts = await care_throttle.counts(conn, tenant_id, row.live,
                                        throttle.local_day_start(now, zone),
                                        throttle.next_local_day_start(now, zone))
    return throttle.check(now, zone, throttle.ThrottleSettings.from_columns(asdict(row)),
                          actions_today_customer=counts.customer_today,
                          actions_today_tenant=counts.tenant_today,
                          last_outbound_at=counts.last_outbound_at,
                          outbound=action.kind not in care_throttle.INTERNAL_ACTIONS)


def reply_action(*, kb_grounded: bool, escalation_reasons: tuple[str, ...] = ()
                 ) -> ProposedAction:
    """Return the action a reply to the customer's own inbound message is, for the policy.

    Grounded: every claim comes from the knowledge base, or the text is one of the fixed
    notices an operator approved in advance (the apology, the media-only note). An escalation
    for money or a contract makes the reply about that topic: people only.
    """
    topics = frozenset(topic for reason in escalation_reasons
                       for topic in _REASON_TOPICS.get(reason, ()))
    return ProposedAction(kind=ActionKind.SEND_REPLY, in_reply_to_inbound=True,
                          kb_grounded=kb_grounded, topics=topics)


_REASON_TOPICS: dict[str, tuple[Topic, ...]] = {
    "refund": (Topic.REFUND,),
    "pricing_or_contract": (Topic.PRICING, Topic.CONTRACT),
}


def action_json(action: ProposedAction) -> dict[str, Any]:
    return {"kind": action.kind, "in_reply_to_inbound": action.in_reply_to_inbound,
            "kb_grounded": action.kb_grounded, "topics": sorted(action.topics)}


def action_of(stored: Mapping[str, Any]) -> ProposedAction:
    return ProposedAction(kind=stored["kind"],
                          in_reply_to_inbound=bool(stored["in_reply_to_inbound"]),
                          kb_grounded=bool(stored["kb_grounded"]),
                          topics=frozenset(Topic(t) for t in stored["topics"]))

