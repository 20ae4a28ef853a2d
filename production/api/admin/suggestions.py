"""The "What should I do next?" feed: the tenant's pending suggestions, best first (confidence
x urgency: domain/proactive/rank.py), one of them, and a person's approval (as proposed or
edited), dismissal with a reason, or snooze (`services.suggestions.review` decides; a second
decision or a late one is 409; another tenant's suggestion is 404)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from production.api.admin.auth import Operator, keyed_router, resource_id
from production.api.admin.schemas import Reason
from production.api.deps import Db, Now, state
from production.services.suggestions import review

router = keyed_router()

Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SuggestionEdit(_Body):
    """What a person changes before approving: the text of a note, task, draft or message, or a
    ticket change's priority (only what the action has)."""

    title: Title | None = None
    body: Text | None = None
    priority: str | None = None


class Dismissal(_Body):
    reason: Reason


class Snooze(_Body):
    hours: float = Field(gt=0, le=24 * 28)


class Ranking(BaseModel):
    confidence: float
    urgency: float
    urgency_from: str
    health_score: float | None
    acceptance: float  # calibrated: the tenant's past decisions on this trigger and action
    evidence: int  # how many decisions that rests on
    unranked_score: float  # confidence x urgency, before calibration


class SuggestionView(BaseModel):
    id: UUID
    customer_id: UUID
    customer_name: str | None
    firing_id: UUID
    trigger: str
    action: str
    title: str
    body: str
    reason: str
    explanation: str
    confidence: float
    urgency: float
    score: float
    ranking: Ranking
    facts: dict[str, Any]
    params: dict[str, Any]
    topics: list[str]
    preview: list[dict[str, Any]]
    editable: list[str]
    proposer: str
    policy: dict[str, Any]
    status: str
    local_day: date
    created_at: datetime
    expires_at: datetime
    snoozed_until: datetime | None
    snoozed: bool
    decided_by: str | None
    decided_at: datetime | None
    outcome: str | None
    dismiss_reason: str | None
    result: dict[str, Any] | None


class SuggestionFeed(BaseModel):
    suggestions: list[SuggestionView]
    ranked_by: str = ("calibrated acceptance x urgency (acceptance: the proposer's confidence"
                      " updated by past decisions on the trigger and action; urgency: the"
                      " trigger's, or 1 - health score/100)")


@router.get("/suggestions", response_model=SuggestionFeed)
async def list_suggestions(request: Request, who: Operator, db: Db, now: Now,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50) -> SuggestionFeed:
    """The pending suggestions not snoozed, best first."""
    rows = await review.feed(pool=db, tenant_id=who.tenant_id, now=now, limit=limit,
                             ranking=review.ranking_of(state(request).settings))
    return SuggestionFeed(suggestions=[SuggestionView(**row) for row in rows])


@router.get("/suggestions/{suggestion_id}", response_model=SuggestionView)
async def get_suggestion(request: Request, suggestion_id: str, who: Operator, db: Db,
                         now: Now) -> SuggestionView:
    return SuggestionView(**await review.one(
        pool=db, tenant_id=who.tenant_id, suggestion_id=resource_id(suggestion_id, "suggestion"),
        now=now, ranking=review.ranking_of(state(request).settings)))


@router.post("/suggestions/{suggestion_id}/approve", response_model=review.Decided)
async def approve_suggestion(request: Request, suggestion_id: str, who: Operator, db: Db,
                             now: Now) -> review.Decided:
    """Run the suggestion's action as proposed (a message to the customer only if every
    C.A.R.E. gate holds: else 409 naming the gate)."""
    return await review.approve(
        pool=db, settings=state(request).settings, tenant_id=who.tenant_id,
        suggestion_id=resource_id(suggestion_id, "suggestion"), operator=who.name, now=now)


@router.post("/suggestions/{suggestion_id}/edit", response_model=review.Decided)
async def edit_suggestion(request: Request, suggestion_id: str, body: SuggestionEdit,
                          who: Operator, db: Db, now: Now) -> review.Decided:
    """Change the suggestion, then approve it (labelled IDEA_EDITED)."""
    return await review.approve(
        pool=db, settings=state(request).settings, tenant_id=who.tenant_id,
        suggestion_id=resource_id(suggestion_id, "suggestion"), operator=who.name, now=now,
        edits=review.Edits(title=body.title, body=body.body, priority=body.priority))


@router.post("/suggestions/{suggestion_id}/dismiss", response_model=review.Decided)
async def dismiss_suggestion(suggestion_id: str, body: Dismissal, who: Operator, db: Db,
                             now: Now) -> review.Decided:
    """Dismiss it with a reason (IDEA_REJECTED); repeated dismissals pause its trigger."""
    return await review.dismiss(
        pool=db, tenant_id=who.tenant_id, suggestion_id=resource_id(suggestion_id, "suggestion"),
        operator=who.name, reason=body.reason, now=now)


@router.post("/suggestions/{suggestion_id}/snooze", response_model=review.Decided)
async def snooze_suggestion(suggestion_id: str, body: Snooze, who: Operator, db: Db,
                            now: Now) -> review.Decided:
    """Hide it from the feed for `hours` (less than its time to expiry)."""
    return await review.snooze(
        pool=db, tenant_id=who.tenant_id, suggestion_id=resource_id(suggestion_id, "suggestion"),
        operator=who.name, hours=body.hours, now=now)
