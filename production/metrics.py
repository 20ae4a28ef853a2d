"""Prometheus metrics shared by every process (each process serves its own registry)."""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_LATENCY = Histogram(
    "fte_http_request_duration_seconds", "HTTP request latency", ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
MESSAGES_PROCESSED = Counter(
    "fte_messages_processed_total", "Inbound messages handled by the worker",
    ["channel", "outcome"],
)
ESCALATIONS = Counter("fte_escalations_total", "Escalations to humans", ["channel", "reason"])
CONSUMER_ERRORS = Counter(
    "fte_consumer_errors_total", "Errors while consuming", ["consumer", "kind"]
)
DEAD_LETTERS = Counter("fte_dead_letters_total", "Messages sent to the DLQ", ["consumer"])
CONSUMER_IN_FLIGHT = Gauge(
    "fte_consumer_in_flight", "Records being handled now (its bound: *_MAX_IN_FLIGHT)",
    ["consumer"],
)
CONSUMER_PAUSED_PARTITIONS = Gauge(
    "fte_consumer_paused_partitions", "Partitions not fetched because the window is full",
    ["consumer"],
)
AGENT_LATENCY = Histogram(
    "fte_agent_run_seconds", "Agent run latency", ["channel", "model"], buckets=_LATENCY_BUCKETS
)
OUTBOX_PUBLISHED = Counter("fte_outbox_published_total", "Outbox events published", ["topic"])
OUTBOX_BACKLOG = Gauge("fte_outbox_backlog", "Unpublished outbox events seen by the relay")
SWEEPER_REPUBLISHED = Counter(
    "fte_sweeper_republished_total", "Inbound messages republished by the sweeper"
)
DELIVERIES = Counter("fte_deliveries_total", "Outbound deliveries", ["channel", "status"])
CHANNEL_BREAKER = Gauge(
    "fte_channel_breaker_state", "Provider circuit breaker: 0 closed, 1 half-open, 2 open",
    ["channel"],
)
DELIVERY_RETRIES_DUE = Counter(
    "fte_delivery_retries_total", "Parked replies re-announced for another delivery attempt")
GATE_DECISIONS = Counter(
    "fte_care_gate_decisions_total", "C.A.R.E. gate decisions", ["decision", "clause"]
)
CARE_WAITING = Gauge(
    "fte_care_waiting", "What waits, per tenant: drafts for a person (pending) and replies for "
    "quiet hours or the minimum interval (deferred)", ["tenant", "kind"],
)


def render() -> bytes:
    """Return the exposition text; with several API processes, their merged metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(registry))
    return bytes(generate_latest(REGISTRY))
