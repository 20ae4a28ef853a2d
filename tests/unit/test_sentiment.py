"""Sentiment scoring: angry messages fall below the escalation line, calm ones do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from production.domain.sentiment import score, trend

ESCALATION_LINE = 0.3


@pytest.mark.parametrize("text", [
    "third time asking!!!",
    "THIRD TIME ASKING. Why is sync still broken???",
    "This is the 3rd time I write to you about the same export problem.",
    "I have emailed you four times about this and nobody replies.",
    "Still no answer from your team after a week.",
    "Nobody has responded to my ticket, what is going on?",
    "For the last time: fix my account.",
    "How many times do I have to explain the same thing?",
    "This is unacceptable, I am extremely frustrated.",
    "Your support is absolutely useless and the app is garbage.",
    "This is the worst tool I've ever paid for.",
    "wtf is going on with your app, f*** this",
    "what the #@$% happened to my board",
    "This is sh*t. Total crap.",
    "WHY IS THIS STILL NOT FIXED???",
    "I'm fed up. Thanks for nothing.",
    "Oh great, another outage. Just wonderful.",
    "I've been locked out for two days and my deadline is tomorrow, I'm desperate.",
    "I'm going to lose my job over this, please I'm begging you.",
    "Everything is gone, three years of work, I can't do this anymore.",
    "I'm so disappointed and honestly furious with how this was handled.",
    "We are losing clients because of your outage, this is a disaster.",
    "Estoy harto, el servicio es pésimo.",
    "C'est inacceptable, je suis furieux.",
    "Das ist eine Frechheit, ich bin wirklich wütend.",
    "Que porcaria, estou muito chateado.",
    "bakwas service hai, bilkul bekaar",
    "Are you kidding me? Do you even read my emails?",
])
def test_clearly_negative_messages_fall_below_the_escalation_line(text: str) -> None:
    assert score(text) < ESCALATION_LINE


@pytest.mark.parametrize("text", [
    "my sync is broken, how do I fix it?",
    "Hi, how do I export my data to CSV?",
    "The app crashes when I open the Timeline view, is there a fix?",
    "I get an error 500 when I call the API with my key.",
    "My 2FA code isn't coming, what should I check?",
    "Push notifications stopped working on my Android phone.",
    "Still not getting push notifications, any idea?",
    "A bit annoying that the reset link expired, how do I get a new one?",
    "The import from Jira failed halfway, can I run it again?",
    "Urgent: password reset email not arriving",
    "Please fix this!!!",
    "I'm not sure what went wrong, the board looks empty after the import.",
    "Olá! I imported our Asana project but what did I do wrong with the owners?",
    "oi! tem dark mode / modo escuro? meus olhos agradecem kkk",
    "Hola, ¿cómo cambio el idioma de la aplicación?",
    "My name is Dan and the DAN project board will not load.",
    "We use SSO via Okta and the SAML test fails with an error.",
    "Can you please cancel the invitation I sent to the wrong address?",
    "Please cancel our subscription at the end of the month.",
    "HI, HOW DO I RESET MY PASSWORD",
    "Email me at jane@acme.example if you need logs.",
    "The webhook retries failed deliveries, but our endpoint was down, is the data lost?",
])
def test_ordinary_support_requests_stay_above_it(text: str) -> None:
    assert score(text) >= 0.35


@pytest.mark.parametrize("text", [
    "Thanks so much, that worked perfectly!",
    "You are amazing, the new Timeline is fantastic.",
    "Great support, really appreciate the quick help 🙂",
    "Muchas gracias, excelente servicio",
    "Merci beaucoup, c'est parfait !",
    "shukriya, zabardast app hai",
    "Love the app, keep up the good work!",
    "Problem solved, thank you! 👍",
])
def test_positive_messages_score_high(text: str) -> None:
    assert score(text) > 0.7


@pytest.mark.parametrize("text", ["", "   ", "12345", "Hello", "How do I invite a guest?"])
def test_neutral_text_scores_a_half(text: str) -> None:
    assert score(text) == pytest.approx(0.5, abs=0.05)


def test_negation_softens_and_flips() -> None:
    assert score("not happy with the service") < 0.5
    assert score("not happy with the service") >= ESCALATION_LINE  # mild, not angry
    assert score("not bad at all") > score("bad")
    assert score("no problem, it works") > score("big problem, it fails")


def test_intensifiers_caps_and_exclamations_strengthen() -> None:
    assert score("I am very angry") < score("I am angry")
    assert score("I am a bit frustrated") > score("I am frustrated")
    assert score("This is UNACCEPTABLE") < score("This is unacceptable")
    assert score("This is terrible!!!") < score("This is terrible")
    assert score("Great work!!!") > score("Great work")


def test_acronyms_and_names_are_not_shouting() -> None:
    assert score("The SSO and SAML setup with our IDP: CSV export of the API keys?") >= 0.45


def test_masks_and_emails_are_not_profanity() -> None:
    assert score("write to bob@acme.com or ops@acme.com") == 0.5
    assert score("f*** this") < ESCALATION_LINE


@given(st.text(max_size=400))
def test_score_is_always_in_range(text: str) -> None:
    assert 0.0 <= score(text) <= 1.0


@pytest.mark.parametrize(("previous", "current", "expected"), [
    ([], 0.5, "stable"),
    ([0.5], 0.52, "stable"),
    ([0.2, 0.25], 0.6, "improving"),
    ([0.7, 0.6], 0.3, "worsening"),
    ([0.1, 0.9, 0.5, 0.5, 0.5], 0.45, "stable"),  # only the last three count
    ([0.9, 0.2, 0.2, 0.2], 0.45, "improving"),
])
def test_trend(previous: list[float], current: float, expected: str) -> None:
    assert trend(previous, current) == expected
