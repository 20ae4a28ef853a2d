"""The output guardrail: what only a person may say in a draft reply.

Pure pattern rules: prices, discounts, refunds and dates we commit to, our own instructions,
internal notes and other people's contact details.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import Final

from production.agent.guardrails.result import PASSED, GuardrailResult, tripped
from production.domain import pii
from production.domain.patterns import Rules
from production.domain.text import fold, word_starts

# Addresses and numbers of the company itself, which a reply may always give out.
COMPANY_DOMAINS: Final = ("techcorp.com", "techcorp.example")
COMPANY_PHONES: Final = frozenset({"14155550100"})

_NEGATED: Final = re.compile(
    r"\b(?:not|never|no|cannot|can't|won't|unable|isn't|aren't|don't|doesn't|couldn't|"
    r"wouldn't|neither|nor)\b|n't\b"
)
_US = (r"(?:we|i|techcorp|our (?:billing |support |finance |account )?team|the billing team|"
       r"billing)")
_WILL = (r"(?:will|'ll|shall|can|could|would|have|'ve|has|are going to|'re going to|"
         r"am going to|'m going to|are happy to|'re happy to|am happy to|'m happy to|"
         r"would be happy to|'d be happy to|are able to|'re able to|am able to|'m able to|"
         r"will be able to|'ll be able to|have decided to|'ve decided to|are pleased to|"
         r"'re pleased to|am pleased to|'m pleased to|'d like to|would like to|want to|"
         r"are offering|'re offering|am offering|'m offering|already)")
_ADVERB = r"(?:(?:also|gladly|happily|immediately|promptly|now|then|just|fully|certainly|" \
          r"definitely|personally|already|of course|be able to|be happy to)\s+)*"
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
_CURRENCY = (r"(?:usd|eur|gbp|inr|pkr|aud|cad|dollars?|euros?|pounds?|bucks|cents?|rupees?|"
             r"reais|pesos?)")
_PRICE: Final = Rules(
    rf"(?:[$€£¥₹]|\b(?:usd|eur|gbp|inr|pkr|rs\.?|us\$|a\$|c\$|r\$))\s?{_AMOUNT}",
    rf"\b{_AMOUNT}\s?(?:[$€£¥₹]|{_CURRENCY}\b)",
    rf"\b{_AMOUNT}\s*(?:per|/|a|an|each)\s*(?:seat|user|licen[cs]e|member)s?\b",
    rf"\b(?:costs?|priced at|price is|prices? (?:start|starts) at|pricing is|fee is|charge is|"
    rf"billed at|pay only|pay just|only pay|will pay|would pay|would cost|will cost|comes to|"
    rf"totals?)\s+(?:only\s+|just\s+|about\s+|around\s+|roughly\s+|approximately\s+)?{_AMOUNT}\b",
)
_DISCOUNT: Final = Rules(
    r"\b\d{1,3}(?:\.\d+)?\s?%\s?(?:off|discount|reduction|cheaper|less|rebate|lower)\b",
    rf"\b{_US}\s*{_WILL}\s+{_ADVERB}(?:give|offer|apply|provide|extend|honou?r|add|send|grant|"
    r"arrange|get|set up|include|throw in|match)\s+(?:you\s+|your (?:team|company|workspace)\s+)?"
    r"(?:\w+\s+){0,3}?(?:discount|coupon|promo(?:tional)? code|voucher|rebate|price match|"
    r"lower price|reduced (?:price|rate)|special (?:price|rate|deal|offer)|"
    r"free (?:month|months|upgrade|seats?|year|trial extension))",
    r"\byou(?:'ll| will| can| are going to|'re going to)\s+(?:get|receive|have|enjoy|keep)\s+"
    r"(?:a |an |your |the )?(?:\w+\s+){0,2}?(?:discount|coupon|promo code|voucher|rebate|"
    r"free (?:month|months|upgrade|seats?|year))",
    r"\b(?:here is|here's|use)\s+(?:your |a |the |this )?(?:discount|coupon|promo(?:tional)?|"
    r"voucher)\s+code\b",
    r"\b(?:discount|coupon|promo) code\s*:?\s*[a-z0-9]*\d[a-z0-9]*\b",
    r"\b(?:free of charge|at no (?:extra |additional )?(?:cost|charge)|on the house|"
    r"complimentary (?:upgrade|month|months|seats?|year))\b",
    r"\bwaive (?:the|your|any) (?:fee|fees|charge|charges|cost|overage)\b",
    r"\block in (?:the|your|a|today's) (?:current )?(?:price|rate)\b",
)
_REFUND: Final = Rules(
    rf"\b{_US}\s*{_WILL}\s+{_ADVERB}(?:refund|reimburse|credit (?:you|your|back|the)|"
    r"issued? (?:you )?(?:a |the |your )?(?:full |partial )?(?:refund|credit|reimbursement)|"
    r"process(?:ed)? (?:a|your|the) (?:full |partial )?(?:refund|reimbursement)|"
    r"return(?:ed)? (?:your|the) (?:money|payment)|(?:give|gave|given) you (?:a |your )?"
    r"(?:full |partial )?(?:refund|money back)|(?:send|sent) (?:you )?(?:a |your |the )?"
    r"(?:refund|money back)|"
    r"refunded|reimbursed|credited|approved (?:your|the|a) (?:refund|reimbursement))",
    r"\byour (?:full |partial )?(?:refund|reimbursement|money|credit)\s+(?:has been|was|is being|"
    r"will be|'ll be|is|has|should be)\s+(?:\w+\s+)?(?:processed|issued|approved|sent|initiated|"
    r"refunded|returned|credited|on (?:its|the) way|confirmed|granted|completed|back)",
    r"\byou(?:'ll| will| should| are going to|'re going to| can expect to)\s+(?:\w+\s+)?"
    r"(?:get|receive|see|have)\s+(?:your |a |the |a full |a partial |the full )?"
    r"(?:\w+\s+)?(?:refund|money back|reimbursement|money returned)",
    r"\b(?:full |partial )?refund (?:has been |is |was |will be )?(?:approved|issued|processed|"
    r"granted|confirmed|on its way)\b",
    r"\b(?:get|have) your money back\b",
)
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu|" \
           r"thurs?|fri|sat|sun)"
_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|"
          r"december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)")
_COUNT = (r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty-four|"
          r"forty-eight|a few|a couple of|couple of|several)")
_UNIT = r"(?:business\s+|working\s+|calendar\s+)?(?:minutes?|hours?|days?|weeks?|months?)"
_WHEN: Final = Rules(
    rf"\b(?:by|before|on|until|till|no later than|as of|from|this|next|coming)\s+(?:the\s+)?"
    rf"(?:next\s+|this\s+|coming\s+)?(?:{_WEEKDAY}|{_MONTH}\s+\d{{1,2}}|\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:\s+of)?\s+{_MONTH}|\d{{1,2}}[/.]\d{{1,2}}|tomorrow|tonight|today|eod|eow|cob|"
    rf"end of (?:the )?(?:day|week|month|quarter|year|business day)|midnight|noon|"
    rf"\d{{1,2}}(?::\d{{2}})?\s?(?:am|pm))\b",
    rf"\b(?:within|in)\s+(?:the\s+next\s+|about\s+|around\s+|roughly\s+|less than\s+)?"
    rf"{_COUNT}\s+{_UNIT}\b",
    r"\b(?:next|this|coming)\s+(?:week|month|quarter|year|weekend|sprint|release|update|"
    r"version|business day)\b",
    rf"\b(?:tomorrow|tonight|later today|end of (?:the )?(?:day|week|month)|eod|eow|"
    rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}|"
    rf"q[1-4](?:\s+20\d\d)?|20\d\d-\d\d-\d\d)\b",
    r"\btoday\b",
)
_WHO = (r"(?:we|i|our (?:team|engineers|developers|devs|billing team|specialists?|product team)|"
        r"the (?:team|engineers|developers|fix|patch|update|release|feature|bug|issue|problem|"
        r"outage|refund|credit|replacement|new version|integration|specialist)|"
        r"a specialist|someone|somebody|engineering|it|this|that|they)")
_COMMIT: Final = Rules(
    rf"\b{_WHO}\s*(?:'ll|will|shall|should|are going to|is going to|'s going to|'re going to|"
    r"am going to|'m going to|expect to|plan to|aim to|promise to|intend to|are scheduled to|"
    r"is scheduled to|is expected to|are expected to|will have|'ll have)\s+"
    r"(?:definitely\s+|certainly\s+|surely\s+|then\s+|also\s+|be\s+|have\s+|been\s+)*"
    r"(?P<verb>\w+)",
    r"\b(?:we're|we are|i'm|i am|the team is|engineering is)\s+(?:shipping|releasing|fixing|"
    r"deploying|launching|rolling out|sending|processing|refunding|delivering|aiming|planning)\b",
    r"\b(?:the )?(?:fix|patch|update|release|feature|new version|refund|replacement)\s+"
    r"(?:is|are|'s)\s+(?:coming|landing|arriving|going live|shipping|due|scheduled|planned|"
    r"expected)\b",
    r"\b(?:expected|scheduled|planned|promised|guaranteed)\s+(?:to\s+(?:be\s+)?)?(?:fixed|"
    r"resolved|released|shipped|deployed|live|available|ready|restored|done|launched|for)\b",
    r"\b(?:the )?(?:eta|timeline|target date|due date for the fix) (?:is|will be|for)\b",
    r"\byou(?:'ll| will| should)\s+(?:hear back|hear from|get (?:a |an )?(?:reply|response|"
    r"answer|call|update|fix|refund)|receive (?:a |an |your )?(?:reply|response|answer|call|"
    r"update|fix|refund))",
)
# Verbs after "it will …" that describe how the product behaves, not what we promise.
_FACT_VERBS: Final = frozenset({
    "expire", "expires", "stop", "remain", "stay", "kept", "deleted", "erased", "removed",
    "retried", "valid", "lock", "locked", "unlocked", "redirect", "signed", "take", "last",
    "sync", "arrive", "appear", "show", "count", "keep", "continue", "run", "need", "require",
})
_NO_DATE_PROMISE: Final = re.compile(
    r"\b(?:can't|cannot|can not|unable to|not able to|won't|don't) (?:promise|commit|guarantee|"
    r"give (?:you )?(?:a|an) (?:date|eta|timeline))\b|\bno (?:eta|timeline|date) (?:yet|to share)\b"
)
_LEAK_PHRASES: Final = Rules(
    r"\b(?:my|the) (?:system )?(?:instructions|prompt|guidelines|rules|programming|directives)\s+"
    r"(?:say|says|state|states|tell me|told me|are|require|requires|forbid|forbids|prevent|"
    r"prevents|don't allow|do not allow|say that|specify)\b",
    r"\bi (?:was|am|have been|'ve been|'m) (?:instructed|told|programmed|configured|prompted)\s+"
    r"(?:to|not to|that)\b",
    r"\b(?:according to|per|based on|under) my (?:instructions|prompt|system prompt|guidelines|"
    r"programming|rules|directives)\b",
    r"\b(?:my|the) (?:system prompt|hidden (?:rules|instructions)|internal (?:rules|instructions))"
    r"\b",
)
_INTERNAL: Final = Rules(
    r"\binternal[ -](?:note|notes|only|use only|comment|memo|ticket note|remark)\b",
    r"\[\s*(?:internal|staff only|private|agent note|note to self|todo|internal note|"
    r"not for customer)\s*\]|</?internal>",
    r"\b(?:do not|don't|never) (?:share|show|send|forward|disclose|tell|mention)\s+(?:this\s+|"
    r"that\s+)?(?:\w+\s+)?(?:with|to)\s+(?:the\s+)?(?:customer|client|user)s?\b",
    r"\bnot (?:for|to be shared with) (?:the )?(?:customer|client)s?\b",
    r"\bnote to self\b|\bfor internal use\b|\b(?:staff|agents?|employees?) only\b",
    r"\bconfidential[:\s-]+internal\b|\b(?:agent|internal|private|staff) note\s*:",
    r"^\s*(?:todo|fixme)\b\s*:?",
)
_SENTENCE_BREAK: Final = re.compile(r"(?<=[.!?;])\s+|\n+")
_LEAK_RUN: Final = 8  # consecutive words shared with the system prompt that count as a leak
_UNSEPARATED_DIGITS: Final = 10


def check_output(reply: str, *, system_prompt: str,
                 customer_identifiers: Collection[str] = ()) -> GuardrailResult:
    """Return a tripped result when a draft reply says what only a person may say.

    Checked in this order: prompt leak, internal note, another customer's data, then promises
    of price, discount, refund and date. Durations the product documents ("valid for 60
    minutes") are facts, not promises; only dates we commit to trip.
    """
    folded = fold(reply)
    starts = word_starts(folded)
    if (leak := _prompt_leak(folded, starts, system_prompt)) is not None:
        return tripped("prompt_leak", leak)
    if match := _INTERNAL.search(folded, starts):
        return tripped("internal_note", match.group(0))
    if (other := _other_customer_data(reply, customer_identifiers)) is not None:
        return tripped("other_customer_data", other)
    if match := _PRICE.search(folded, starts):
        return tripped("price_promise", match.group(0))
    for code, pattern in (("discount_promise", _DISCOUNT), ("refund_promise", _REFUND)):
        if (found := _committed(pattern, folded, starts)) is not None:
            return tripped(code, found)
    if (date := _date_promise(folded, starts)) is not None:
        return tripped("date_promise", date)
    return PASSED


def _committed(pattern: Rules, folded: str, starts: frozenset[str]) -> str | None:
    """Return the first match that no negation in its own clause takes back."""
    for match in pattern.finditer(folded, starts):
        clause_start = max(folded.rfind(p, 0, match.start()) for p in (".", "!", "?", ";", "\n"))
        before = folded[max(clause_start + 1, match.start() - 40):match.start()]
        if not _NEGATED.search(before) and not _NEGATED.search(match.group(0)):
            return match.group(0)
    return None


def _date_promise(folded: str, starts: frozenset[str]) -> str | None:
    for sentence in _SENTENCE_BREAK.split(folded):
        when = _WHEN.search(sentence, starts)
        if when is None or _NO_DATE_PROMISE.search(sentence):
            continue
        for commit in _COMMIT.finditer(sentence, starts):
            verb = commit.groupdict().get("verb")
            if verb not in _FACT_VERBS and not _NEGATED.search(commit.group(0)):
                return f"{commit.group(0)} … {when.group(0)}"
    return None


@functools.lru_cache(maxsize=8)
def _prompt_runs(system_prompt: str) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9_]+", fold(system_prompt))
    return frozenset(tuple(words[i:i + _LEAK_RUN]) for i in range(len(words) - _LEAK_RUN + 1))


def _prompt_leak(folded: str, starts: frozenset[str], system_prompt: str) -> str | None:
    if match := _LEAK_PHRASES.search(folded, starts):
        return match.group(0)
    runs = _prompt_runs(system_prompt)
    if not runs:
        return None
    words = re.findall(r"[a-z0-9_]+", folded)
    for i in range(len(words) - _LEAK_RUN + 1):
        if (run := tuple(words[i:i + _LEAK_RUN])) in runs:
            return " ".join(run)
    return None


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _other_customer_data(reply: str, identifiers: Collection[str]) -> str | None:
    """Return an email address or phone number in the reply that is not the customer's own."""
    known = {value.strip().lower().removeprefix("mailto:") for value in identifiers}
    known_phones = {d for value in identifiers if len(d := _digits(value)) >= 7}
    for email in pii.emails(reply):
        address = email.text.lower()
        domain = address.rpartition("@")[2]
        if address in known or any(domain == d or domain.endswith("." + d)
                                   for d in COMPANY_DOMAINS):
            continue
        return f"email address {address}"
    for phone in pii.phone_numbers(reply):
        digits = _digits(phone.text)
        # Ten digits or more when written without separators: shorter runs are order numbers.
        if digits == phone.text.lstrip("+") and len(digits) < _UNSEPARATED_DIGITS:
            continue
        if digits in COMPANY_PHONES or any(
                digits.endswith(k[-9:]) or k.endswith(digits[-9:]) for k in known_phones):
            continue
        return f"phone number {phone.text.strip()}"
    return None


