"""An explicit rejection (the signal that moves a customer to `lost`) is a stated decision, not
a doubt, a question or a task being cancelled."""

from __future__ import annotations

import pytest

from production.care.rejection import is_explicit_rejection

REJECTIONS = [
    "STOP",
    "unsubscribe",
    "Please unsubscribe me from these emails.",
    "Remove me from your mailing list.",
    "Stop emailing me.",
    "Do not contact us again.",
    "We are not interested.",
    "Thanks, but I'm no longer interested",
    "We have decided to cancel our subscription at the end of the month.",
    "We've decided to go with Asana instead.",
    "We\u2019ve decided to go with Asana instead.",
    "We are cancelling our TechCorp account.",
    "We're moving to Trello next week.",
    "We have switched to a competitor.",
    "Please cancel our subscription.",
    "Cancel my account effective immediately.",
    "Hi team.\nWe have chosen to leave. Thanks for everything.",
]

NOT_REJECTIONS = [
    "How do I cancel my subscription?",
    "Can I unsubscribe from the weekly digest?",
    "We might cancel if this keeps happening.",
    "I'm thinking about cancelling.",
    "Cancel the export, it is stuck.",
    "Please cancel the meeting invite I sent.",
    "We are not cancelling, we just need help with the API.",
    "Don't unsubscribe me, I still want the product updates.",
    "Stop the sync from running every hour.",
    "I'm interested in the Business plan.",
    "Is it possible to move to another workspace?",
    "How do I reset my password? The email never arrives.",
    "",
]


@pytest.mark.parametrize("text", REJECTIONS)
def test_a_stated_decision_to_leave_is_a_rejection(text: str) -> None:
    assert is_explicit_rejection(text)


@pytest.mark.parametrize("text", NOT_REJECTIONS)
def test_questions_doubts_and_cancelled_tasks_are_not(text: str) -> None:
    assert not is_explicit_rejection(text)
