"""OutcomeTaxonomyV1: how a proposal ended, and the label learning gets for it."""

from __future__ import annotations

import pytest

from production.care.outcomes import OutcomeTaxonomyV1, ProposalEnd, label_outcome, proposal_end


@pytest.mark.parametrize(("end", "label"), [
    (ProposalEnd.REJECTED, OutcomeTaxonomyV1.IDEA_REJECTED),
    (ProposalEnd.EDITED_THEN_APPROVED, OutcomeTaxonomyV1.IDEA_EDITED),
    (ProposalEnd.APPROVED_AND_DELIVERED, OutcomeTaxonomyV1.EXECUTION_SUCCEEDED),
    (ProposalEnd.DELIVERY_FAILED, OutcomeTaxonomyV1.EXECUTION_FAILED),
    ("delivery_failed", OutcomeTaxonomyV1.EXECUTION_FAILED),
])
def test_each_end_has_its_label(end: ProposalEnd, label: OutcomeTaxonomyV1) -> None:
    assert label_outcome(end) == label


def test_the_labels_are_the_ones_the_database_allows() -> None:
    # The care_proposals.outcome CHECK of migration 010.
    assert [str(label) for label in OutcomeTaxonomyV1] == [
        "IDEA_REJECTED", "IDEA_EDITED", "EXECUTION_FAILED", "EXECUTION_SUCCEEDED",
        "NO_RESPONSE", "NEGATIVE_RESPONSE"]


@pytest.mark.parametrize(("status", "delivery", "end"), [
    ("rejected", None, ProposalEnd.REJECTED),
    ("rejected", "failed", ProposalEnd.REJECTED),
    ("approved", "delivered", ProposalEnd.APPROVED_AND_DELIVERED),
    ("approved", "sandboxed", ProposalEnd.APPROVED_AND_DELIVERED),
    ("edited", "delivered", ProposalEnd.EDITED_THEN_APPROVED),
    ("approved", "failed", ProposalEnd.DELIVERY_FAILED),
    ("edited", "failed", ProposalEnd.DELIVERY_FAILED),
    ("approved", None, None),
    ("edited", None, None),
    ("pending", None, None),
    ("expired", None, None),
])
def test_a_proposal_ends_by_its_status_and_delivery(status: str, delivery: str | None,
                                                    end: ProposalEnd | None) -> None:
    assert proposal_end(status=status, delivery_status=delivery) == end


def test_unknown_statuses_are_refused() -> None:
    with pytest.raises(ValueError, match="proposal status"):
        proposal_end(status="approvd", delivery_status="delivered")
    with pytest.raises(ValueError, match="delivery status"):
        proposal_end(status="approved", delivery_status="bounced")
    with pytest.raises(ValueError):
        label_outcome("ignored")  # type: ignore[arg-type]
