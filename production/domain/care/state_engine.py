"""The C.A.R.E. state machine: which relationship state a signal moves a customer to, and why.

Pure and deterministic (no I/O, no clock: the caller passes `now`). Reading and writing the
state lives in production/database/queries/care_state.py.

Rules, in the order they apply (the first that matches decides; none matches: no transition):

1. An explicit rejection (unsubscribe, "we are cancelling", "not interested"; detected
   elsewhere, passed as a flag on an inbound signal) moves any state but `lost` to `lost`.
2. An inbound message: `dormant` or `lost` -> `reactivated`; `unaware`, `aware` or `at_risk`
   -> `engaged`; `engaged`, `evaluating`, `committed`, `active` and `reactivated` stay.
3. Silence, measured as `now - last_signal_at`: `engaged`, `evaluating`, `committed`,
   `active` or `reactivated` -> `at_risk` after AT_RISK_AFTER; `at_risk` -> `dormant` after
   DORMANT_AFTER. One step per evaluation: a customer silent for 60 days is first marked
   at_risk, and the next evaluation marks them dormant, so the history shows both steps.
   No signal ever (last_signal_at None) is not silence: there is nothing to decay from.

`lost` is terminal except for an inbound message. Moves into `aware`, `evaluating`,
`committed` and `active` come from sales signals this engine does not see; they are applied
by hand (apply_transition) with their own reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class CareState(StrEnum):
    UNAWARE = "unaware"
    AWARE = "aware"
    ENGAGED = "engaged"
    EVALUATING = "evaluating"
    COMMITTED = "committed"
    ACTIVE = "active"
    AT_RISK = "at_risk"
    DORMANT = "dormant"
    REACTIVATED = "reactivated"
    LOST = "lost"


# The same list as the customer_care_state.care_state CHECK in migration 001.
CANONICAL_STATES: frozenset[str] = frozenset(CareState)
INITIAL_STATE = CareState.UNAWARE

AT_RISK_AFTER = timedelta(days=14)
DORMANT_AFTER = timedelta(days=45)

_ENGAGE_ON_INBOUND = frozenset({CareState.UNAWARE, CareState.AWARE, CareState.AT_RISK})
_REACTIVATE_ON_INBOUND = frozenset({CareState.DORMANT, CareState.LOST})
# The states silence decays to at_risk (the scheduler's sweep reads the same set).
DECAY_TO_AT_RISK = frozenset({CareState.ENGAGED, CareState.EVALUATING, CareState.COMMITTED,
                              CareState.ACTIVE, CareState.REACTIVATED})


class SignalKind(StrEnum):
    INBOUND_MESSAGE = "inbound_message"  # the customer wrote to us, on any channel
    SILENCE = "silence"  # a periodic check: how long since the customer's last signal?


@dataclass(frozen=True)
class Signal:
    kind: SignalKind
    # The customer explicitly rejected us in this message. Only an inbound message can say so.
    explicit_rejection: bool = False

    def __post_init__(self) -> None:
        if self.explicit_rejection and self.kind != SignalKind.INBOUND_MESSAGE:
            raise ValueError("only an inbound message can carry an explicit rejection")


@dataclass(frozen=True)
class Transition:
    from_state: CareState
    to_state: CareState
    reason: str  # never empty: stored in the history and the audit trail
    rule: str  # which rule produced it, e.g. CARE.inbound.reactivate


class UnknownState(ValueError):
    """A state outside the canonical ten."""


def canonical(state: str) -> CareState:
    """Return the state as a CareState; raise UnknownState for anything else."""
    if state not in CANONICAL_STATES:
        raise UnknownState(f"{state!r} is not a C.A.R.E. state")
    return CareState(state)


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _days(span: timedelta) -> str:
    return f"{span.total_seconds() / 86400:.1f} days"


def propose_transition(current: str, signal: Signal, *, now: datetime,
                       last_signal_at: datetime | None) -> Transition | None:
    """Return the transition the signal causes from `current`, or None when it causes none."""
    state = canonical(current)
    _aware(now, "now")
    if last_signal_at is not None:
        _aware(last_signal_at, "last_signal_at")

    if signal.explicit_rejection:
        if state == CareState.LOST:
            return None
        return Transition(state, CareState.LOST,
                          "the customer explicitly rejected us (unsubscribe, cancelling or "
                          "not interested)", "CARE.rejection.lost")

    if signal.kind == SignalKind.INBOUND_MESSAGE:
        if state in _REACTIVATE_ON_INBOUND:
            return Transition(state, CareState.REACTIVATED,
                              f"inbound message while {state}", "CARE.inbound.reactivate")
        if state in _ENGAGE_ON_INBOUND:
            return Transition(state, CareState.ENGAGED,
                              f"inbound message while {state}", "CARE.inbound.engage")
        return None

    if last_signal_at is None:
        return None
    silent_for = now - last_signal_at
    if state in DECAY_TO_AT_RISK and silent_for >= AT_RISK_AFTER:
        return Transition(state, CareState.AT_RISK,
                          f"no signal for {_days(silent_for)} (at risk after "
                          f"{AT_RISK_AFTER.days} days)", "CARE.silence.at_risk")
    if state == CareState.AT_RISK and silent_for >= DORMANT_AFTER:
        return Transition(state, CareState.DORMANT,
                          f"no signal for {_days(silent_for)} (dormant after "
                          f"{DORMANT_AFTER.days} days)", "CARE.silence.dormant")
    return None
