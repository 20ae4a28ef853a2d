"""The executor: the only code path that releases anything to a customer or changes CRM state
on the FTE's own initiative.

Before every action it reads every fact fresh (database/queries/care_gate.py: both kill switches,
the tenant's mode and throttles, the customer's hands-off consent, open escalation and mode),
asks AutoApprovalPolicyV1 what the mode allows, and lets `gates.evaluate` decide (the verdict:
care/decision.py):

* EXECUTE: the reply is `queued` with an outbox event for the dispatcher and an
  `executed_action` audit row, in the caller's transaction;
* DEFER (quiet hours, the minimum interval): the reply is `deferred` until the time the
  throttle names, and the scheduler asks the executor again then (`release_deferred`);
* HOLD (any other gate): the reply is a draft (`pending_approval`) in the approval inbox with
  the policy's decision, and the audit row says which gate held it (`blocked_action` when the
  policy reserves the action for people, `would_execute_action` otherwise).

Pacing is counted only for an action that passed every other gate, under the tenant's
advisory lock (care_throttle.lock_tenant), so two workers never both spend the same allowance.
A person's approval in the inbox is not autonomy: `release_approved` sends it whatever the
mode, the kill switches or the throttles say, and records who approved it.

One clock per decision: every entry point takes the caller's `now` (production/clock.py is
read by the entrypoints only). Pacing counts the local day of that instant, quiet hours read
it, and every row written here (audit, proposal, task, the reply itself) carries it, so the
tenant's daily counter (migration 011's trigger, keyed on the audit row's created_at) counts
the very day the decision was made for.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from production.care import gates
from production.care.decision import Verdict, action_json, action_of, decide, gate_facts, mode_of
from production.config import CareSettings, Settings
from production.database.pool import Connection
from production.database.queries import (
    admin,
    care_gate,
    care_schedule,
    care_state,
    inbox,
    outbox,
    replies,
)
from production.database.queries.inbox import StoredDraft
from production.database.queries.messages import LockedInbound, OutboundReply
from production.database.queries.replies import (
    AuditRecord,
    DeferredReply,
    OutboxRecord,
    ReplyRecord,
)
from production.domain.care.policy import ActionKind, Decision, PolicyDecision, ProposedAction
from production.domain.care.state_engine import Signal, SignalKind, Transition
from production.domain.messages import OutboundNotice, encode_event
from production.metrics import FIRST_RESPONSE, GATE_DECISIONS, REPLIES

log = structlog.get_logger(__name__)

ACTOR = "fte-agent"

_REPLY_STATUS = {"EXECUTE": "queued", "DEFER": "deferred", "HOLD": "pending_approval"}


def _counted(verdict: Verdict) -> None:
    outcome = {"EXECUTE": "executed", "DEFER": "deferred", "HOLD": "held"}[verdict.gate.verdict]
    GATE_DECISIONS.labels(outcome, verdict.gate.clause).inc()


async def submit_reply(*, conn: Connection, settings: Settings, tenant_id: str,
                       inbound: LockedInbound, reply: ReplyRecord, action: ProposedAction,
                       now: datetime) -> UUID | None:
    """Store the reply, then release, defer or hold it as the gates say (in the caller's
    transaction). `inbound` is the locked inbound row; returns the reply id, or None when the
    message already had a reply (nothing is written then)."""
    verdict = await decide(conn=conn, settings=settings, tenant_id=tenant_id,
                           customer_id=inbound.customer_id, action=action, now=now)
    audit = AuditRecord(
        event_type=verdict.event_type, reason=verdict.gate.reason, clause=verdict.gate.clause,
        payload={"action": action.kind, "kind": reply.kind, "channel": inbound.channel,
                 "content": reply.content, "decision": verdict.as_json()},
    )
    release = None
    if verdict.executes:
        # The reply's id is filled in by the database; the placeholder only shapes the event.
        notice = OutboundNotice(tenant_id=tenant_id, message_id=UUID(int=0),
                                channel=inbound.channel)
        release = OutboxRecord(topic=settings.kafka.topic_outgoing,
                               key=str(inbound.customer_id),
                               event=encode_event("outbound_message", notice))
    status = _REPLY_STATUS[verdict.gate.verdict]
    reply_id = await replies.store_reply(conn, tenant_id, inbound.id,
                                         replace(reply, status=status), audit, release, now=now)
    if reply_id is None:
        return None
    if verdict.gate.verdict == "DEFER":
        assert verdict.gate.not_before is not None
        await replies.defer(conn, tenant_id, reply_id, until=verdict.gate.not_before,
                            action=action_json(action))
    elif verdict.gate.verdict == "HOLD":
        await inbox.propose(conn, tenant_id, customer_id=inbound.customer_id,
                            message_id=reply_id, action=action.kind,
                            draft=reply.content, decision=verdict.as_json(), now=now)
    _counted(verdict)
    channel = inbound.channel
    REPLIES.labels(channel, reply.kind, verdict.gate.verdict.lower()).inc()
    FIRST_RESPONSE.labels(channel, "stored").observe(
        max(0.0, (now - inbound.created_at).total_seconds()))
    return reply_id


async def release_deferred(*, conn: Connection, settings: Settings, deferred: DeferredReply,
                           now: datetime) -> str:
    """Ask the gates again for a deferred reply whose time has come (`deferred` is its locked
    row, replies.claim_deferred); return its new status: queued, deferred or pending_approval.
    """
    tenant_id = deferred.tenant_id
    action = action_of(deferred.action)
    verdict = await decide(conn=conn, settings=settings, tenant_id=tenant_id,
                           customer_id=deferred.customer_id, action=action, now=now)
    status = _REPLY_STATUS[verdict.gate.verdict]
    await replies.set_released_status(conn, tenant_id, deferred.id, status=status,
                                      deferred_until=verdict.gate.not_before)
    if verdict.executes:
        await outbox.enqueue_delivery(conn, tenant_id, message_id=deferred.id,
                                      channel=deferred.channel,
                                      customer_id=deferred.customer_id,
                                      topic=settings.kafka.topic_outgoing)
    elif verdict.gate.verdict == "HOLD":
        await _propose(conn, tenant_id, message_id=deferred.id, customer_id=deferred.customer_id,
                       draft=deferred.content, action=action.kind, verdict=verdict, now=now)
    await _audit(conn, tenant_id, verdict, actor=ACTOR, message_id=deferred.id, now=now,
                 payload={"action": action.kind, "kind": deferred.kind,
                          "channel": deferred.channel, "content": deferred.content,
                          "deferred": True})
    _counted(verdict)
    return status


async def release_approved(*, conn: Connection, settings: Settings, tenant_id: str,
                           draft: StoredDraft,
                           actor: str, content: str, proposal_id: UUID, edited: bool,
                           now: datetime) -> None:
    """Send a held draft a person approved (`draft` is its locked row), in the caller's
    transaction: queued with its final content, announced to the dispatcher, and audited as an
    `executed_action` of that person (clause INBOX.approved)."""
    await inbox.release_draft(conn, tenant_id, draft.id, content=content, approved_by=actor,
                              proposal_id=proposal_id)
    await outbox.enqueue_delivery(conn, tenant_id, message_id=draft.id,
                                  channel=draft.channel, customer_id=draft.customer_id,
                                  topic=settings.kafka.topic_outgoing)
    await admin.append_audit(
        conn, tenant_id, event_type="executed_action", actor=actor,
        reason=f"{'edited and ' if edited else ''}approved by {actor}", clause="INBOX.approved",
        customer_id=draft.customer_id, message_id=draft.id,
        payload={"action": str(ActionKind.SEND_REPLY), "proposal_id": str(proposal_id),
                 "channel": draft.channel, "content": content, "edited": edited},
        now=now)
    GATE_DECISIONS.labels("approved", "INBOX.approved").inc()


async def hold_before_send(*, conn: Connection, care: CareSettings, tenant_id: str,
                           reply: OutboundReply, now: datetime) -> gates.GateOutcome | None:
    """The last look before an autonomous reply leaves (`reply` is its locked, queued row,
    messages.get_outbound): a kill switch engaged, consent withdrawn or an escalation opened
    since it was released stops it here, in the dispatcher, even when it was queued or parked
    for a retry before. It goes back to the approval inbox as a draft; return the gate that held
    it, or None to send. A reply a person approved is theirs: it is not looked at again."""
    if reply.metadata.get("approved_by"):
        return None
    row = await care_gate.facts(conn, tenant_id, reply.customer_id)
    released = PolicyDecision(
        Decision.AUTO_EXECUTE, "RELEASED", "PR7.all_gates",
        "every gate held when the reply was written; one no longer holds before it is sent")
    outcome = gates.evaluate(gate_facts(care, tenant_id, row, released))
    if outcome.executes:
        return None
    verdict = Verdict(outcome, released, mode_of(row), row.live)
    await replies.hold_queued(conn, tenant_id, reply.id)
    await _propose(conn, tenant_id, message_id=reply.id, customer_id=reply.customer_id,
                   draft=reply.content, action=ActionKind.SEND_REPLY, verdict=verdict, now=now)
    await _audit(conn, tenant_id, verdict, actor=ACTOR, message_id=reply.id, now=now,
                 payload={"action": str(ActionKind.SEND_REPLY), "channel": reply.channel,
                          "content": reply.content, "before_send": True})
    _counted(verdict)
    log.warning("reply_held_before_send", clause=outcome.clause, message_id=str(reply.id))
    return outcome


async def _propose(conn: Connection, tenant_id: str, *, message_id: UUID, customer_id: UUID,
                   draft: str, action: str, verdict: Verdict, now: datetime) -> None:
    """Put a stored reply the gates held (a deferred or a queued one) in the approval inbox."""
    await inbox.propose(conn, tenant_id, customer_id=customer_id, message_id=message_id,
                        action=str(action), draft=draft, decision=verdict.as_json(), now=now)


async def _audit(conn: Connection, tenant_id: str, verdict: Verdict, *, actor: str,
                 payload: dict[str, Any], now: datetime,
                 message_id: UUID | None = None) -> None:
    await admin.append_audit(
        conn, tenant_id, event_type=verdict.event_type, actor=actor,
        reason=verdict.gate.reason, clause=verdict.gate.clause, customer_id=verdict.customer_id,
        message_id=message_id, payload={**payload, "decision": verdict.as_json()}, now=now)


async def track_inbound(*, conn: Connection, settings: Settings, tenant_id: str,
                        customer_id: UUID, at: datetime, explicit_rejection: bool,
                        now: datetime) -> None:
    """Move the customer's C.A.R.E. state for an inbound message received `at` (the state
    engine's rules), recorded at `now`; the signal itself is always recorded, since silence is
    measured from it."""
    signal = Signal(SignalKind.INBOUND_MESSAGE, explicit_rejection=explicit_rejection)
    transition = await care_state.propose_transition(conn, tenant_id, customer_id, signal,
                                                     now=at)
    if not await _move(conn=conn, settings=settings, tenant_id=tenant_id, customer_id=customer_id,
                       transition=transition, now=now, signal_at=at):
        await care_state.record_signal(conn, tenant_id, customer_id, at, now=now)


async def track_silence(*, conn: Connection, settings: Settings, tenant_id: str,
                        customer_id: UUID, now: datetime) -> Transition | None:
    """Apply (or propose) what the customer's silence until `now` does to their state."""
    transition = await care_state.propose_transition(conn, tenant_id, customer_id,
                                                     Signal(SignalKind.SILENCE), now=now)
    await _move(conn=conn, settings=settings, tenant_id=tenant_id, customer_id=customer_id,
                transition=transition, now=now)
    return transition


async def _move(*, conn: Connection, settings: Settings, tenant_id: str, customer_id: UUID,
                transition: Transition | None, now: datetime,
                signal_at: datetime | None = None) -> bool:
    """Apply the transition, with its history row, only when the environment lets the FTE act
    at all (autonomy enabled, shadow mode off); otherwise audit it as a proposal (PR5/PR6:
    shadow mode shows what the FTE would have done). Return whether it was applied (and with
    it `signal_at` recorded)."""
    if transition is None:
        return False
    if not gates.is_care_autonomy_enabled(settings.care):
        await care_state.record_proposal(conn, tenant_id, customer_id, transition, actor=ACTOR,
                                         now=now)
        return False
    try:
        applied = await care_state.apply_transition(
            conn, tenant_id, customer_id, transition.to_state, reason=transition.reason,
            actor=ACTOR, rule=transition.rule, expected_from=transition.from_state,
            now=now, signal_at=signal_at)
    except care_state.StaleTransition:
        # Another signal of the customer moved the state first; its rule applied.
        log.info("care_state_moved_concurrently", customer_id=str(customer_id))
        return False
    return applied is not None


async def create_follow_up(*, conn: Connection, settings: Settings, tenant_id: str,
                           customer_id: UUID, title: str, body: str, dedupe_key: str,
                           now: datetime) -> Verdict:
    """Create an internal follow-up task for the team if the gates allow it (a scheduled run's
    action), audited either way; a task with the same dedupe key is not created twice."""
    action = ProposedAction(kind=ActionKind.FOLLOW_UP_TASK)
    verdict = await decide(conn=conn, settings=settings, tenant_id=tenant_id,
                           customer_id=customer_id, action=action, now=now)
    payload: dict[str, Any] = {"action": action.kind, "title": title}
    if verdict.executes:
        task_id = await care_schedule.create_task(
            conn, tenant_id, verdict.customer_id, kind=action.kind, title=title, body=body,
            created_by=ACTOR, dedupe_key=dedupe_key, now=now)
        if task_id is None:
            return verdict  # this run already created it: nothing new to do or audit
        payload["task_id"] = str(task_id)
    await _audit(conn, tenant_id, verdict, actor=ACTOR, payload=payload, now=now)
    _counted(verdict)
    return verdict
