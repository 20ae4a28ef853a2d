"""AutoApprovalPolicyV1: every action kind under every autonomy mode, and the properties that
must hold whatever the action."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from production.domain.care.policy import (
    ActionKind,
    AutoApprovalPolicyV1,
    AutonomyMode,
    Decision,
    PolicyDecision,
    ProposedAction,
    Topic,
)

POLICY = AutoApprovalPolicyV1()
MODES = [str(mode) for mode in AutonomyMode]

GROUNDED_REPLY = ProposedAction(ActionKind.SEND_REPLY, in_reply_to_inbound=True,
                                kb_grounded=True)
# (name, action, risk reason, clause) for every kind; low-risk ones have reason LOW_RISK.
ACTIONS = [
    ("grounded reply in thread", GROUNDED_REPLY, "LOW_RISK", "AAP1.low_risk.reply_in_thread"),
    ("internal note", ProposedAction(ActionKind.INTERNAL_NOTE), "LOW_RISK",
     "AAP1.low_risk.internal_note"),
    ("follow-up task", ProposedAction(ActionKind.FOLLOW_UP_TASK), "LOW_RISK",
     "AAP1.low_risk.follow_up_task"),
    ("meeting brief", ProposedAction(ActionKind.MEETING_BRIEF), "LOW_RISK",
     "AAP1.low_risk.meeting_brief"),
    ("draft", ProposedAction(ActionKind.DRAFT), "LOW_RISK", "AAP1.low_risk.draft"),
    ("reply outside the customer's thread",
     ProposedAction(ActionKind.SEND_REPLY, in_reply_to_inbound=False, kb_grounded=True),
     "EXTERNAL_CONTACT", "AAP1.high_risk.unsolicited_reply"),
    ("reply not grounded in the KB",
     ProposedAction(ActionKind.SEND_REPLY, in_reply_to_inbound=True, kb_grounded=False),
     "NOT_KB_GROUNDED", "AAP1.high_risk.ungrounded_reply"),
    ("unsolicited outbound message",
     ProposedAction(ActionKind.OUTBOUND_MESSAGE, in_reply_to_inbound=True, kb_grounded=True),
     "EXTERNAL_CONTACT", "AAP1.high_risk.outbound_message"),
    ("change ticket priority/category", ProposedAction(ActionKind.CHANGE_TICKET),
     "RISK_LEVEL_HIGH", "AAP1.high_risk.change_ticket"),
    ("close ticket", ProposedAction(ActionKind.CLOSE_TICKET), "RISK_LEVEL_HIGH",
     "AAP1.high_risk.close_ticket"),
    ("merge customers", ProposedAction(ActionKind.MERGE_CUSTOMERS), "RISK_LEVEL_HIGH",
     "AAP1.high_risk.merge_customers"),
    ("unknown kind", ProposedAction("delete_customer", in_reply_to_inbound=True,
                                    kb_grounded=True), "UNKNOWN_ACTION", "AAP1.unknown_action"),
]


def expected(risk_reason: str, clause: str, mode: str) -> tuple[Decision, str, str]:
    if risk_reason != "LOW_RISK":
        return Decision.REQUIRE_APPROVAL, risk_reason, clause
    return {
        "assist": (Decision.REQUIRE_APPROVAL, "MODE_ASSIST", "AAP1.mode.assist"),
        "approve": (Decision.REQUIRE_APPROVAL, "MODE_APPROVE", "AAP1.mode.approve"),
        "autopilot": (Decision.AUTO_EXECUTE, "LOW_RISK", clause),
        "schedules": (Decision.AUTO_EXECUTE, "LOW_RISK", clause),
    }.get(mode, (Decision.REQUIRE_APPROVAL, "MODE_UNKNOWN", "AAP1.mode.unknown"))


@pytest.mark.parametrize(
    ("name", "action", "risk_reason", "clause", "mode"),
    [(*case, mode) for case, mode in itertools.product(ACTIONS, [*MODES, "turbo"])],
    ids=[f"{case[0]}-{mode}" for case, mode in itertools.product(ACTIONS, [*MODES, "turbo"])],
)
def test_every_action_kind_under_every_mode(name: str, action: ProposedAction,
                                            risk_reason: str, clause: str, mode: str) -> None:
    decision = POLICY.decide(action, mode)
    assert (decision.decision, decision.reason, decision.policy_clause) == expected(
        risk_reason, clause, mode)
    assert decision.explanation.strip()


def test_the_table_covers_every_action_kind() -> None:
    assert {case[1].kind for case in ACTIONS} >= set(ActionKind)


@pytest.mark.parametrize(("topic", "mode"), itertools.product(list(Topic), MODES))
def test_pricing_discount_refund_contract_are_blocked_in_every_mode(topic: Topic,
                                                                     mode: str) -> None:
    for _name, action, _reason, _clause in ACTIONS:
        flagged = ProposedAction(action.kind, in_reply_to_inbound=action.in_reply_to_inbound,
                                 kb_grounded=action.kb_grounded, topics=frozenset({topic}))
        decision = POLICY.decide(flagged, mode)
        assert decision.decision == Decision.BLOCK
        assert decision.reason == "PRICING_OR_CONTRACT"
        assert decision.policy_clause == f"AAP1.humans_only.{topic}"
        assert str(topic) in decision.explanation


def test_a_decision_names_every_sensitive_topic_and_serializes() -> None:
    action = ProposedAction(ActionKind.DRAFT, topics=frozenset({Topic.REFUND, Topic.PRICING}))
    decision = POLICY.decide(action, AutonomyMode.AUTOPILOT)
    assert decision.policy_clause == "AAP1.humans_only.pricing"  # the first in Topic order
    assert "pricing, refund" in decision.explanation
    as_dict = decision.to_dict()
    assert json.loads(json.dumps(as_dict)) == {
        "decision": "BLOCK", "reason": "PRICING_OR_CONTRACT",
        "policy_clause": "AAP1.humans_only.pricing", "explanation": decision.explanation}
    with pytest.raises(AttributeError):
        decision.decision = Decision.AUTO_EXECUTE  # type: ignore[misc]


def test_the_mode_may_be_given_as_the_enum_or_its_string() -> None:
    assert POLICY.decide(GROUNDED_REPLY, AutonomyMode.SCHEDULES) == POLICY.decide(
        GROUNDED_REPLY, "schedules")
    assert POLICY.decide(GROUNDED_REPLY, "AUTOPILOT").decision == Decision.REQUIRE_APPROVAL


kinds = st.one_of(st.sampled_from([str(kind) for kind in ActionKind]), st.text(max_size=20))
actions = st.builds(ProposedAction, kind=kinds, in_reply_to_inbound=st.booleans(),
                    kb_grounded=st.booleans(), topics=st.frozensets(st.sampled_from(list(Topic))))
modes = st.one_of(st.sampled_from(MODES), st.text(max_size=12))


@given(action=actions, mode=modes)
def test_no_action_in_any_mode_breaks_the_safety_rules(action: ProposedAction,
                                                       mode: str) -> None:
    decision = POLICY.decide(action, mode)
    assert isinstance(decision, PolicyDecision)
    assert decision.reason.strip() and decision.policy_clause.strip()
    assert decision.explanation.strip()
    assert decision == POLICY.decide(action, mode)  # deterministic
    if action.topics:
        assert decision.decision == Decision.BLOCK
    unsolicited = action.kind == ActionKind.OUTBOUND_MESSAGE or (
        action.kind == ActionKind.SEND_REPLY and not action.in_reply_to_inbound)
    if action.topics or unsolicited or mode in ("assist", "approve"):
        assert decision.decision != Decision.AUTO_EXECUTE
    if decision.decision == Decision.AUTO_EXECUTE:
        assert mode in ("autopilot", "schedules")
        assert action.kind in {str(kind) for kind in ActionKind}
        assert action.kind not in (ActionKind.OUTBOUND_MESSAGE, ActionKind.CHANGE_TICKET,
                                   ActionKind.CLOSE_TICKET)
        assert action.kind != ActionKind.SEND_REPLY or action.kb_grounded
