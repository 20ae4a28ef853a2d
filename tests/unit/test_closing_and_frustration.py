"""Closings and mild frustration: where the line is, shown with labelled messages.

A closing (thanks, "it works now", nothing more asked) is answered with a courteous note and
needs no person; mild frustration with an answerable question is answered with an
acknowledgement, and lowers the bar for a person next time; anger still escalates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from production.agent.escalation import detect
from production.domain.closing import is_closing
from production.domain.escalation import frustration
from production.domain.sentiment import score

CLOSINGS = [
    "perfect, works now ty",
    "Got it, thank you - that answers everything I needed.",
    "Hello,\n\nthe import went through and everyone is in. Many thanks!\n\nBest regards,\nAnna",
    "thx, sorted 👍",
    "Danke, hat geklappt!",
    "¡Gracias! Ya funciona.",
    "Merci, ça marche maintenant.",
    "Valeu, deu certo!",
    "Obrigada, funcionou.",
]
NOT_CLOSINGS = [
    "Thanks, but it still fails.",
    "thanks! also, how do I add a guest?",
    "Thank you. Could you send me the invoice again?",
    "I need my data export, thanks",
    "thanks for nothing",
    "Danke, aber es funktioniert noch nicht.",
    "Gracias, pero sigue sin funcionar.",
    "Merci, mais ça ne marche toujours pas.",
    "Thanks in advance: how do I reset 2FA for a colleague?",
    # a word of thanks or praise inside a problem report ("super fast", "great")
    "my 2fa code gets rejected every single time, i type it super fast. new phone",
    "Great, now the app keeps crashing on my tablet",
    # French "merci de …" asks for something
    "Bonjour, vous nous avez débité deux fois. Merci de nous rembourser. Cordialement",
    # thanks that comes with a request a person must handle is decided by the escalation rules
    "Thanks, it works now. Please refund last month anyway.",
]


@pytest.mark.parametrize("text", CLOSINGS)
def test_closings_are_recognised_in_every_supported_language(text: str) -> None:
    assert is_closing(text)
    assert not detect(text).escalate


@pytest.mark.parametrize("text", NOT_CLOSINGS)
def test_thanks_with_something_more_is_not_a_closing(text: str) -> None:
    assert not is_closing(text)


@pytest.mark.parametrize("text", frustration.MILD)
def test_mild_frustration_is_answered_and_acknowledged(text: str) -> None:
    result = detect(text)
    assert "negative_sentiment" not in result.reasons
    assert result.mild_frustration, score(text)


@pytest.mark.parametrize("text", frustration.ANGRY)
def test_anger_still_escalates(text: str) -> None:
    result = detect(text)
    assert "negative_sentiment" in result.reasons
    assert not result.mild_frustration


@pytest.mark.parametrize("text", frustration.MILD)
def test_frustrated_again_goes_to_a_person(text: str) -> None:
    assert "negative_sentiment" in detect(text, frustrated_before=True).reasons


def test_only_a_recent_frustrated_message_lowers_the_bar() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def message(content: str, days_ago: int, **extra: object) -> dict[str, object]:
        return {"direction": "inbound", "content": content, "current": False,
                "at": (now - timedelta(days=days_ago)).isoformat(), **extra}

    annoyed = frustration.MILD[0]
    assert frustration.frustrated_recently([message(annoyed, 2)], now, score=score)
    assert not frustration.frustrated_recently([message(annoyed, 9)], now, score=score)
    assert not frustration.frustrated_recently(
        [message("How do I export to CSV?", 1)], now, score=score)
    assert not frustration.frustrated_recently(
        [message(annoyed, 0, current=True), message(annoyed, 1, direction="outbound")], now,
        score=score)
