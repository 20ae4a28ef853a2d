"""The escalation rules, one module per reason: its patterns, examples and near misses.

Where each line is drawn is written in context/escalation-rules.md; a module's examples are the
messages that show it (tests/unit/test_escalation_rules.py runs every one).
"""

from __future__ import annotations

from typing import Final

from production.domain.escalation.rule_set import RuleSet
from production.domain.escalation.rules import (
    charge_dispute,
    human_request,
    legal_or_compliance,
    objection,
    pricing_or_contract,
    refund,
    security_incident,
    unknown_high_risk,
)

# In the order they are tried: a rule set with `unless` comes after the reason it yields to.
RULE_SETS: Final[tuple[RuleSet, ...]] = (
    pricing_or_contract.RULES,
    refund.RULES,
    legal_or_compliance.RULES,
    human_request.RULES,
    objection.RULES,
    security_incident.RULES,
    unknown_high_risk.RULES,
    charge_dispute.RULES,
)
