"""Who is who: merging customers on a human's decision, the candidates waiting for one, and a
preview of what intake will decide for a sender.

Intake links and merges on its own (migration 006, the rule in `domain.identity.decide`); what
it must not decide alone — two different email addresses being one person — waits here as a
candidate until someone merges or dismisses it.
"""

from __future__ import annotations

from uuid import UUID

import structlog

from production.database.pool import Pool
from production.database.queries import customers
from production.database.queries import identity as queries
from production.database.queries.identity import MergeRecord
from production.domain.identity import (
    DEFAULT_REGION,
    Decision,
    InvalidIdentifier,
    decide,
    sender_identity,
)

log = structlog.get_logger(__name__)


class CustomerNotFound(LookupError):
    """No such customer in this tenant."""


class MergeRefused(ValueError):
    """The merge cannot be done as asked; the message says why."""


class CandidateNotFound(LookupError):
    """No open merge candidate with this id in this tenant."""


def _required(value: str, what: str) -> str:
    if not value or not value.strip():
        raise MergeRefused(f"a merge needs {what}")
    return value.strip()


async def merge_customers(*, pool: Pool, tenant_id: str, survivor_id: UUID, merged_id: UUID,
                          actor: str, reason: str) -> MergeRecord:
    """Merge `merged_id` into `survivor_id` on a human's decision; return the merge record.

    Everything the duplicate had (identifiers, conversations, messages, tickets, C.A.R.E.
    state) moves to the survivor in one transaction; the duplicate stays as a tombstone
    pointing at it. An open candidate for the pair is marked accepted.
    """
    actor = _required(actor, "an actor")
    reason = _required(reason, "a reason")
    if survivor_id == merged_id:
        raise MergeRefused("a customer cannot be merged into itself")
    async with pool.acquire() as conn, conn.transaction():
        rows = {row.id: row for row in await queries.lock_for_merge(
            conn, tenant_id, [survivor_id, merged_id])}
        for customer_id in (survivor_id, merged_id):
            if customer_id not in rows:
                raise CustomerNotFound(f"customer {customer_id} not found")
            if (into := rows[customer_id].merged_into) is not None:
                raise MergeRefused(f"customer {customer_id} was already merged into {into}")
        merge_id = await queries.merge_locked(
            conn, tenant_id, survivor_id=survivor_id, merged_id=merged_id, actor=actor,
            reason=reason, evidence={"rule": "human_decision"})
        row = await queries.get_merge(conn, tenant_id, merge_id)
    assert row is not None
    log.info("customers_merged", survivor_id=str(survivor_id), merged_id=str(merged_id),
             merge_id=str(merge_id), by="human")
    return row


async def list_candidates(*, pool: Pool, tenant_id: str, limit: int = 50) -> list[MergeRecord]:
    """Return the merge candidates waiting for a human, oldest first."""
    async with pool.acquire() as conn:
        rows = await queries.open_candidates(conn, tenant_id, limit=limit)
    return rows


async def dismiss_candidate(*, pool: Pool, tenant_id: str, candidate_id: UUID, actor: str,
                            reason: str) -> None:
    """Record that a candidate pair are different people; intake will not propose it again."""
    actor = _required(actor, "an actor")
    reason = _required(reason, "a reason")
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.lock_candidate(conn, tenant_id, candidate_id)
        if row is None or row.status != "candidate":
            raise CandidateNotFound(f"no open merge candidate {candidate_id}")
        await queries.dismiss_candidate(conn, tenant_id, candidate_id, actor=actor,
                                        reason=reason)
    log.info("merge_candidate_dismissed", candidate_id=str(candidate_id))


async def current_customer(*, pool: Pool, tenant_id: str, customer_id: UUID) -> UUID:
    """Return the customer an id stands for now (the survivor, if it was merged)."""
    async with pool.acquire() as conn:
        live = await queries.live_customer(conn, tenant_id, customer_id)
    if live is None:
        raise CustomerNotFound(f"customer {customer_id} not found")
    return live


async def preview(*, pool: Pool, tenant_id: str, channel: str, email: str | None,
                  phone: str | None) -> Decision:
    """Return what intake would decide for a message from this sender, changing nothing."""
    async with pool.acquire() as conn:
        region = DEFAULT_REGION
        if phone:
            region = await customers.default_region(conn, tenant_id) or DEFAULT_REGION
        sender = sender_identity(email, phone, region)
        if not sender.identifiers:
            raise InvalidIdentifier("; ".join(sender.rejected) or "no email or phone given")
        claims = await queries.claims(conn, tenant_id, sender.identifiers)
    return decide(channel, claims)
