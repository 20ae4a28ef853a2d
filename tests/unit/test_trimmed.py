"""The form's and the ticket lookup's texts: the length the schema states is the text as sent;
then the text is stripped and must still be long enough."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from production.api.tickets import TicketLookup
from production.domain.support_form import SupportFormSubmission

FORM: dict[str, Any] = {"name": "Ada", "email": "ada@example.com", "subject": "Export help",
                        "message": "How do I export my board to CSV?"}


def _schema_allows(model: type[BaseModel], field: str, value: str) -> bool:
    spec = model.model_json_schema()["properties"][field]
    spec = next((s for s in spec.get("anyOf", [spec]) if s.get("type") == "string"), spec)
    return spec.get("minLength", 0) <= len(value) <= spec.get("maxLength", 10**9)


@pytest.mark.parametrize(("field", "limit"), [("name", 200), ("subject", 300),
                                              ("message", 5000)])
def test_a_text_over_the_schemas_length_is_refused_even_when_the_excess_is_spaces(
        field: str, limit: int) -> None:
    padded = "a" * limit + "  "
    assert not _schema_allows(SupportFormSubmission, field, padded)
    with pytest.raises(ValidationError, match="at most"):
        SupportFormSubmission(**{**FORM, field: padded})
    assert getattr(SupportFormSubmission(**{**FORM, field: " " + "a" * (limit - 2) + " "}),
                   field) == "a" * (limit - 2)


def test_a_text_that_is_long_enough_only_with_its_spaces_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="not counting spaces"):
        SupportFormSubmission(**{**FORM, "message": "   short    "})


def test_the_email_and_phone_are_stripped_and_a_blank_phone_is_none() -> None:
    form = SupportFormSubmission(**{**FORM, "email": " ada@example.com ",
                                    "phone": " +14155550100 "})
    assert (form.email, form.phone) == ("ada@example.com", "+14155550100")
    assert SupportFormSubmission(**{**FORM, "phone": "   "}).phone is None
    with pytest.raises(ValidationError, match="at most 40"):
        SupportFormSubmission(**{**FORM, "phone": "+14155550100" + " " * 30})


def test_the_ticket_lookup_checks_the_length_as_sent_then_strips() -> None:
    assert TicketLookup(ticket_id=" T-1 ", email=" a@b.co ").ticket_id == "T-1"
    with pytest.raises(ValidationError, match="at most 40"):
        TicketLookup(ticket_id="T" * 40 + " ", email="a@b.co")
    with pytest.raises(ValidationError, match="not counting spaces"):
        TicketLookup(ticket_id="   ", email="a@b.co")
