"""The suggestions' pure parts: the spam rules (every rule holds, lets through at its limit,
and its setting moves it), the local proposer (every trigger gives an action the policy knows,
ids come from the facts or the context), and the ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from production.domain.care.policy import ActionKind, AutoApprovalPolicyV1, Decision, ProposedAction
from production.domain.proactive import rank
from production.domain.proactive.firing import TriggerName
from production.domain.proactive.propose import (
    SUGGESTED_ACTIONS,
    Context,
    TicketView,
    preview,
    propose,
)
from production.domain.proactive.spam import History, SpamRule, SpamRules, check, paused_until

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
RULES = SpamRules()


def history(*, today: int = 0, of_trigger: tuple[datetime, ...] = (),
            dismissed: tuple[datetime, ...] = (), pending: int = 0) -> History:
    return History(today=today, of_trigger_since=of_trigger, dismissed_at=dismissed,
                   pending_of_trigger=pending)


def test_a_first_suggestion_is_allowed_in_slot_zero() -> None:
    verdict = check(RULES, history(), now=NOW)
    assert verdict.allowed and verdict.day_slot == 0 and verdict.rule is None


def test_at_most_one_a_day_per_customer_and_the_setting_moves_it() -> None:
    held = check(RULES, history(today=1), now=NOW)
    assert (held.allowed, held.rule) == (False, SpamRule.PER_DAY)
    two = SpamRules(max_per_customer_day=2)
    second = check(two, history(today=1), now=NOW)
    assert second.allowed and second.day_slot == 1  # the second slot of the day
    assert check(two, history(today=2), now=NOW).rule is SpamRule.PER_DAY
    assert check(SpamRules(max_per_customer_day=0), history(), now=NOW).rule is SpamRule.PER_DAY


def test_at_most_three_per_trigger_in_the_window() -> None:
    recent = (NOW - 3 * DAY, NOW - 2 * DAY, NOW - DAY)
    held = check(RULES, history(of_trigger=recent), now=NOW)
    assert (held.allowed, held.rule) == (False, SpamRule.PER_TRIGGER)
    assert check(RULES, history(of_trigger=recent[:2]), now=NOW).allowed
    # One of the three is older than the window: it no longer counts.
    aged = (NOW - 29 * DAY, *recent[1:])
    assert check(RULES, history(of_trigger=aged), now=NOW).allowed
    assert not check(SpamRules(max_per_trigger=1), history(of_trigger=recent[:1]),
                     now=NOW).allowed


def test_a_pending_suggestion_of_the_trigger_holds_a_new_one() -> None:
    assert check(RULES, history(pending=1), now=NOW).rule is SpamRule.PENDING


def test_five_dismissals_pause_the_trigger_for_31_days() -> None:
    four = tuple(NOW - timedelta(days=10 - i) for i in range(4))
    assert check(RULES, history(dismissed=four), now=NOW).allowed
    five = (*four, NOW - DAY)
    held = check(RULES, history(dismissed=five), now=NOW)
    assert (held.allowed, held.rule) == (False, SpamRule.PAUSED)
    assert held.paused_until == NOW - DAY + timedelta(days=31)
    # The day the pause ends, the trigger may suggest again.
    assert check(RULES, history(dismissed=five), now=NOW + timedelta(days=30)).allowed
    # The setting moves both the count and the length.
    assert not check(SpamRules(dismissals_to_pause=4), history(dismissed=four), now=NOW).allowed
    assert check(SpamRules(pause=timedelta(0)), history(dismissed=five), now=NOW).allowed


def test_after_a_pause_it_takes_a_new_run_of_dismissals() -> None:
    first = [NOW - timedelta(days=100 - i) for i in range(5)]
    ended = first[-1] + timedelta(days=31)
    later = [ended + timedelta(days=i + 1) for i in range(4)]
    at = later[-1] + DAY
    assert paused_until([*first, *later], threshold=5, pause=timedelta(days=31), now=at) is None
    fifth = ended + timedelta(days=6)
    assert paused_until([*first, *later, fifth], threshold=5, pause=timedelta(days=31),
                        now=fifth + DAY) == fifth + timedelta(days=31)
    # A dismissal during a pause (of an older suggestion) does not count towards the next.
    during = [first[-1] + DAY]
    assert paused_until([*first, *during, *later], threshold=5, pause=timedelta(days=31),
                        now=at) is None


@given(st.lists(st.integers(0, 400), max_size=20), st.integers(0, 500))
def test_paused_only_within_the_pause_after_a_dismissal(days: list[int], at: int) -> None:
    times = [NOW + timedelta(days=d) for d in days]
    now = NOW + timedelta(days=at)
    until = paused_until(times, threshold=5, pause=timedelta(days=31), now=now)
    if until is not None:
        assert now < until
        assert any(until - timedelta(days=31) == t for t in times)
        assert len([t for t in times if t <= until - timedelta(days=31)]) >= 5


# --- The local proposer ----------------------------------------------------------------------

TICKET = TicketView("0b8f4a52-51d2-4f5e-9b7e-3a6d0c3f0a11", "TKT-1042", "medium", "open",
                    "Export fails")
CONTEXT = Context(customer_name="Grace", channel="email", tickets=(TICKET,))
POLICY = AutoApprovalPolicyV1()


@pytest.mark.parametrize("trigger", list(TriggerName))
def test_every_trigger_proposes_an_action_the_policy_knows(trigger: TriggerName) -> None:
    facts = {"survivor_id": "a", "duplicate_id": "b"} if trigger == "duplicate_customer" else {}
    proposal = propose(trigger=trigger, reason="what the trigger saw", facts=facts,
                       context=CONTEXT)
    assert proposal.action in SUGGESTED_ACTIONS
    assert 0 <= proposal.confidence <= 1
    assert proposal.title.strip() and proposal.body.strip() and proposal.explanation.strip()
    decided = POLICY.decide(ProposedAction(proposal.action, topics=proposal.topics), "autopilot")
    assert decided.reason != "UNKNOWN_ACTION"
    if proposal.action == ActionKind.OUTBOUND_MESSAGE:  # unsolicited contact: a person, always
        assert decided.decision is Decision.REQUIRE_APPROVAL
    assert proposal.preview  # a diff to show


def test_a_stalled_ticket_proposes_a_follow_up_on_that_ticket() -> None:
    proposal = propose(trigger=TriggerName.STALLED_TICKET, reason="first response due 2h ago",
                       facts={"ticket_id": TICKET.id, "priority": "medium",
                              "sla_event": "first_response"}, context=CONTEXT)
    assert proposal.action == ActionKind.FOLLOW_UP_TASK
    assert "TKT-1042" in proposal.title and "Grace" in proposal.title
    assert proposal.params["ticket_id"] == TICKET.id
    assert POLICY.decide(ProposedAction(proposal.action), "autopilot").decision \
        is Decision.AUTO_EXECUTE


def test_a_missed_resolution_proposes_raising_the_priority_a_person_decides() -> None:
    proposal = propose(trigger=TriggerName.STALLED_TICKET, reason="resolution due 1d ago",
                       facts={"ticket_number": "TKT-1042", "sla_event": "resolution"},
                       context=CONTEXT)
    assert proposal.action == ActionKind.CHANGE_TICKET
    assert proposal.params == {"ticket_id": TICKET.id, "ticket_number": "TKT-1042",
                               "before": "medium", "priority": "high"}
    assert proposal.preview == [{"target": "ticket TKT-1042", "field": "priority",
                                 "before": "medium", "after": "high"}]
    assert POLICY.decide(ProposedAction(proposal.action), "autopilot").decision \
        is Decision.REQUIRE_APPROVAL


def test_a_ticket_the_facts_name_but_the_context_lacks_is_never_guessed() -> None:
    proposal = propose(trigger=TriggerName.STALLED_TICKET, reason="resolution due",
                       facts={"ticket_id": "not-open-any-more", "sla_event": "resolution"},
                       context=CONTEXT)
    assert proposal.action == ActionKind.FOLLOW_UP_TASK  # not a change to another ticket


def test_a_sales_signal_is_for_people_only() -> None:
    proposal = propose(trigger=TriggerName.SALES_SIGNAL, reason="asked for a quote", facts={},
                       context=CONTEXT)
    assert POLICY.decide(ProposedAction(proposal.action, topics=proposal.topics),
                         "autopilot").decision is Decision.BLOCK


def test_the_same_firing_always_proposes_the_same() -> None:
    args = {"trigger": "churn_risk", "reason": "score fell to 31", "facts": {"band": "poor"},
            "context": CONTEXT}
    assert propose(**args) == propose(**args)  # type: ignore[arg-type]


def test_a_message_preview_names_the_channel() -> None:
    [title, body] = preview(ActionKind.OUTBOUND_MESSAGE, title="Check in", body="Hello",
                            params={"channel": "whatsapp"})
    assert title["target"] == body["target"] == "message to the customer via whatsapp"
    assert body["after"] == "Hello" and body["before"] is None


# --- The ranking -----------------------------------------------------------------------------


def test_urgency_comes_from_priority_or_health_whichever_is_higher() -> None:
    assert rank.urgency("stalled_ticket", {"priority": "urgent"}) == rank.Urgency(1.0, "trigger")
    assert rank.urgency("stalled_ticket", {"priority": "low"}) == rank.Urgency(0.4, "trigger")
    assert rank.urgency("stalled_ticket", {"priority": "low", "health": {"score": 20}}) == \
        rank.Urgency(0.8, "health")
    assert rank.urgency("silence", {"health_score": 90}) == rank.Urgency(0.5, "trigger")
    assert rank.urgency("churn_risk", {"probability": 0.0}).value == 0.0
    assert rank.urgency("unknown", {}).value == rank.DEFAULT_URGENCY
    assert rank.score(0.9, 0.5) == 0.45


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_the_score_orders_by_confidence_at_equal_urgency(a: float, b: float, u: float) -> None:
    if a >= b:
        assert rank.score(a, u) >= rank.score(b, u)
