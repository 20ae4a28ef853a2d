"""The DecisionCostGate's answer (seeds 5.3), the contract between the gate and its callers.

The gate runs before any model call the proactive layer would make (and guards the reply path
when a tenant's model budget is spent): ALLOW the call, DEFER it (look again at `retry_at`),
or SKIP it. No model call on DEFER or SKIP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CostDecision(StrEnum):
    ALLOW = "ALLOW"
    DEFER = "DEFER"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CostVerdict:
    decision: CostDecision
    reason: str  # a short code an operator and a metric label read: "budget_spent", "recent"
    retry_at: datetime | None = None  # DEFER only: when to look again

    @property
    def allowed(self) -> bool:
        return self.decision is CostDecision.ALLOW
