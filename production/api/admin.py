"""/api/v1/admin: the C.A.R.E. control plane for a tenant's operators and admins.

Every request carries a tenant's API key (`Authorization: Bearer fte_...` or `X-API-Key`),
checked before anything else, the body included: none or an unknown or revoked one is 401.
Every resource is the key's tenant's: an id of another tenant's customer or proposal is 404,
exactly like one that does not exist. Operators run the day (kill switch on, hands-off,
proposals, audit export); admins also change settings, modes and release the kill switch.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from production.api.deps import bearer, pool, request_now, state
from production.care import admin_settings, inbox
from production.config import INTERNAL_TENANT
from production.database.pool import Pool
from production.services import admin_keys, care_admin
from production.services.admin_keys import ApiPrincipal

log = structlog.get_logger(__name__)

Mode = Literal["assist", "approve", "autopilot", "schedules"]
EventType = Literal["proposed_state_change", "would_escalate", "would_execute_action",
                    "executed_action", "blocked_action"]
ProposalStatus = Literal["pending", "approved", "edited", "rejected", "expired"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def _presented_key(request: Request) -> str | None:
    return bearer(request) or request.headers.get("x-api-key") or None


class _KeyRequired(APIRoute):
    """A route that authenticates the API key before its body or parameters are read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            presented = _presented_key(request)
            if presented is None:
                raise HTTPException(status_code=401, detail="an API key is required",
                                    headers=_UNAUTHENTICATED)
            principal = await admin_keys.authenticate(await pool(request), presented)
            if principal is None:
                raise HTTPException(status_code=401, detail="the API key is not valid",
                                    headers=_UNAUTHENTICATED)
            request.state.principal = principal
            return await handler(request)

        return authenticated


router = APIRouter(prefix="/api/v1/admin", tags=["admin"], route_class=_KeyRequired)


async def operator(request: Request) -> ApiPrincipal:
    """Any valid key of the tenant (operator or admin)."""
    principal: ApiPrincipal = request.state.principal
    return principal


async def admin(who: Annotated[ApiPrincipal, Depends(operator)]) -> ApiPrincipal:
    if not who.may("admin"):
        raise HTTPException(status_code=403, detail="this needs an admin key")
    return who


async def internal_admin(who: Annotated[ApiPrincipal, Depends(operator)]) -> ApiPrincipal:
    """An admin of the internal tenant; to everyone else the resource does not exist."""
    if who.tenant_id != INTERNAL_TENANT:
        raise HTTPException(status_code=404, detail="Not Found")
    return await admin(who)


Operator = Annotated[ApiPrincipal, Depends(operator)]
Admin = Annotated[ApiPrincipal, Depends(admin)]
InternalAdmin = Annotated[ApiPrincipal, Depends(internal_admin)]
Db = Annotated[Pool, Depends(pool)]
Now = Annotated[datetime, Depends(request_now)]


@contextmanager
def _answers() -> Iterator[None]:
    """Map the services' exceptions to HTTP answers."""
    try:
        yield
    except (care_admin.NotFound, inbox.ProposalNotFound) as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except (inbox.ProposalConflict, care_admin.Conflict) as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except care_admin.Invalid as exc:
        raise RequestValidationError([{"loc": ("body", name), "msg": reason,
                                       "type": "value_error"}
                                      for name, reason in exc.problems]) from exc
    except inbox.InvalidDecision as exc:
        raise RequestValidationError([{"loc": ("body", exc.field), "msg": exc.reason,
                                       "type": "value_error"}]) from exc


def _id(value: str, what: str) -> UUID:
    """Return the id; a malformed one is as unknown as a missing one (404, not 422)."""
    try:
        return UUID(value)
    except ValueError:
        raise HTTPException(status_code=404, detail=f"no such {what}") from None


# --- Who is asking --------------------------------------------------------------------------


class Principal(BaseModel):
    tenant_id: str
    name: str
    role: str


@router.get("/whoami", response_model=Principal)
async def whoami(who: Operator) -> Principal:
    """The key's tenant, name and role (the console's sign-in check)."""
    return Principal(tenant_id=who.tenant_id, name=who.name, role=who.role)


# --- Autonomy settings -----------------------------------------------------------------------


class AutonomyUpdate(BaseModel):
    """A partial change: the fields sent replace the stored ones."""

    model_config = ConfigDict(extra="forbid", strict=True)

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


def _autonomy_view(view: care_admin.AutonomyView) -> AutonomyView:
    return AutonomyView(
        **view.settings.as_json(), kill_switch=view.kill_switch,
        global_kill_switch=view.global_kill_switch,
        ceiling=CeilingView(autonomy_enabled=view.ceiling.autonomy_enabled,
                            shadow_mode=view.ceiling.shadow_mode,
                            tenant_allowed=view.ceiling.tenant_allowed),
        autonomy_active=view.autonomy_active, updated_at=view.updated_at,
        updated_by=view.updated_by)


@router.get("/autonomy", response_model=AutonomyView)
async def get_autonomy(request: Request, who: Operator, db: Db) -> AutonomyView:
    """The tenant's settings, the environment's ceiling above them and the effective state."""
    view = await care_admin.autonomy(db, state(request).settings, who.tenant_id)
    return _autonomy_view(view)


@router.put("/autonomy", response_model=AutonomyView)
async def put_autonomy(request: Request, body: AutonomyUpdate, who: Admin,
                       db: Db, now: Now) -> AutonomyView:
    with _answers():
        view = await care_admin.update_autonomy(db, state(request).settings, who.tenant_id,
                                                actor=who.actor, now=now,
                                                changes=body.model_dump(exclude_unset=True))
    return _autonomy_view(view)


# --- Kill switches ---------------------------------------------------------------------------


class KillSwitchChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    engaged: bool
    reason: Reason


@router.get("/kill-switch", response_model=care_admin.KillSwitch)
async def get_kill_switch(who: Operator, db: Db) -> care_admin.KillSwitch:
    return await care_admin.kill_switch(db, who.tenant_id)


@router.post("/kill-switch", response_model=care_admin.KillSwitch)
async def post_kill_switch(body: KillSwitchChange, who: Operator, db: Db,
                           now: Now) -> care_admin.KillSwitch:
    """Anyone may halt the tenant's autonomy; only an admin may let it run again."""
    if not body.engaged and not who.may("admin"):
        raise HTTPException(status_code=403, detail="releasing the kill switch needs an admin key")
    return await care_admin.set_kill_switch(db, who.tenant_id, engaged=body.engaged,
                                            reason=body.reason, actor=who.actor, now=now)


@router.get("/kill-switch/global", response_model=care_admin.KillSwitch)
async def get_global_kill_switch(who: InternalAdmin, db: Db) -> care_admin.KillSwitch:
    return await care_admin.global_kill_switch(db)


@router.post("/kill-switch/global", response_model=care_admin.KillSwitch)
async def post_global_kill_switch(body: KillSwitchChange, who: InternalAdmin,
                                  db: Db, now: Now) -> care_admin.KillSwitch:
    return await care_admin.set_global_kill_switch(db, who.tenant_id, engaged=body.engaged,
                                                   reason=body.reason, actor=who.actor, now=now)


# --- Per customer ----------------------------------------------------------------------------


class HandsOffChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    enabled: bool


class CustomerModeChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    mode: Mode | None  # null: back to the tenant's mode


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


class EscalationClose(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Reason


@router.get("/customers", response_model=CustomerListing)
async def list_customers(
    who: Operator, db: Db,
    q: Annotated[str | None, Query(max_length=200)] = None,
    escalation: Annotated[Literal["open"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CustomerListing:
    """The tenant's customers, most recent contact first; `q` matches name, email or phone,
    `escalation=open` keeps those a person must handle."""
    rows = await care_admin.customers(db, who.tenant_id, query=(q or "").strip() or None,
                                      escalation_open=escalation == "open", limit=limit)
    return CustomerListing(customers=[CustomerView(**row) for row in rows])


@router.post("/customers/{customer_id}/escalation/close",
             response_model=care_admin.CustomerCare)
async def close_escalation(customer_id: str, body: EscalationClose, who: Operator,
                           db: Db, now: Now) -> care_admin.CustomerCare:
    """A person handled the escalation: autonomy may act for this customer again."""
    with _answers():
        care = await care_admin.close_escalation(db, who.tenant_id,
                                                 _id(customer_id, "customer"),
                                                 reason=body.reason, actor=who.actor, now=now)
    return care


@router.get("/customers/{customer_id}/care", response_model=care_admin.CustomerCare)
async def get_customer_care(customer_id: str, who: Operator, db: Db) -> care_admin.CustomerCare:
    with _answers():
        care = await care_admin.customer_care(db, who.tenant_id, _id(customer_id, "customer"))
    return care


@router.put("/customers/{customer_id}/hands-off", response_model=care_admin.CustomerCare)
async def put_hands_off(customer_id: str, body: HandsOffChange, who: Operator,
                        db: Db, now: Now) -> care_admin.CustomerCare:
    with _answers():
        care = await care_admin.set_hands_off(db, who.tenant_id, _id(customer_id, "customer"),
                                              enabled=body.enabled, actor=who.actor, now=now)
    return care


@router.put("/customers/{customer_id}/autonomy", response_model=care_admin.CustomerCare)
async def put_customer_mode(customer_id: str, body: CustomerModeChange, who: Admin,
                            db: Db, now: Now) -> care_admin.CustomerCare:
    with _answers():
        care = await care_admin.set_customer_mode(db, who.tenant_id,
                                                  _id(customer_id, "customer"),
                                                  mode=body.mode, actor=who.actor, now=now)
    return care


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


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str  # required, not blank (inbox.reject says why not)


class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str  # the reply's new text, not blank (inbox.approve says why not)


@router.get("/proposals", response_model=ProposalListing)
async def list_proposals(
    who: Operator, db: Db, now: Now,
    status: Annotated[ProposalStatus | None, Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ProposalListing:
    """The tenant's proposals of a status (pending by default), oldest first."""
    rows = await inbox.proposals(db, who.tenant_id, status=status, limit=limit, now=now)
    return ProposalListing(proposals=[ProposalView(**row) for row in rows])


@router.post("/proposals/{proposal_id}/approve", response_model=inbox.Decided)
async def approve_proposal(request: Request, proposal_id: str, who: Operator,
                           db: Db, now: Now) -> inbox.Decided:
    with _answers():
        decided = await inbox.approve(db, state(request).settings, who.tenant_id,
                                      _id(proposal_id, "proposal"), operator=who.name, now=now)
    return decided


@router.post("/proposals/{proposal_id}/edit", response_model=inbox.Decided)
async def edit_proposal(request: Request, proposal_id: str, body: Edit, who: Operator,
                        db: Db, now: Now) -> inbox.Decided:
    """Replace the draft's text, then approve it."""
    with _answers():
        decided = await inbox.approve(db, state(request).settings, who.tenant_id,
                                      _id(proposal_id, "proposal"), operator=who.name,
                                      text=body.text, now=now)
    return decided


@router.post("/proposals/{proposal_id}/reject", response_model=inbox.Decided)
async def reject_proposal(proposal_id: str, body: Rejection, who: Operator,
                          db: Db, now: Now) -> inbox.Decided:
    with _answers():
        decided = await inbox.reject(db, who.tenant_id, _id(proposal_id, "proposal"),
                                     operator=who.name, reason=body.reason, now=now)
    return decided


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


@router.get("/activity", response_model=Activity)
async def activity(
    who: Operator, db: Db,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    event_type: Annotated[EventType | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Activity:
    """The tenant's audit trail, newest first ("Autopilot did X": event_type=executed_action)."""
    rows = await care_admin.recent_activity(db, who.tenant_id, before_id=before_id,
                                            event_type=event_type, limit=limit)
    more = len(rows) == limit
    return Activity(entries=[AuditEntry(**row) for row in rows],
                    next_before_id=rows[-1]["id"] if rows and more else None)


class Digest(BaseModel):
    day: date
    summary: dict[str, Any]
    created_at: datetime


class DigestListing(BaseModel):
    digests: list[Digest]


@router.get("/digests", response_model=DigestListing)
async def list_digests(who: Operator, db: Db,
                       limit: Annotated[int, Query(ge=1, le=366)] = 7) -> DigestListing:
    """The daily digests of what autopilot did, newest day first."""
    rows = await care_admin.digests(db, who.tenant_id, limit=limit)
    return DigestListing(digests=[Digest(**row) for row in rows])


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


@router.get("/tasks", response_model=TaskListing)
async def list_tasks(
    who: Operator, db: Db,
    status: Annotated[Literal["open", "done"] | None, Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TaskListing:
    """The internal follow-up tasks (the scheduled runs' and people's), newest first."""
    rows = await care_admin.tasks(db, who.tenant_id, status=status, limit=limit)
    return TaskListing(tasks=[TaskView(**row) for row in rows])


# --- Audit export ----------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps({key: _cell(value) for key, value in row.items()},
                              ensure_ascii=False) + "\n" for row in rows)


def _csv(rows: list[dict[str, Any]], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(care_admin.AUDIT_COLUMNS)
    for row in rows:
        writer.writerow([json.dumps(value, ensure_ascii=False) if key == "payload"
                         else "" if value is None else _cell(value)
                         for key, value in row.items()])
    return buffer.getvalue()


def _utc(value: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@router.get("/audit/export")
async def export_audit(
    who: Operator, db: Db,
    fmt: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    event_type: Annotated[EventType | None, Query()] = None,
) -> StreamingResponse:
    """Stream the tenant's audit trail in id order as JSON lines or CSV (header row first)."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and since >= until:
        raise RequestValidationError([{"loc": ("query", "until"), "msg": "must be after since",
                                       "type": "value_error"}])
    pages = care_admin.audit_pages(db, who.tenant_id, since=since, until=until,
                                   event_type=event_type)

    async def body() -> AsyncIterator[str]:
        if fmt == "csv":
            yield _csv([], header=True)
        async for page in pages:
            yield _jsonl(page) if fmt == "jsonl" else _csv(page, header=False)

    log.info("care_audit_exported", tenant_id=who.tenant_id, format=fmt, actor=who.actor)
    media = "application/x-ndjson" if fmt == "jsonl" else "text/csv; charset=utf-8"
    return StreamingResponse(body(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="care-audit-{who.tenant_id}.{fmt}"'})
