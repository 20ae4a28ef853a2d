"""The constitution's thresholds as a pure function: what each finding needs, and what not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from production.domain.ops_thresholds import ChannelFacts, Thresholds, evaluate
from production.services.digest_mail import mail_id, render

NOW = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DEFAULT = Thresholds()


def facts(messages_in: int = 10, escalations: int = 0, p95: float | None = 1.0,
          dead: int = 0) -> ChannelFacts:
    return ChannelFacts(messages_in=messages_in, escalations=escalations,
                        first_response_p95_s=p95, dead_letters=dead)


def kinds(channels: dict[str, ChannelFacts], oldest: datetime | None = None,
          limits: Thresholds = DEFAULT) -> list[tuple[str, str]]:
    found = evaluate(channels, oldest_draft_at=oldest, now=NOW, limits=limits, window=HOUR)
    return [(f.kind, f.channel) for f in found]


def test_quiet_facts_cross_nothing() -> None:
    assert kinds({"email": facts(escalations=2, p95=3.0), "whatsapp": facts(messages_in=0,
                                                                            p95=None)},
                 oldest=NOW - timedelta(hours=4)) == []


def test_each_threshold_is_crossed_just_above_it_and_per_channel() -> None:
    assert kinds({"email": facts(escalations=3), "web_form": facts(p95=3.01),
                  "whatsapp": facts(dead=1)}, oldest=NOW - timedelta(hours=4, seconds=1)) == [
        ("escalation_rate", "email"), ("first_response_p95", "web_form"),
        ("dead_letters", "whatsapp"), ("draft_age", "")]


def test_a_rate_or_a_percentile_needs_enough_messages_a_dead_letter_does_not() -> None:
    few = facts(messages_in=4, escalations=4, p95=30.0, dead=1)
    assert kinds({"email": few}) == [("dead_letters", "email")]
    assert kinds({"email": few}, limits=Thresholds(min_messages=4)) == [
        ("escalation_rate", "email"), ("first_response_p95", "email"), ("dead_letters", "email")]


def test_the_summary_says_what_was_seen_against_what() -> None:
    [finding] = evaluate({"email": facts(messages_in=8, escalations=4)}, oldest_draft_at=None,
                         now=NOW, limits=Thresholds(), window=timedelta(minutes=30))
    assert finding.summary == ("email: 50% of 8 messages escalated in the last 30 min "
                               "(threshold 25%)")
    assert (finding.severity, finding.value, finding.threshold) == ("critical", 0.5, 0.25)


def test_the_digest_mail_lists_the_days_alerts_and_has_one_id_per_tenant_and_day() -> None:
    subject, body = render("TechCorp", {
        "day": "2031-05-03", "timezone": "UTC", "autopilot_executed": {"send_reply": 3},
        "held": {}, "pending_proposals": 2,
        "alerts": [{"severity": "critical", "summary": "email: p95 first response 4.0 s",
                    "resolved_at": None}]})
    assert subject == "Daily digest 2031-05-03: TechCorp"
    assert "  - send_reply: 3" in body and "Held: none" in body
    assert "Drafts waiting for a person: 2" in body
    assert "[critical] email: p95 first response 4.0 s (OPEN)" in body
    day = NOW.date()
    assert mail_id("a", day) == mail_id("a", day) != mail_id("b", day)
