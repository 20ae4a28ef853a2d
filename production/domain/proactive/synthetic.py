"""Synthetic customer histories with a known outcome, to judge the predictions honestly
(`fte eval-predictions`, specs/predictions.md).

The generating process is seeded and deliberately not the scorer's rules: it runs on hidden
traits the scorer never sees, with another functional form and noise of its own. For each
customer:

1. Two hidden traits: satisfaction s ~ Beta(2.0, 1.4) (most are content, a tail is not) and
   support activity a ~ LogNormal(0, 0.7).
2. The outcome is drawn first, from the traits and chance: over the next 60 days the customer
   churns with probability 1 - exp(-1.4·h), h = 0.03 + 0.85·(1 - s)³ + 0.6·shock, where a
   budget shock (probability 0.08) is invisible in any history. Engagement (answering the next
   message we send) is drawn with probability 0.08 + 0.8·s²·min(1, 0.5 + a/2).
3. A churner who is not leaving for budget reasons shows it in the last three weeks, either
   fading (probability 0.55: writes a quarter as often, answers us less) or loud (writes 1.8
   times as often, angrier, with an escalation more likely).
4. Ninety days of history before `now`: messages arrive as a Poisson process of weekly rate
   a·(0.3 + 0.9·(1 - s)); each message's sentiment is Beta with mean 0.2 + 0.6·s (0.12 lower
   for the loud) and concentration 8; a third of them open a ticket, resolved after
   Gamma(2, 1.2/(0.25 + s)) days, or still open if that is after `now`; topics come from six,
   a dissatisfied customer repeating theirs more often.
5. We answer every message; the customer answers a reply within a week with probability
   0.12 + 0.7·s^1.5 (halved when fading). Rejected proposals and negative responses:
   Poisson(0.7·(1 - s)²), plus one for the loud. An escalation is open with probability
   0.4·(1 - s)² (+0.3 when loud).

The scorer sees only what a real customer's facts would hold (messages, tickets, replies,
outcomes, the escalation flag), never s, a, the shock or the outcome.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from production.domain.proactive.facts import CustomerFacts, InboundFacts, TicketFacts

TOPICS = ("billing", "sync", "integrations", "exports", "permissions", "notifications")
HISTORY_DAYS = 90


@dataclass(frozen=True)
class SyntheticCustomer:
    facts: CustomerFacts
    churned: bool  # left within 60 days of `now`
    engaged: bool  # answered the next message we sent


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the means here are small.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _customer(rng: random.Random, tenant_id: str, now: datetime) -> SyntheticCustomer:
    s = rng.betavariate(2.0, 1.4)
    a = rng.lognormvariate(0.0, 0.7)
    shock = rng.random() < 0.08
    hazard = 0.03 + 0.85 * (1 - s) ** 3 + 0.6 * shock
    churned = rng.random() < 1 - math.exp(-1.4 * hazard)
    engaged = rng.random() < 0.08 + 0.8 * s * s * min(1.0, 0.5 + a / 2)
    fading = loud = False
    if churned and not shock:
        fading = rng.random() < 0.55
        loud = not fading
    weekly = a * (0.3 + 0.9 * (1 - s))
    own_topic = rng.choice(TOPICS)
    times: list[float] = []  # days before now, the oldest first
    day = float(HISTORY_DAYS)
    while True:
        rate = weekly / 7 * ((0.25 if fading else 1.8 if loud else 1.0) if day <= 21 else 1.0)
        day -= rng.expovariate(max(rate, 1e-6))
        if day <= 0:
            break
        times.append(day)
    messages = []
    tickets: list[TicketFacts] = []
    answered = replies = 0
    for ago in times:
        at = now - timedelta(days=ago)
        mean = max(0.03, min(0.97, 0.2 + 0.6 * s - (0.12 if loud and ago <= 21 else 0.0)))
        sentiment = rng.betavariate(mean * 8, (1 - mean) * 8)
        topic = own_topic if rng.random() < 0.3 + 0.5 * (1 - s) else rng.choice(TOPICS)
        messages.append(InboundFacts(message_id=_uuid(rng), at=at, sentiment=sentiment,
                                     topic=topic, sales_question=rng.random() < 0.03))
        if rng.random() < 1 / 3:
            wait = rng.gammavariate(2.0, 1.2 / (0.25 + s))
            if wait > ago:
                tickets.append(TicketFacts(ticket_id=_uuid(rng), number=f"TKT-{len(tickets)}",
                                           priority=rng.choice(("low", "medium", "high")),
                                           status="open", created_at=at,
                                           first_response_at=at + timedelta(minutes=5)))
        if ago >= 7 or rng.random() < 0.5:  # a reply of the last week may not be due yet
            replies += 1
            answer = 0.12 + 0.7 * s ** 1.5
            answered += rng.random() < (answer / 2 if fading and ago <= 21 else answer)
    last = now - timedelta(days=times[-1]) if times else None
    silent = (now - last).days if last is not None else HISTORY_DAYS
    state = "dormant" if silent > 45 else "at_risk" if silent > 14 else "active"
    facts = CustomerFacts(
        tenant_id=tenant_id, customer_id=_uuid(rng),
        created_at=now - timedelta(days=HISTORY_DAYS + rng.randint(0, 600)),
        care_state=state,
        escalation_open=rng.random() < 0.4 * (1 - s) ** 2 + (0.3 if loud else 0.0),
        last_inbound_at=last,
        inbound_30d=sum(1 for ago in times if ago <= 30),
        inbound_prev_30d=sum(1 for ago in times if 30 < ago <= 60),
        replies_90d=replies, replies_answered_90d=answered,
        negative_outcomes_90d=_poisson(rng, 0.7 * (1 - s) ** 2) + (1 if loud else 0),
        recent=tuple(m for m in messages if now - m.at <= timedelta(days=30))[-10:],
        tickets=tuple(tickets))
    return SyntheticCustomer(facts=facts, churned=churned, engaged=engaged)


def generate(count: int, *, seed: int, now: datetime,
             tenant_id: str = "synthetic") -> list[SyntheticCustomer]:
    """Return `count` customers' histories up to `now` and their outcomes; the same seed gives
    the same customers."""
    rng = random.Random(seed)
    return [_customer(rng, tenant_id, now) for _ in range(count)]
