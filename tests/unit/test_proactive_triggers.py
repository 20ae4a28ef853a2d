"""The trigger registry, trigger by trigger: it fires, it does not fire, and its window key is
the same on a rerun (the database's unique key then stores it once: that half is
tests/integration/test_proactive_sweep.py). Pure: every instant is passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from production.domain.proactive import triggers
from production.domain.proactive.facts import (
    CandidateFacts,
    CustomerFacts,
    InboundFacts,
    PriorHealth,
    ReplyFacts,
    TaskFacts,
    TicketFacts,
)
from production.domain.proactive.firing import Firing, TriggerName
from production.domain.proactive.triggers import TriggerRules

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
RULES = TriggerRules()
CUSTOMER = UUID(int=7)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def facts(**changes: object) -> CustomerFacts:
    base = CustomerFacts(tenant_id="t", customer_id=CUSTOMER, created_at=NOW - 100 * DAY,
                         care_state="active", last_inbound_at=NOW - DAY, inbound_30d=2,
                         inbound_prev_30d=2)
    return replace(base, **changes)  # type: ignore[arg-type]


def run(name: TriggerName, f: CustomerFacts, now: datetime = NOW) -> list[Firing]:
    trigger = next(t for t in triggers.registry(RULES) if t.name == name)
    return triggers.fire([trigger], f, now)


def ticket(*, priority: str = "high", opened: timedelta, **changes: object) -> TicketFacts:
    base = TicketFacts(ticket_id=UUID(int=42), number="TKT-1042", priority=priority,
                       status="open", created_at=NOW - opened)
    return replace(base, **changes)  # type: ignore[arg-type]


def message(ago: timedelta, sentiment: float | None = 0.5, topic: str | None = None,
            sales: bool = False) -> InboundFacts:
    return InboundFacts(message_id=uuid4(), at=NOW - ago, sentiment=sentiment, topic=topic,
                        sales_question=sales)


# --- stalled ticket: SLA due times per priority ---------------------------------------------


def test_a_ticket_nobody_answered_past_its_first_response_due_fires_once_per_sla_event() -> None:
    stalled = facts(tickets=(ticket(priority="high", opened=5 * HOUR),))  # due after 4 h
    fired = run(TriggerName.STALLED_TICKET, stalled)
    assert [f.window_key for f in fired] == [f"ticket:{UUID(int=42)}:first_response"]
    assert fired[0].reason == "first response on TKT-1042 was due 1 h ago (priority high)"
    assert fired[0].facts["sla"] == "first_response" and fired[0].version == 1
    # A rerun an hour later names the same event: the unique key stores it once.
    assert [f.window_key for f in run(TriggerName.STALLED_TICKET, stalled, NOW + HOUR)] == [
        fired[0].window_key]


def test_a_ticket_within_its_sla_or_answered_does_not_fire() -> None:
    assert run(TriggerName.STALLED_TICKET, facts(tickets=(ticket(opened=3 * HOUR),))) == []
    low = ticket(priority="low", opened=20 * HOUR)  # low: 24 h
    assert run(TriggerName.STALLED_TICKET, facts(tickets=(low,))) == []
    answered = ticket(opened=5 * HOUR, first_response_at=NOW - 4 * HOUR)
    assert run(TriggerName.STALLED_TICKET, facts(tickets=(answered,))) == []


def test_next_response_is_keyed_by_the_customers_message_and_resolution_fires_apart() -> None:
    asked = NOW - 10 * HOUR
    waiting = ticket(opened=2 * DAY, first_response_at=NOW - 47 * HOUR,
                     last_customer_at=asked, last_response_at=NOW - 47 * HOUR)
    keys = [f.window_key for f in run(TriggerName.STALLED_TICKET, facts(tickets=(waiting,)))]
    assert keys == [f"ticket:{UUID(int=42)}:next_response:{int(asked.timestamp())}"]
    overdue = replace(waiting, created_at=NOW - 4 * DAY)  # high: resolution due after 72 h
    keys = [f.window_key for f in run(TriggerName.STALLED_TICKET, facts(tickets=(overdue,)))]
    assert keys[-1] == f"ticket:{UUID(int=42)}:resolution" and len(keys) == 2
    # Waiting on the customer: no reply of ours is due.
    held = replace(waiting, status="waiting_customer")
    assert run(TriggerName.STALLED_TICKET, facts(tickets=(held,))) == []


def test_sla_due_times_are_settings() -> None:
    strict = TriggerRules(first_response={**RULES.first_response, "high": 2 * HOUR})
    trigger = next(t for t in triggers.registry(strict) if t.name == TriggerName.STALLED_TICKET)
    assert triggers.fire([trigger], facts(tickets=(ticket(opened=3 * HOUR),)), NOW)


# --- promise not kept -------------------------------------------------------------------------


def test_an_open_follow_up_task_past_its_due_fires_and_one_not_yet_due_does_not() -> None:
    late = TaskFacts(task_id=UUID(int=5), title="Call back about SSO",
                     created_at=NOW - 4 * DAY)  # default: due 3 days after
    fired = run(TriggerName.PROMISE_NOT_KEPT, facts(tasks=(late,)))
    assert [f.window_key for f in fired] == [f"task:{UUID(int=5)}"]
    assert "Call back about SSO" in fired[0].reason
    soon = replace(late, due_at=NOW + HOUR)
    assert run(TriggerName.PROMISE_NOT_KEPT, facts(tasks=(soon,))) == []


def test_a_reply_that_promised_a_follow_up_with_nothing_sent_since_fires() -> None:
    reply = ReplyFacts(message_id=UUID(int=9), at=NOW - 3 * DAY, role="agent",
                       text="Thanks, a teammate will get back to you soon.")
    fired = run(TriggerName.PROMISE_NOT_KEPT, facts(last_reply=reply))
    assert [f.window_key for f in fired] == [f"reply:{UUID(int=9)}"]
    assert fired[0].reason.startswith("the FTE promised a follow-up 3 days ago")
    assert run(TriggerName.PROMISE_NOT_KEPT, facts(last_reply=replace(reply, at=NOW - DAY))) == []
    plain = replace(reply, text="You can export your project from Settings > Export.")
    assert run(TriggerName.PROMISE_NOT_KEPT, facts(last_reply=plain)) == []


@pytest.mark.parametrize("text", [
    "A member of our team has been notified and will reply to you personally.",
    "Sorry, something went wrong on our side. A teammate will get back to you soon.",
    "We'll follow up on this ticket tomorrow.", "I will let you know once it is fixed."])
def test_the_products_holding_replies_read_as_promises(text: str) -> None:
    assert triggers.promises_follow_up(text)


# --- sentiment falling, repeat contact ----------------------------------------------------------


def test_sentiment_falling_across_the_last_messages_fires_once_per_newest_message() -> None:
    falling = facts(recent=(message(3 * DAY, 0.7), message(2 * DAY, 0.5), message(DAY, 0.3)))
    fired = run(TriggerName.SENTIMENT_FALLING, falling)
    assert [f.window_key for f in fired] == [f"message:{falling.recent[-1].message_id}"]
    assert fired[0].facts["sentiments"] == [0.7, 0.5, 0.3]
    assert run(TriggerName.SENTIMENT_FALLING, falling, NOW + HOUR)[0].window_key == \
        fired[0].window_key


def test_sentiment_that_recovers_dips_a_little_or_has_too_few_messages_does_not_fire() -> None:
    recovering = (message(3 * DAY, 0.7), message(2 * DAY, 0.3), message(DAY, 0.5))
    assert run(TriggerName.SENTIMENT_FALLING, facts(recent=recovering)) == []
    slight = (message(3 * DAY, 0.6), message(2 * DAY, 0.55), message(DAY, 0.5))
    assert run(TriggerName.SENTIMENT_FALLING, facts(recent=slight)) == []
    assert run(TriggerName.SENTIMENT_FALLING,
               facts(recent=(message(2 * DAY, 0.8), message(DAY, 0.2)))) == []


def test_the_third_message_on_one_topic_fires_and_two_or_older_ones_do_not() -> None:
    three = (message(5 * DAY, topic="sync"), message(3 * DAY, topic="billing"),
             message(2 * DAY, topic="sync"), message(DAY, topic="sync"))
    fired = run(TriggerName.REPEAT_CONTACT, facts(recent=three))
    assert [f.window_key for f in fired] == [f"topic:sync:{three[3].message_id}"]
    assert run(TriggerName.REPEAT_CONTACT, facts(recent=three[:3])) == []
    old = (message(20 * DAY, topic="sync"), *three[2:])  # outside the 14 days
    assert run(TriggerName.REPEAT_CONTACT, facts(recent=old)) == []


def test_a_cooldown_keeps_a_trigger_quiet_for_the_customer() -> None:
    three = tuple(message(d * DAY, topic="sync") for d in (3, 2, 1))
    assert run(TriggerName.REPEAT_CONTACT, facts(recent=three, last_fired={
        "repeat_contact": NOW - 2 * DAY})) == []
    assert run(TriggerName.REPEAT_CONTACT, facts(recent=three, last_fired={
        "repeat_contact": NOW - 8 * DAY}))


# --- churn risk, silence, reactivated -----------------------------------------------------------


UNHAPPY = dict(last_inbound_at=NOW - 40 * DAY, escalation_open=True, negative_outcomes_90d=3,
               inbound_30d=0, inbound_prev_30d=6,
               recent=(message(40 * DAY, 0.3), message(39 * DAY, 0.2), message(38 * DAY, 0.1)))


def test_churn_risk_fires_when_it_crosses_into_the_high_band_and_not_while_it_stays() -> None:
    prior = PriorHealth(score=60, band="average", churn_band="medium", computed_at=NOW - DAY)
    fired = run(TriggerName.CHURN_RISK, facts(**UNHAPPY, prior=prior))  # type: ignore[arg-type]
    assert [f.window_key for f in fired] == [f"band:high:{NOW.date().isoformat()}"]
    assert "(was medium)" in fired[0].reason
    already = replace(prior, churn_band="high")
    assert run(TriggerName.CHURN_RISK, facts(**UNHAPPY, prior=already)) == []  # type: ignore[arg-type]
    assert run(TriggerName.CHURN_RISK, facts(prior=prior)) == []  # a content customer


def test_silence_and_reactivation_fire_once_per_recent_transition() -> None:
    moved = NOW - 2 * DAY
    at_risk = facts(care_state="at_risk", state_from="active", state_changed_at=moved,
                    last_inbound_at=NOW - 16 * DAY)
    fired = run(TriggerName.SILENCE, at_risk)
    assert [f.window_key for f in fired] == [f"at_risk:{moved.isoformat()}"]
    assert fired[0].reason == "no message for 16 days: now at risk"
    assert run(TriggerName.SILENCE, replace(at_risk, state_changed_at=NOW - 30 * DAY)) == []
    assert run(TriggerName.SILENCE, replace(at_risk, care_state="active")) == []
    back = facts(care_state="reactivated", state_from="dormant", state_changed_at=moved)
    assert [f.window_key for f in run(TriggerName.REACTIVATED, back)] == [
        f"reactivated:{moved.isoformat()}"]
    assert run(TriggerName.REACTIVATED, at_risk) == []


# --- duplicate customer, sales signal ---------------------------------------------------------


def test_each_open_merge_candidate_fires_once() -> None:
    candidate = CandidateFacts(merge_id=UUID(int=3), other_id=UUID(int=4),
                               created_at=NOW - DAY, reason="one message carried both")
    fired = run(TriggerName.DUPLICATE_CUSTOMER, facts(candidates=(candidate,)))
    assert [f.window_key for f in fired] == [f"candidate:{UUID(int=3)}"]
    assert fired[0].facts["other_customer_id"] == str(UUID(int=4))
    assert run(TriggerName.DUPLICATE_CUSTOMER, facts()) == []


def test_a_pricing_question_fires_a_sales_signal_for_a_person_and_an_old_one_does_not() -> None:
    asked = message(HOUR, sales=True)
    fired = run(TriggerName.SALES_SIGNAL, facts(recent=(message(2 * DAY), asked)))
    assert [f.window_key for f in fired] == [f"message:{asked.message_id}"]
    assert "a person answers, never the FTE" in fired[0].reason
    assert run(TriggerName.SALES_SIGNAL, facts(recent=(message(9 * DAY, sales=True),))) == []


# --- the registry -------------------------------------------------------------------------------


def test_every_trigger_name_is_registered_once_with_a_version() -> None:
    names = [t.name for t in triggers.registry()]
    assert sorted(names) == sorted(TriggerName) and all(
        t.version >= 1 for t in triggers.registry())


def test_upcoming_names_the_next_due_instant_for_the_perception_scheduler() -> None:
    young = ticket(opened=HOUR)  # high: first response due in 3 h, resolution in 71 h
    assert triggers.upcoming(RULES, facts(tickets=(young,)), NOW) == NOW + 3 * HOUR
    assert triggers.upcoming(RULES, facts(), NOW) is None
