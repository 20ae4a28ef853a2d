"""Tripwires on what comes in (prompt injection) and on what goes out (promises and leaks).

`check_input` runs before any tool (runner.py), `check_output` on every text for the customer
(tools.py); both are pure pattern rules over `domain.text.fold`-ed text.
"""

from production.agent.guardrails.input import check_input
from production.agent.guardrails.output import COMPANY_DOMAINS, COMPANY_PHONES, check_output
from production.agent.guardrails.result import PASSED, GuardrailResult

__all__ = ["COMPANY_DOMAINS", "COMPANY_PHONES", "PASSED", "GuardrailResult", "check_input",
           "check_output"]
