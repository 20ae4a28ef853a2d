"""The approval inbox: an operator approves, edits or rejects a held action.

Approving a held reply releases it through the executor (`executor.release_approved`): in one
transaction the draft becomes `queued`, an `outbound_message` event for the dispatcher goes to
the outbox, the proposal records the decision and an `executed_action` audit row names the
operator. A proposal is decided once: a second decision, or one after it expired (at the caller's
`now`), is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from production.care import executor
from production.care.outcomes import OutcomeTaxonomyV1
from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import admin, inbox, perception
from production.database.queries.inbox import StoredProposal
from production.domain import errors
from production.domain.care.policy import ActionKind

log = structlog.get_logger(__name__)

MAX_TEXT_LENGTH = 20_000
MAX_REASON_LENGTH = 1_000


class ProposalNotFound(errors.NotFound):
    """No such proposal for this tenant."""


class ProposalConflict(errors.Conflict):
    """The proposal cannot take this decision (already decided, expired, not approvable)."""


class InvalidDecision(errors.Invalid):
    """The decision itself is malformed (blank reason, blank edited text); `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__([(field, reason)])


@dataclass(frozen=True)
class Decided:
    proposal_id: UUID
    status: str
    outcome: str
    decided_by: str
    message_id: UUID | None


def _actor(operator: str) -> str:
    return f"operator:{operator}"


def _required(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidDecision(field, "must not be blank")
    if len(value) > limit:
        raise InvalidDecision(field, f"must be at most {limit} characters")
    return value


async def proposals(*, pool: Pool, tenant_id: str, status: str | None, limit: int,
                    now: datetime) -> list[dict[str, Any]]:
    """Return the tenant's proposals (of one status, when given), oldest first; `expired` as
    of `now`."""
    async with pool.acquire() as conn:
        rows = await inbox.proposals(conn, tenant_id, status=status, limit=limit, now=now)
    return [asdict(row) for row in rows]


async def _lock_pending(conn: Connection, tenant_id: str, proposal_id: UUID, *,
                        now: datetime) -> StoredProposal:
    proposal = await inbox.lock_proposal(conn, tenant_id, proposal_id, now=now)
    if proposal is None:
        raise ProposalNotFound("no such proposal")
    if proposal.status != "pending":
        raise ProposalConflict(f"the proposal is already {proposal.status}")
    return proposal


async def approve(*, pool: Pool, settings: Settings, tenant_id: str, proposal_id: UUID,
                  operator: str, now: datetime, text: str | None = None) -> Decided:
    """Approve a pending proposal at `now` and release its draft; with `text`, edit it first.

    `operator` is the operator's name; the decision and audit row record "operator:<name>".
    Raises ProposalNotFound, ProposalConflict (not pending, expired — then marked expired —, or
    not a held reply) or InvalidDecision (blank text).
    """
    actor = _actor(operator)
    final = _required(text, "text", MAX_TEXT_LENGTH) if text is not None else None
    async with pool.acquire() as conn, conn.transaction():
        proposal = await _lock_pending(conn, tenant_id, proposal_id, now=now)
        decided: Decided | None = None
        if proposal.expired:
            # Committed before the refusal: the inbox stops offering it, and its draft is
            # never sent (as when the scheduler's expiry sweep finds it first).
            await inbox.decide(conn, tenant_id, proposal_id, status="expired", outcome=None,
                               decided_by=None, reason="expired before a decision",
                               final_text=None, now=now)
            if proposal.message_id is not None:
                await inbox.close_draft(conn, tenant_id, proposal.message_id,
                                        status="expired")
        else:
            decided = await _release(conn=conn, settings=settings, tenant_id=tenant_id,
                                     proposal=proposal, actor=actor, text=final, now=now)
    if decided is None:
        log.info("care_proposal_expired", tenant_id=tenant_id, proposal_id=str(proposal_id))
        raise ProposalConflict(f"the proposal expired at {proposal.expires_at.isoformat()}")
    log.info("care_proposal_approved", tenant_id=tenant_id, proposal_id=str(proposal_id),
             customer_id=str(proposal.customer_id), status=decided.status, actor=actor)
    return decided


async def _release(*, conn: Connection, settings: Settings, tenant_id: str,
                   proposal: StoredProposal, actor: str, text: str | None,
                   now: datetime) -> Decided:
    draft = (await inbox.lock_draft(conn, tenant_id, proposal.message_id)
             if proposal.message_id is not None else None)
    if proposal.action != ActionKind.SEND_REPLY or draft is None:
        raise ProposalConflict(f"a {proposal.action} proposal without a held reply cannot be "
                               "approved here")
    if draft.status != "pending_approval":
        raise ProposalConflict(f"the draft reply is {draft.status}, not pending approval")
    edited = text is not None
    final = text if text is not None else draft.content
    await executor.release_approved(conn=conn, settings=settings, tenant_id=tenant_id, draft=draft,
                                    actor=actor, content=final, proposal_id=proposal.id,
                                    edited=edited, now=now)
    # Edited: the idea needed a human's change. Approved as is: the execution label, which
    # becomes EXECUTION_FAILED if the delivery fails (deliver_outbound).
    outcome = (OutcomeTaxonomyV1.IDEA_EDITED if edited
               else OutcomeTaxonomyV1.EXECUTION_SUCCEEDED)
    status = "edited" if edited else "approved"
    await inbox.decide(conn, tenant_id, proposal.id, status=status, outcome=outcome,
                       decided_by=actor, reason=None, final_text=final, now=now)
    return Decided(proposal_id=proposal.id, status=status, outcome=outcome, decided_by=actor,
                   message_id=draft.id)


async def reject(*, pool: Pool, tenant_id: str, proposal_id: UUID, operator: str,
                 reason: str, now: datetime) -> Decided:
    """Reject a pending proposal with a reason (past its expiry too: a refusal is never too
    late); its draft, if any, will never be sent.

    Raises ProposalNotFound, ProposalConflict (not pending) or InvalidDecision (blank reason).
    """
    actor = _actor(operator)
    why = _required(reason, "reason", MAX_REASON_LENGTH)
    outcome = OutcomeTaxonomyV1.IDEA_REJECTED
    async with pool.acquire() as conn, conn.transaction():
        proposal = await _lock_pending(conn, tenant_id, proposal_id, now=now)
        if proposal.message_id is not None:
            await inbox.close_draft(conn, tenant_id, proposal.message_id, status="rejected")
        await inbox.decide(conn, tenant_id, proposal_id, status="rejected", outcome=outcome,
                           decided_by=actor, reason=why, final_text=None, now=now)
        await admin.append_audit(
            conn, tenant_id, event_type="blocked_action", actor=actor, reason=why,
            clause="INBOX.rejected", customer_id=proposal.customer_id,
            message_id=proposal.message_id,
            payload={"action": proposal.action, "proposal_id": str(proposal_id)}, now=now)
        # IDEA_REJECTED is a negative outcome the customer's health reads: look again.
        await perception.mark_signal(conn, tenant_id=tenant_id,
                                     customer_id=proposal.customer_id, at=now)
    log.info("care_proposal_rejected", tenant_id=tenant_id, proposal_id=str(proposal_id),
             customer_id=str(proposal.customer_id), actor=actor)
    return Decided(proposal_id=proposal_id, status="rejected", outcome=outcome,
                   decided_by=actor, message_id=proposal.message_id)
