"""The constitution's alerting thresholds (section VII), as a pure function of the facts.

A finding is one (kind, channel) over its threshold; '' is the channel of a tenant-wide kind.
The same facts always give the same findings, so a check that runs twice records nothing twice
(the alert table keeps one open alert per kind and channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Kind = Literal["escalation_rate", "first_response_p95", "dead_letters", "draft_age"]
KINDS: tuple[Kind, ...] = ("escalation_rate", "first_response_p95", "dead_letters", "draft_age")


@dataclass(frozen=True)
class Thresholds:
    """Escalation rate > 25% and p95 first response > 3 s per channel, any dead letter, and a
    draft older than 4 hours in the inbox. A rate or a percentile needs `min_messages` inbound
    messages in the window: one escalated message of one is not a trend."""

    escalation_rate: float = 0.25
    first_response_p95_s: float = 3.0
    dead_letters: int = 0
    draft_age: timedelta = timedelta(hours=4)
    min_messages: int = 5


@dataclass(frozen=True)
class ChannelFacts:
    messages_in: int
    escalations: int
    first_response_p95_s: float | None
    dead_letters: int


@dataclass(frozen=True)
class Finding:
    kind: Kind
    channel: str
    severity: Literal["critical", "warning"]
    value: float
    threshold: float
    summary: str


def evaluate(channels: Mapping[str, ChannelFacts], *, oldest_draft_at: datetime | None,
             now: datetime, limits: Thresholds, window: timedelta) -> list[Finding]:
    """Return every threshold the facts cross at `now`, channel by channel."""
    found: list[Finding] = []
    span = _span(window)
    for channel, facts in sorted(channels.items()):
        enough = facts.messages_in >= limits.min_messages
        rate = facts.escalations / facts.messages_in if facts.messages_in else 0.0
        if enough and rate > limits.escalation_rate:
            found.append(Finding(
                "escalation_rate", channel, "critical", rate, limits.escalation_rate,
                f"{channel}: {rate:.0%} of {facts.messages_in} messages escalated in the last "
                f"{span} (threshold {limits.escalation_rate:.0%})"))
        p95 = facts.first_response_p95_s
        if enough and p95 is not None and p95 > limits.first_response_p95_s:
            found.append(Finding(
                "first_response_p95", channel, "critical", p95, limits.first_response_p95_s,
                f"{channel}: p95 first response {p95:.1f} s in the last {span} (threshold "
                f"{limits.first_response_p95_s:g} s)"))
        if facts.dead_letters > limits.dead_letters:
            found.append(Finding(
                "dead_letters", channel, "warning", float(facts.dead_letters),
                float(limits.dead_letters),
                f"{channel}: {facts.dead_letters} dead letter(s) in the last {span}"))
    if oldest_draft_at is not None:
        age = now - oldest_draft_at
        if age > limits.draft_age:
            hours = age.total_seconds() / 3600
            found.append(Finding(
                "draft_age", "", "warning", age.total_seconds(),
                limits.draft_age.total_seconds(),
                f"the oldest draft has waited {hours:.1f} h in the approval inbox (threshold "
                f"{limits.draft_age.total_seconds() / 3600:g} h)"))
    return found


def _span(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
