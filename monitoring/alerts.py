"""The alert rules, as code: monitoring-mixin conventions (one `Fte` prefix, CamelCase names, a
`severity` label, `summary`, `description` and `runbook_url` on every alert).

`python -m monitoring.generate` writes them to `monitoring/prometheus/fte.rules.yml` (the plain
rules file docker-compose's and `fte up`'s Prometheus load) and, the same groups, as the
`PrometheusRule` in `k8s/monitoring/`. Every metric is named through `production.metrics`.
"""

from __future__ import annotations

from typing import Any

from production import metrics as m

RUNBOOKS = "https://github.com/example/customer-success-fte/blob/main/docs/runbooks.md"
NAMESPACE = "customer-success-fte"

# The first-response SLO: 99% of replies stored within 3 s of the message's acceptance
# (a bucket edge of fte_first_response_seconds; the client writes it "3.0").
SLO_TARGET = 0.99
SLO_SECONDS = "3.0"
# The SRE workbook's multi-window pairs: (burn rate, long window, short window).
BURN_FAST = (14.4, "1h", "5m")
BURN_SLOW = (6.0, "6h", "30m")
SLO_WINDOWS = ("5m", "30m", "1h", "6h")


def slo_ratio(window: str) -> str:
    """The recording rule of the share of first responses slower than the SLO over `window`."""
    return f"fte:first_response_slo_errors:ratio_rate{window}"


def _slo_record(window: str) -> dict[str, Any]:
    bucket, count = f"{m.FIRST_RESPONSE.name}_bucket", f"{m.FIRST_RESPONSE.name}_count"
    return {
        "record": slo_ratio(window),
        # Per namespace: the dashboards' namespace variable filters it too.
        "expr": f'1 - (sum by (namespace) (rate({bucket}{{stage="stored",le="{SLO_SECONDS}"}}'
                f'[{window}])) / sum by (namespace) (rate({count}{{stage="stored"}}[{window}])))',
    }


def _alert(name: str, expr: str, *, severity: str, summary: str, description: str,
           for_: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_ is not None:
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description,
                           "runbook_url": f"{RUNBOOKS}#{name.lower()}"}
    return rule


def _burn(name: str, burn: tuple[float, str, str]) -> dict[str, Any]:
    rate, long_window, short_window = burn
    limit = round(rate * (1 - SLO_TARGET), 4)
    return _alert(
        name,
        f"{slo_ratio(long_window)} > {limit} and {slo_ratio(short_window)} > {limit}",
        severity="critical",
        summary=f"First responses burn the error budget {rate} times too fast",
        description=(f"Over {long_window} and {short_window}, more than {limit:.1%} of first "
                     f"responses took longer than {SLO_SECONDS} s (SLO {SLO_TARGET:.0%}): at "
                     "this rate the month's budget is gone early."))


def _rate(metric: str, window: str = "15m", where: str = "") -> str:
    return f"rate({metric}{where}[{window}])"


def alerts() -> list[dict[str, Any]]:
    """Return every alert rule."""
    processed = _rate(m.MESSAGES_PROCESSED.name, where='{outcome="replied"}')
    stored = '{stage="stored"}'
    buckets = _rate(f"{m.FIRST_RESPONSE.name}_bucket", "5m", stored)
    p95 = f"histogram_quantile(0.95, sum by (channel, le) ({buckets}))"
    return [
        _alert("FteEscalationRateHigh",
               f"sum({_rate(m.ESCALATIONS.name)}) / sum({processed}) > 0.25",
               for_="10m", severity="warning",
               summary="More than a quarter of the answered messages are escalated",
               description="{{ $value | humanizePercentage }} of the messages answered over "
                           "15 minutes went to a human (constitution: at most 25%)."),
        _alert("FteFirstResponseSlow", f"{p95} > 3", for_="5m", severity="warning",
               summary="p95 first response above 3 s on {{ $labels.channel }}",
               description="95% of {{ $labels.channel }} messages got their reply stored "
                           "within {{ $value | humanizeDuration }} over 5 minutes "
                           "(constitution: 3 s)."),
        _alert("FtePodRestarting",
               f'increase(kube_pod_container_status_restarts_total{{namespace="{NAMESPACE}"}}'
               "[10m]) > 3", severity="warning",
               summary="{{ $labels.pod }} restarted more than 3 times in 10 minutes",
               description="Container {{ $labels.container }} of {{ $labels.pod }} restarted "
                           "{{ $value }} times in 10 minutes."),
        _alert("FteConsumerLagHigh",
               f"sum by (group, topic) ({m.CONSUMER_LAG.name}) > 100", for_="5m",
               severity="warning",
               summary="Consumer group {{ $labels.group }} is more than 100 records behind",
               description="{{ $labels.group }} is {{ $value }} records behind on "
                           "{{ $labels.topic }} (constitution: at most 100)."),
        _alert("FteDeadLetters",
               f"sum by (consumer) (increase({m.DEAD_LETTERS.name}[10m])) > 0",
               severity="warning",
               summary="{{ $labels.consumer }} dead-lettered messages",
               description="{{ $value }} messages went to the dead-letter topic from "
                           "{{ $labels.consumer }} in 10 minutes; their customers got an "
                           "apology and wait for a person."),
        _alert("FteChannelBreakerOpen",
               f"max by (channel) ({m.CHANNEL_BREAKER.name}) > 0", for_="5m",
               severity="warning",
               summary="The {{ $labels.channel }} provider's circuit breaker is open",
               description="{{ $labels.channel }} replies are parked: the provider failed "
                           "and has not recovered for 5 minutes."),
        _alert("FteOutboxBacklogGrowing",
               f"{m.OUTBOX_BACKLOG.name} > 100 and deriv({m.OUTBOX_BACKLOG.name}[15m]) > 0",
               for_="10m", severity="warning",
               summary="The outbox is not being drained",
               description="{{ $value }} events wait to be published to Kafka and the number "
                           "keeps growing."),
        _alert("FteKillSwitchEngaged",
               f"max by (tenant) ({m.KILL_SWITCH.name}) == 1", severity="info",
               summary="Autonomy is switched off for {{ $labels.tenant }}",
               description="The kill switch (the tenant's or the global one) holds every "
                           "autonomous action of {{ $labels.tenant }} for a person."),
        _alert("FteInboxDraftStale",
               f"max by (tenant) ({m.INBOX_OLDEST.name}) > 4 * 3600", severity="warning",
               summary="A draft has waited more than 4 hours in {{ $labels.tenant }}'s inbox",
               description="The oldest draft waiting for a person is "
                           "{{ $value | humanizeDuration }} old."),
        _alert("FteModelBudgetExhausted",
               f"sum(increase({m.COST_GATE_DECISIONS.name}{{reason=\"budget_spent\"}}[15m]))"
               " > 0", severity="warning",
               summary="A tenant's model budget for its day is spent",
               description="Model runs were refused in the last 15 minutes because a "
                           "tenant's daily model budget is spent: its replies are answered by "
                           "the local model or held to its next day (FTE_BUDGET_EXHAUSTED), "
                           "its proactive runs wait for the next day."),
        _burn("FteFirstResponseBudgetBurnFast", BURN_FAST),
        _burn("FteFirstResponseBudgetBurnSlow", BURN_SLOW),
    ]


def groups() -> list[dict[str, Any]]:
    """Return the rule groups: the SLO's recording rules, then the alerts."""
    return [
        {"name": "fte-slo", "rules": [_slo_record(window) for window in SLO_WINDOWS]},
        {"name": "fte-alerts", "rules": alerts()},
    ]


def prometheus_rule() -> dict[str, Any]:
    """Return the same groups as a prometheus-operator PrometheusRule."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "fte", "namespace": NAMESPACE,
                     "labels": {"app.kubernetes.io/name": "customer-success-fte",
                                "app.kubernetes.io/part-of": "customer-success-fte",
                                # kube-prometheus-stack's default rule selector
                                "release": "kube-prometheus-stack"}},
        "spec": {"groups": groups()},
    }
