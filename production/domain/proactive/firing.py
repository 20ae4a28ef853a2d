"""A trigger's firing: what a trigger saw in one customer's facts, keyed so it fires once.

The contract between the triggers (which produce firings), the scheduler and the signal path
(which store them in `care_trigger_firings`, migration 016) and the suggestion pipeline (which
turns a stored firing into at most one suggestion, through the cost gate and the policy).

`window_key` names the window a firing belongs to: a stalled ticket's SLA event
("ticket:<id>:first_response"), a day ("2026-12-04"), a band crossing ("band:poor"). One row per
(tenant, customer, trigger, window_key): a rerun or a second scheduler replica finds the row and
fires nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID


class TriggerName(StrEnum):
    STALLED_TICKET = "stalled_ticket"
    PROMISE_NOT_KEPT = "promise_not_kept"
    SENTIMENT_FALLING = "sentiment_falling"
    REPEAT_CONTACT = "repeat_contact"
    CHURN_RISK = "churn_risk"
    SILENCE = "silence"
    REACTIVATED = "reactivated"
    DUPLICATE_CUSTOMER = "duplicate_customer"
    SALES_SIGNAL = "sales_signal"


class FiringDecision(StrEnum):
    """What followed a firing; NULL in the row until the pipeline has decided."""

    SUGGESTED = "suggested"  # a suggestion was written
    DEFERRED = "deferred"  # the cost gate said DEFER: looked at again later
    SKIPPED = "skipped"  # the cost gate said SKIP
    SUPPRESSED = "suppressed"  # a spam rule held it (per day, per trigger, paused, duplicate)


@dataclass(frozen=True)
class Firing:
    trigger: TriggerName
    version: int
    customer_id: UUID
    window_key: str
    reason: str  # one sentence an operator reads: "first response due 2h ago (priority high)"
    facts: Mapping[str, Any] = field(default_factory=dict)  # JSON-ready: what the trigger saw
