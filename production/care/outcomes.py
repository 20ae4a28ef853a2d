"""OutcomeTaxonomyV1: one label per proposal's end, so that learning can tell a bad idea from
a bad execution.

The values are the ones the care_proposals.outcome CHECK (migration 010) allows.
"""

from __future__ import annotations

from enum import StrEnum


class OutcomeTaxonomyV1(StrEnum):
    IDEA_REJECTED = "IDEA_REJECTED"  # a human rejected the proposal
    IDEA_EDITED = "IDEA_EDITED"  # a human edited it, then approved it, and it was delivered
    EXECUTION_FAILED = "EXECUTION_FAILED"  # approved (edited or not); delivery failed
    EXECUTION_SUCCEEDED = "EXECUTION_SUCCEEDED"  # approved as proposed and delivered
    NO_RESPONSE = "NO_RESPONSE"  # later: the recipient never answered
    NEGATIVE_RESPONSE = "NEGATIVE_RESPONSE"  # later: the recipient answered negatively


class ProposalEnd(StrEnum):
    REJECTED = "rejected"
    EDITED_THEN_APPROVED = "edited_then_approved"
    APPROVED_AND_DELIVERED = "approved_and_delivered"
    DELIVERY_FAILED = "delivery_failed"


_LABELS = {
    ProposalEnd.REJECTED: OutcomeTaxonomyV1.IDEA_REJECTED,
    ProposalEnd.EDITED_THEN_APPROVED: OutcomeTaxonomyV1.IDEA_EDITED,
    ProposalEnd.APPROVED_AND_DELIVERED: OutcomeTaxonomyV1.EXECUTION_SUCCEEDED,
    ProposalEnd.DELIVERY_FAILED: OutcomeTaxonomyV1.EXECUTION_FAILED,
}

_DELIVERED = frozenset({"delivered", "sandboxed"})  # deliveries.status; sandbox = shown, done
_FAILED = frozenset({"failed"})
_UNDECIDED = frozenset({"pending", "expired"})


def label_outcome(end: ProposalEnd) -> OutcomeTaxonomyV1:
    """Return the taxonomy label for the way a proposal ended."""
    return _LABELS[ProposalEnd(end)]


def proposal_end(*, status: str, delivery_status: str | None) -> ProposalEnd | None:
    """Return how a proposal ended from care_proposals.status and deliveries.status.

    None while it has not ended (pending, expired without a decision, approved but not yet
    delivered). A failed delivery outranks an edit: the idea was accepted, the execution was
    what went wrong. Raises ValueError for a status no table allows.
    """
    if status == "rejected":
        return ProposalEnd.REJECTED
    if status in _UNDECIDED:
        return None
    if status not in ("approved", "edited"):
        raise ValueError(f"unknown proposal status {status!r}")
    if delivery_status is None:
        return None
    if delivery_status in _FAILED:
        return ProposalEnd.DELIVERY_FAILED
    if delivery_status not in _DELIVERED:
        raise ValueError(f"unknown delivery status {delivery_status!r}")
    return (ProposalEnd.EDITED_THEN_APPROVED if status == "edited"
            else ProposalEnd.APPROVED_AND_DELIVERED)
