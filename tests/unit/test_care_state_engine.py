"""The C.A.R.E. state machine: its rules one by one, and what holds over any signal sequence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from production.domain.care.state_engine import (
    AT_RISK_AFTER,
    CANONICAL_STATES,
    DORMANT_AFTER,
    CareState,
    Signal,
    SignalKind,
    Transition,
    UnknownState,
    canonical,
    propose_transition,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
INBOUND = Signal(SignalKind.INBOUND_MESSAGE)
REJECTION = Signal(SignalKind.INBOUND_MESSAGE, explicit_rejection=True)
SILENCE = Signal(SignalKind.SILENCE)


def step(state: str, signal: Signal, silent_for: timedelta | None = None) -> Transition | None:
    last = None if silent_for is None else NOW - silent_for
    return propose_transition(state, signal, now=NOW, last_signal_at=last)


def test_the_canonical_states_are_the_ten_the_schema_allows() -> None:
    assert set(CANONICAL_STATES) == {"unaware", "aware", "engaged", "evaluating", "committed",
                                     "active", "at_risk", "dormant", "reactivated", "lost"}


@pytest.mark.parametrize(("state", "to", "rule"), [
    ("unaware", "engaged", "CARE.inbound.engage"),
    ("aware", "engaged", "CARE.inbound.engage"),
    ("at_risk", "engaged", "CARE.inbound.engage"),
    ("dormant", "reactivated", "CARE.inbound.reactivate"),
    ("lost", "reactivated", "CARE.inbound.reactivate"),
    ("engaged", None, None),
    ("evaluating", None, None),
    ("committed", None, None),
    ("active", None, None),
    ("reactivated", None, None),
])
def test_an_inbound_message(state: str, to: str | None, rule: str | None) -> None:
    transition = step(state, INBOUND, timedelta(days=100))
    if to is None:
        assert transition is None
    else:
        assert transition == Transition(CareState(state), CareState(to),
                                        f"inbound message while {state}", str(rule))


@pytest.mark.parametrize("state", sorted(CANONICAL_STATES - {"lost"}))
def test_an_explicit_rejection_loses_the_customer_from_any_state(state: str) -> None:
    transition = step(state, REJECTION)
    assert transition is not None
    assert (transition.to_state, transition.rule) == (CareState.LOST, "CARE.rejection.lost")
    assert "rejected" in transition.reason


def test_lost_is_terminal_except_for_an_inbound_message() -> None:
    assert step("lost", REJECTION) is None
    assert step("lost", SILENCE, timedelta(days=400)) is None
    reactivated = step("lost", INBOUND)
    assert reactivated is not None and reactivated.to_state == CareState.REACTIVATED


@pytest.mark.parametrize("state", ["engaged", "evaluating", "committed", "active",
                                   "reactivated"])
def test_silence_puts_an_engaged_customer_at_risk_after_the_threshold(state: str) -> None:
    just_before = AT_RISK_AFTER - timedelta(seconds=1)
    assert step(state, SILENCE, just_before) is None
    transition = step(state, SILENCE, AT_RISK_AFTER)
    assert transition is not None
    assert (transition.from_state, transition.to_state) == (state, CareState.AT_RISK)
    assert transition.reason == "no signal for 14.0 days (at risk after 14 days)"
    # One step at a time: long silence still goes through at_risk first.
    long_silence = step(state, SILENCE, timedelta(days=90))
    assert long_silence is not None and long_silence.to_state == CareState.AT_RISK


def test_silence_makes_an_at_risk_customer_dormant_after_the_longer_threshold() -> None:
    assert step("at_risk", SILENCE, DORMANT_AFTER - timedelta(seconds=1)) is None
    transition = step("at_risk", SILENCE, DORMANT_AFTER)
    assert transition is not None and transition.to_state == CareState.DORMANT
    assert transition.rule == "CARE.silence.dormant"
    assert "dormant after 45 days" in transition.reason


@pytest.mark.parametrize("state", ["unaware", "aware", "dormant", "lost"])
def test_silence_does_not_move_customers_with_nothing_to_decay(state: str) -> None:
    assert step(state, SILENCE, timedelta(days=400)) is None


def test_silence_without_any_signal_or_from_the_future_is_no_silence() -> None:
    assert step("engaged", SILENCE, None) is None
    assert step("engaged", SILENCE, -timedelta(days=30)) is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(UnknownState, match="happy"):
        step("happy", INBOUND)
    with pytest.raises(ValueError, match="not a C"):
        canonical("ENGAGED")
    with pytest.raises(ValueError, match="timezone-aware"):
        propose_transition("engaged", SILENCE, now=NOW.replace(tzinfo=None), last_signal_at=NOW)
    with pytest.raises(ValueError, match="last_signal_at"):
        propose_transition("engaged", SILENCE, now=NOW,
                           last_signal_at=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="inbound message"):
        Signal(SignalKind.SILENCE, explicit_rejection=True)


signals = st.sampled_from([INBOUND, REJECTION, SILENCE])
steps = st.lists(st.tuples(signals, st.integers(min_value=0, max_value=60 * 86400)),
                 max_size=60)


@given(start=st.sampled_from(sorted(CANONICAL_STATES)), sequence=steps)
def test_any_signal_sequence_keeps_the_machine_sound(start: str,
                                                     sequence: list[tuple[Signal, int]]) -> None:
    state, now = CareState(start), NOW
    last_signal: datetime | None = None
    for signal, gap_s in sequence:
        now += timedelta(seconds=gap_s)
        transition = propose_transition(state, signal, now=now, last_signal_at=last_signal)
        if signal.explicit_rejection:
            assert (transition is None) == (state == CareState.LOST)
        elif signal.kind == SignalKind.INBOUND_MESSAGE and state == CareState.DORMANT:
            assert transition is not None and transition.to_state == CareState.REACTIVATED
        if transition is not None:
            assert transition.from_state == state != transition.to_state
            assert transition.to_state in CANONICAL_STATES
            assert transition.reason.strip() and transition.rule.strip()
            if signal.explicit_rejection:
                assert transition.to_state == CareState.LOST
            if signal.kind == SignalKind.SILENCE:
                assert transition.to_state in (CareState.AT_RISK, CareState.DORMANT)
            else:
                assert transition.to_state not in (CareState.AT_RISK, CareState.DORMANT)
            state = transition.to_state
        if signal.kind == SignalKind.INBOUND_MESSAGE:
            last_signal = now
        assert state in CANONICAL_STATES
