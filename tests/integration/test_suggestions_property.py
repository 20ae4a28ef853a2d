"""The suggestions' safety property, against the real PostgreSQL, the real pipeline and the real
executor: over random worlds (the environment's ceiling, both kill switches, the allowlist,
hands-off, an open escalation, the autonomy mode), random triggers and a person who approves or
not, nothing reaches a customer unless a person approved it AND every C.A.R.E. gate held; and
autopilot runs an action on its own only when it is internal and every gate held.

The oracle is written from the issue's list of gates, independently of care/gates.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from production.care.suggestion_executor import SuggestionConflict
from production.config import CareSettings, Settings
from production.database.pool import Pool
from production.services.suggestions import review
from tests.integration.care_world import care_db, new_tenant, set_care, with_care
from tests.integration.suggestion_world import (
    customer_with_ticket,
    fire,
    run,
    sent_to,
    suggestions_of,
    tasks_of,
)

db = care_db("suggestions_property")
MODES = ("assist", "approve", "autopilot", "schedules")
# trigger -> (facts, the action the local proposer takes)
TRIGGERS = {
    "churn_risk": ({"probability": 0.7}, "outbound_message"),
    "silence": ({"state": "dormant"}, "outbound_message"),
    "stalled_ticket": (None, "follow_up_task"),
    "sentiment_falling": ({}, "internal_note"),
    "repeat_contact": ({"topic": "exports"}, "draft"),
    "sales_signal": ({}, "follow_up_task"),  # pricing: humans only
}
INTERNAL = {"follow_up_task", "internal_note", "draft"}


@dataclass(frozen=True)
class World:
    autonomy_enabled: bool
    shadow_mode: bool
    allowlisted: bool
    global_kill: bool
    tenant_kill: bool
    hands_off: bool
    escalation_open: bool
    mode: str
    trigger: str
    person_approves: bool

    def gates_hold(self) -> bool:
        """Every C.A.R.E. gate but the policy, in the issue's words."""
        return (self.autonomy_enabled and not self.shadow_mode and self.allowlisted
                and not self.global_kill and not self.tenant_kill and self.hands_off
                and not self.escalation_open)


mostly = st.sampled_from([True] * 5 + [False])
worlds = st.builds(
    World, autonomy_enabled=mostly, shadow_mode=mostly.map(lambda b: not b), allowlisted=mostly,
    global_kill=mostly.map(lambda b: not b), tenant_kill=mostly.map(lambda b: not b),
    hands_off=mostly, escalation_open=mostly.map(lambda b: not b),
    mode=st.sampled_from(MODES), trigger=st.sampled_from(sorted(TRIGGERS)),
    person_approves=st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(world=worlds)
async def test_nothing_reaches_a_customer_without_a_person_and_every_gate(
        db: tuple[Settings, Pool], now: datetime, world: World) -> None:
    base, pool = db
    tenant = await new_tenant(pool, mode=world.mode, hands_off_new=world.hands_off,
                              kill_switch=world.tenant_kill)
    acting = with_care(base, CareSettings(
        autonomy_enabled=world.autonomy_enabled, shadow_mode=world.shadow_mode,
        tenant_allowlist=[tenant] if world.allowlisted else []))
    who = await customer_with_ticket(pool, tenant)
    if world.escalation_open:
        await set_care(pool, tenant, who.customer_id, hands_off_enabled=world.hands_off,
                       escalation_status="open")
    async with pool.acquire() as conn:
        await conn.execute("UPDATE care_global SET kill_switch = $1", world.global_kill)
    try:
        facts, action = TRIGGERS[world.trigger]
        await fire(pool, who, now=now, trigger=world.trigger, facts=facts)
        await run(pool, acting, now=now)
        [suggestion] = await suggestions_of(pool, tenant)
        assert suggestion["action"] == action
        assert await sent_to(pool, tenant) == []  # the pipeline alone never contacts anyone

        autopilot = world.mode in ("autopilot", "schedules")
        ran_alone = suggestion["status"] == "executed"
        assert ran_alone == (action in INTERNAL and world.trigger != "sales_signal"
                             and autopilot and world.gates_hold())
        assert bool(await tasks_of(pool, tenant)) == ran_alone

        approved = False
        if world.person_approves and not ran_alone:
            try:
                await review.approve(pool=pool, settings=acting, tenant_id=tenant,
                                     suggestion_id=suggestion["id"], operator="ada", now=now)
                approved = True
            except SuggestionConflict:
                pass
        sent = await sent_to(pool, tenant)
        reached = bool(sent)
        assert reached == (action == "outbound_message" and world.person_approves
                           and world.gates_hold())
        if reached:
            [message] = sent
            assert message["metadata"]["approved_by"] == "operator:ada"
            assert message["released"] == 1 and message["status"] == "queued"
        # A person's approval of an internal action is theirs: it runs whatever the gates say.
        if world.person_approves and not ran_alone and action != "outbound_message":
            assert approved
    finally:
        async with pool.acquire() as conn:
            await conn.execute("UPDATE care_global SET kill_switch = false")
