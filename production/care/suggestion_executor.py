"""The executor for suggestions: a suggestion's action run in the caller's transaction, with
its audit row and diff (like care/executor.py for replies, the one code path that changes CRM
state or contacts a customer for a suggestion).

Only two callers: the pipeline, for an internal action the executor's gates let run on its own
(autopilot: a note, a task, a draft), and a person's approval (services/suggestions/review).
Nothing here deletes. A message to the customer is written only after `decision.decide`, with
the person's approval standing for the policy, returned EXECUTE: every other C.A.R.E. gate (the
ceiling, both kill switches, the allowlist, hands-off, no open escalation, pacing) holds then.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from production.care.decision import Verdict
from production.config import Settings
from production.database.pool import Connection
from production.database.queries import admin, care_schedule, outbox, suggestion_actions
from production.database.queries import identity as identity_queries
from production.database.queries.suggestions import StoredSuggestion
from production.domain import errors
from production.domain.care.policy import ActionKind
from production.domain.proactive.propose import PRIORITIES, preview

INTERNAL = frozenset({ActionKind.INTERNAL_NOTE, ActionKind.FOLLOW_UP_TASK, ActionKind.DRAFT})
CUSTOMER_FACING = frozenset({ActionKind.OUTBOUND_MESSAGE})


class SuggestionNotFound(errors.NotFound):
    """No such suggestion for this tenant."""


class SuggestionConflict(errors.Conflict):
    """The suggestion cannot be approved, dismissed or snoozed now; the message says why."""


def _uuid(params: Mapping[str, Any], name: str) -> UUID:
    try:
        return UUID(str(params.get(name)))
    except ValueError:
        raise SuggestionConflict(f"the suggestion has no valid {name}") from None


async def _change_ticket(conn: Connection, tenant_id: str, params: Mapping[str, Any],
                         now: datetime) -> dict[str, Any]:
    priority = str(params.get("priority"))
    if priority not in PRIORITIES:
        raise SuggestionConflict(f"{priority!r} is not a ticket priority")
    ticket = await suggestion_actions.lock_ticket(conn, tenant_id=tenant_id,
                                                  ticket_id=_uuid(params, "ticket_id"))
    if ticket is None:
        raise SuggestionConflict("the ticket no longer exists")
    await suggestion_actions.set_priority(conn, tenant_id=tenant_id, ticket_id=ticket.id,
                                          priority=priority, now=now)
    return {"ticket_id": str(ticket.id), "ticket_number": ticket.ticket_number,
            "diff": [{"target": f"ticket {ticket.ticket_number}", "field": "priority",
                      "before": ticket.priority, "after": priority}]}


async def _merge(conn: Connection, tenant_id: str, params: Mapping[str, Any],
                 actor: str) -> dict[str, Any]:
    survivor, merged = _uuid(params, "survivor_id"), _uuid(params, "merged_id")
    if survivor == merged:
        raise SuggestionConflict("a customer cannot be merged into itself")
    rows = {row.id: row for row in await identity_queries.lock_for_merge(
        conn, tenant_id, [survivor, merged])}
    for customer in (survivor, merged):
        if customer not in rows or rows[customer].merged_into is not None:
            raise SuggestionConflict(f"customer {customer} is gone or already merged")
    merge_id = await identity_queries.merge_locked(
        conn, tenant_id, survivor_id=survivor, merged_id=merged, actor=actor,
        reason="approved suggestion", evidence={"rule": "human_decision",
                                                "candidate_id": params.get("candidate_id")})
    return {"merge_id": str(merge_id),
            "diff": [{"target": f"customer {merged}", "field": "merged_into", "before": None,
                      "after": str(survivor)}]}


async def _outreach(conn: Connection, settings: Settings, tenant_id: str,
                    suggestion: StoredSuggestion, title: str, body: str, actor: str,
                    now: datetime) -> dict[str, Any]:
    written = await suggestion_actions.write_outreach(
        conn, tenant_id=tenant_id, customer_id=suggestion.customer_id, content=body,
        subject=title, approved_by=actor, suggestion_id=suggestion.id, now=now)
    if written is None:
        raise SuggestionConflict("the customer has no conversation to write in")
    message_id, channel = written
    await outbox.enqueue_delivery(conn, tenant_id, message_id=message_id, channel=channel,
                                  customer_id=suggestion.customer_id,
                                  topic=settings.kafka.topic_outgoing)
    return {"message_id": str(message_id), "channel": channel,
            "diff": preview(ActionKind.OUTBOUND_MESSAGE, title=title, body=body,
                            params={"channel": channel})}


async def run(*, conn: Connection, settings: Settings, tenant_id: str,
              suggestion: StoredSuggestion, actor: str, verdict: Verdict | None,
              title: str, body: str, params: Mapping[str, Any], now: datetime
              ) -> dict[str, Any]:
    """Run the suggestion's action as `actor` and append its `executed_action` audit row (with
    the diff); return what it did. `verdict`: the executor's, when the action is autonomous or
    reaches the customer (then it must execute). Raises SuggestionConflict (nothing written)."""
    action = suggestion.action
    if verdict is not None and not verdict.executes:
        raise SuggestionConflict(f"not sent: {verdict.gate.reason} ({verdict.gate.clause})")
    if action in CUSTOMER_FACING and verdict is None:
        raise SuggestionConflict("a message to a customer needs every gate checked first")
    if action in INTERNAL:
        task_id = await care_schedule.create_task(
            conn, tenant_id, suggestion.customer_id, kind=action, title=title, body=body,
            created_by=actor, dedupe_key=f"suggestion:{suggestion.id}", now=now)
        result: dict[str, Any] = {
            "task_id": str(task_id) if task_id else None,
            "diff": preview(action, title=title, body=body, params=params)}
    elif action == ActionKind.CHANGE_TICKET:
        result = await _change_ticket(conn, tenant_id, params, now)
    elif action == ActionKind.MERGE_CUSTOMERS:
        result = await _merge(conn, tenant_id, params, actor)
    elif action in CUSTOMER_FACING:
        result = await _outreach(conn, settings, tenant_id, suggestion, title, body, actor, now)
    else:
        raise SuggestionConflict(f"{action!r} is not an action a suggestion may take")
    clause = verdict.gate.clause if verdict is not None and actor == "fte-agent" \
        else "SUGGESTION.approved"
    await admin.append_audit(
        conn, tenant_id, event_type="executed_action", actor=actor,
        reason=f"suggestion {suggestion.trigger}: {title}"[:500], clause=clause,
        customer_id=suggestion.customer_id,
        message_id=UUID(result["message_id"]) if result.get("message_id") else None,
        payload={"action": action, "suggestion_id": str(suggestion.id),
                 "trigger": suggestion.trigger, "diff": result["diff"],
                 "result": {k: v for k, v in result.items() if k != "diff"},
                 "decision": verdict.as_json() if verdict is not None else None},
        now=now)
    return result
