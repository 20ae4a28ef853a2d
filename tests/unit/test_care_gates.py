"""The executor's gates: nothing executes unless every one of them holds."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from production.care.gates import GateFacts, evaluate

ALL_HOLD = GateFacts(
    autonomy_enabled=True, shadow_mode=False, global_kill_switch=False, tenant_kill_switch=False,
    tenant_allowed=True, hands_off=True, escalation_open=False, policy_decision="AUTO_EXECUTE",
    throttle="ALLOW")

facts = st.builds(
    GateFacts,
    autonomy_enabled=st.booleans(), shadow_mode=st.booleans(),
    global_kill_switch=st.booleans(), tenant_kill_switch=st.booleans(),
    tenant_allowed=st.booleans(), hands_off=st.booleans(), escalation_open=st.booleans(),
    policy_decision=st.sampled_from(["AUTO_EXECUTE", "REQUIRE_APPROVAL", "BLOCK"]),
    throttle=st.sampled_from(["ALLOW", "DEFER", "REFUSE"]),
    throttle_until=st.none() | st.datetimes(timezones=st.just(UTC)),
)


def every_gate_holds(f: GateFacts) -> bool:
    return (f.autonomy_enabled and not f.shadow_mode and not f.global_kill_switch
            and not f.tenant_kill_switch and f.tenant_allowed and f.hands_off
            and not f.escalation_open and f.policy_decision == "AUTO_EXECUTE"
            and f.throttle == "ALLOW")


@given(facts)
def test_an_action_executes_exactly_when_every_gate_holds(f: GateFacts) -> None:
    outcome = evaluate(f)
    assert outcome.executes == every_gate_holds(f)
    assert outcome.clause and outcome.reason
    if outcome.verdict == "DEFER":  # deferred only by pacing, after every consent gate
        assert f.throttle == "DEFER" and outcome.not_before == f.throttle_until


def test_each_gate_alone_stops_the_action_and_says_which() -> None:
    assert evaluate(ALL_HOLD).verdict == "EXECUTE"
    flips = {
        "autonomy_enabled": (False, "PR0.autonomy_disabled"),
        "shadow_mode": (True, "PR0.shadow_mode"),
        "global_kill_switch": (True, "KILL.global"),
        "tenant_kill_switch": (True, "KILL.tenant"),
        "tenant_allowed": (False, "PR8.tenant_allowlist"),
        "hands_off": (False, "PR9.hands_off"),
        "escalation_open": (True, "PR3.escalation_open"),
        "policy_decision": ("REQUIRE_APPROVAL", "AAP1.require_approval"),
        "throttle": ("REFUSE", "PR10.throttle_refused"),
    }
    assert set(flips) | {"throttle_until", "throttle_clause", "throttle_reason", "policy_clause",
                         "policy_reason"} == {f.name for f in fields(GateFacts)}
    for name, (value, clause) in flips.items():
        outcome = evaluate(replace(ALL_HOLD, **{name: value}))
        assert (outcome.verdict, outcome.clause) == ("HOLD", clause), name
    blocked = evaluate(replace(ALL_HOLD, policy_decision="BLOCK"))
    assert (blocked.verdict, blocked.clause) == ("HOLD", "AAP1.block")


def test_quiet_hours_defer_with_the_time_to_retry() -> None:
    later = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    outcome = evaluate(replace(ALL_HOLD, throttle="DEFER", throttle_until=later))
    assert (outcome.verdict, outcome.not_before) == ("DEFER", later)
    # A closed gate outranks pacing: a held action is never merely deferred.
    held = evaluate(replace(ALL_HOLD, hands_off=False, throttle="DEFER",
                            throttle_until=later + timedelta(hours=1)))
    assert held.verdict == "HOLD" and held.not_before is None
