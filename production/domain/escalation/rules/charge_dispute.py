"""A charge the customer disputes: `pricing_or_contract`, unless they also want the money back,
which makes it a `refund` (the billing team reads both).
"""

from __future__ import annotations

from production.domain.escalation.rule_set import RuleSet

RULES = RuleSet(
    reason="pricing_or_contract",
    patterns=(
        r"\b(?:over-?charged|overbilled|over-?billing|double[- ]charged|double[- ]billed|"
        r"charged twice|billed twice|duplicate (?:charge|payment|invoice))\b",
        r"\b(?:charged|billed|invoiced)\s+(?:me\s+|us\s+)?(?:twice|double|two times|again|too much|"
        r"more|extra|wrong|incorrectly|for (?:\w+\s+){0,3}(?:i|we) (?:didn't|did not|don't|"
        r"do not|never|no longer)|for \d+\s+(?:users|seats|members|licen[cs]es|people))\b",
        r"\b(?:wrong|incorrect|inflated|unexpected|unknown|strange|mysterious|extra|higher) "
        r"(?:amount|charge|charges|price|invoice|invoices|bill|payment|fee|fees)\b",
        r"\b(?:invoice|bill|charge)\s+(?:is|was|looks|seems|appears)\s+(?:\w+\s+)?(?:wrong|"
        r"incorrect|too high|off|higher|inflated|double)\b",
        r"\bwhy (?:was|were|am|are|did|have|has)\s+(?:i|we|you|my card|our card|it)\s+(?:\w+\s+)?"
        r"(?:charged|billed|charge|bill|been charged|been billed)\b",
        r"\b(?:invoice|bill|charge|receipt)s?\s+(?:shows?|lists?|says|has|includes?|is for|"
        r"charges? (?:us|me) for)\s+(?:\d+|more|extra)\s+(?:users|seats|members|licen[cs]es)\b",
        r"\b(?:charged|billed)\s+(?:me\s+|us\s+)?(?:after|even though|although|despite|without)\b",
        r"\b(?:paid|payed|pay|paying)\s+(?:\w+\s+)?(?:twice|double|two times)\b",
        r"\b(?:billed|charged|invoiced)\s+(?:us|me)\s+for\b[^.!?\n]{0,60}\bbut\b",
        r"\b(?:amount|total|charge|price|sum)\s+(?:on|of|in)\s+(?:the\s+|our\s+|my\s+|this\s+)?"
        r"(?:invoice|bill|receipt)\b[^.!?\n]{0,60}\b(?:doesn't|does not|don't|isn't|is not|wrong|"
        r"incorrect|higher|different)\b",
        r"\b(?:doesn't|does not|don't|do not)\s+match\s+(?:what|the)\s+(?:\w+\s+)?(?:sales|quote|"
        r"quoted|agreed|promised|contract|offer)",
    ),
    examples=(
        "invoice is wrong, we were overcharged",
        "Why was I billed twice this month?",
        "The invoice shows 30 seats but we removed 10 last month, can someone correct it?",
        # written as a held-out check after the rules were tuned; kept as regression cases
        "The amount on invoice INV-2291 doesn't match what sales promised.",
        "Accounts says you billed us for the Business plan but we're on Team.",
    ),
    declinable=True,
    unless="refund",
)
