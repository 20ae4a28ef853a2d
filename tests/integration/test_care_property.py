"""The C.A.R.E. property, against the real PostgreSQL and the real executor: over random
settings and random sequences of events (customers writing, kill switches flipped, hands-off
and modes changed, escalations opened and closed, the scheduler releasing what is due), a reply
is released for delivery exactly when every gate holds at the moment it is decided.

The oracle below is written from the issue's list of gates, independently of
production/care/gates.py, and keeps its own count of what it has let through: if the executor
released one reply too many (a throttle miscounted, a switch read stale, a gate forgotten) or
held one it should have sent, the property fails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from production.care import decision
from production.config import CareSettings, Settings
from production.database.pool import Pool
from production.database.queries import admin, care_state
from production.domain.care.policy import ActionKind, ProposedAction, Topic
from production.services import scheduler
from tests.integration.care_world import (
    care_db,
    customer_writes,
    fate,
    new_tenant,
    submit,
    with_care,
)

MODES = ("assist", "approve", "autopilot", "schedules")
CUSTOMERS = 3

# What the customer's message leads the agent to propose, and whether the policy could ever let
# it run on its own (only a grounded answer in the customer's own thread can).
ACTIONS: dict[str, tuple[ProposedAction, bool]] = {
    "answer": (decision.reply_action(kb_grounded=True), True),
    "ungrounded": (decision.reply_action(kb_grounded=False), False),
    "refund": (ProposedAction(ActionKind.SEND_REPLY, in_reply_to_inbound=True, kb_grounded=True,
                              topics=frozenset({Topic.REFUND})), False),
    "unsolicited": (ProposedAction(ActionKind.OUTBOUND_MESSAGE, kb_grounded=True), False),
}


@dataclass(frozen=True)
class World:
    autonomy_enabled: bool
    shadow_mode: bool
    allowlisted: bool
    mode: str
    hands_off_new: bool
    max_per_customer: int
    daily_budget: int
    min_interval_s: int
    quiet: str  # "none", "now" (covering this moment) or "later"


# Mostly open, so that sequences often reach the later gates (policy, throttles).
mostly = st.sampled_from([True] * 7 + [False])
worlds = st.builds(
    World, autonomy_enabled=mostly, shadow_mode=mostly.map(lambda b: not b),
    allowlisted=mostly, mode=st.sampled_from((*MODES, "autopilot", "autopilot", "autopilot")),
    hands_off_new=mostly, max_per_customer=st.integers(0, 3), daily_budget=st.integers(0, 5),
    min_interval_s=st.sampled_from([0, 0, 3600]),
    quiet=st.sampled_from(["none", "none", "none", "now", "later"]),
)

# Writing is the event that matters: about half of all events, most of them answerable.
KINDS = ("write",) * 9 + ("tenant_kill", "global_kill", "hands_off", "escalate", "close", "mode",
                          "customer_mode", "release_due")
WRITTEN = ("answer", "answer", "answer", *sorted(ACTIONS))


@st.composite
def event(draw: st.DrawFn) -> tuple[Any, ...]:
    kind = draw(st.sampled_from(KINDS))
    who = draw(st.integers(0, CUSTOMERS - 1))
    if kind == "write":
        return (kind, who, draw(st.sampled_from(WRITTEN)))
    if kind in ("tenant_kill", "global_kill"):
        return (kind, draw(st.booleans()))
    if kind == "hands_off":
        return (kind, who, draw(st.booleans()))
    if kind in ("escalate", "close"):
        return (kind, who)
    if kind == "mode":
        return (kind, draw(st.sampled_from(MODES)))
    if kind == "customer_mode":
        return (kind, who, draw(st.sampled_from((None, *MODES))))
    return (kind,)


events = st.lists(event(), min_size=3, max_size=16)


@dataclass
class Model:
    """The oracle's view of the tenant: what the gates should see."""

    world: World
    tenant_kill: bool = False
    global_kill: bool = False
    mode: str = "assist"
    hands_off: dict[int, bool] = field(default_factory=dict)
    escalated: dict[int, bool] = field(default_factory=dict)
    customer_mode: dict[int, str | None] = field(default_factory=dict)
    executed: dict[int, int] = field(default_factory=dict)
    last_sent: dict[int, datetime] = field(default_factory=dict)

    def may_execute(self, who: int, action: str, now: datetime) -> bool:
        """Every gate of the issue, in plain words."""
        w = self.world
        mode = self.customer_mode.get(who) or self.mode
        if not (w.autonomy_enabled and not w.shadow_mode and not self.global_kill
                and not self.tenant_kill and w.allowlisted
                and self.hands_off.get(who, w.hands_off_new) and not self.escalated.get(who)):
            return False
        if not ACTIONS[action][1] or mode not in ("autopilot", "schedules"):
            return False
        if (self.executed.get(who, 0) >= w.max_per_customer
                or sum(self.executed.values()) >= w.daily_budget):
            return False
        paced = who in self.last_sent and now - self.last_sent[who] < timedelta(
            seconds=w.min_interval_s)
        return not paced and w.quiet != "now"


def _quiet_hours(kind: str, now: datetime) -> tuple[time, time] | None:
    if kind == "none":
        return None
    start = now + (timedelta(hours=-1) if kind == "now" else timedelta(hours=2))
    return (start.time().replace(second=0, microsecond=0),
            (start + timedelta(hours=2)).time().replace(second=0, microsecond=0))


db = care_db("property", max_size=4)


async def _apply(pool: Pool, tenant: str, people: list[Any], model: Model,
                 event: tuple[Any, ...], now: datetime) -> None:
    kind = event[0]
    async with pool.acquire() as conn:
        if kind == "tenant_kill":
            await conn.execute("UPDATE care_settings SET kill_switch = $2 WHERE tenant_id = $1",
                               tenant, event[1])
            model.tenant_kill = event[1]
        elif kind == "global_kill":
            await conn.execute("UPDATE care_global SET kill_switch = $1", event[1])
            model.global_kill = event[1]
        elif kind == "hands_off":
            await care_state.set_hands_off(conn, tenant, people[event[1]].customer_id, event[2],
                                           "operator:prop", now=now)
            model.hands_off[event[1]] = event[2]
        elif kind == "escalate":
            await care_state.open_escalation(conn, tenant, people[event[1]].customer_id,
                                             "human_request", "fte-agent", now=now)
            model.escalated[event[1]] = True
        elif kind == "close":
            await care_state.close_escalation(conn, tenant, people[event[1]].customer_id,
                                              "operator:prop", "handled", now=now)
            model.escalated[event[1]] = False
        elif kind == "mode":
            await conn.execute("UPDATE care_settings SET autonomy_mode = $2 WHERE tenant_id = $1",
                               tenant, event[1])
            model.mode = event[1]
        elif kind == "customer_mode":
            await admin.set_customer_mode(conn, tenant, people[event[1]].customer_id,
                                          mode=event[2], now=now)
            model.customer_mode[event[1]] = event[2]


@given(world=worlds, sequence=events)
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
async def test_a_reply_is_released_exactly_when_every_gate_holds(
    db: tuple[Settings, Pool], now: datetime, world: World, sequence: list[tuple[Any, ...]]
) -> None:
    # Every event happens at the one instant `now`: the day, the quiet hours and the pacing
    # are the ones the model reads, whatever the hour the suite runs at.
    base, pool = db
    tenant = await new_tenant(
        pool, mode=world.mode, hands_off_new=world.hands_off_new,
        max_per_customer=world.max_per_customer, daily_budget=world.daily_budget,
        min_interval_s=world.min_interval_s, quiet=_quiet_hours(world.quiet, now))
    ceiling = with_care(base, CareSettings(
        autonomy_enabled=world.autonomy_enabled, shadow_mode=world.shadow_mode,
        tenant_allowlist=[tenant] if world.allowlisted else []))
    async with pool.acquire() as conn:
        await conn.execute("UPDATE care_global SET kill_switch = false")
    emails = [f"p{i}.{uuid.uuid4().hex[:8]}@example.com" for i in range(CUSTOMERS)]
    people = [await customer_writes(pool, tenant, email=email, content="Hello there")
              for email in emails]
    model = Model(world, mode=world.mode)
    released: list[uuid.UUID] = []
    for event in sequence:
        if event[0] == "release_due":
            # Nothing deferred here comes due within the test (an hour's interval, quiet
            # hours of two hours): whatever the scheduler does, nothing may be released.
            await scheduler.release_due(pool=pool, settings=ceiling, now=now)
            continue
        if event[0] != "write":
            await _apply(pool, tenant, people, model, event, now)
            continue
        _, who, action = event
        inbound = await customer_writes(pool, tenant, email=emails[who])
        expected = model.may_execute(who, action, now)
        reply = await submit(pool, ceiling, inbound, now=now, action=ACTIONS[action][0])
        got = await fate(pool, tenant, reply)
        assert (got.status == "queued") is expected, (event, got.status, got.audit)
        assert got.released == (1 if expected else 0)
        if expected:
            model.executed[who] = model.executed.get(who, 0) + 1
            model.last_sent[who] = now
            released.append(reply)
        else:
            assert got.status in ("pending_approval", "deferred")
            assert got.audit[-1]["event_type"] in ("would_execute_action", "blocked_action")
    async with pool.acquire() as conn:
        announced = await conn.fetch(
            "SELECT (payload->'data'->>'message_id')::uuid AS id FROM outbox "
            "WHERE tenant_id = $1", tenant)
        await conn.execute("UPDATE care_global SET kill_switch = false")
    assert sorted(r["id"] for r in announced) == sorted(released)
