"""Every escalation rule set against the examples and near misses kept with its rules."""

from __future__ import annotations

import pytest

from production.domain.escalation import REASONS, detect, triggers
from production.domain.escalation.detector import first_meant, prepare
from production.domain.escalation.rule_set import RuleSet
from production.domain.escalation.rules import RULE_SETS
from production.domain.patterns import Rules
from production.domain.text import word_starts

CALM = 0.5  # a neutral sentiment, so the content rules are tested on their own
# Reasons no rule set gives: the guardrail, the sentiment score and the searches decide them.
COMPUTED = {"prompt_injection", "negative_sentiment", "no_kb_match"}


def _caught_by(rule_set: RuleSet, text: str) -> str | None:
    prepared = prepare(text)
    return first_meant(rule_set, Rules(*rule_set.patterns, flags=0), prepared,
                       word_starts(prepared))


def _cases(kind: str) -> list[object]:
    return [pytest.param(rule_set, text, id=f"{rule_set.reason}-{text}")
            for rule_set in RULE_SETS for text in getattr(rule_set, kind)]


@pytest.mark.parametrize(("rule_set", "text"), _cases("examples"))
def test_each_rule_set_catches_its_examples(rule_set: RuleSet, text: str) -> None:
    result = detect(text, sentiment=CALM)
    assert result.escalate
    assert rule_set.reason in result.reasons, (result.reasons, triggers(text))
    assert _caught_by(rule_set, text) is not None  # by its own patterns, not another's


@pytest.mark.parametrize(("rule_set", "text"), _cases("near_misses"))
def test_near_misses_do_not_trigger_the_reason(rule_set: RuleSet, text: str) -> None:
    assert rule_set.reason not in detect(text, sentiment=CALM).reasons, triggers(text)


def test_every_content_reason_has_a_rule_set_with_examples() -> None:
    assert {rule_set.reason for rule_set in RULE_SETS} == set(REASONS) - COMPUTED
    assert all(rule_set.examples for rule_set in RULE_SETS)


def test_a_rule_set_that_yields_comes_after_the_reason_it_yields_to() -> None:
    order = [rule_set.reason for rule_set in RULE_SETS]
    for k, rule_set in enumerate(RULE_SETS):
        if rule_set.unless is not None:
            assert rule_set.unless in order[:k]


def test_a_disputed_charge_is_a_refund_when_the_money_is_wanted_back() -> None:
    assert triggers("Why was I billed twice this month?") == {
        "pricing_or_contract": "billed twice"}
    assert set(triggers("I was charged twice, please refund me")) == {"refund"}
