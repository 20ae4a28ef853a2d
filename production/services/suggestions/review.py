"""A person's side of the feed: the ranked suggestions, one of them, and its approval (as
proposed or edited), dismissal with a reason, or snooze. Each decision is taken once, on the
locked row, at the caller's `now`; a late or second one is a conflict and writes nothing.

Approving runs the action through `execute.run` with its audit row and diff. A message to the
customer is sent only if every C.A.R.E. gate holds with the person's approval standing in for
the policy (`decision.decide(approved_by=...)`); otherwise the approval is refused with the
gate that did not hold, and the suggestion stays pending. Dismissing needs a reason and is
labelled IDEA_REJECTED (OutcomeTaxonomyV1); five dismissals pause the trigger for the customer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from production.care import decision
from production.care.outcomes import OutcomeTaxonomyV1
from production.care.suggestion_executor import (
    CUSTOMER_FACING,
    SuggestionConflict,
    SuggestionNotFound,
)
from production.care.suggestion_executor import run as run_action
from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import suggestions
from production.database.queries.suggestions import StoredSuggestion
from production.domain import errors
from production.domain.care.policy import ProposedAction, Topic
from production.domain.proactive import acceptance, rank
from production.domain.proactive.propose import EDITABLE, PRIORITIES, preview

log = structlog.get_logger(__name__)

MAX_TEXT = 20_000
MAX_REASON = 1_000


@dataclass(frozen=True)
class Edits:
    """What a person changed before approving (None: as proposed)."""

    title: str | None = None
    body: str | None = None
    priority: str | None = None


@dataclass(frozen=True)
class Ranking:
    """How the feed learns from past decisions (FTE_SUGGESTIONS_ACCEPTANCE_*)."""

    half_life_days: float = acceptance.DEFAULT_HALF_LIFE_DAYS
    prior_strength: float = acceptance.DEFAULT_PRIOR_STRENGTH
    horizon_days: float = 365.0


def ranking_of(settings: Settings) -> Ranking:
    cfg = settings.suggestions
    return Ranking(cfg.acceptance_half_life_days, cfg.acceptance_prior_strength,
                   cfg.acceptance_horizon_days)


# The feed re-ranks at most this many pending suggestions (the SQL's order picks them).
FEED_CANDIDATES = 1_000


@dataclass(frozen=True)
class Decided:
    suggestion_id: UUID
    status: str
    outcome: str | None
    decided_by: str
    result: dict[str, Any] | None = None
    snoozed_until: datetime | None = None


def view(row: StoredSuggestion, *, now: datetime,
         calibrated: acceptance.Calibrated | None = None) -> dict[str, Any]:
    """Return the suggestion as the feed shows it: its score (calibrated acceptance x urgency)
    and the breakdown behind it."""
    got = calibrated or acceptance.calibrate(trigger=row.trigger, action=row.action,
                                             confidence=row.confidence, urgency=row.urgency,
                                             table={})
    shown = asdict(row)
    shown["score"] = got.score
    shown["ranking"] = {"confidence": row.confidence, "urgency": row.urgency,
                        "urgency_from": row.urgency_from,
                        "health_score": rank.health_score(row.facts),
                        "acceptance": got.acceptance, "evidence": got.evidence,
                        "unranked_score": rank.score(row.confidence, row.urgency)}
    shown["preview"] = (row.result or {}).get("diff") or preview(
        row.action, title=row.title, body=row.body, params=row.params)
    shown["editable"] = list(EDITABLE.get(row.action, ()))
    shown["snoozed"] = row.snoozed_until is not None and row.snoozed_until > now
    return shown


async def _learned(conn: Connection, tenant_id: str, now: datetime,
                   ranking: Ranking) -> dict[acceptance.Pair, acceptance.Evidence]:
    past = await suggestions.decisions(conn, tenant_id=tenant_id, now=now,
                                       since=now - timedelta(days=ranking.horizon_days))
    return acceptance.evidence(past, tenant_id=tenant_id, now=now,
                               half_life_days=ranking.half_life_days)


def _calibrated(row: StoredSuggestion, table: dict[acceptance.Pair, acceptance.Evidence],
                ranking: Ranking) -> acceptance.Calibrated:
    return acceptance.calibrate(trigger=row.trigger, action=row.action,
                                confidence=row.confidence, urgency=row.urgency, table=table,
                                prior_strength=ranking.prior_strength)


async def feed(*, pool: Pool, tenant_id: str, now: datetime, limit: int,
               ranking: Ranking = Ranking()) -> list[dict[str, Any]]:
    """Return the tenant's pending suggestions best first: calibrated acceptance (its people's
    past decisions on that trigger and action) x urgency, then the oldest."""
    async with pool.acquire() as conn:
        rows = await suggestions.feed(conn, tenant_id=tenant_id, now=now,
                                      limit=max(limit, FEED_CANDIDATES))
        table = await _learned(conn, tenant_id, now, ranking)
    scored = [(row, _calibrated(row, table, ranking)) for row in rows]
    scored.sort(key=lambda pair: (-pair[1].score, pair[0].created_at, str(pair[0].id)))
    return [view(row, now=now, calibrated=got) for row, got in scored[:limit]]


async def one(*, pool: Pool, tenant_id: str, suggestion_id: UUID, now: datetime,
              ranking: Ranking = Ranking()) -> dict[str, Any]:
    async with pool.acquire() as conn:
        row = await suggestions.get(conn, tenant_id=tenant_id, suggestion_id=suggestion_id)
        if row is None:
            raise SuggestionNotFound("no such suggestion")
        table = await _learned(conn, tenant_id, now, ranking)
    return view(row, now=now, calibrated=_calibrated(row, table, ranking))


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise errors.Invalid([(field, "must not be blank")])
    if len(value) > limit:
        raise errors.Invalid([(field, f"must be at most {limit} characters")])
    return value


async def _pending(conn: Connection, tenant_id: str, suggestion_id: UUID,
                   now: datetime | None) -> StoredSuggestion:
    """Return the pending suggestion, locked; not expired at `now` unless `now` is None."""
    row = await suggestions.get(conn, tenant_id=tenant_id, suggestion_id=suggestion_id,
                                lock=True)
    if row is None:
        raise SuggestionNotFound("no such suggestion")
    if row.status != "pending":
        raise SuggestionConflict(f"the suggestion is already {row.status}")
    if now is not None and row.expires_at <= now:
        raise SuggestionConflict(f"the suggestion expired at {row.expires_at.isoformat()}")
    return row


def _applied(row: StoredSuggestion, edits: Edits | None) -> tuple[str, str, dict[str, Any]]:
    """Return the title, body and params the action runs with, after a person's edits."""
    title, body, params = row.title, row.body, dict(row.params)
    if edits is None:
        return title, body, params
    allowed = EDITABLE.get(row.action, ())
    changed = {name for name in ("title", "body", "priority")
               if getattr(edits, name) is not None}
    if not changed:
        raise errors.Invalid([("edits", "change at least one field, or approve as proposed")])
    if refused := sorted(changed - set(allowed)):
        raise errors.Invalid([(name, f"a {row.action} suggestion cannot change it")
                              for name in refused])
    if edits.title is not None:
        title = _text(edits.title, "title", 300)
    if edits.body is not None:
        body = _text(edits.body, "body", MAX_TEXT)
    if edits.priority is not None:
        if edits.priority not in PRIORITIES:
            raise errors.Invalid([("priority", f"must be one of {', '.join(PRIORITIES)}")])
        params["priority"] = edits.priority
    return title, body, params


async def approve(*, pool: Pool, settings: Settings, tenant_id: str, suggestion_id: UUID,
                  operator: str, now: datetime, edits: Edits | None = None) -> Decided:
    """Approve a pending suggestion (with `edits`, changed first) and run its action; raises
    SuggestionNotFound, SuggestionConflict (decided, expired, a gate that does not hold: nothing
    written) or errors.Invalid (an edit it cannot take)."""
    actor = f"operator:{operator}"
    async with pool.acquire() as conn, conn.transaction():
        row = await _pending(conn, tenant_id, suggestion_id, now)
        title, body, params = _applied(row, edits)
        verdict = None
        if row.action in CUSTOMER_FACING:
            verdict = await decision.decide(
                conn=conn, settings=settings, tenant_id=tenant_id, customer_id=row.customer_id,
                action=ProposedAction(kind=row.action,
                                      topics=frozenset(Topic(t) for t in row.topics)),
                now=now, approved_by=actor)
        result = await run_action(conn=conn, settings=settings, tenant_id=tenant_id,
                                  suggestion=row, actor=actor, verdict=verdict, title=title,
                                  body=body, params=params, now=now)
        outcome = OutcomeTaxonomyV1.IDEA_EDITED if edits is not None \
            else OutcomeTaxonomyV1.EXECUTION_SUCCEEDED
        await suggestions.decide(conn, tenant_id=tenant_id, suggestion_id=suggestion_id,
                                 status="executed", decided_by=actor, outcome=str(outcome),
                                 result=result, title=title, body=body, params=params, now=now)
    log.info("suggestion_approved", tenant_id=tenant_id, suggestion_id=str(suggestion_id),
             action=row.action, edited=edits is not None)
    return Decided(suggestion_id, "executed", str(outcome), actor, result)


async def dismiss(*, pool: Pool, tenant_id: str, suggestion_id: UUID, operator: str,
                  reason: str, now: datetime) -> Decided:
    """Dismiss a pending suggestion with a reason (IDEA_REJECTED); expired ones too."""
    actor = f"operator:{operator}"
    why = _text(reason, "reason", MAX_REASON)
    async with pool.acquire() as conn, conn.transaction():
        await _pending(conn, tenant_id, suggestion_id, None)  # a refusal is never too late
        outcome = str(OutcomeTaxonomyV1.IDEA_REJECTED)
        await suggestions.decide(conn, tenant_id=tenant_id, suggestion_id=suggestion_id,
                                 status="dismissed", decided_by=actor, outcome=outcome,
                                 dismiss_reason=why, now=now)
    log.info("suggestion_dismissed", tenant_id=tenant_id, suggestion_id=str(suggestion_id))
    return Decided(suggestion_id, "dismissed", outcome, actor)


async def snooze(*, pool: Pool, tenant_id: str, suggestion_id: UUID, operator: str,
                 hours: float, now: datetime) -> Decided:
    """Hide a pending suggestion from the feed for `hours` (not past its expiry)."""
    if hours <= 0:
        raise errors.Invalid([("hours", "must be more than 0")])
    until = now + timedelta(hours=hours)
    async with pool.acquire() as conn, conn.transaction():
        row = await _pending(conn, tenant_id, suggestion_id, now)
        if until >= row.expires_at:
            raise errors.Invalid([("hours", "the suggestion expires at "
                                   f"{row.expires_at.isoformat()}: snooze it for less")])
        await suggestions.snooze(conn, tenant_id=tenant_id, suggestion_id=suggestion_id,
                                 until=until)
    return Decided(suggestion_id, "pending", None, f"operator:{operator}", snoozed_until=until)
