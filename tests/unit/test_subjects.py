"""What a question asks the product to have: the subjects a grounded answer must mention."""

from __future__ import annotations

import pytest

from production.agent.subjects import Subject, asked_about


@pytest.mark.parametrize(("message", "expected"), [
    ("do you guys have a mind map view? want to brainstorm", [Subject("mind map", False)]),
    ("can i add tasks with siri? like 'hey siri add toner'", [Subject("siri", False)]),
    ("Is it possible to white-label what guests see?", [Subject("white-label", False)]),
    ("Is TechCorp Cloud available as an on-premises installation?",
     [Subject("on-premises installation", False)]),
    # A short name in the question stands for the fuller one used earlier in the message.
    ("We use Microsoft Teams, not Slack. Is there a TechCorp app for Teams so we get updates?",
     [Subject("Microsoft Teams", True)]),
    ("Can I embed a board inside a page in our Notion wiki?",
     [Subject("Notion", True)]),
    ("Is there a Zapier integration?", [Subject("Zapier", False)]),
    ("Do you support Kanban swimlanes?",
     [Subject("Kanban swimlanes", False), Subject("Kanban", True)]),
    # The head of the object: a log, a report; generic words and quantities are no subject.
    ("Is there a log of this somewhere, and how far back does it go?", [Subject("log", False)]),
    ("Is there a report that shows tracked time by project?", [Subject("report", False)]),
    ("Is there a way to turn them off?", []),
    ("Is there a maximum number of fields per project?", []),
    ("Is there anything I should know before I write that?", []),
    ("Can we get it back with everything intact?", []),
    ("Is there an actual person I can speak with?", []),
])
def test_capability_questions_name_their_subject(message: str, expected: list[Subject]) -> None:
    assert asked_about(message) == expected


@pytest.mark.parametrize("message", [
    # Statements, instructions and how-to questions ask for nothing the product may lack.
    "We use Microsoft Teams and Notion every day.",
    "How do I reset my password? The email never arrives.",
    "My export to Excel is stuck at 90%.",
    "Wie erstelle ich eine wiederkehrende Aufgabe für jeden Montag?",
    "",
])
def test_other_messages_ask_for_nothing(message: str) -> None:
    assert asked_about(message) == []


def test_subjects_are_listed_once_in_order() -> None:
    found = asked_about("Is there a Figma plugin? Do you support Figma embeds? Any Figma news?")
    assert [s.phrase for s in found] == ["Figma plugin", "Figma", "Figma embeds"]
