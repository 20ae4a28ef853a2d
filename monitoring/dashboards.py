"""The Grafana dashboards, as code (grafanalib): Overview, Agent, C.A.R.E. and Channels.

`python -m monitoring.generate` writes them to `monitoring/grafana/dashboards/*.json` (provisioned
by docker-compose's Grafana) and into the ConfigMaps of `k8s/monitoring/` (kube-prometheus-stack's
sidecar loads those labelled grafana_dashboard: "1"). Every metric is named through
`production.metrics`; every query is filtered by the `namespace` variable, and per-tenant series
by the `tenant` variable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafanalib._gen import DashboardEncoder
from grafanalib.core import (
    Dashboard,
    GridPos,
    Stat,
    Target,
    Template,
    Templating,
    Time,
    TimeSeries,
)

from monitoring.alerts import slo_ratio
from production import metrics as m

RATE = "$__rate_interval"
NS = 'namespace=~"$namespace"'
TENANT = 'tenant=~"$tenant"'
DATASOURCE = "${datasource}"
NEGATIVE = 'le="-0.25"'
SERVER_ERROR = 'status=~"5.."'
REPLIED = 'outcome="replied"'
REPLY = 'kind="reply"'
EXECUTED = 'verdict="execute"'
HIT = 'result="hit"'
PENDING = 'kind="pending"'
DEFERRED = 'kind="deferred"'
THROTTLE = 'clause=~"PR10.*"'
PROVIDER_ERROR = 'status=~"unavailable|failed"'


def sel(metric: str, *matchers: str) -> str:
    """Return `metric` selected in the dashboard's namespace (and any further `matchers`)."""
    return f"{metric}{{{', '.join((NS, *matchers))}}}"


def rate(metric: str, *matchers: str) -> str:
    return f"rate({sel(metric, *matchers)}[{RATE}])"


def p95(histogram: str, by: str, *matchers: str) -> str:
    return (f"histogram_quantile(0.95, sum by ({by}, le) "
            f"({rate(histogram + '_bucket', *matchers)}))")


def per_event(histogram: str, by: str, *matchers: str) -> str:
    """The average observed value per event (per run) of a histogram."""
    return (f"sum by ({by}) ({rate(histogram + '_sum', *matchers)}) / "
            f"sum by ({by}) ({rate(histogram + '_count', *matchers)})")


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[tuple[str, str], ...]  # (expr, legend)
    unit: str = "short"
    stat: bool = False
    description: str = ""


def _targets(queries: tuple[tuple[str, str], ...]) -> list[Target]:
    return [Target(expr=expr, legendFormat=legend, refId=chr(ord("A") + i),
                   datasource=DATASOURCE) for i, (expr, legend) in enumerate(queries)]


def _grafana_panel(panel: Panel, index: int) -> Any:
    width, height = 12, 8
    pos = GridPos(h=height, w=width, x=(index % 2) * width, y=(index // 2) * height)
    common: dict[str, Any] = {"title": panel.title, "dataSource": DATASOURCE,
                              "targets": _targets(panel.queries), "gridPos": pos,
                              "description": panel.description}
    if panel.stat:
        return Stat(format=panel.unit, reduceCalc="lastNotNull", **common)
    return TimeSeries(unit=panel.unit, **common)


def _templating(tenant: bool) -> Templating:
    variables = [
        Template(name="datasource", label="Data source", type="datasource", query="prometheus"),
        Template(name="namespace", label="Namespace", dataSource=DATASOURCE, includeAll=True,
                 multi=True, default="$__all", refresh=2,
                 query=f"label_values({m.HTTP_LATENCY.name}_count, namespace)"),
    ]
    if tenant:
        variables.append(Template(
            name="tenant", label="Tenant", dataSource=DATASOURCE, includeAll=True, multi=True,
            default="$__all", refresh=2,
            query=f"label_values({sel(m.CARE_WAITING.name)}, tenant)"))
    return Templating(list=variables)


def dashboard(uid: str, title: str, panels: list[Panel], *, tenant: bool = False
              ) -> dict[str, Any]:
    """Return one dashboard's JSON model."""
    board = Dashboard(
        title=title, uid=uid, tags=["customer-success-fte"], timezone="utc",
        time=Time("now-6h", "now"), refresh="30s", editable=False,
        templating=_templating(tenant),
        panels=[_grafana_panel(panel, i) for i, panel in enumerate(panels)],
    ).auto_panel_ids()
    # The encoder turns grafanalib's objects into plain JSON all the way down.
    data: dict[str, Any] = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return data


def overview() -> dict[str, Any]:
    http = m.HTTP_LATENCY.name
    replies = m.REPLIES.name
    return dashboard("fte-overview", "FTE / Overview", [
        Panel("Requests by route", (
            (f"sum by (route) ({rate(http + '_count')})", "{{route}}"),), "reqps"),
        Panel("Errors (5xx share) by route", (
            (f"sum by (route) ({rate(http + '_count', SERVER_ERROR)}) / "
             f"sum by (route) ({rate(http + '_count')})", "{{route}}"),), "percentunit"),
        Panel("p95 latency by route", ((p95(http, "route"), "{{route}}"),), "s"),
        Panel("p95 first response by channel", (
            (p95(m.FIRST_RESPONSE.name, "channel", 'stage="stored"'), "{{channel}} stored"),
            (p95(m.FIRST_RESPONSE.name, "channel", 'stage="delivered"'),
             "{{channel}} delivered")), "s",
            description="From the message accepted to its reply stored (the agent) and to "
                        "the reply delivered (including any wait for a person)."),
        Panel("Escalation and automation rate", (
            (f"sum({rate(m.ESCALATIONS.name)}) / "
             f"sum({rate(m.MESSAGES_PROCESSED.name, REPLIED)})", "escalated"),
            (f"sum({rate(replies, REPLY, EXECUTED)}) / "
             f"sum({rate(replies, REPLY)})", "sent without a person")),
            "percentunit"),
        Panel("First-response SLO: share slower than 3 s", (
            (sel(slo_ratio("5m")), "5m"), (sel(slo_ratio("1h")), "1h"),
            (sel(slo_ratio("6h")), "6h")),
            "percentunit"),
        Panel("Consumer lag", (
            (f"sum by (group, topic) ({sel(m.CONSUMER_LAG.name)})", "{{group}} {{topic}}"),),
            "short"),
        Panel("Dead letters", (
            (f"sum by (consumer) (increase({sel(m.DEAD_LETTERS.name)}[{RATE}]))",
             "{{consumer}}"),), "short"),
        Panel("Replies by channel", (
            (f"sum by (channel) ({rate(replies)})", "{{channel}}"),), "ops"),
        Panel("Database pool", (
            (f"sum by (job) ({sel(m.POOL_IN_USE.name)})", "{{job}} in use"),
            (f"sum by (job) ({sel(m.POOL_WAITING.name)})", "{{job}} waiting"),
            (f"sum by (job) ({sel(m.POOL_SIZE.name)})", "{{job}} open")), "short"),
    ])


def agent() -> dict[str, Any]:
    return dashboard("fte-agent", "FTE / Agent", [
        Panel("Tool calls by tool", (
            (f"sum by (tool) ({rate(m.TOOL_CALLS.name)})", "{{tool}}"),), "ops"),
        Panel("Knowledge-base hit rate", (
            (f"sum({rate(m.KB_LOOKUPS.name, HIT)}) / "
             f"sum({rate(m.KB_LOOKUPS.name)})", "grounded"),), "percentunit"),
        Panel("Model calls per run", (
            (per_event(m.MODEL_CALLS.name, "model"), "{{model}}"),), "short"),
        Panel("Tokens per run", (
            (per_event(m.TOKENS.name, "model, direction"), "{{model}} {{direction}}"),),
            "short"),
        Panel("Estimated cost per run", (
            (per_event(m.COST.name, "model"), "{{model}}"),), "currencyUSD"),
        Panel("Estimated cost per hour", (
            (f"sum by (model) (rate({sel(m.COST.name + '_sum')}[1h])) * 3600", "{{model}}"),),
            "currencyUSD"),
        Panel("p95 model call latency", ((p95(m.MODEL_LATENCY.name, "model"), "{{model}}"),),
              "s"),
        Panel("Model errors", (
            (f"sum by (model, error) ({rate(m.MODEL_ERRORS.name)})", "{{model}} {{error}}"),),
            "ops"),
        Panel("p95 agent run", ((p95(m.AGENT_LATENCY.name, "channel"), "{{channel}}"),), "s"),
        Panel("Cost gate decisions", (
            (f"sum by (decision, reason) ({rate(m.COST_GATE_DECISIONS.name)})",
             "{{decision}} {{reason}}"),), "ops",
            description="Model runs allowed, deferred or skipped by the DecisionCostGate; "
                        "budget_spent: a tenant's model budget for its day is spent."),
        Panel("Replies by model budget", (
            (f"sum by (route) ({rate(m.REPLY_BUDGET_ROUTES.name)})", "{{route}}"),), "ops",
            description="model: within budget; local: spent, the local model answered; "
                        "held: spent, held to the tenant's next day."),
        Panel("Sentiment by channel", (
            (f"histogram_quantile(0.5, sum by (channel, le) "
             f"({rate(m.SENTIMENT.name + '_bucket')}))", "{{channel}} median"),
            (f"sum by (channel) ({rate(m.SENTIMENT.name + '_bucket', NEGATIVE)}) / "
             f"sum by (channel) ({rate(m.SENTIMENT.name + '_count')})", "{{channel}} negative")),
            "short",
            # A histogram with negative buckets has no _sum: no average, a median instead.
            description="-1 negative to 1 positive; negative: the share at or below -0.25."),
    ])


def care() -> dict[str, Any]:
    decisions = m.GATE_DECISIONS.name
    return dashboard("fte-care", "FTE / C.A.R.E.", [
        Panel("Gate decisions by clause", (
            (f"sum by (decision, clause) ({rate(decisions)})", "{{decision}} {{clause}}"),),
            "ops"),
        Panel("Approval inbox", (
            (f"max by (tenant) ({sel(m.CARE_WAITING.name, TENANT, PENDING)})",
             "{{tenant}} drafts"),
            (f"max by (tenant) ({sel(m.CARE_WAITING.name, TENANT, DEFERRED)})",
             "{{tenant}} deferred")), "short"),
        Panel("Oldest draft", (
            (f"max by (tenant) ({sel(m.INBOX_OLDEST.name, TENANT)})", "{{tenant}}"),), "s"),
        Panel("Kill switches", (
            (f"max by (tenant) ({sel(m.KILL_SWITCH.name, TENANT)})", "{{tenant}}"),),
            "short", stat=True, description="1: autonomy switched off."),
        Panel("Throttles", (
            (f"sum by (decision, clause) ({rate(decisions, THROTTLE)})",
             "{{decision}} {{clause}}"),), "ops",
            description="Actions deferred or held by the daily budgets, the minimum "
                        "interval and quiet hours."),
        Panel("Replies by verdict", (
            (f"sum by (verdict) ({rate(m.REPLIES.name)})", "{{verdict}}"),), "ops"),
    ], tenant=True)


def channels() -> dict[str, Any]:
    deliveries = m.DELIVERIES.name
    return dashboard("fte-channels", "FTE / Channels", [
        Panel("Deliveries by status", (
            (f"sum by (channel, status) ({rate(deliveries)})", "{{channel}} {{status}}"),),
            "ops"),
        Panel("Circuit breakers", (
            (f"max by (channel) ({sel(m.CHANNEL_BREAKER.name)})", "{{channel}}"),), "short",
            description="0 closed, 1 half-open, 2 open."),
        Panel("Provider errors", (
            (f"sum by (channel) ({rate(deliveries, PROVIDER_ERROR)})",
             "{{channel}}"),), "ops"),
        Panel("Delivery retries", (
            (f"sum({rate(m.DELIVERY_RETRIES_DUE.name)})", "re-announced"),), "ops"),
        Panel("p95 accepted → delivered", (
            (p95(m.FIRST_RESPONSE.name, "channel", 'stage="delivered"'), "{{channel}}"),), "s"),
        Panel("Outbox", (
            (f"max({sel(m.OUTBOX_BACKLOG.name)})", "backlog"),
            (f"max({sel(m.OUTBOX_OLDEST.name)})", "oldest (s)")), "short"),
        Panel("Customers recognized across channels", (
            (f"max by (tenant) ({sel(m.LINKED_CUSTOMERS.name, TENANT)})", "{{tenant}}"),),
            "short"),
        Panel("Customer merges", (
            (f"max by (tenant, status) ({sel(m.MERGES.name, TENANT)})",
             "{{tenant}} {{status}}"),), "short"),
    ], tenant=True)


def dashboards() -> dict[str, dict[str, Any]]:
    """Return every dashboard by its file stem."""
    return {"overview": overview(), "agent": agent(), "care": care(), "channels": channels()}
