"""AutoApprovalPolicyV1: which proposed actions may run with no human, and the clause why.

Pure and deterministic: the same action and mode always give the same decision. The policy
only says what the autonomy mode allows for this kind of action; the executor still checks
the environment ceiling, the kill switches, hands-off, escalation and throttles first.

Rules, in the order they apply:

1. Pricing, discounts, refunds, contracts: BLOCK in every mode (humans only).
2. An unknown action kind: REQUIRE_APPROVAL (escalate, do not act).
3. High risk (unsolicited contact, a reply that is not in the customer's own thread or not
   grounded in the knowledge base, changing or closing a ticket, merging customers):
   REQUIRE_APPROVAL.
4. Low risk (a KB-grounded reply in the customer's own thread, an internal note, an internal
   follow-up task, a meeting brief, a draft): REQUIRE_APPROVAL in `assist` (propose only) and
   `approve` (a human approves each action) and in any mode this policy does not know;
   AUTO_EXECUTE in `autopilot` and `schedules`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

POLICY_VERSION = "AAP1"


class Decision(StrEnum):
    AUTO_EXECUTE = "AUTO_EXECUTE"
    REQUIRE_APPROVAL = "REQUIRE_APPROVAL"
    BLOCK = "BLOCK"


class ActionKind(StrEnum):
    SEND_REPLY = "send_reply"  # a message to the customer
    INTERNAL_NOTE = "internal_note"
    FOLLOW_UP_TASK = "follow_up_task"  # an internal task for the team
    MEETING_BRIEF = "meeting_brief"
    DRAFT = "draft"  # written, not sent
    OUTBOUND_MESSAGE = "outbound_message"  # unsolicited contact: not an answer to the customer
    CHANGE_TICKET = "change_ticket"  # priority or category
    CLOSE_TICKET = "close_ticket"
    MERGE_CUSTOMERS = "merge_customers"  # two customer records become one


class Topic(StrEnum):
    """Subjects only a human may act on, in the order the clause names them."""

    PRICING = "pricing"
    DISCOUNT = "discount"
    REFUND = "refund"
    CONTRACT = "contract"


class AutonomyMode(StrEnum):
    ASSIST = "assist"  # propose only: a human decides and triggers
    APPROVE = "approve"  # a human approves each action
    AUTOPILOT = "autopilot"  # low-risk actions run with no human
    SCHEDULES = "schedules"  # autopilot plus timed runs (tenant opt-in, checked by the caller)


@dataclass(frozen=True)
class ProposedAction:
    """What the agent proposes to do.

    `kind` is a plain string so that an action kind this policy does not know (a newer
    proposer, a hand-written proposal) is still decided: it is escalated, never run.
    """

    kind: str
    # The action answers the customer's own inbound message, in that message's thread.
    in_reply_to_inbound: bool = False
    # Every claim in the content comes from the knowledge base.
    kb_grounded: bool = False
    topics: frozenset[Topic] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PolicyDecision:
    decision: Decision
    reason: str  # a stable code for audit and learning, e.g. EXTERNAL_CONTACT
    policy_clause: str  # the rule that decided, e.g. AAP1.low_risk.reply_in_thread
    explanation: str  # for the operator reading the approval inbox or the audit trail

    def to_dict(self) -> dict[str, str]:
        """Return the decision as plain strings (the shape stored in care_proposals.decision)."""
        return {"decision": str(self.decision), "reason": self.reason,
                "policy_clause": self.policy_clause, "explanation": self.explanation}


@dataclass(frozen=True)
class _Risk:
    low: bool
    reason: str
    clause: str
    explanation: str


_INTERNAL = {
    ActionKind.INTERNAL_NOTE: "an internal note is seen by the team only",
    ActionKind.FOLLOW_UP_TASK: "an internal follow-up task is seen by the team only",
    ActionKind.MEETING_BRIEF: "a meeting brief is seen by the team only",
    ActionKind.DRAFT: "a draft is written, not sent",
}


def _risk(action: ProposedAction) -> _Risk | None:
    """Classify a known action kind; None for a kind this policy does not know."""
    kind = action.kind
    if kind == ActionKind.SEND_REPLY:
        if not action.in_reply_to_inbound:
            return _Risk(False, "EXTERNAL_CONTACT", f"{POLICY_VERSION}.high_risk.unsolicited_reply",
                         "The message does not answer the customer's own inbound message in "
                         "its thread: contacting a customer unprompted needs a human.")
        if not action.kb_grounded:
            return _Risk(False, "NOT_KB_GROUNDED", f"{POLICY_VERSION}.high_risk.ungrounded_reply",
                         "The reply is not grounded in the knowledge base: a human checks "
                         "it before it is sent.")
        return _Risk(True, "LOW_RISK", f"{POLICY_VERSION}.low_risk.reply_in_thread",
                     "A knowledge-base-grounded answer to the customer's own message, in its "
                     "thread")
    if kind == ActionKind.OUTBOUND_MESSAGE:
        return _Risk(False, "EXTERNAL_CONTACT", f"{POLICY_VERSION}.high_risk.outbound_message",
                     "An unsolicited message to a customer is never sent without a human.")
    if kind in (ActionKind.CHANGE_TICKET, ActionKind.CLOSE_TICKET):
        return _Risk(False, "RISK_LEVEL_HIGH", f"{POLICY_VERSION}.high_risk.{kind}",
                     "Changing a ticket's priority or category, or closing it, changes what "
                     "the customer is promised: a human decides.")
    if kind == ActionKind.MERGE_CUSTOMERS:
        return _Risk(False, "RISK_LEVEL_HIGH", f"{POLICY_VERSION}.high_risk.merge_customers",
                     "Merging two customers moves every conversation and ticket to one record: "
                     "a human decides.")
    if kind in _INTERNAL:
        return _Risk(True, "LOW_RISK", f"{POLICY_VERSION}.low_risk.{kind}",
                     _INTERNAL[ActionKind(kind)].capitalize())
    return None


class AutoApprovalPolicyV1:
    """Decide AUTO_EXECUTE, REQUIRE_APPROVAL or BLOCK for a proposed action in a mode."""

    version = POLICY_VERSION

    def decide(self, action: ProposedAction, mode: str) -> PolicyDecision:
        """Return the decision for the action under the autonomy mode, with its clause."""
        sensitive = [topic for topic in Topic if topic in action.topics]
        if sensitive:
            names = ", ".join(str(topic) for topic in sensitive)
            return PolicyDecision(
                Decision.BLOCK, "PRICING_OR_CONTRACT",
                f"{POLICY_VERSION}.humans_only.{sensitive[0]}",
                f"The action concerns {names}: only a human may act on pricing, discounts, "
                "refunds or contracts, in every autonomy mode.")
        risk = _risk(action)
        if risk is None:
            return PolicyDecision(
                Decision.REQUIRE_APPROVAL, "UNKNOWN_ACTION", f"{POLICY_VERSION}.unknown_action",
                f"The action kind {action.kind!r} is not one this policy knows: it is "
                "escalated to a human, not run.")
        if not risk.low:
            return PolicyDecision(Decision.REQUIRE_APPROVAL, risk.reason, risk.clause,
                                  risk.explanation)
        if mode == AutonomyMode.ASSIST:
            return PolicyDecision(
                Decision.REQUIRE_APPROVAL, "MODE_ASSIST", f"{POLICY_VERSION}.mode.assist",
                f"Assist mode proposes only: a human decides and triggers. ({risk.explanation}.)")
        if mode == AutonomyMode.APPROVE:
            return PolicyDecision(
                Decision.REQUIRE_APPROVAL, "MODE_APPROVE", f"{POLICY_VERSION}.mode.approve",
                f"Approve mode: a human approves each action. ({risk.explanation}.)")
        if mode in (AutonomyMode.AUTOPILOT, AutonomyMode.SCHEDULES):
            return PolicyDecision(Decision.AUTO_EXECUTE, risk.reason, risk.clause,
                                  f"{risk.explanation}: low risk, allowed in {mode} mode.")
        return PolicyDecision(
            Decision.REQUIRE_APPROVAL, "MODE_UNKNOWN", f"{POLICY_VERSION}.mode.unknown",
            f"The autonomy mode {mode!r} is not one this policy knows: a human decides.")
