"""The web support form: what a valid submission is."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from production.domain.identity import normalize_phone
from production.domain.messages import Category, Priority
from production.domain.text import unstorable


class SupportFormSubmission(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    phone: str | None = Field(default=None, max_length=40)
    subject: str = Field(min_length=5, max_length=300)
    category: Category = Category.general
    priority: Priority = Priority.medium
    message: str = Field(min_length=10, max_length=5000)

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
