"""The trigger registry: pure functions over a customer's facts that say what deserves a look.

Each trigger has a name, a version (bumped when its rule changes, stored with every firing) and
a cooldown (after it fired for a customer, it stays quiet for them that long), and a function
`(facts, now) -> Firing | list[Firing] | None`. Its `window_key` names what it fired about, so a
rerun, a signal and the sweep, or a second scheduler replica all produce the same key and the
database's unique key (migration 016) stores it once:

* stalled_ticket: SLA due times per priority (first response, next response, resolution), as
  Chatwoot's SLA engine keys them: "ticket:<id>:first_response", "ticket:<id>:resolution",
  "ticket:<id>:next_response:<epoch of the customer's message>": each miss fires once;
* promise_not_kept: an open follow-up task past its due ("task:<id>"), or our last reply
  promised a follow-up and nothing was sent since, well after ("reply:<message id>");
* sentiment_falling: the last few scored messages fall, each no better than the one before,
  by at least the rules' drop ("message:<newest id>");
* repeat_contact: the third message on one topic within the window ("topic:<t>:<third id>");
* churn_risk: the churn band reaches the rules' band from a lower one ("band:high:<day>");
* silence: the customer moved to at_risk or dormant ("<state>:<instant of the move>");
* reactivated: a dormant or lost customer wrote again ("reactivated:<instant>");
* duplicate_customer: an open merge candidate for a person to merge or dismiss
  ("candidate:<merge id>");
* sales_signal: a pricing or contract question, routed to a person, never answered by the FTE
  ("message:<id>").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import pairwise
from typing import Any

from production.domain.proactive import predictions
from production.domain.proactive.facts import CustomerFacts, InboundFacts, TicketFacts
from production.domain.proactive.firing import Firing, TriggerName

Outcome = Firing | list[Firing] | None
Evaluate = Callable[[CustomerFacts, datetime], Outcome]

_HOURS = timedelta(hours=1)


def _per_priority(urgent: float, high: float, medium: float, low: float) -> dict[str, timedelta]:
    return {"urgent": urgent * _HOURS, "high": high * _HOURS, "medium": medium * _HOURS,
            "low": low * _HOURS}


@dataclass(frozen=True)
class TriggerRules:
    """The triggers' thresholds (the settings' FTE_PROACTIVE_* build these)."""

    first_response: Mapping[str, timedelta] = field(
        default_factory=lambda: _per_priority(1, 4, 8, 24))
    next_response: Mapping[str, timedelta] = field(
        default_factory=lambda: _per_priority(2, 8, 24, 48))
    resolution: Mapping[str, timedelta] = field(
        default_factory=lambda: _per_priority(24, 72, 120, 240))
    task_due_after: timedelta = timedelta(days=3)  # a follow-up task without a due time
    promise_within: timedelta = timedelta(days=2)  # a reply's "we will get back to you"
    sentiment_messages: int = 3
    sentiment_drop: float = 0.25
    repeat_count: int = 3
    repeat_within: timedelta = timedelta(days=14)
    churn_band: str = "high"
    transition_within: timedelta = timedelta(days=7)  # silence / reactivated: recent moves
    sales_within: timedelta = timedelta(days=7)

    def due(self, table: Mapping[str, timedelta], priority: str) -> timedelta:
        return table.get(priority, table["medium"])


@dataclass(frozen=True)
class Trigger:
    name: TriggerName
    version: int
    cooldown: timedelta
    evaluate: Evaluate


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def span(delta: timedelta) -> str:
    """Return a duration as people say it: "45 min", "5 h", "3 days"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _firing(name: TriggerName, facts: CustomerFacts, window: str, reason: str,
            seen: dict[str, Any]) -> Firing:
    return Firing(trigger=name, version=VERSIONS[name], customer_id=facts.customer_id,
                  window_key=window, reason=reason, facts=seen)


def sla_events(rules: TriggerRules, ticket: TicketFacts) -> list[tuple[str, datetime]]:
    """Return the ticket's SLA events still unmet, each with its due instant."""
    events: list[tuple[str, datetime]] = []
    priority = ticket.priority
    if ticket.first_response_at is None:
        events.append(("first_response",
                       ticket.created_at + rules.due(rules.first_response, priority)))
    elif (ticket.status != "waiting_customer" and ticket.last_customer_at is not None
          and ticket.last_customer_at > ticket.first_response_at
          and (ticket.last_response_at is None
               or ticket.last_response_at < ticket.last_customer_at)):
        events.append((f"next_response:{int(ticket.last_customer_at.timestamp())}",
                       ticket.last_customer_at + rules.due(rules.next_response, priority)))
    events.append(("resolution", ticket.created_at + rules.due(rules.resolution, priority)))
    return events


def stalled_ticket(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    out = []
    for ticket in facts.tickets:
        for event, due in sla_events(rules, ticket):
            if due > now:
                continue
            kind = event.partition(":")[0]
            out.append(_firing(
                TriggerName.STALLED_TICKET, facts, f"ticket:{ticket.ticket_id}:{event}",
                f"{kind.replace('_', ' ')} on {ticket.number} was due {span(now - due)} ago "
                f"(priority {ticket.priority})",
                {"ticket_id": str(ticket.ticket_id), "ticket": ticket.number, "sla": kind,
                 "priority": ticket.priority, "status": ticket.status, "due_at": _iso(due),
                 "created_at": _iso(ticket.created_at)}))
    return out


# "We will get back to you", "a teammate will follow up", "I'll let you know", in the replies
# the FTE and people send (the escalation holding replies and the apologies among them).
_PROMISE = re.compile(
    r"\b(?:will|'ll|shall|going to)\s+(?:\w+\s+){0,2}?(?:get back|follow up|reply|respond|"
    r"be in touch|contact you|reach out|come back|update you|let you know|call you|email you)"
    r"|\b(?:has|have) been notified\b|\bwe(?:'re| are) looking into (?:it|this)\b",
    re.IGNORECASE)


def promises_follow_up(text: str) -> bool:
    """Return True when a reply says someone will come back to the customer."""
    return _PROMISE.search(text) is not None


def promise_not_kept(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    out = []
    for task in facts.tasks:
        due = task.due_at or task.created_at + rules.task_due_after
        if due <= now:
            out.append(_firing(
                TriggerName.PROMISE_NOT_KEPT, facts, f"task:{task.task_id}",
                f"follow-up task “{task.title}” was due {span(now - due)} ago and is still open",
                {"task_id": str(task.task_id), "title": task.title, "due_at": _iso(due)}))
    reply = facts.last_reply
    if (reply is not None and reply.at + rules.promise_within <= now
            and promises_follow_up(reply.text)):
        who = "the FTE" if reply.role == "agent" else "a person"
        out.append(_firing(
            TriggerName.PROMISE_NOT_KEPT, facts, f"reply:{reply.message_id}",
            f"{who} promised a follow-up {span(now - reply.at)} ago and nothing was sent since",
            {"message_id": str(reply.message_id), "sent_at": _iso(reply.at), "role": reply.role}))
    return out


def sentiment_falling(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    scored = [m for m in facts.recent if m.sentiment is not None][-rules.sentiment_messages:]
    if len(scored) < max(2, rules.sentiment_messages):
        return None
    values = [m.sentiment for m in scored if m.sentiment is not None]
    falling = all(later <= earlier for earlier, later in pairwise(values))
    if not falling or values[0] - values[-1] < rules.sentiment_drop:
        return None
    return _firing(TriggerName.SENTIMENT_FALLING, facts, f"message:{scored[-1].message_id}",
                   f"sentiment fell from {values[0]:.2f} to {values[-1]:.2f} over the last "
                   f"{len(values)} messages",
                   {"sentiments": [round(v, 3) for v in values],
                    "message_ids": [str(m.message_id) for m in scored]})


def repeat_contact(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    by_topic: dict[str, list[InboundFacts]] = defaultdict(list)
    for message in facts.recent:
        if message.topic and message.at > now - rules.repeat_within:
            by_topic[message.topic].append(message)
    out = []
    for topic, messages in sorted(by_topic.items()):
        if len(messages) >= rules.repeat_count:
            nth = messages[rules.repeat_count - 1]
            out.append(_firing(
                TriggerName.REPEAT_CONTACT, facts, f"topic:{topic}:{nth.message_id}",
                f"{len(messages)} messages about “{topic}” within {span(rules.repeat_within)}",
                {"topic": topic, "messages": len(messages),
                 "message_ids": [str(m.message_id) for m in messages]}))
    return out


def churn_risk(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    prediction = predictions.predict(facts, now)
    order = predictions.CHURN_BANDS
    if order.index(prediction.churn_band) < order.index(rules.churn_band):
        return None
    before = facts.prior.churn_band if facts.prior is not None else None
    if before is not None and order.index(before) >= order.index(rules.churn_band):
        return None  # already there: it crossed before
    return _firing(TriggerName.CHURN_RISK, facts,
                   f"band:{prediction.churn_band}:{now.date().isoformat()}",
                   f"churn risk {prediction.churn_risk:.0%} is now {prediction.churn_band}"
                   + (f" (was {before})" if before else ""),
                   {"churn_risk": round(prediction.churn_risk, 3),
                    "band": prediction.churn_band, "before": before})


def _recent_move(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> bool:
    moved = facts.state_changed_at
    return moved is not None and now - rules.transition_within <= moved <= now


def silence(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    if facts.care_state not in ("at_risk", "dormant") or not _recent_move(rules, facts, now):
        return None
    assert facts.state_changed_at is not None
    quiet = ("no message yet" if facts.last_inbound_at is None
             else f"no message for {span(now - facts.last_inbound_at)}")
    return _firing(TriggerName.SILENCE, facts,
                   f"{facts.care_state}:{facts.state_changed_at.isoformat()}",
                   f"{quiet}: now {facts.care_state.replace('_', ' ')}",
                   {"state": facts.care_state, "from": facts.state_from,
                    "moved_at": _iso(facts.state_changed_at),
                    "last_inbound_at": _iso(facts.last_inbound_at)})


def reactivated(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    if facts.care_state != "reactivated" or not _recent_move(rules, facts, now):
        return None
    assert facts.state_changed_at is not None
    return _firing(TriggerName.REACTIVATED, facts,
                   f"reactivated:{facts.state_changed_at.isoformat()}",
                   f"wrote again after being {facts.state_from or 'away'}",
                   {"from": facts.state_from, "moved_at": _iso(facts.state_changed_at)})


def duplicate_customer(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    return [_firing(TriggerName.DUPLICATE_CUSTOMER, facts, f"candidate:{c.merge_id}",
                    f"may be the same person as another customer: {c.reason}",
                    {"merge_id": str(c.merge_id), "other_customer_id": str(c.other_id),
                     "since": _iso(c.created_at)})
            for c in facts.candidates]


def sales_signal(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> Outcome:
    return [_firing(TriggerName.SALES_SIGNAL, facts, f"message:{m.message_id}",
                    "asked about pricing or a contract: a person answers, never the FTE",
                    {"message_id": str(m.message_id), "at": _iso(m.at)})
            for m in facts.recent
            if m.sales_question and now - rules.sales_within <= m.at <= now]


VERSIONS: Mapping[TriggerName, int] = {name: 1 for name in TriggerName}
_RULES: Sequence[tuple[TriggerName, timedelta,
                       Callable[[TriggerRules, CustomerFacts, datetime], Outcome]]] = (
    (TriggerName.STALLED_TICKET, timedelta(0), stalled_ticket),
    (TriggerName.PROMISE_NOT_KEPT, timedelta(0), promise_not_kept),
    (TriggerName.SENTIMENT_FALLING, timedelta(days=3), sentiment_falling),
    (TriggerName.REPEAT_CONTACT, timedelta(days=7), repeat_contact),
    (TriggerName.CHURN_RISK, timedelta(days=7), churn_risk),
    (TriggerName.SILENCE, timedelta(0), silence),
    (TriggerName.REACTIVATED, timedelta(0), reactivated),
    (TriggerName.DUPLICATE_CUSTOMER, timedelta(0), duplicate_customer),
    (TriggerName.SALES_SIGNAL, timedelta(0), sales_signal),
)


def registry(rules: TriggerRules | None = None) -> tuple[Trigger, ...]:
    """Return every trigger, bound to `rules` (the defaults when None)."""
    bound = rules or TriggerRules()
    return tuple(Trigger(name=name, version=VERSIONS[name], cooldown=cooldown,
                         evaluate=partial(rule, bound))
                 for name, cooldown, rule in _RULES)


def fire(triggers: Sequence[Trigger], facts: CustomerFacts, now: datetime) -> list[Firing]:
    """Run every trigger over the facts at `now`; a trigger still in its cooldown for the
    customer (it fired less than `cooldown` before `now`) stays quiet."""
    out: list[Firing] = []
    for trigger in triggers:
        last = facts.last_fired.get(str(trigger.name))
        if last is not None and trigger.cooldown and now - last < trigger.cooldown:
            continue
        found = trigger.evaluate(facts, now)
        if isinstance(found, Firing):
            out.append(found)
        elif found:
            out.extend(found)
    return out


def upcoming(rules: TriggerRules, facts: CustomerFacts, now: datetime) -> datetime | None:
    """Return the next instant after `now` at which a time-based trigger would fire with these
    very facts (an SLA or a follow-up coming due), or None when none will."""
    dues = [due for ticket in facts.tickets for _, due in sla_events(rules, ticket)]
    dues += [task.due_at or task.created_at + rules.task_due_after for task in facts.tasks]
    if facts.last_reply is not None and promises_follow_up(facts.last_reply.text):
        dues.append(facts.last_reply.at + rules.promise_within)
    future = [due for due in dues if due > now]
    return min(future) if future else None
