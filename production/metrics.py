"""Every Prometheus metric of the product, declared once: its name, type, labels and help.

The objects below are the names' only spelling: the code observes them, and the alert rules,
the dashboards (`monitoring/`) and the tests build their PromQL from `.name`, so a misspelled
metric is an AttributeError, and an expression naming a metric not declared here fails a test
(`DECLARED`, `exposed_names`). Each process serves its own registry (`fte api` with several
workers merges theirs, `render`).

Labels stay bounded: channels, tools, models, consumers, partitions, tenants, clauses; never a
customer, a conversation or a message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, TypeVar

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics import MetricWrapperBase

Kind = Literal["counter", "gauge", "histogram"]
M = TypeVar("M", bound=MetricWrapperBase)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# First response: 3 s is the constitution's target (a bucket edge, so the SLO counts exactly);
# a reply that waits for a person takes minutes to hours.
_RESPONSE_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
_SENTIMENT_BUCKETS = (-0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1)
_COUNT_BUCKETS = (0, 1, 2, 3, 4, 5, 8)
_TOKEN_BUCKETS = (0, 100, 250, 500, 1000, 2500, 5000, 10000, 25000)
_COST_BUCKETS = (0, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


@dataclass(frozen=True)
class Declared:
    """One metric as declared: `name` is how PromQL names it (a counter's ends in _total)."""

    name: str
    kind: Kind
    labels: tuple[str, ...]
    help: str
    # A histogram with negative buckets shows no _sum (OpenMetrics): no average of it.
    has_sum: bool = True

    def series(self) -> tuple[str, ...]:
        """Return the sample names a scrape shows for it."""
        if self.kind == "histogram":
            parts = ("_bucket", "_sum", "_count") if self.has_sum else ("_bucket", "_count")
            return tuple(f"{self.name}{s}" for s in parts)
        return (self.name,)


DECLARED: dict[str, Declared] = {}


class NamedCounter(Counter):
    """A counter that knows the name PromQL gives it (`name`, ending in _total)."""

    name: str


class NamedGauge(Gauge):
    name: str


class NamedHistogram(Histogram):
    name: str


def _declare(metric: M, kind: Kind, name: str, help_text: str, labels: tuple[str, ...],
             *, has_sum: bool = True) -> M:
    assert name not in DECLARED, f"{name} declared twice"
    DECLARED[name] = Declared(name, kind, labels, help_text, has_sum)
    metric.name = name  # type: ignore[attr-defined]  # the Named* classes declare it
    return metric


def counter(name: str, help_text: str, *labels: str) -> NamedCounter:
    assert name.endswith("_total"), name
    return _declare(NamedCounter(name, help_text, labels), "counter", name, help_text, labels)


def gauge(name: str, help_text: str, *labels: str, api: bool = False) -> NamedGauge:
    # Set by the API's processes (api=True): their values add up (live processes only).
    metric = (NamedGauge(name, help_text, labels, multiprocess_mode="livesum") if api
              else NamedGauge(name, help_text, labels))
    return _declare(metric, "gauge", name, help_text, labels)


def histogram(name: str, help_text: str, *labels: str,
              buckets: tuple[float, ...] = _LATENCY_BUCKETS) -> NamedHistogram:
    return _declare(NamedHistogram(name, help_text, labels, buckets=buckets), "histogram",
                    name, help_text, labels, has_sum=buckets[0] >= 0)


def exposed_names() -> set[str]:
    """Return every sample name the declared metrics can expose."""
    return {series for declared in DECLARED.values() for series in declared.series()}


# --- HTTP (api) -----------------------------------------------------------------------------

HTTP_LATENCY = histogram(
    "fte_http_request_duration_seconds", "HTTP request latency by route template and status",
    "method", "route", "status")

# --- Channels (worker, dispatcher) ----------------------------------------------------------

MESSAGES_PROCESSED = counter(
    "fte_messages_processed_total", "Inbound messages handled by the worker, by outcome",
    "channel", "outcome")
REPLIES = counter(
    "fte_replies_total", "Replies stored, by kind (reply, apology) and the gate's verdict "
    "(execute: sent without a person; defer: later, by pacing; hold: a person decides)",
    "channel", "kind", "verdict")
FIRST_RESPONSE = histogram(
    "fte_first_response_seconds", "From the inbound message accepted to its reply stored "
    "(stage=stored) and to the reply delivered (stage=delivered)", "channel", "stage",
    buckets=_RESPONSE_BUCKETS)
ESCALATIONS = counter("fte_escalations_total", "Escalations to humans", "channel", "reason")
SENTIMENT = histogram("fte_sentiment", "Sentiment of inbound messages (-1 negative to 1)",
                      "channel", buckets=_SENTIMENT_BUCKETS)
DELIVERIES = counter("fte_deliveries_total", "Outbound delivery attempts by outcome",
                     "channel", "status")
CHANNEL_BREAKER = gauge(
    "fte_channel_breaker_state", "Provider circuit breaker: 0 closed, 1 half-open, 2 open",
    "channel")
DELIVERY_RETRIES_DUE = counter(
    "fte_delivery_retries_total", "Parked replies re-announced for another delivery attempt")

# --- Agent (worker) -------------------------------------------------------------------------

AGENT_LATENCY = histogram("fte_agent_run_seconds", "Agent run latency", "channel", "model")
TOOL_CALLS = counter("fte_agent_tool_calls_total", "Tool calls of agent runs", "tool")
KB_LOOKUPS = counter(
    "fte_agent_knowledge_lookups_total",
    "Agent runs by whether the knowledge base grounded the answer", "result")
MODEL_CALLS = histogram("fte_agent_run_model_calls", "Model calls per agent run", "model",
                        buckets=_COUNT_BUCKETS)
TOKENS = histogram("fte_agent_run_tokens", "Model tokens per agent run, input and output",
                   "model", "direction", buckets=_TOKEN_BUCKETS)
COST = histogram("fte_agent_run_cost_usd", "Estimated model cost per agent run (price table in "
                 "OPENAI_PRICES; 0 for the local model)", "model", buckets=_COST_BUCKETS)
MODEL_LATENCY = histogram("fte_agent_model_call_seconds", "Latency of one model call",
                          "model")
MODEL_ERRORS = counter("fte_agent_model_errors_total", "Agent runs the model failed, by error",
                       "model", "error")

# --- Consumers, outbox, database (every process) --------------------------------------------

CONSUMER_ERRORS = counter("fte_consumer_errors_total", "Errors while consuming",
                          "consumer", "kind")
DEAD_LETTERS = counter("fte_dead_letters_total", "Messages sent to the DLQ", "consumer")
CONSUMER_IN_FLIGHT = gauge(
    "fte_consumer_in_flight", "Records being handled now (its bound: *_MAX_IN_FLIGHT)",
    "consumer")
CONSUMER_PAUSED_PARTITIONS = gauge(
    "fte_consumer_paused_partitions", "Partitions not fetched because the window is full",
    "consumer")
CONSUMER_LAG = gauge(
    "fte_consumer_lag", "Records of the partition not done yet, as the consumer holding it sees "
    "them: high watermark - position (at least 0), plus those fetched but not committable",
    "group", "topic", "partition")
OUTBOX_PUBLISHED = counter("fte_outbox_published_total", "Outbox events published", "topic")
OUTBOX_BACKLOG = gauge("fte_outbox_backlog", "Unpublished outbox events (counted to 10000)")
OUTBOX_OLDEST = gauge("fte_outbox_oldest_age_seconds",
                      "Age of the oldest unpublished outbox event (0: none)")
SWEEPER_REPUBLISHED = counter(
    "fte_sweeper_republished_total", "Inbound messages republished by the sweeper")
POOL_SIZE = gauge("fte_db_pool_size", "Database connections open in the pool", api=True)
POOL_MAX = gauge("fte_db_pool_max_size", "Largest size the pool may grow to", api=True)
POOL_IN_USE = gauge("fte_db_pool_in_use", "Database connections borrowed now", api=True)
POOL_WAITING = gauge("fte_db_pool_waiting", "Tasks waiting for a database connection",
                     api=True)

# --- C.A.R.E. and the business (worker, dispatcher, scheduler) ------------------------------

GATE_DECISIONS = counter(
    "fte_care_gate_decisions_total", "C.A.R.E. gate decisions", "decision", "clause")
CARE_WAITING = gauge(
    "fte_care_waiting", "What waits, per tenant: drafts for a person (pending) and replies for "
    "quiet hours or the minimum interval (deferred)", "tenant", "kind")
INBOX_OLDEST = gauge("fte_care_inbox_oldest_age_seconds",
                     "Age of the oldest draft waiting for a person (0: none)", "tenant")
KILL_SWITCH = gauge("fte_care_kill_switch_engaged",
                    "1 while the tenant's kill switch or the global one is engaged", "tenant")
LINKED_CUSTOMERS = gauge(
    "fte_identity_linked_customers", "Customers known by more than one kind of identifier "
    "(email and phone: recognized across channels)", "tenant")
MERGES = gauge("fte_identity_merges", "Customer merges by status (merged, candidate, accepted, "
               "dismissed)", "tenant", "status")

# --- The model budget (worker, scheduler) ----------------------------------------------------

COST_GATE_DECISIONS = counter(
    "fte_cost_gate_decisions_total", "DecisionCostGate decisions before a model run (the "
    "reply path's included), by decision (ALLOW, DEFER, SKIP) and reason code", "decision",
    "reason")
REPLY_BUDGET_ROUTES = counter(
    "fte_reply_budget_routes_total", "Replies by what the tenant's model budget let them use: "
    "model (within budget), local (spent: the local model answered), held (spent: held to "
    "the tenant's next local day)", "route")


def render() -> bytes:
    """Return the exposition text; with several API processes, their merged metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(registry))
    return bytes(generate_latest(REGISTRY))
