"""The web support form: what a valid submission is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    StringConstraints,
    field_validator,
)

from production.domain.identity import normalize_phone
from production.domain.messages import Category, Priority
from production.domain.text import unstorable
from production.domain.trimmed import Stripped, at_least, strip_text


class SupportFormSubmission(BaseModel):
    # Lengths are checked on the text as sent (what the schema says), then it is stripped.
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=2, max_length=200),
                    AfterValidator(at_least(2))]
    email: Annotated[EmailStr, Stripped]
    phone: Annotated[str | None, StringConstraints(max_length=40),
                     AfterValidator(strip_text)] = None
    subject: Annotated[str, StringConstraints(min_length=5, max_length=300),
                       AfterValidator(at_least(5))]
    category: Category = Category.general
    priority: Priority = Priority.medium
    message: Annotated[str, StringConstraints(min_length=10, max_length=5000),
                       AfterValidator(at_least(10))]

    @field_validator("name", "subject", "message", "phone", mode="after")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        if value is not None and unstorable(value):
            raise ValueError("may not contain a NUL character or an unpaired surrogate")
        return value

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if normalize_phone(value) is None:
            raise ValueError(
                "not a valid phone number (use international format, e.g. +14155550100)")
        return value


class SupportFormReceipt(BaseModel):
    ticket_id: str
    status: str
    message: str
    created_at: datetime
    # Opens the ticket's status and conversation (GET /api/v1/tickets/{ticket_id} with
    # `Authorization: Bearer <token>`); nobody else has it, the server does not store it.
    access_token: str
