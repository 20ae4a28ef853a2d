"""The admin API's request and response bodies.

Requests are strict (`extra="forbid"`, no coercion): a field the API does not know, or a value
of the wrong type, is a 422 that names it, never silently ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from production.domain.care import admin_settings

Mode = Literal["assist", "approve", "autopilot", "schedules"]
EventType = Literal["proposed_state_change", "would_escalate", "would_execute_action",
                    "executed_action", "blocked_action"]
ProposalStatus = Literal["pending", "approved", "edited", "rejected", "expired"]


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


# The length is the text as sent (what the schema says); then it is stripped, and not blank.
Reason = Annotated[str, StringConstraints(min_length=1, max_length=1000),
                   AfterValidator(_not_blank)]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Principal(BaseModel):
    tenant_id: str
    name: str
    role: str


# --- Autonomy settings and kill switches -----------------------------------------------------


class AutonomyUpdate(_Change):
    """A partial change: the fields sent replace the stored ones."""

    mode: Mode | None = None
    max_actions_per_customer_day: int | None = Field(
        None, ge=0, le=admin_settings.MAX_ACTIONS_PER_CUSTOMER_DAY)
    min_interval_s: int | None = Field(None, ge=0, le=admin_settings.MAX_MIN_INTERVAL_S)
    daily_budget: int | None = Field(None, ge=0, le=admin_settings.MAX_DAILY_BUDGET)
    quiet_hours_start: str | None = None  # "HH:MM" (24-hour clock) or null for none
    quiet_hours_end: str | None = None
    schedules_opt_in: bool | None = None
    hands_off_new_customers: bool | None = None


class CeilingView(BaseModel):
    autonomy_enabled: bool
    shadow_mode: bool
    tenant_allowed: bool


class AutonomyView(BaseModel):
    mode: str
    max_actions_per_customer_day: int
    min_interval_s: int
    daily_budget: int
    quiet_hours_start: str | None
    quiet_hours_end: str | None
    schedules_opt_in: bool
    hands_off_new_customers: bool
    kill_switch: bool
    global_kill_switch: bool
    ceiling: CeilingView
    autonomy_active: bool
    updated_at: datetime
    updated_by: str | None


class KillSwitchChange(_Change):
    engaged: bool
    reason: Reason


# --- Per customer ----------------------------------------------------------------------------


class HandsOffChange(_Change):
    enabled: bool


class CustomerModeChange(_Change):
    mode: Mode | None  # null: back to the tenant's mode


class EscalationClose(_Change):
    reason: Reason


class CustomerView(BaseModel):
    customer_id: UUID
    name: str | None
    email: str | None
    phone: str | None
    care_state: str
    hands_off: bool
    escalation_status: str | None
    mode_override: str | None
    effective_mode: str
    last_contact_at: datetime | None


class CustomerListing(BaseModel):
    customers: list[CustomerView]


# --- The approval inbox ----------------------------------------------------------------------


class ProposalView(BaseModel):
    id: UUID
    customer_id: UUID
    message_id: UUID | None
    action: str
    status: str
    draft: str
    final_text: str | None
    decision: dict[str, Any]
    outcome: str | None
    response_outcome: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
    expires_at: datetime
    expired: bool
    # What the operator needs to decide: who, where, and the message the draft answers.
    customer_name: str | None
    channel: str | None
    ticket_id: str | None
    subject: str | None
    inbound: str | None


class ProposalListing(BaseModel):
    proposals: list[ProposalView]


class Rejection(_Change):
    reason: str  # required, not blank (inbox.reject says why not)


class Edit(_Change):
    text: str  # the reply's new text, not blank (inbox.approve says why not)


# --- What the FTE did: the timeline, digests and tasks --------------------------------------


class AuditEntry(BaseModel):
    id: int
    created_at: datetime
    event_type: str
    actor: str
    reason: str
    policy_clause: str | None
    customer_id: UUID | None
    message_id: UUID | None
    payload: dict[str, Any]


class Activity(BaseModel):
    entries: list[AuditEntry]
    next_before_id: int | None  # pass as before_id for the next (older) page; null: no more


class Digest(BaseModel):
    day: date
    summary: dict[str, Any]
    created_at: datetime


class DigestListing(BaseModel):
    digests: list[Digest]


class TaskView(BaseModel):
    id: UUID
    customer_id: UUID
    customer_name: str | None
    kind: str
    title: str
    body: str
    status: str
    created_by: str
    created_at: datetime


class TaskListing(BaseModel):
    tasks: list[TaskView]
