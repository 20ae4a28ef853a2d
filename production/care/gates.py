"""Every gate an autonomous action must pass, in one pure decision.

The executor gathers the facts (settings ceiling, kill switches, the tenant's and customer's
settings, open escalations, throttles, the auto-approval policy) and asks `evaluate`. The action
runs only when every gate holds; otherwise the answer names the first gate that failed, so the
audit row says why, and whether the action waits (quiet hours, minimum interval: DEFER with a
time) or goes to a person (HOLD: the approval inbox). The order is the order of authority: the
environment ceiling first, then the kill switches, then consent, then safety, then pacing.

The ceiling is the environment's (CARE_AUTONOMY_ENABLED, CARE_SHADOW_MODE,
CARE_TENANT_ALLOWLIST), above everything stored: nothing acts on its own unless an operator said
it may. `is_care_autonomy_enabled` and `tenant_allowed` read it for the first gates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from production.config import INTERNAL_TENANT, CareSettings

Verdict = Literal["EXECUTE", "DEFER", "HOLD"]


def is_care_autonomy_enabled(care: CareSettings) -> bool:
    """Return True only when autonomy is enabled AND shadow mode is off."""
    return care.autonomy_enabled and not care.shadow_mode


def tenant_allowed(care: CareSettings, tenant_id: str) -> bool:
    """The internal tenant may act; any other tenant only when explicitly allowlisted."""
    return tenant_id == INTERNAL_TENANT or tenant_id in care.tenant_allowlist


@dataclass(frozen=True)
class GateFacts:
    autonomy_enabled: bool  # CARE_AUTONOMY_ENABLED (the environment's ceiling)
    shadow_mode: bool  # CARE_SHADOW_MODE
    global_kill_switch: bool
    tenant_kill_switch: bool
    tenant_allowed: bool  # the internal tenant, or on CARE_TENANT_ALLOWLIST
    hands_off: bool  # the customer's explicit, reversible consent
    escalation_open: bool
    policy_decision: Literal["AUTO_EXECUTE", "REQUIRE_APPROVAL", "BLOCK"]
    throttle: Literal["ALLOW", "DEFER", "REFUSE"]
    throttle_until: datetime | None = None
    # The policy's and the throttle's own clause and reason (AAP1.mode.assist, PR10.quiet_hours),
    # when the caller has them: the audit row then names the rule itself.
    policy_clause: str | None = None
    policy_reason: str | None = None
    throttle_clause: str | None = None
    throttle_reason: str | None = None


@dataclass(frozen=True)
class GateOutcome:
    verdict: Verdict
    clause: str
    reason: str
    not_before: datetime | None = None  # for DEFER: when to try again

    @property
    def executes(self) -> bool:
        return self.verdict == "EXECUTE"


# (clause, reason, what must hold) in order of authority.
_HOLD_GATES: tuple[tuple[str, str, Callable[[GateFacts], bool]], ...] = (
    ("PR0.autonomy_disabled", "autonomy is disabled (CARE_AUTONOMY_ENABLED=false)",
     lambda f: f.autonomy_enabled),
    ("PR0.shadow_mode", "shadow mode is on (CARE_SHADOW_MODE=true)", lambda f: not f.shadow_mode),
    ("KILL.global", "the global kill switch is engaged", lambda f: not f.global_kill_switch),
    ("KILL.tenant", "the tenant's kill switch is engaged", lambda f: not f.tenant_kill_switch),
    ("PR8.tenant_allowlist", "the tenant is not allowed to act autonomously",
     lambda f: f.tenant_allowed),
    ("PR9.hands_off", "the customer has not opted in to hands-off mode", lambda f: f.hands_off),
    ("PR3.escalation_open", "an escalation is open for this customer",
     lambda f: not f.escalation_open),
)


def evaluate(facts: GateFacts) -> GateOutcome:
    """Return EXECUTE only when every gate holds; else the first gate that did not."""
    for clause, reason, holds in _HOLD_GATES:
        if not holds(facts):
            return GateOutcome("HOLD", clause, reason)
    if facts.policy_decision == "BLOCK":
        return GateOutcome("HOLD", facts.policy_clause or "AAP1.block",
                           facts.policy_reason or "the policy reserves this action for people")
    if facts.policy_decision != "AUTO_EXECUTE":
        return GateOutcome("HOLD", facts.policy_clause or "AAP1.require_approval",
                           facts.policy_reason or "the policy requires approval")
    if facts.throttle == "REFUSE":
        return GateOutcome("HOLD", facts.throttle_clause or "PR10.throttle_refused",
                           facts.throttle_reason
                           or "a daily limit is reached (per customer or tenant budget)")
    if facts.throttle == "DEFER":
        return GateOutcome("DEFER", facts.throttle_clause or "PR10.throttle_deferred",
                           facts.throttle_reason
                           or "quiet hours or the minimum interval: deferred, not dropped",
                           facts.throttle_until)
    return GateOutcome("EXECUTE", "PR7.all_gates", "all autonomy gates hold")
